"""Config flow and options of a desk agent entry; the Camera switch of a local entry."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_TARGET_TYPE,
    DOMAIN,
    OPT_CAMERA,
    SOURCE_AGENT,
    TARGET_MEDIA_PLAYER,
)
from custom_components.smart_play.vision.types import Occupancy, SourceStatus

from .conftest import DATA
from .helpers_entities import async_setup, async_setup_streaming, fake_pipelines, make_entry

CLIP = str(DATA / "head-pose-male-preview.mp4")
PLAYER = "media_player.desk_speaker"


@pytest.fixture
def no_setup() -> Generator[AsyncMock]:
    """Creating or reloading an entry must not start anything in these tests."""
    with (
        patch("custom_components.smart_play.async_setup_entry", return_value=True) as mock,
        patch("custom_components.smart_play.async_unload_entry", return_value=True),
    ):
        yield mock


async def _to_camera_step(hass: HomeAssistant) -> str:
    hass.states.async_set(PLAYER, "playing", {"friendly_name": "Desk speaker"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "media_player"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEDIA_PLAYER: PLAYER}
    )
    assert result["step_id"] == "camera"
    return str(result["flow_id"])


def _agent_entry(hass: HomeAssistant, key: str = "k" * 64) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Desk",
        unique_id=f"media_player:{PLAYER}:agent",
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: PLAYER,
            CONF_SOURCE: SOURCE_AGENT,
            CONF_WEBHOOK_ID: key,
            CONF_LOOP: False,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def test_agent_entry_shows_the_command_with_this_home_assistant(
    hass: HomeAssistant, no_setup: AsyncMock
) -> None:
    hass.config.internal_url = "http://192.168.1.20:8123"
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"agent": True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Desk speaker · Smart Play agent"
    key = result["data"][CONF_WEBHOOK_ID]
    assert len(key) == 64
    assert result["data"][CONF_SOURCE] == SOURCE_AGENT
    assert result["description"] == "agent"
    placeholders = result["description_placeholders"]
    assert placeholders["command"] == f"smart-play-agent --url http://192.168.1.20:8123 --key {key}"
    assert placeholders["install"].startswith("pip install ")

    # A second agent for the same player is a second entry, with its own key.
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {"agent": True})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_WEBHOOK_ID] != key


async def test_agent_and_a_camera_at_once_is_refused(
    hass: HomeAssistant, no_setup: AsyncMock
) -> None:
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"agent": True, CONF_SOURCE: CLIP}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "agent_or_source"}


async def test_reconfigure_to_the_agent_and_back(hass: HomeAssistant, no_setup: AsyncMock) -> None:
    hass.config.internal_url = "http://192.168.1.20:8123"
    entry = make_entry(hass, source=CLIP)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"agent": True})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_agent"
    key = entry.data[CONF_WEBHOOK_ID]
    assert entry.data[CONF_SOURCE] == SOURCE_AGENT
    assert key in result["description_placeholders"]["command"]

    # Reconfigured as an agent again: the running agent keeps its key.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"agent": True})
    assert result["reason"] == "reconfigure_agent"
    assert entry.data[CONF_WEBHOOK_ID] == key

    # Back to a camera here: the key is gone (an old agent is no longer heard).
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"agent": False, CONF_SOURCE: CLIP}
    )
    assert result["reason"] == "reconfigure_successful"
    assert CONF_WEBHOOK_ID not in entry.data
    assert entry.data[CONF_SOURCE] == CLIP


async def test_options_show_the_agent_command_again(hass: HomeAssistant) -> None:
    hass.config.internal_url = "http://192.168.1.20:8123"
    entry = _agent_entry(hass)
    await async_setup(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    # People need the face crops in Home Assistant: not offered here. Zones to
    # ignore and gestures are: the agent's engine and gesture analyzer get them.
    assert result["menu_options"] == ["settings", "zones", "gestures", "agent"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "gestures"}
    )
    assert result["step_id"] == "gestures"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"gestures": True, "gesture_zone": "0.5, 0, 1, 0.6", "gesture_mirror": False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # gestures on: the entry reloads (event entity)
    assert entry.options["gestures"] is True
    assert entry.runtime_data.features.gestures_enabled
    assert entry.runtime_data._agent_settings()["gestures"] == {
        "enabled": True,
        "zone": [0.5, 0.0, 1.0, 0.6],
        "mirror": False,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "agent"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"]["command"] == (
        f"smart-play-agent --url http://192.168.1.20:8123 --key {'k' * 64}"
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.config_entries.async_unload(entry.entry_id)


async def test_local_entry_options_have_no_agent_step(hass: HomeAssistant) -> None:
    with fake_pipelines():
        entry = make_entry(hass, source=CLIP)
        await async_setup(hass, entry)
        result = await hass.config_entries.options.async_init(entry.entry_id)
        assert "agent" not in result["menu_options"]
        assert "gestures" in result["menu_options"]
        await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_switch_of_a_local_entry_stops_and_starts_the_reader(
    hass: HomeAssistant,
) -> None:
    with fake_pipelines() as pipelines:
        entry, pipeline = await async_setup_streaming(hass, pipelines)
        pipeline.transition(Occupancy.OCCUPIED)
        await hass.async_block_till_done()
        assert hass.states.get("binary_sensor.desk_occupancy").state == "on"

        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.desk_camera"}, blocking=True
        )
        await hass.async_block_till_done()
        assert pipeline.stopped
        assert hass.states.get("switch.desk_camera").state == "off"
        assert hass.states.get("binary_sensor.desk_occupancy").state == "unavailable"
        assert hass.states.get("sensor.desk_camera_status").state == "stopped"
        assert entry.options[OPT_CAMERA] is False

        pipeline.started = False
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": "switch.desk_camera"}, blocking=True
        )
        await hass.async_block_till_done()
        assert pipeline.started
        pipeline.source_state(SourceStatus.STREAMING)
        pipeline.transition(Occupancy.OCCUPIED)
        await hass.async_block_till_done()
        assert hass.states.get("binary_sensor.desk_occupancy").state == "on"
        await hass.config_entries.async_unload(entry.entry_id)


async def test_camera_switched_off_stays_off_after_a_restart(hass: HomeAssistant) -> None:
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, source=CLIP, options={OPT_CAMERA: False})
        await async_setup(hass, entry)
        assert not pipelines[-1].started  # the camera is never opened
        assert hass.states.get("switch.desk_camera").state == "off"
        assert hass.states.get("binary_sensor.desk_occupancy").state == "unavailable"
        # Turning it off again changes nothing.
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.desk_camera"}, blocking=True
        )
        assert not pipelines[-1].started
        await hass.config_entries.async_unload(entry.entry_id)
