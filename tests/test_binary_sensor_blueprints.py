"""The automation blueprints built on the occupancy sensor are valid and do what they say."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint, BlueprintInputs
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed, async_mock_service

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "smart_play"
SENSOR = "binary_sensor.desk_occupancy"


def _load(name: str) -> Blueprint:
    """Load a blueprint file with Home Assistant's own loader and schema."""
    return Blueprint(
        load_yaml_dict(BLUEPRINTS / name),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )


async def _async_setup_automation(
    hass: HomeAssistant, blueprint: Blueprint, inputs: dict[str, Any]
) -> None:
    """Instantiate the blueprint like a user would and load it as an automation."""
    config = BlueprintInputs(
        blueprint, {"use_blueprint": {"path": "smart_play/x.yaml", "input": inputs}}
    )
    config.validate()
    automation = {"id": "bp_test", "alias": "bp test", **config.async_substitute()}
    assert await async_setup_component(hass, "automation", {"automation": [automation]})
    await hass.async_block_till_done()
    assert hass.states.get("automation.bp_test").state == "on"


def test_every_blueprint_file_is_valid() -> None:
    """All shipped blueprints pass the schema and target this HA version."""
    files = sorted(p.name for p in BLUEPRINTS.glob("*.yaml"))
    assert files == [
        "gesture_actions.yaml",
        "lights_off_when_empty.yaml",
        "pause_media_when_empty.yaml",
    ]
    for name in files:
        blueprint = _load(name)
        assert blueprint.validate() is None, name
        if name == "gesture_actions.yaml":  # tested in test_gesture_blueprint.py
            selector = blueprint.inputs["gesture_entity"]["selector"]["entity"]
            assert selector["filter"][0]["integration"] == "smart_play"
            continue
        sensor_selector = blueprint.inputs["occupancy_sensor"]["selector"]["entity"]
        assert sensor_selector["filter"][0]["integration"] == "smart_play"
        assert sensor_selector["filter"][0]["device_class"] in ("occupancy", ["occupancy"])


async def test_lights_turn_off_after_minutes_empty(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Lights go off only once the room has been empty for the chosen minutes."""
    calls = async_mock_service(hass, "light", "turn_off")
    hass.states.async_set(SENSOR, "on")
    await _async_setup_automation(
        hass,
        _load("lights_off_when_empty.yaml"),
        {"occupancy_sensor": SENSOR, "lights": {"entity_id": "light.desk"}, "minutes": 3},
    )

    hass.states.async_set(SENSOR, "off")
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=2, seconds=50))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls == []

    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calls) == 1
    assert calls[0].data["entity_id"] == ["light.desk"]


async def test_lights_stay_on_when_someone_returns_or_camera_drops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Coming back before the timeout, or the camera going away, keeps the lights on."""
    calls = async_mock_service(hass, "light", "turn_off")
    hass.states.async_set(SENSOR, "on")
    await _async_setup_automation(
        hass,
        _load("lights_off_when_empty.yaml"),
        {"occupancy_sensor": SENSOR, "lights": {"entity_id": "light.desk"}},
    )
    hass.states.async_set(SENSOR, "off")
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=4))
    async_fire_time_changed(hass)
    hass.states.async_set(SENSOR, "on")
    await hass.async_block_till_done()
    hass.states.async_set(SENSOR, "unavailable")
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert calls == []


@pytest.mark.parametrize(
    ("minutes", "wait"), [(0, timedelta(seconds=1)), (2, timedelta(minutes=2))]
)
async def test_pause_only_playing_media_players(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, minutes: int, wait: timedelta
) -> None:
    """Only the players that are playing are paused, after the extra minutes."""
    calls = async_mock_service(hass, "media_player", "media_pause")
    hass.states.async_set(SENSOR, "on")
    hass.states.async_set("media_player.tv", "playing")
    hass.states.async_set("media_player.radio", "paused")
    await _async_setup_automation(
        hass,
        _load("pause_media_when_empty.yaml"),
        {
            "occupancy_sensor": SENSOR,
            "media_players": ["media_player.tv", "media_player.radio"],
            "minutes": minutes,
        },
    )
    hass.states.async_set(SENSOR, "off")
    await hass.async_block_till_done()
    if minutes:
        freezer.tick(wait - timedelta(seconds=10))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert calls == []
        freezer.tick(timedelta(seconds=20))
        async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(calls) == 1
    assert calls[0].data["entity_id"] == ["media_player.tv"]


async def test_pause_does_nothing_when_nothing_plays(hass: HomeAssistant) -> None:
    """No pause call at all when none of the players is playing."""
    calls = async_mock_service(hass, "media_player", "media_pause")
    hass.states.async_set(SENSOR, "on")
    hass.states.async_set("media_player.tv", "idle")
    await _async_setup_automation(
        hass,
        _load("pause_media_when_empty.yaml"),
        {"occupancy_sensor": SENSOR, "media_players": "media_player.tv"},
    )
    hass.states.async_set(SENSOR, "off")
    await hass.async_block_till_done()
    assert calls == []
