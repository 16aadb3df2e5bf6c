"""Device scope: only the Spotify devices at this camera are paused (fake Spotify, real HTTP).

Also the restricted device, the migration of entries made before the choice existed,
its repair (a fix flow leading to the choice) and the choice in the options.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
import logging
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.config_entry_oauth2_flow import LocalOAuth2Implementation
from homeassistant.setup import async_setup_component
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_SPOTIFY_USER,
    CONF_TARGET_TYPE,
    DOMAIN,
    EVENT_PAUSE_SKIPPED,
    TARGET_MEDIA_PLAYER,
    TARGET_SPOTIFY,
)
from custom_components.smart_play.controller import PlaybackController, playing_here
from custom_components.smart_play.logbook import async_describe_events
from custom_components.smart_play.players.base import DeviceScope, Playback, ScopedDevice
from custom_components.smart_play.players.spotify import SpotifyTarget
from custom_components.smart_play.repairs import async_create_choose_devices_issue
from custom_components.smart_play.vision.types import Occupancy, Transition

from .conftest import DATA
from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

CLIP = str(DATA / "head-pose-male-preview.mp4")
EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no motion")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")
DESK = DeviceScope(False, (ScopedDevice("dev-desktop", "Work Laptop"),))


@pytest_asyncio.fixture
async def scoped(
    hass: HomeAssistant, spotify_target: SpotifyTarget, spotify_entry: MockConfigEntry
) -> AsyncGenerator[tuple[PlaybackController, list[DeviceScope]]]:
    """A controller at the desk whose scope the test can change (like the options do)."""
    scope = [DESK]
    ctrl = PlaybackController(hass, spotify_entry.entry_id, spotify_target, scope=lambda: scope[0])
    await ctrl.async_load()
    await ctrl.async_on_transition(OCCUPIED)
    yield ctrl, scope
    await ctrl.async_shutdown()


def _playing(device_id: str | None, name: str | None) -> Playback:
    return Playback(True, device_id, name, None, "spotify:track:1", "Teardrop", 0)


def test_scope_rule() -> None:
    assert playing_here(None, _playing("x", "Anything"))  # media player: its entity
    assert playing_here(DeviceScope(True), _playing("x", "Anything"))
    assert playing_here(DESK, _playing("dev-desktop", "Renamed"))  # by id
    assert playing_here(DESK, _playing("new-id-after-relaunch", "work  LAPTOP"))  # by name
    assert not playing_here(DESK, _playing("dev-speaker", "Living Room"))
    assert not playing_here(DeviceScope(False, (ScopedDevice(None, "Pixel"),)), _playing("p", None))


async def test_music_elsewhere_is_not_paused(
    hass: HomeAssistant, fake_spotify: FakeSpotify, scoped: tuple[PlaybackController, Any]
) -> None:
    """Music moved to the living room: leaving the desk pauses nothing, the logbook says why."""
    controller, _scope = scoped
    skipped = async_capture_events(hass, EVENT_PAUSE_SKIPPED)
    fake_spotify.user_play("dev-speaker")
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is True
    assert [(r.method, r.path) for r in fake_spotify.api_requests()] == [("GET", "/v1/me/player")]
    assert controller.memo is None
    (event,) = skipped
    assert event.data["reason"] == "not_at_this_camera"
    assert event.data["message"] == "playing on Living Room (not at this camera)"
    described: dict[str, Any] = {}
    async_describe_events(hass, lambda _d, name, describe: described.__setitem__(name, describe))
    assert described[EVENT_PAUSE_SKIPPED](event)["message"] == (
        "not paused: playing on Living Room (not at this camera)"
    )
    assert controller.last_action is not None
    assert controller.last_action["action"] == "pause_skipped"
    diagnostics = controller.diagnostics()
    assert diagnostics["scope"] == {"any_device": False, "device_names": ["Work Laptop"]}
    assert "dev-desktop" not in repr(diagnostics)  # names only, no device ids


async def test_music_at_this_camera_is_paused_by_id_or_by_name(
    fake_spotify: FakeSpotify, scoped: tuple[PlaybackController, list[DeviceScope]]
) -> None:
    controller, scope = scoped
    fake_spotify.user_play("dev-desktop")
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.state()["is_playing"] is True

    # A typed name (a device that was not open during setup), case ignored.
    scope[0] = DeviceScope(False, (ScopedDevice(None, "pixel"),))
    fake_spotify.user_play("dev-phone")
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert controller.memo is not None
    assert controller.memo.device_id == "dev-phone"


async def test_restricted_device_is_reported_once_and_never_commanded(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    scoped: tuple[PlaybackController, list[DeviceScope]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    controller, scope = scoped
    scope[0] = DeviceScope(True)
    skipped = async_capture_events(hass, EVENT_PAUSE_SKIPPED)
    fake_spotify.user_play("dev-restricted")
    for _ in range(2):
        await controller.async_on_transition(EMPTY)
        await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests("PUT") == []  # no command, no retry loop
    assert len(fake_spotify.api_requests()) == 2  # one GET per leave
    assert fake_spotify.state()["is_playing"] is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Kitchen Sonos" in warnings[0].getMessage()
    assert "restricted" in warnings[0].getMessage()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"device_restricted_{controller.entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"device": "Kitchen Sonos"}
    assert [e.data["reason"] for e in skipped] == ["device_restricted"] * 2

    # Played on a controllable device again: paused, and the issue goes away.
    fake_spotify.user_transfer("dev-desktop", play=True)
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None


# -- migration, repair, options -------------------------------------------------------


@pytest.fixture
def _api_base(fake_spotify: FakeSpotify) -> Generator[None]:
    with patch("custom_components.smart_play.players.spotify.API_BASE", fake_spotify.api_base):
        yield


def _old_spotify_entry(
    hass: HomeAssistant, fake: FakeSpotify, implementation: LocalOAuth2Implementation
) -> MockConfigEntry:
    """An entry as Smart Play made it before the device choice (version 1.1)."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Desk",
        version=1,
        minor_version=1,
        unique_id="spotify:smartplayer:x",
        data={
            "auth_implementation": implementation.domain,
            "token": fake.issue_token(),
            CONF_TARGET_TYPE: TARGET_SPOTIFY,
            CONF_SPOTIFY_USER: "smartplayer",
            CONF_SOURCE: CLIP,
            CONF_LOOP: True,
        },
        options={"delay": 2.0, "sensitivity": 5},
    )
    entry.add_to_hass(hass)
    return entry


async def _wait_occupied(entry: MockConfigEntry) -> None:
    for _ in range(200):
        if entry.runtime_data.occupancy is Occupancy.OCCUPIED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the clip never showed the person")


@pytest.mark.usefixtures("_api_base")
async def test_old_entry_keeps_pausing_any_device_and_gets_a_repair(
    hass: HomeAssistant,
    hass_client: Any,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    entry = _old_spotify_entry(hass, fake_spotify, spotify_implementation)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options["spotify_any_device"] is True  # behaviour unchanged
    assert entry.options["delay"] == 2.0
    issue_id = f"choose_devices_{entry.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_placeholders == {"title": "Desk"}

    # Unchanged behaviour: music on the living-room speaker is paused when the desk empties.
    await _wait_occupied(entry)
    fake_spotify.user_play("dev-speaker")
    controller = entry.runtime_data.controller
    await controller.async_on_transition(
        Transition(t=1.0, state=Occupancy.EMPTY, reason="test", wall=time.monotonic())
    )
    assert fake_spotify.state()["is_playing"] is False

    # The repair leads to the device choice; choosing applies at once.
    assert await async_setup_component(hass, "repairs", {})
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "devices"
    offered = next(v for k, v in result["data_schema"].schema.items() if k == "devices")
    assert "dev-desktop" in [o["value"] for o in offered.config["options"]]
    result = await manager.async_configure(result["flow_id"], {"devices": [], "any_device": False})
    assert result["errors"] == {"base": "no_device"}
    result = await manager.async_configure(
        result["flow_id"], {"devices": ["dev-desktop"], "any_device": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert entry.options["spotify_devices"] == [{"device_id": "dev-desktop", "name": "Work Laptop"}]
    assert entry.options["spotify_any_device"] is False

    fake_spotify.user_play("dev-speaker")
    fake_spotify.clear_log()
    await controller.async_on_transition(
        Transition(t=2.0, state=Occupancy.OCCUPIED, reason="test", wall=time.monotonic())
    )
    await controller.async_on_transition(
        Transition(t=3.0, state=Occupancy.EMPTY, reason="test", wall=time.monotonic())
    )
    assert fake_spotify.state()["is_playing"] is True  # the living room plays on now
    assert fake_spotify.api_requests("PUT", "/v1/me/player/pause") == []
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("_api_base")
async def test_devices_in_the_options(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    entry = _old_spotify_entry(hass, fake_spotify, spotify_implementation)
    assert await hass.config_entries.async_setup(entry.entry_id)
    issue_id = f"choose_devices_{entry.entry_id}"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "devices" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "devices"}
    )
    assert result["step_id"] == "devices"
    schema = result["data_schema"].schema
    assert next(k for k in schema if k == "any_device").default() is True  # as migrated
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"devices": [], "any_device": False}
    )
    assert result["errors"] == {"base": "no_device"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"devices": ["dev-phone", "Office Echo"], "any_device": False}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["spotify_devices"] == [
        {"device_id": "dev-phone", "name": "Pixel"},
        {"device_id": None, "name": "Office Echo"},
    ]
    assert entry.options["delay"] == 2.0
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    assert entry.runtime_data.controller.scope == DeviceScope(
        False, (ScopedDevice("dev-phone", "Pixel"), ScopedDevice(None, "Office Echo"))
    )

    # Again, with the Echo still not open: it stays offered and chosen.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "devices"}
    )
    devices = next(k for k in result["data_schema"].schema if k == "devices")
    assert devices.default() == ["dev-phone", "Office Echo"]

    # Spotify cannot list the devices right now: the stored ones are still offered.
    fake_spotify.fail_next(503, count=3, path_prefix="/v1/me/player/devices")
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "devices"}
    )
    offered = next(v for k, v in result["data_schema"].schema.items() if k == "devices")
    assert [o["value"] for o in offered.config["options"]] == ["dev-phone", "Office Echo"]
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"devices": ["dev-phone", "Office Echo"], "any_device": False}
    )
    assert await hass.config_entries.async_unload(entry.entry_id)

    # Not running: the form still works with what is stored (nothing listed).
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "devices"}
    )
    offered = next(v for k, v in result["data_schema"].schema.items() if k == "devices")
    assert [o["value"] for o in offered.config["options"]] == ["dev-phone", "Office Echo"]


async def test_media_player_entries_migrate_without_a_repair(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: "media_player.x",
            CONF_SOURCE: CLIP,
            CONF_LOOP: True,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.minor_version == 2
    assert "spotify_any_device" not in entry.options
    assert not [i for i in ir.async_get(hass).issues if i[0] == DOMAIN]
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "devices" not in result["menu_options"]
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_entry_of_a_newer_smart_play_is_not_set_up(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=2,
        data={CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER, CONF_MEDIA_PLAYER: "m.x", CONF_SOURCE: CLIP},
    )
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.MIGRATION_ERROR


async def test_repair_of_a_removed_entry_ends_cleanly(hass: HomeAssistant) -> None:
    """Removing the entry removes its repair; a fix flow left open says the entry is gone."""
    from custom_components.smart_play.repairs import async_create_fix_flow

    entry = MockConfigEntry(domain=DOMAIN, title="Gone")
    entry.add_to_hass(hass)
    async_create_choose_devices_issue(hass, entry)
    issue_id = f"choose_devices_{entry.entry_id}"
    flow = await async_create_fix_flow(hass, issue_id, {"entry_id": entry.entry_id})
    flow.hass = hass
    await hass.config_entries.async_remove(entry.entry_id)
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    result = await flow.async_step_init()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_removed"
    other = await async_create_fix_flow(hass, "something_else", None)
    assert type(other).__name__ == "ConfirmRepairFlow"
