"""Gesture commands and personal playlists on both targets (fake Spotify, demo players)."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.smart_play.controller import GESTURE_VOLUME_STEP, PlaybackController
from custom_components.smart_play.players.base import (
    NoActiveDevice,
    PauseMemo,
    Playback,
    PlaybackTarget,
    PlayerError,
    PremiumRequired,
    RateLimited,
)
from custom_components.smart_play.players.media_player import MediaPlayerTarget
from custom_components.smart_play.players.spotify import SpotifyTarget

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

WALKMAN = "media_player.walkman"


def _paths(fake: FakeSpotify) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in fake.api_requests()]


# --------------------------------------------------------------------------- Spotify
async def test_spotify_toggle_pauses_and_plays(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine")
    await spotify_target.async_toggle()
    assert fake_spotify.state()["is_playing"] is False
    await spotify_target.async_toggle()
    assert fake_spotify.state()["is_playing"] is True
    assert fake_spotify.state()["device"]["id"] == "dev-speaker"
    assert [p[:2] for p in _paths(fake_spotify)] == [
        ("GET", "/v1/me/player"),
        ("PUT", "/v1/me/player/pause"),
        ("GET", "/v1/me/player"),
        ("PUT", "/v1/me/player/play"),
    ]


async def test_spotify_next_previous(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", position_ms=50_000)
    await spotify_target.async_next()
    state = fake_spotify.state()
    assert state["item"]["uri"] == "spotify:track:2"
    assert state["progress_ms"] < 2000
    await spotify_target.async_previous()
    assert fake_spotify.state()["item"]["uri"] == "spotify:track:1"
    assert [p[:2] for p in _paths(fake_spotify)] == [
        ("POST", "/v1/me/player/next"),
        ("POST", "/v1/me/player/previous"),
    ]


async def test_spotify_volume_step_clamped(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-phone", "spotify:album:mezzanine")  # volume 80
    await spotify_target.async_volume_step(+10)
    assert fake_spotify.state()["device"]["volume_percent"] == 90
    await spotify_target.async_volume_step(+30)
    assert fake_spotify.state()["device"]["volume_percent"] == 100
    await spotify_target.async_volume_step(-25)
    assert fake_spotify.state()["device"]["volume_percent"] == 75
    volume_puts = [r for r in fake_spotify.api_requests() if r.path.endswith("/volume")]
    assert [r.query["volume_percent"] for r in volume_puts] == ["90", "100", "75"]
    assert all(r.query["device_id"] == "dev-phone" for r in volume_puts)


async def test_spotify_commands_without_device_and_errors(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    with pytest.raises(NoActiveDevice):
        await spotify_target.async_toggle()
    with pytest.raises(NoActiveDevice):
        await spotify_target.async_next()
    with pytest.raises(NoActiveDevice):
        await spotify_target.async_volume_step(10)
    fake_spotify.user_play()
    fake_spotify.product = "free"
    with pytest.raises(PremiumRequired):
        await spotify_target.async_next()
    fake_spotify.product = "premium"
    fake_spotify.fail_next(429, retry_after=30)
    with pytest.raises(RateLimited):
        await spotify_target.async_previous()
    with pytest.raises(RateLimited):  # nothing is sent before Retry-After passes
        await spotify_target.async_next()
    assert [p[1] for p in _paths(fake_spotify)][-1] == "/v1/me/player/previous"


async def test_spotify_play_media_on_last_device(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine")
    await spotify_target.async_get_playback()  # Smart Play saw the speaker playing
    fake_spotify.go_inactive()
    await spotify_target.async_play_media("spotify:album:dummy")
    state = fake_spotify.state()
    assert (state["device"]["id"], state["context"]["uri"], state["is_playing"]) == (
        "dev-speaker",
        "spotify:album:dummy",
        True,
    )
    play = fake_spotify.api_requests()[-1]
    assert play.body["context_uri"] == "spotify:album:dummy"


async def test_spotify_play_media_first_device_when_never_seen(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    await spotify_target.async_play_media("spotify:track:3")
    state = fake_spotify.state()
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-desktop", "spotify:track:3")
    with pytest.raises(PlayerError):
        await spotify_target.async_play_media("spotify:playlist:does-not-exist")


# ---------------------------------------------------------------------- media player
@pytest_asyncio.fixture
async def demo_players(hass: HomeAssistant) -> None:
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.MEDIA_PLAYER],
    ):
        assert await async_setup_component(hass, "homeassistant", {})
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()


async def test_media_player_commands(hass: HomeAssistant, demo_players: None) -> None:
    target = MediaPlayerTarget(hass, WALKMAN)
    await target.async_toggle()
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).state == "paused"
    await target.async_toggle()
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).state == "playing"
    track = hass.states.get(WALKMAN).attributes["media_track"]
    await target.async_next()
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).attributes["media_track"] == track + 1
    await target.async_previous()
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).attributes["media_track"] == track
    volume = hass.states.get(WALKMAN).attributes["volume_level"]
    await target.async_volume_step(-10)
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).attributes["volume_level"] < volume
    await target.async_volume_step(+10)
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).attributes["volume_level"] == pytest.approx(volume)


async def test_media_player_play_media(hass: HomeAssistant) -> None:
    hass.states.async_set(WALKMAN, "idle")
    calls = async_mock_service(hass, "media_player", "play_media")
    target = MediaPlayerTarget(hass, WALKMAN)
    await target.async_play_media("media-source://media_source/local/alice.m3u")
    assert [c.data for c in calls] == [
        {
            "entity_id": WALKMAN,
            "media_content_id": "media-source://media_source/local/alice.m3u",
            "media_content_type": "music",
        }
    ]


# ------------------------------------------------------------------------ controller
class RecordingTarget(PlaybackTarget):
    """A target that records commands (and can fail)."""

    kind = "test"

    def __init__(self, playing: bool = True) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.playing = playing
        self.error: Exception | None = None

    async def async_get_playback(self) -> Playback | None:
        self.calls.append(("get", None))
        return Playback(self.playing, "dev", "Dev", None, "item", "Item", 0)

    async def async_pause(self, playback: Playback) -> Playback | None:
        raise NotImplementedError

    async def async_resume(self, memo: PauseMemo) -> Playback | None:
        raise NotImplementedError

    async def _record(self, what: str, arg: Any = None) -> None:
        if self.error is not None:
            raise self.error
        self.calls.append((what, arg))

    async def async_toggle(self) -> None:
        await self._record("toggle")

    async def async_next(self) -> None:
        await self._record("next")

    async def async_previous(self) -> None:
        await self._record("previous")

    async def async_volume_step(self, delta: int) -> None:
        await self._record("volume", delta)

    async def async_play_media(self, media_id: str, media_type: str | None = None) -> None:
        await self._record("play", media_id)


async def test_controller_gestures(hass: HomeAssistant) -> None:
    target = RecordingTarget()
    ctrl = PlaybackController(hass, "e1", target)
    await ctrl.async_load()
    for gesture in ("play_pause", "next_track", "previous_track", "volume_up", "volume_down"):
        assert await ctrl.async_on_gesture(gesture)
    assert target.calls == [
        ("toggle", None),
        ("next", None),
        ("previous", None),
        ("volume", GESTURE_VOLUME_STEP),
        ("volume", -GESTURE_VOLUME_STEP),
    ]
    assert ctrl.last_action["action"] == "gesture"
    target.error = RateLimited(12.0)
    assert not await ctrl.async_on_gesture("next_track")
    target.error = PlayerError("not supported")
    assert not await ctrl.async_on_gesture("next_track")
    with pytest.raises(ValueError):
        await ctrl.async_on_gesture("wave")
    await ctrl.async_shutdown()


async def test_controller_person_playlist_never_interrupts(hass: HomeAssistant) -> None:
    target = RecordingTarget(playing=True)
    ctrl = PlaybackController(hass, "e2", target)
    await ctrl.async_load()
    assert not await ctrl.async_play_for_person("Alice", "spotify:playlist:alice")
    assert ("play", "spotify:playlist:alice") not in target.calls
    target.playing = False
    assert await ctrl.async_play_for_person("Alice", "spotify:playlist:alice")
    assert target.calls[-1] == ("play", "spotify:playlist:alice")
    await ctrl.async_shutdown()
