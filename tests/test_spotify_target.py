"""SpotifyTarget against the fake Spotify Web API over real HTTP (spotipy -> 127.0.0.1)."""

from __future__ import annotations

import logging
import time

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import requests

from custom_components.smart_play.application_credentials import (
    SCOPES,
    async_get_authorization_server,
)
from custom_components.smart_play.players.base import (
    AlreadyPaused,
    AuthFailed,
    DeviceGone,
    NoActiveDevice,
    PauseMemo,
    PlayerUnavailable,
    PremiumRequired,
    RateLimited,
)
from custom_components.smart_play.players.spotify import (
    SpotifyTarget,
    async_get_spotify_user,
    build_client,
)

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]


async def test_authorization_server_and_scopes(hass: HomeAssistant) -> None:
    server = await async_get_authorization_server(hass)
    assert server.authorize_url == "https://accounts.spotify.com/authorize"
    assert server.token_url == "https://accounts.spotify.com/api/token"
    assert {"user-read-playback-state", "user-modify-playback-state", "user-read-private"} <= set(
        SCOPES
    )


async def test_nothing_active_is_none(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    assert await spotify_target.async_get_playback() is None
    assert [r.status for r in fake_spotify.api_requests()] == [204]


async def test_playback_is_read(fake_spotify: FakeSpotify, spotify_target: SpotifyTarget) -> None:
    fake_spotify.user_play("dev-speaker", "spotify:album:mezzanine", "spotify:track:2", 61_000)
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    assert playback.is_playing
    assert (playback.device_id, playback.device_name) == ("dev-speaker", "Living Room")
    assert (playback.context_uri, playback.item_uri, playback.item_name) == (
        "spotify:album:mezzanine",
        "spotify:track:2",
        "Angel",
    )
    assert 61_000 <= playback.progress_ms < 63_000


async def test_pause_then_resume_same_device_same_position(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 100_000)
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    after = await spotify_target.async_pause(playback)
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is False
    assert after is not None
    assert not after.is_playing
    assert after.progress_ms == state["progress_ms"]  # read back: the exact paused position
    # GET (caller) + PUT pause + GET (read back)
    assert [(r.method, r.path) for r in fake_spotify.api_requests()] == [
        ("GET", "/v1/me/player"),
        ("PUT", "/v1/me/player/pause"),
        ("GET", "/v1/me/player"),
    ]
    assert fake_spotify.api_requests("PUT")[0].query == {"device_id": "dev-desktop"}

    memo = PauseMemo.from_playback(after, time.time())
    fake_spotify.clear_log()
    await spotify_target.async_resume(memo)
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is True
    assert state["device"]["id"] == "dev-desktop"
    assert state["item"]["uri"] == "spotify:track:1"
    assert 0 <= state["progress_ms"] - memo.position_ms < 1_000
    (put,) = fake_spotify.api_requests()
    assert (put.method, put.path, put.query) == (
        "PUT",
        "/v1/me/player/play",
        {"device_id": "dev-desktop"},
    )


async def test_pause_of_paused_player_is_done_after_one_check(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play()
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    fake_spotify.user_pause()  # paused by hand in between
    fake_spotify.clear_log()
    with pytest.raises(AlreadyPaused):  # not paused by us: nothing to resume later
        await spotify_target.async_pause(playback)
    assert [r.status for r in fake_spotify.api_requests()] == [403, 200]


async def test_pause_that_went_through_despite_a_gateway_error(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine", "spotify:track:1", 9_000)
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    fake_spotify.clear_log()
    fake_spotify.fail_next(502, method="PUT", apply=True)
    after = await spotify_target.async_pause(playback)
    # 502 (but paused), retried PUT refused as "already paused", one check.
    assert [r.status for r in fake_spotify.api_requests()] == [502, 403, 200]
    assert after is not None
    assert not after.is_playing
    assert after.progress_ms == fake_spotify.state()["progress_ms"]


async def test_expired_token_is_refreshed_once(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_target: SpotifyTarget,
    spotify_entry: MockConfigEntry,
) -> None:
    """Spotify revoked the token before its expiry: one refresh, one retry."""
    old = spotify_entry.data["token"]["access_token"]
    fake_spotify.expire_tokens()
    fake_spotify.user_play()
    assert await spotify_target.async_get_playback() is not None
    assert [r.status for r in fake_spotify.log] == [401, 200, 200]
    assert fake_spotify.log[1].path == "/api/token"
    assert fake_spotify.log[1].body["grant_type"] == "refresh_token"
    new = spotify_entry.data["token"]
    assert new["access_token"] != old
    assert new["expires_at"] > time.time() + 3000


async def test_token_expired_by_time_is_refreshed_before_the_call(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget, spotify_entry: MockConfigEntry
) -> None:
    spotify_entry.data["token"]["expires_at"] = time.time() - 10  # HA says: expired
    assert await spotify_target.async_get_playback() is None
    assert [r.path for r in fake_spotify.log] == ["/api/token", "/v1/me/player"]


async def test_revoked_refresh_token_is_auth_failed(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.expire_tokens()
    fake_spotify.revoke_refresh_token()
    with pytest.raises(AuthFailed):
        await spotify_target.async_get_playback()
    assert [r.status for r in fake_spotify.log] == [401, 400]


async def test_free_account_cannot_pause(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.product = "free"
    fake_spotify.user_play()
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    with pytest.raises(PremiumRequired):
        await spotify_target.async_pause(playback)
    assert fake_spotify.state()["is_playing"] is True
    assert (await spotify_target.async_get_user()).is_premium is False


async def test_no_active_device_and_device_gone(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-phone")
    playback = await spotify_target.async_get_playback()
    assert playback is not None
    fake_spotify.go_inactive()
    with pytest.raises(NoActiveDevice):
        await spotify_target.async_pause(playback)
    memo = PauseMemo.from_playback(playback, time.time())
    fake_spotify.remove_device("dev-phone")
    with pytest.raises(DeviceGone):
        await spotify_target.async_resume(memo)


async def test_rate_limit_is_honoured(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.fail_next(429, retry_after=1, reason="QUOTA_EXCEEDED")
    with pytest.raises(RateLimited) as err:
        await spotify_target.async_get_playback()
    assert err.value.retry_after == 1.0
    assert err.value.reason == "QUOTA_EXCEEDED"
    # Before Retry-After passes nothing is sent.
    with pytest.raises(RateLimited):
        await spotify_target.async_get_playback()
    assert len(fake_spotify.api_requests()) == 1
    assert 0 < spotify_target.rate_limited_for <= 1.0


async def test_rate_limit_without_retry_after_uses_default(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.fail_next(429)
    with pytest.raises(RateLimited) as err:
        await spotify_target.async_get_playback()
    assert err.value.retry_after == 5.0


async def test_server_errors_are_retried_with_a_bound(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.fail_next(502, count=2)
    assert await spotify_target.async_get_playback() is None
    assert [r.status for r in fake_spotify.api_requests()] == [502, 502, 204]

    fake_spotify.clear_log()
    fake_spotify.fail_next(503, count=5)
    with pytest.raises(PlayerUnavailable):
        await spotify_target.async_get_playback()
    assert [r.status for r in fake_spotify.api_requests()] == [503, 503, 503]


async def test_timeouts_are_retried_with_a_bound(
    hass: HomeAssistant, fake_spotify: FakeSpotify, spotify_session
) -> None:
    target = SpotifyTarget(
        hass,
        spotify_session,
        api_base=fake_spotify.api_base,
        request_timeout=0.2,
        retry_delays=(0.01,),
    )
    fake_spotify.slow_next(1.0, count=5)
    started = time.monotonic()
    with pytest.raises(PlayerUnavailable):
        await target.async_get_playback()
    assert time.monotonic() - started < 2.0
    assert len(fake_spotify.api_requests()) == 2
    await target.async_close()


async def test_account_lookup_for_the_config_flow(
    hass: HomeAssistant, fake_spotify: FakeSpotify
) -> None:
    token = fake_spotify.issue_token()["access_token"]
    user = await async_get_spotify_user(hass, token, api_base=fake_spotify.api_base)
    assert (user.user_id, user.display_name, user.is_premium) == (
        "smartplayer",
        "Smart Player",
        True,
    )
    with pytest.raises(AuthFailed):
        await async_get_spotify_user(hass, "bogus", api_base=fake_spotify.api_base)


async def test_no_token_or_error_spam_in_logs(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_target: SpotifyTarget,
    spotify_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_spotify.user_play()
    playback = await spotify_target.async_get_playback()
    fake_spotify.go_inactive()
    with pytest.raises(NoActiveDevice):
        await spotify_target.async_pause(playback)
    assert spotify_entry.data["token"]["access_token"] not in caplog.text
    assert "Bearer ***" in caplog.text  # spotipy's debug line, redacted
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_client_has_no_own_retries() -> None:
    http = requests.Session()
    client = build_client("x", http, api_base="http://127.0.0.1:1/v1")
    assert client.prefix == "http://127.0.0.1:1/v1/"
    assert client._session is http  # ours, which we close
    for adapter in http.adapters.values():
        assert adapter.max_retries.total == 0
        assert not adapter.max_retries.status_forcelist
    http.close()


async def test_resume_of_a_playing_player_is_done_after_one_check(
    fake_spotify: FakeSpotify, spotify_target: SpotifyTarget
) -> None:
    fake_spotify.user_play("dev-phone")
    playback = await spotify_target.async_get_playback()
    memo = PauseMemo.from_playback(playback, time.time())
    fake_spotify.clear_log()
    state = await spotify_target.async_resume(memo)  # resumed by hand meanwhile
    assert state is not None
    assert state.is_playing
    assert [r.status for r in fake_spotify.api_requests()] == [403, 200]
