"""Config flow: target choice, camera validation, duplicates, reconfigure, options."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
import shutil
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries
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
    OPT_DELAY,
    OPT_SENSITIVITY,
    TARGET_MEDIA_PLAYER,
)

from .conftest import DATA

CLIP = str(DATA / "head-pose-male-preview.mp4")
PLAYER = "media_player.desk_speaker"


@pytest.fixture(autouse=True)
def _no_setup() -> Generator[AsyncMock]:
    """Creating an entry must not start the camera in these tests."""
    with patch("custom_components.smart_play.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
def player(hass: HomeAssistant) -> str:
    hass.states.async_set(PLAYER, "playing", {"friendly_name": "Desk speaker"})
    return PLAYER


async def _to_camera_step(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert set(result["menu_options"]) == {"pick_implementation", "media_player"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "media_player"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "media_player"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEDIA_PLAYER: PLAYER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera"
    return result["flow_id"]


async def test_media_player_and_file_camera_creates_entry(hass: HomeAssistant, player: str) -> None:
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE: CLIP, CONF_LOOP: True}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Desk speaker · head-pose-male-preview.mp4"
    assert result["data"] == {
        CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
        CONF_MEDIA_PLAYER: PLAYER,
        CONF_SOURCE: CLIP,
        CONF_LOOP: True,
    }
    assert result["options"] == {OPT_DELAY: 2.0, OPT_SENSITIVITY: 5}


async def test_unknown_media_player_is_refused(hass: HomeAssistant) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "media_player"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEDIA_PLAYER: "media_player.nope"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MEDIA_PLAYER: "entity_not_found"}


@pytest.mark.parametrize(
    ("user_input", "field", "error"),
    [
        ({}, "base", "source_required"),
        ({CONF_SOURCE: "   "}, "base", "source_required"),
        ({CONF_SOURCE: "x" * 5000}, CONF_SOURCE, "invalid_url"),
        ({CONF_SOURCE: "ftp://127.0.0.1/video"}, CONF_SOURCE, "invalid_url"),
        ({CONF_SOURCE: "/no/such/clip.mp4"}, CONF_SOURCE, "cannot_open"),
        ({CONF_SOURCE: "/dev/video99"}, CONF_SOURCE, "cannot_open"),
        ({CONF_SOURCE: "rtsp://user:pw@127.0.0.1:9/stream"}, CONF_SOURCE, "cannot_open"),
    ],
)
async def test_camera_errors_keep_the_form(
    hass: HomeAssistant,
    player: str,
    user_input: dict,
    field: str,
    error: str,
    caplog: pytest.LogCaptureFixture,
    socket_enabled: None,
) -> None:
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, user_input)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "camera"
    assert result["errors"] == {field: error}
    assert not hass.config_entries.async_entries(DOMAIN)
    assert "pw@" not in caplog.text


async def test_not_a_video_file(hass: HomeAssistant, player: str, tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 100)
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SOURCE: str(text)})
    assert result["errors"] in ({CONF_SOURCE: "no_frames"}, {CONF_SOURCE: "cannot_open"})


async def test_missing_camera_entity(hass: HomeAssistant, player: str) -> None:
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"camera_entity": "camera.does_not_exist"}
    )
    assert result["errors"] == {"camera_entity": "camera_entity_unavailable"}


async def test_same_target_and_camera_twice_is_refused(hass: HomeAssistant, player: str) -> None:
    for expected in (FlowResultType.CREATE_ENTRY, FlowResultType.ABORT):
        flow_id = await _to_camera_step(hass)
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SOURCE: CLIP})
        assert result["type"] is expected
    assert result["reason"] == "already_configured"
    # Another camera for the same player is fine.
    other = str(DATA / "empty-room-preview.mp4")
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_SOURCE: other})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


async def test_reconfigure_changes_camera(hass: HomeAssistant, tmp_path: Path) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="media_player:media_player.x:old",
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: "media_player.x",
            CONF_SOURCE: "/old/camera.mp4",
            CONF_LOOP: False,
        },
    )
    entry.add_to_hass(hass)
    new_clip = tmp_path / "desk.mp4"
    shutil.copy(CLIP, new_clip)
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: "/still/missing.mp4"}
    )
    assert result["errors"] == {CONF_SOURCE: "cannot_open"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SOURCE: str(new_clip), CONF_LOOP: True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_SOURCE] == str(new_clip)
    assert entry.data[CONF_LOOP] is True
    assert entry.data[CONF_MEDIA_PLAYER] == "media_player.x"
    assert entry.unique_id != "media_player:media_player.x:old"


async def test_options_flow(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: "media_player.x",
            CONF_SOURCE: CLIP,
        },
        options={OPT_DELAY: 2.0, OPT_SENSITIVITY: 5},
    )
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "settings"}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {OPT_DELAY: 4.5, OPT_SENSITIVITY: 8}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {OPT_DELAY: 4.5, OPT_SENSITIVITY: 8}


async def test_name_given_on_the_camera_step(hass: HomeAssistant, player: str) -> None:
    flow_id = await _to_camera_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SOURCE: CLIP, "name": "  Desk  "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Desk"
    assert "name" not in result["data"]
