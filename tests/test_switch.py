"""Auto-pause switch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.smart_play.vision.types import Occupancy, SourceStatus

from .helpers_entities import (
    MEDIA_PLAYER,
    FakePipeline,
    async_setup,
    async_setup_streaming,
    entity_id_of,
    fake_pipelines,
    make_entry,
)

SWITCH = "switch.desk_auto_pause"


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake."""
    with fake_pipelines() as created:
        yield created


async def test_default_on_and_toggles_the_controller(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Auto-pause starts on; turning it off keeps occupancy reporting alive."""
    entry, pipeline = await async_setup_streaming(hass, pipelines)
    assert entity_id_of(hass, entry, "switch", "auto_pause") == SWITCH
    assert hass.states.get(SWITCH).state == STATE_ON
    assert entry.runtime_data.controller.auto_pause is True
    registry_entry = er.async_get(hass).async_get(SWITCH)
    assert registry_entry.entity_category is None  # a primary control, shown on dashboards

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert entry.runtime_data.controller.auto_pause is False
    assert entry.runtime_data.auto_pause is False

    # The occupancy sensor keeps working while auto-pause is off.
    occupancy = entity_id_of(hass, entry, "binary_sensor", "occupancy")
    pipeline.transition(Occupancy.OCCUPIED)
    await hass.async_block_till_done()
    assert hass.states.get(occupancy).state == STATE_ON

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == STATE_ON
    assert entry.runtime_data.controller.auto_pause is True


async def test_available_without_camera(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """It is a setting: usable while the camera is down."""
    _, pipeline = await async_setup_streaming(hass, pipelines)
    pipeline.source_state(SourceStatus.FAILED, "connection refused")
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_ON
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert hass.states.get(SWITCH).state == STATE_OFF


@pytest.mark.parametrize("restored", [STATE_OFF, STATE_ON])
async def test_restored_after_restart(
    hass: HomeAssistant,
    pipelines: list[FakePipeline],
    restored: str,
    hass_storage: dict[str, Any],
) -> None:
    """The last setting comes back after a restart and reaches the controller."""
    entry = make_entry(hass)
    hass_storage[f"smart_play.{entry.entry_id}"] = {
        "version": 1,
        "key": f"smart_play.{entry.entry_id}",
        "data": {"memo": None, "auto_pause": restored == STATE_ON},
    }
    await async_setup(hass, entry)
    assert hass.states.get(SWITCH).state == restored
    assert entry.runtime_data.controller.auto_pause is (restored == STATE_ON)


async def test_survives_reload(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """Turning it off and reloading the entry keeps it off."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert entry.runtime_data.controller.auto_pause is False


async def test_off_means_leaving_does_not_pause(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """With auto-pause off the player keeps playing; back on, leaving pauses it."""
    paused: list[ServiceCall] = []

    async def _media_pause(call: ServiceCall) -> None:
        paused.append(call)
        hass.states.async_set(MEDIA_PLAYER, "paused", {"media_title": "Song"})

    hass.services.async_register("media_player", "media_pause", _media_pause)
    hass.states.async_set(MEDIA_PLAYER, "playing", {"media_title": "Song"})
    _, pipeline = await async_setup_streaming(hass, pipelines)

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    pipeline.transition(Occupancy.OCCUPIED)
    pipeline.transition(Occupancy.EMPTY)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert paused == []
    assert hass.states.get(MEDIA_PLAYER).state == "playing"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: SWITCH}, blocking=True
    )
    pipeline.transition(Occupancy.OCCUPIED)
    pipeline.transition(Occupancy.EMPTY)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [call.data["entity_id"] for call in paused] == [MEDIA_PLAYER]
