"""The leave rule and the race rule, against the fake Spotify over real HTTP.

Leave rule (:func:`is_leave`): only OCCUPIED → EMPTY pauses; UNKNOWN spans are bridged by
the last known state, which survives a restart. Race rule
(:func:`contradicts_own_command`): a read that contradicts our own fresh pause/resume is
read once more before it is believed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import DOMAIN
from custom_components.smart_play.controller import (
    OWN_COMMAND_WINDOW,
    PlaybackController,
    contradicts_own_command,
    is_leave,
)
from custom_components.smart_play.players.base import OwnCommand, Playback
from custom_components.smart_play.players.spotify import SpotifyTarget
from custom_components.smart_play.vision.types import Occupancy, Transition

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no presence for 10.0 s")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")
UNKNOWN = Transition(t=0.0, state=Occupancy.UNKNOWN, reason="camera lost")


@pytest_asyncio.fixture
async def fresh(
    hass: HomeAssistant, spotify_target: SpotifyTarget, spotify_entry: MockConfigEntry
) -> AsyncGenerator[PlaybackController]:
    """A controller right after Home Assistant started (nothing seen yet)."""
    ctrl = PlaybackController(hass, spotify_entry.entry_id, spotify_target)
    await ctrl.async_load()
    yield ctrl
    await ctrl.async_shutdown()


def _calls(fake: FakeSpotify) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.api_requests()]


@pytest.mark.parametrize(
    ("last_known", "state", "pauses"),
    [
        (Occupancy.OCCUPIED, Occupancy.EMPTY, True),
        (None, Occupancy.EMPTY, False),  # start-up: nobody seen before
        (Occupancy.EMPTY, Occupancy.EMPTY, False),  # EMPTY → UNKNOWN → EMPTY
        (Occupancy.OCCUPIED, Occupancy.UNKNOWN, False),
        (Occupancy.EMPTY, Occupancy.OCCUPIED, False),
    ],
)
def test_leave_rule(last_known: Occupancy | None, state: Occupancy, pauses: bool) -> None:
    assert is_leave(last_known, state) is pauses


def test_race_rule() -> None:
    paused = OwnCommand("pause", "dev", "spotify:track:1", at=100.0)
    playing = Playback(True, "dev", "Desk", None, "spotify:track:1", "Teardrop", 1000)
    stopped = Playback(False, "dev", "Desk", None, "spotify:track:1", "Teardrop", 1000)
    assert contradicts_own_command(playing, paused, 101.0)  # still shows playing: lag?
    assert not contradicts_own_command(stopped, paused, 101.0)
    assert not contradicts_own_command(playing, paused, 100.0 + OWN_COMMAND_WINDOW + 0.1)
    other_item = Playback(True, "dev", "Desk", None, "spotify:track:2", "Angel", 0)
    assert not contradicts_own_command(other_item, paused, 101.0)  # the user chose
    other_device = Playback(True, "dev-2", "Phone", None, "spotify:track:1", "Teardrop", 0)
    assert not contradicts_own_command(other_device, paused, 101.0)
    resumed = OwnCommand("play", "dev", "spotify:track:1", at=100.0)
    assert contradicts_own_command(stopped, resumed, 101.0)
    assert not contradicts_own_command(playing, resumed, 101.0)
    assert not contradicts_own_command(None, resumed, 101.0)
    assert not contradicts_own_command(playing, None, 101.0)


async def test_empty_after_start_up_pauses_nothing(
    fake_spotify: FakeSpotify, fresh: PlaybackController
) -> None:
    """Restart while you listen on your phone in the car: the empty desk pauses nothing."""
    fake_spotify.user_play("dev-phone")
    await fresh.async_on_transition(UNKNOWN)  # camera connecting
    await fresh.async_on_transition(EMPTY)  # "no presence for 10.0 s"
    assert fake_spotify.api_requests() == []
    assert fake_spotify.state()["is_playing"] is True
    assert fresh.memo is None


async def test_camera_lost_in_an_empty_room_pauses_nothing(
    fake_spotify: FakeSpotify, fresh: PlaybackController
) -> None:
    """EMPTY → UNKNOWN → EMPTY (Wi-Fi blip): the music started meanwhile plays on."""
    await fresh.async_on_transition(OCCUPIED)
    await fresh.async_on_transition(EMPTY)  # nothing played: nothing paused
    fake_spotify.user_play("dev-phone")
    fake_spotify.clear_log()
    await fresh.async_on_transition(UNKNOWN)
    await fresh.async_on_transition(EMPTY)
    assert fake_spotify.api_requests() == []
    assert fake_spotify.state()["is_playing"] is True


async def test_camera_lost_while_you_leave_still_pauses(
    fake_spotify: FakeSpotify, fresh: PlaybackController
) -> None:
    """OCCUPIED → UNKNOWN → EMPTY: the outage is bridged, leaving pauses."""
    fake_spotify.user_play("dev-desktop")
    await fresh.async_on_transition(OCCUPIED)
    await fresh.async_on_transition(UNKNOWN)
    await fresh.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert fresh.memo is not None
    assert len(fake_spotify.api_requests()) == 3


async def test_last_known_state_survives_a_restart(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_session: Any,
    spotify_entry: MockConfigEntry,
    fresh: PlaybackController,
    hass_storage: dict[str, Any],
) -> None:
    """At the desk, Home Assistant restarts, then you leave: paused as usual."""
    await fresh.async_on_transition(OCCUPIED)
    await fresh.async_shutdown()  # Home Assistant stops (writes the pending state)
    stored = hass_storage[f"{DOMAIN}.{spotify_entry.entry_id}"]["data"]
    assert stored["last_known"] == "occupied"
    restarted = PlaybackController(
        hass,
        spotify_entry.entry_id,
        SpotifyTarget(hass, spotify_session, api_base=fake_spotify.api_base),
    )
    await restarted.async_load()
    fake_spotify.user_play("dev-desktop")
    await restarted.async_on_transition(UNKNOWN)  # camera connecting after the restart
    await restarted.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert restarted.memo is not None
    await restarted.async_shutdown()

    # Restart again while the room is empty: the next EMPTY is no leave.
    again = PlaybackController(
        hass,
        spotify_entry.entry_id,
        SpotifyTarget(hass, spotify_session, api_base=fake_spotify.api_base),
    )
    await again.async_load()
    fake_spotify.user_play("dev-phone")
    fake_spotify.clear_log()
    await again.async_on_transition(EMPTY)
    assert fake_spotify.api_requests() == []
    assert fake_spotify.state()["is_playing"] is True
    await again.async_shutdown()


async def test_quick_return_after_a_lagging_pause_resumes(
    fake_spotify: FakeSpotify, fresh: PlaybackController
) -> None:
    """Spotify still shows "playing" right after our pause: read again, then resume."""
    fake_spotify.lag = 1.0
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 50_000)
    await fresh.async_on_transition(OCCUPIED)
    await fresh.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert fake_spotify.visible_state()["is_playing"] is True  # Spotify lags
    fake_spotify.clear_log()
    await fresh.async_on_transition(OCCUPIED)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-speaker", "spotify:track:2")
    assert fresh.memo is None
    assert _calls(fake_spotify) == [
        ("GET", "/v1/me/player"),
        ("GET", "/v1/me/player"),  # the one re-read
        ("PUT", "/v1/me/player/play"),
    ]


async def test_quick_leave_after_a_lagging_resume_pauses(
    fake_spotify: FakeSpotify, fresh: PlaybackController
) -> None:
    """Spotify still shows "paused" right after our resume: read again, then pause."""
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 50_000)
    await fresh.async_on_transition(OCCUPIED)
    await fresh.async_on_transition(EMPTY)
    fake_spotify.lag = 1.0
    await fresh.async_on_transition(OCCUPIED)
    assert fake_spotify.state()["is_playing"] is True
    assert fake_spotify.visible_state()["is_playing"] is False  # Spotify lags
    fake_spotify.clear_log()
    await fresh.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert fresh.memo is not None
    calls = _calls(fake_spotify)
    assert calls[:3] == [
        ("GET", "/v1/me/player"),
        ("GET", "/v1/me/player"),
        ("PUT", "/v1/me/player/pause"),
    ]
