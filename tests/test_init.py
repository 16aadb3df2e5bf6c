"""Setting up and unloading entries: Spotify target, bad tokens, bad cameras."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import LocalOAuth2Implementation
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_SOURCE,
    CONF_SPOTIFY_USER,
    CONF_TARGET_TYPE,
    DOMAIN,
    TARGET_SPOTIFY,
)
from custom_components.smart_play.players.spotify import SpotifyTarget
from custom_components.smart_play.vision.types import Occupancy, Transition

from .conftest import DATA
from .fake_spotify.server import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

CLIP = str(DATA / "head-pose-male-preview.mp4")


@pytest.fixture(autouse=True)
def _api_base(fake_spotify: FakeSpotify) -> Generator[None]:
    with patch("custom_components.smart_play.players.spotify.API_BASE", fake_spotify.api_base):
        yield


def _entry(
    hass: HomeAssistant,
    implementation: LocalOAuth2Implementation,
    token: dict,
    source: str = CLIP,
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Smart Player · desk",
        unique_id="spotify:smartplayer:x",
        data={
            "auth_implementation": implementation.domain,
            "token": token,
            CONF_TARGET_TYPE: TARGET_SPOTIFY,
            CONF_SPOTIFY_USER: "smartplayer",
            CONF_SOURCE: source,
            CONF_LOOP: True,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def test_spotify_entry_sets_up_pauses_unloads_and_is_removed(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    fake_spotify.user_play()
    entry = _entry(hass, spotify_implementation, fake_spotify.issue_token())
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    runtime = entry.runtime_data
    assert isinstance(runtime.controller.target, SpotifyTarget)

    # The clip shows a person: wait for the engine's first decision, then pretend
    # the room empties: the real Spotify client pauses on the fake over HTTP.
    for _ in range(100):
        if runtime.occupancy is Occupancy.OCCUPIED:
            break
        await asyncio.sleep(0.05)
    assert runtime.occupancy is Occupancy.OCCUPIED
    await hass.async_block_till_done()
    await runtime.controller.async_on_transition(
        Transition(t=1.0, state=Occupancy.EMPTY, reason="test", wall=time.monotonic())
    )
    assert fake_spotify.state()["is_playing"] is False
    assert [r.path for r in fake_spotify.api_requests(method="PUT")] == ["/v1/me/player/pause"]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    # The pause is remembered (track and device names) until the entry is deleted.
    assert f"smart_play.{entry.entry_id}" in hass_storage

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert [key for key in hass_storage if entry.entry_id in key] == []


async def test_revoked_refresh_token_starts_reauth(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    token = fake_spotify.issue_token()
    token["expires_at"] = time.time() - 10
    fake_spotify.revoke_refresh_token()
    entry = _entry(hass, spotify_implementation, token)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_token_without_a_needed_scope_starts_reauth(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    """Like core's spotify: a sign-in without playback control asks to sign in again."""
    token = fake_spotify.issue_token()
    token["scope"] = "user-read-playback-state user-read-private"
    entry = _entry(hass, spotify_implementation, token)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]
    assert not fake_spotify.api_requests()  # nothing was sent with that token


async def test_spotify_unreachable_at_setup_is_retried_with_a_translated_reason(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = fake_spotify.issue_token()
    token["expires_at"] = time.time() - 10  # a refresh is needed, and the token endpoint is down
    fake_spotify.fail_next(503, path_prefix="/api/token")
    entry = _entry(hass, spotify_implementation, token)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Spotify's sign-in service cannot be reached right now (HTTP 503)" in caplog.text
    assert token["refresh_token"] not in caplog.text


async def test_missing_camera_is_retried_later(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = _entry(
        hass,
        spotify_implementation,
        fake_spotify.issue_token(),
        source="rtsp://admin:hunter2@127.0.0.1:9/stream",
    )
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "hunter2" not in caplog.text
    # Nothing was asked of Spotify while the camera is missing.
    assert not fake_spotify.api_requests()
