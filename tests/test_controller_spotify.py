"""Whole leave/return scenarios: PlaybackController + SpotifyTarget + fake Spotify (real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
import logging
import time
from typing import Any
from unittest.mock import Mock, patch

from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.smart_play.const import (
    DOMAIN,
    EVENT_PAUSED,
    EVENT_RESUME_SKIPPED,
    EVENT_RESUMED,
)
from custom_components.smart_play.controller import PlaybackController
from custom_components.smart_play.players.spotify import SpotifyTarget
from custom_components.smart_play.vision.types import Occupancy, Transition

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no motion")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")
UNKNOWN = Transition(t=0.0, state=Occupancy.UNKNOWN, reason="camera lost")


@pytest.fixture
def auth_failed() -> Mock:
    return Mock()


@pytest_asyncio.fixture
async def controller(
    hass: HomeAssistant,
    spotify_target: SpotifyTarget,
    spotify_entry: MockConfigEntry,
    auth_failed: Mock,
) -> AsyncGenerator[PlaybackController]:
    ctrl = PlaybackController(
        hass, spotify_entry.entry_id, spotify_target, on_auth_failed=auth_failed
    )
    await ctrl.async_load()
    await ctrl.async_on_transition(OCCUPIED)  # someone at the desk (sends nothing)
    yield ctrl
    await ctrl.async_shutdown()


@pytest.fixture
def events(hass: HomeAssistant) -> dict[str, list[Event[dict[str, Any]]]]:
    return {
        name: async_capture_events(hass, name)
        for name in (EVENT_PAUSED, EVENT_RESUMED, EVENT_RESUME_SKIPPED)
    }


def _calls(fake: FakeSpotify) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.api_requests()]


async def test_leave_pauses_once_and_return_resumes_exactly(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    events: dict[str, list[Event]],
    hass_storage: dict[str, Any],
) -> None:
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 90_000)

    await controller.async_on_transition(EMPTY)
    await hass.async_block_till_done()

    paused = fake_spotify.state()
    assert paused is not None
    assert paused["is_playing"] is False
    assert _calls(fake_spotify) == [
        ("GET", "/v1/me/player"),
        ("PUT", "/v1/me/player/pause"),
        ("GET", "/v1/me/player"),
    ]
    memo = controller.memo
    assert memo is not None
    assert (memo.device_id, memo.item_uri, memo.position_ms) == (
        "dev-speaker",
        "spotify:track:2",
        paused["progress_ms"],
    )
    stored = hass_storage[f"{DOMAIN}.{controller.entry_id}"]["data"]["memo"]
    assert stored["item_uri"] == "spotify:track:2"
    assert stored["position_ms"] == paused["progress_ms"]
    (event,) = events[EVENT_PAUSED]
    assert event.data["entry_id"] == controller.entry_id
    assert (event.data["device_name"], event.data["item_name"]) == ("Living Room", "Angel")
    assert event.data["position_ms"] == paused["progress_ms"]

    await asyncio.sleep(0.3)  # away for a moment: a paused player does not move
    assert len(fake_spotify.api_requests()) == 3  # no polling while nothing changes
    fake_spotify.clear_log()
    await controller.async_on_transition(OCCUPIED)
    await hass.async_block_till_done()

    playing = fake_spotify.state()
    assert playing is not None
    assert playing["is_playing"] is True
    assert playing["device"]["id"] == "dev-speaker"
    assert playing["item"]["uri"] == "spotify:track:2"
    assert 0 <= playing["progress_ms"] - paused["progress_ms"] < 500
    assert _calls(fake_spotify) == [("GET", "/v1/me/player"), ("PUT", "/v1/me/player/play")]
    assert fake_spotify.api_requests("PUT")[0].query == {"device_id": "dev-speaker"}
    assert controller.memo is None
    assert hass_storage[f"{DOMAIN}.{controller.entry_id}"]["data"]["memo"] is None
    assert len(events[EVENT_RESUMED]) == 1
    assert events[EVENT_RESUME_SKIPPED] == []


async def test_nothing_playing_nothing_paused_nothing_resumed(
    fake_spotify: FakeSpotify, controller: PlaybackController, events: dict[str, list[Event]]
) -> None:
    fake_spotify.user_play()
    fake_spotify.user_pause()  # the user paused before leaving
    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(OCCUPIED)
    assert controller.memo is None
    assert _calls(fake_spotify) == [("GET", "/v1/me/player")]  # return sends nothing
    assert fake_spotify.state()["is_playing"] is False  # never resumes what it didn't pause
    assert not any(events.values())


@pytest.mark.parametrize(
    ("user_action", "reason"),
    [
        (lambda fake: fake.user_play("dev-desktop", "spotify:album:dummy"), "item_changed"),
        (lambda fake: fake.user_transfer("dev-phone", play=False), "device_changed"),
        (lambda fake: fake.user_resume(), "resumed_by_user"),
        (lambda fake: fake.user_seek(10_000), "position_changed"),
        # Switched off: not even listed any more (an idle device would be started again).
        (lambda fake: fake.remove_device("dev-desktop"), "device_gone"),
    ],
)
async def test_user_took_over_while_away_is_not_resumed(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    events: dict[str, list[Event]],
    user_action: Any,
    reason: str,
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 120_000)
    await controller.async_on_transition(EMPTY)
    assert controller.memo is not None
    user_action(fake_spotify)
    before = fake_spotify.state()
    fake_spotify.clear_log()

    await controller.async_on_transition(OCCUPIED)
    await hass.async_block_till_done()

    # Looked (twice when it looks like Spotify lagging behind the pause), did not touch.
    reads = 2 if reason == "resumed_by_user" else 1
    listed = [("GET", "/v1/me/player/devices")] if reason == "device_gone" else []
    assert _calls(fake_spotify) == [("GET", "/v1/me/player")] * reads + listed
    after = fake_spotify.state()
    if before is None:
        assert after is None
    else:
        assert after["is_playing"] == before["is_playing"]
        assert after["item"]["uri"] == before["item"]["uri"]
        assert after["device"]["id"] == before["device"]["id"]
    assert controller.memo is None  # forgotten
    (event,) = events[EVENT_RESUME_SKIPPED]
    assert event.data["reason"] == reason
    assert event.data["entry_id"] == controller.entry_id
    assert event.data["item_name"] == "Teardrop"
    assert events[EVENT_RESUMED] == []


async def test_user_resumed_by_hand_then_leaves_again(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """A stale memo is replaced by what is paused on the next leave."""
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 5_000)
    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(UNKNOWN)  # camera glitch: nothing happens
    fake_spotify.user_play("dev-phone", "spotify:album:dummy", "spotify:track:4", 50_000)
    await controller.async_on_transition(EMPTY)  # camera back, room still empty: no leave
    assert fake_spotify.state()["is_playing"] is True  # the phone plays on
    assert controller.memo is not None
    assert controller.memo.item_uri == "spotify:track:1"
    fake_spotify.user_pause()
    await controller.async_on_transition(OCCUPIED)  # the phone moved on: not resumed
    fake_spotify.user_resume()
    await controller.async_on_transition(EMPTY)
    assert controller.memo is not None
    assert (controller.memo.device_id, controller.memo.item_uri) == ("dev-phone", "spotify:track:4")
    await controller.async_on_transition(OCCUPIED)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-phone", "spotify:track:4")


async def test_unknown_and_auto_pause_off_send_nothing(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play()
    await controller.async_on_transition(UNKNOWN)
    controller.auto_pause = False
    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.api_requests() == []
    assert fake_spotify.state()["is_playing"] is True


async def test_rate_limited_leave_waits_as_told(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play()
    fake_spotify.fail_next(429, retry_after=1)
    await controller.async_on_transition(EMPTY)
    requests = fake_spotify.api_requests()
    assert [r.status for r in requests] == [429, 200, 204, 200]
    assert requests[1].time - requests[0].time >= 1.0  # nothing sent before Retry-After
    assert requests[1].time - requests[0].time < 3.0
    assert fake_spotify.state()["is_playing"] is False
    assert controller.memo is not None


async def test_rate_limited_leave_gives_up_when_back(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play()
    fake_spotify.fail_next(429, retry_after=1)
    leave = hass.async_create_task(controller.async_on_transition(EMPTY))
    await fake_spotify.wait_for_requests(1)
    started = time.monotonic()
    await controller.async_on_transition(OCCUPIED)  # back before Retry-After passed
    await leave
    assert time.monotonic() - started < 0.9  # the pending 1 s wait was cut short
    await asyncio.sleep(1.1)
    assert [r.status for r in fake_spotify.api_requests()] == [429]
    assert fake_spotify.state()["is_playing"] is True
    assert controller.memo is None


async def test_premium_missing_creates_one_repair_issue(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_spotify.product = "free"
    fake_spotify.user_play()
    issue_id = f"premium_required_{controller.entry_id}"
    registry = ir.async_get(hass)

    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(OCCUPIED)
    await controller.async_on_transition(EMPTY)

    # One GET + one refused PUT per leave: no retry loop.
    assert [r.status for r in fake_spotify.api_requests()] == [200, 403, 200, 403]
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "premium_required"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert [i for i in registry.issues if i[0] == DOMAIN] == [(DOMAIN, issue_id)]
    assert (
        len(
            [
                r
                for r in caplog.records
                if "Premium" in r.getMessage() and r.levelno == logging.WARNING
            ]
        )
        == 1
    )
    assert fake_spotify.state()["is_playing"] is True

    fake_spotify.product = "premium"  # upgraded
    await controller.async_on_transition(OCCUPIED)
    await controller.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert registry.async_get_issue(DOMAIN, issue_id) is None


async def test_server_errors_are_bounded_and_warned_once(
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_spotify.user_play()
    fake_spotify.fail_next(503, count=6)
    await controller.async_on_transition(EMPTY)
    await controller.async_on_transition(OCCUPIED)
    await controller.async_on_transition(EMPTY)
    # 1 try + 2 retries per leave, then it gives up until the next transition.
    assert [r.status for r in fake_spotify.api_requests()] == [503] * 6
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "503" in warnings[0].getMessage()
    assert controller.memo is None

    await controller.async_on_transition(OCCUPIED)
    await controller.async_on_transition(EMPTY)  # Spotify is back
    assert fake_spotify.state()["is_playing"] is False
    assert controller.memo is not None


async def test_timeouts_are_bounded(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_session: Any,
    spotify_entry: MockConfigEntry,
) -> None:
    target = SpotifyTarget(
        hass,
        spotify_session,
        api_base=fake_spotify.api_base,
        request_timeout=0.2,
        retry_delays=(0.01, 0.01),
    )
    ctrl = PlaybackController(hass, spotify_entry.entry_id, target)
    await ctrl.async_load()
    await ctrl.async_on_transition(OCCUPIED)
    fake_spotify.user_play()
    fake_spotify.slow_next(0.5, count=3)
    started = time.monotonic()
    await ctrl.async_on_transition(EMPTY)
    assert time.monotonic() - started < 2.0
    assert len(fake_spotify.api_requests()) == 3
    assert ctrl.memo is None
    assert ctrl.diagnostics()["problem"] == "PlayerUnavailable"
    await ctrl.async_shutdown()


async def test_rejected_login_asks_for_reauth(
    fake_spotify: FakeSpotify, controller: PlaybackController, auth_failed: Mock
) -> None:
    fake_spotify.user_play()
    fake_spotify.expire_tokens()
    fake_spotify.revoke_refresh_token()
    await controller.async_on_transition(EMPTY)
    auth_failed.assert_called_once_with()
    assert controller.memo is None


async def test_restart_while_paused_resumes_after_restart(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    spotify_target: SpotifyTarget,
    spotify_session: Any,
    hass_storage: dict[str, Any],
) -> None:
    fake_spotify.user_play("dev-phone", "spotify:album:dummy", "spotify:track:3", 42_000)
    await controller.async_on_transition(EMPTY)
    position = fake_spotify.state()["progress_ms"]
    await controller.async_shutdown()  # Home Assistant stops

    target = SpotifyTarget(hass, spotify_session, api_base=fake_spotify.api_base)
    restarted = PlaybackController(hass, controller.entry_id, target)
    await restarted.async_load()
    assert restarted.memo == controller.memo
    await restarted.async_on_transition(OCCUPIED)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-phone", "spotify:track:3")
    assert 0 <= state["progress_ms"] - position < 500
    assert restarted.memo is None
    await restarted.async_shutdown()


async def test_return_while_the_leave_reads_sends_no_pause(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """Back while the leave's GET is in flight: the pause is never sent."""
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 1_000)
    fake_spotify.slow_next(0.2, count=2)
    leave = controller.async_handle_transition(EMPTY)
    await asyncio.sleep(0.05)  # the GET is in flight
    back = controller.async_handle_transition(OCCUPIED)
    await asyncio.gather(leave, back)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert controller.memo is None
    assert _calls(fake_spotify) == [("GET", "/v1/me/player")]


async def test_return_while_the_pause_is_in_flight_ends_playing(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """Back while the PUT pause is on its way, Spotify lagging 1 s: the music plays again.

    The return's read still shows ``is_playing: true`` (Spotify lags our pause); the race
    rule reads once more instead of taking it for "resumed by hand".
    """
    fake_spotify.lag = 1.0
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 1_000)
    fake_spotify.slow_next(0.3, count=2)  # the GET and the PUT pause take a while
    leave = controller.async_handle_transition(EMPTY)
    await fake_spotify.wait_for_requests(2)  # the PUT pause is in flight
    back = controller.async_handle_transition(OCCUPIED)
    await asyncio.gather(leave, back)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert state["item"]["uri"] == "spotify:track:1"
    assert controller.memo is None
    calls = _calls(fake_spotify)
    assert calls.count(("PUT", "/v1/me/player/pause")) == 1
    assert calls[-1] == ("PUT", "/v1/me/player/play")
    # leave: GET, PUT, read-back GET; return: GET (still "playing"), one re-read GET, PUT
    assert calls.count(("GET", "/v1/me/player")) == 4


async def test_diagnostics_hold_no_secrets(
    fake_spotify: FakeSpotify, controller: PlaybackController, spotify_entry: MockConfigEntry
) -> None:
    fake_spotify.user_play()
    await controller.async_on_transition(EMPTY)
    diagnostics = controller.diagnostics()
    assert diagnostics["memo"]["item_name"] == "Teardrop"
    assert diagnostics["last_action"]["action"] == "paused"
    assert diagnostics["target"]["requests_sent"] == 3
    text = repr(diagnostics)
    assert spotify_entry.data["token"]["access_token"] not in text
    assert spotify_entry.data["token"]["refresh_token"] not in text
    assert "dev-desktop" not in text


async def test_rate_limited_return_waits_then_resumes(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 7_000)
    await controller.async_on_transition(EMPTY)
    fake_spotify.clear_log()
    fake_spotify.fail_next(429, retry_after=0.5)
    await controller.async_on_transition(OCCUPIED)
    requests = fake_spotify.api_requests()
    assert [r.status for r in requests] == [429, 200, 204]
    assert requests[1].time - requests[0].time >= 0.5
    assert fake_spotify.state()["is_playing"] is True
    assert controller.memo is None


async def test_leaving_again_during_a_rate_limited_return_keeps_the_memo(
    hass: HomeAssistant, fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play()
    await controller.async_on_transition(EMPTY)
    memo = controller.memo
    fake_spotify.clear_log()
    fake_spotify.fail_next(429, retry_after=1)
    back = hass.async_create_task(controller.async_on_transition(OCCUPIED))
    await fake_spotify.wait_for_requests(1)
    await controller.async_on_transition(EMPTY)  # gone again before Retry-After passed
    await back
    assert controller.memo == memo  # still paused by Smart Play: resume on the next return
    assert fake_spotify.state()["is_playing"] is False


async def test_device_gone_between_check_and_play(
    fake_spotify: FakeSpotify, controller: PlaybackController, events: dict[str, list[Event]]
) -> None:
    fake_spotify.user_play()
    await controller.async_on_transition(EMPTY)
    fake_spotify.fail_next(404, method="PUT", message="Device not found")
    await controller.async_on_transition(OCCUPIED)
    assert events[EVENT_RESUME_SKIPPED][0].data["reason"] == "device_gone"
    assert controller.memo is None
    assert fake_spotify.state()["is_playing"] is False


async def test_spotify_down_on_return_is_reported_once(
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    events: dict[str, list[Event]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake_spotify.user_play()
    await controller.async_on_transition(EMPTY)
    fake_spotify.fail_next(500, count=3, method="PUT")
    await controller.async_on_transition(OCCUPIED)
    assert [r.status for r in fake_spotify.api_requests("PUT", "/v1/me/player/play")] == [500] * 3
    assert events[EVENT_RESUME_SKIPPED][0].data["reason"] == "player_unavailable"
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
    assert controller.memo is None


async def test_too_long_rate_limit_on_return_is_not_waited_for(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_target: SpotifyTarget,
    spotify_entry: MockConfigEntry,
) -> None:
    skipped = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    ctrl = PlaybackController(hass, spotify_entry.entry_id, spotify_target, max_rate_limit_wait=5.0)
    await ctrl.async_load()
    await ctrl.async_on_transition(OCCUPIED)
    fake_spotify.user_play()
    await ctrl.async_on_transition(EMPTY)
    fake_spotify.fail_next(429, retry_after=3600, reason="QUOTA_EXCEEDED")
    started = time.monotonic()
    await ctrl.async_on_transition(OCCUPIED)
    assert time.monotonic() - started < 1.0
    assert skipped[0].data["reason"] == "rate_limited"
    assert ctrl.diagnostics()["target"]["rate_limited_for_s"] > 3000
    await ctrl.async_shutdown()


async def test_pause_position_is_estimated_when_read_back_fails(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 30_000)
    fake_spotify.fail_next(503, count=3, method="GET", skip=1)  # only the read-back fails
    await controller.async_on_transition(EMPTY)
    state = fake_spotify.state()
    assert state["is_playing"] is False
    assert controller.memo is not None
    assert abs(controller.memo.position_ms - state["progress_ms"]) < 500
    await controller.async_on_transition(OCCUPIED)
    assert fake_spotify.state()["is_playing"] is True


async def test_gateway_error_after_the_pause_went_through(
    fake_spotify: FakeSpotify, controller: PlaybackController
) -> None:
    """Spotify paused but answered 502: the retry learns it, and the return resumes."""
    fake_spotify.user_play("dev-speaker", "spotify:album:dummy", "spotify:track:3", 20_000)
    fake_spotify.fail_next(502, method="PUT", apply=True)
    await controller.async_on_transition(EMPTY)
    assert len(fake_spotify.api_requests()) <= 4
    assert controller.memo is not None
    await controller.async_on_transition(OCCUPIED)
    state = fake_spotify.state()
    assert state["is_playing"] is True
    assert (state["device"]["id"], state["item"]["uri"]) == ("dev-speaker", "spotify:track:3")


async def test_pause_from_hours_ago_is_not_resumed(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    controller: PlaybackController,
    events: dict[str, list[Event]],
) -> None:
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 90_000)
    await controller.async_on_transition(EMPTY)
    assert controller.memo is not None
    fake_spotify.clear_log()
    later = time.time() + 5 * 3600
    with patch("custom_components.smart_play.controller.time.time", return_value=later):
        await controller.async_on_transition(OCCUPIED)
    await hass.async_block_till_done()
    assert fake_spotify.state()["is_playing"] is False  # last night's music stays off
    assert not fake_spotify.api_requests()
    assert controller.memo is None
    (skipped,) = events[EVENT_RESUME_SKIPPED]
    assert skipped.data["reason"] == "expired"
