"""Resume that survives an idle device (fake Spotify over real HTTP).

After a long pause many Spotify Connect clients drop the session: ``GET /me/player``
answers 204 while the device is still listed (``is_active: false``). Smart Play then
starts the remembered item again there: ``PUT /me/player/play?device_id=`` with the
context, the item as offset and the position (``uris`` for a lone track).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.smart_play.const import DOMAIN, EVENT_RESUME_SKIPPED, EVENT_RESUMED
from custom_components.smart_play.controller import PlaybackController
from custom_components.smart_play.players.spotify import SpotifyTarget
from custom_components.smart_play.vision.types import Occupancy, Transition

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no motion")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")
IDLE_AFTER = 0.5


@pytest_asyncio.fixture
async def controller(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_target: SpotifyTarget,
    spotify_entry: MockConfigEntry,
) -> AsyncGenerator[PlaybackController]:
    fake_spotify.idle_after = IDLE_AFTER
    ctrl = PlaybackController(hass, spotify_entry.entry_id, spotify_target)
    await ctrl.async_load()
    await ctrl.async_on_transition(OCCUPIED)
    yield ctrl
    await ctrl.async_shutdown()


async def _leave_and_go_idle(fake: FakeSpotify, controller: PlaybackController) -> None:
    await controller.async_on_transition(EMPTY)
    assert controller.memo is not None
    await asyncio.sleep(IDLE_AFTER + 0.1)  # a long pause: the device drops its session
    assert fake.state() is None
    fake.clear_log()


async def test_idle_device_is_started_again_where_it_was(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    resumed = async_capture_events(hass, EVENT_RESUMED)
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 90_000)
    await _leave_and_go_idle(fake_spotify, controller)
    position = controller.memo.position_ms  # type: ignore[union-attr]

    # What Spotify says meanwhile: nothing active, the speaker still listed.
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bearer {fake_spotify.issue_token()['access_token']}"}
        async with session.get(f"{fake_spotify.api_base}me/player", headers=headers) as resp:
            assert resp.status == 204
        async with session.get(
            f"{fake_spotify.api_base}me/player/devices", headers=headers
        ) as resp:
            listed = {d["id"]: d for d in (await resp.json())["devices"]}
    assert listed["dev-speaker"]["is_active"] is False
    fake_spotify.clear_log()

    await controller.async_on_transition(OCCUPIED)
    requests = fake_spotify.api_requests()
    assert [(r.method, r.path, r.status) for r in requests] == [
        ("GET", "/v1/me/player", 204),
        ("GET", "/v1/me/player/devices", 200),
        ("PUT", "/v1/me/player/play", 204),
    ]  # the cost of a resume through an idle device: 3 requests
    assert requests[2].query == {"device_id": "dev-speaker"}
    assert requests[2].body == {
        "context_uri": "spotify:album:mezzanine",
        "offset": {"uri": "spotify:track:2"},
        "position_ms": position,
    }
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-speaker", "spotify:track:2")
    assert 0 <= state["progress_ms"] - position < 500
    assert controller.memo is None
    assert len(resumed) == 1


async def test_idle_device_with_a_lone_track(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play("dev-desktop", None, "spotify:track:3", 42_000)
    await _leave_and_go_idle(fake_spotify, controller)
    await controller.async_on_transition(OCCUPIED)
    (play,) = fake_spotify.api_requests("PUT")
    assert play.body["uris"] == ["spotify:track:3"]
    assert "context_uri" not in play.body
    state = fake_spotify.state()
    assert (state["is_playing"], state["item"]["uri"]) == (True, "spotify:track:3")
    assert state["progress_ms"] >= 42_000


async def test_idle_device_that_became_restricted_is_reported_once(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The speaker is now controlled through its own app: one warning, a repair, no loop."""
    skipped = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    fake_spotify.user_play("dev-speaker")
    await _leave_and_go_idle(fake_spotify, controller)
    next(d for d in fake_spotify.devices if d["id"] == "dev-speaker")["is_restricted"] = True
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests("PUT") == []
    assert skipped[0].data["reason"] == "device_restricted"
    assert controller.memo is None  # forgotten: nothing is retried
    warnings = [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("custom_components.smart_play")
    ]  # only Smart Play's own (a loaded machine adds asyncio's slow-callback warnings)
    assert len(warnings) == 1
    assert "Living Room" in warnings[0].getMessage()
    issue_id = f"device_restricted_{controller.entry_id}"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is not None

    # The next return sends nothing at all (nothing is remembered); other leaves still work.
    fake_spotify.clear_log()
    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests("PUT") == []
    fake_spotify.user_play("dev-desktop")
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False


async def test_music_on_another_device_is_never_overridden(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """The desk went idle, but the phone plays now: the desk is not started."""
    skipped: list[Any] = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    fake_spotify.user_play("dev-desktop")
    await _leave_and_go_idle(fake_spotify, controller)
    fake_spotify.user_play("dev-phone", "spotify:album:dummy")
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests("PUT") == []
    assert fake_spotify.state()["device"]["id"] == "dev-phone"
    assert skipped[0].data["reason"] == "device_changed"


async def test_idle_device_while_spotify_shows_an_old_paused_device(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """Spotify shows the phone's state from an hour ago instead of 204: still resumed."""
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 30_000)
    await controller.async_on_transition(EMPTY)
    fake_spotify.go_idle(then_device="dev-phone")
    fake_spotify.clear_log()
    await controller.async_on_transition(OCCUPIED)
    calls = [(r.method, r.path) for r in fake_spotify.api_requests()]
    assert calls == [
        ("GET", "/v1/me/player"),
        ("GET", "/v1/me/player/devices"),
        ("PUT", "/v1/me/player/play"),
    ]
    state = fake_spotify.state()
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-desktop", "spotify:track:1")
    assert state["is_playing"] is True


async def test_paused_music_moved_to_the_phone_is_not_started_at_the_desk(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """The user took the paused music along to the phone: the desk is not started."""
    skipped: list[Any] = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    fake_spotify.user_play("dev-desktop")
    await controller.async_on_transition(EMPTY)
    await asyncio.sleep(0.01)
    fake_spotify.user_transfer("dev-phone")  # still paused, changed after our pause
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests("PUT", "/v1/me/player/play") == []
    assert skipped[0].data["reason"] == "device_changed"
