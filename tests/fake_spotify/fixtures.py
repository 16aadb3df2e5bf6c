"""Pytest fixtures around :class:`FakeSpotify` (enable with ``pytest_plugins``).

``fake_spotify`` needs real loopback sockets, so it pulls in pytest-socket's
``socket_enabled`` (pytest-homeassistant-custom-component blocks sockets by default and
only lets them connect to 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import (
    LocalOAuth2Implementation,
    OAuth2Session,
    async_register_implementation,
)
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import DOMAIN
from custom_components.smart_play.players.spotify import SpotifyTarget

from .server import FakeSpotify

#: Short backoffs keep the retry tests fast; the production default is (1.0, 2.0).
TEST_RETRY_DELAYS = (0.05, 0.1)


@pytest_asyncio.fixture
async def fake_spotify(socket_enabled: None) -> AsyncGenerator[FakeSpotify]:
    """Run a fake Spotify on 127.0.0.1 for the duration of a test.

    It starts without state lag (``server.lag = 0``) so that unit tests see their
    commands at once; scenario tests set ``lag``/``idle_after`` to what Spotify does.
    """
    server = FakeSpotify(lag=0.0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def spotify_implementation(
    hass: HomeAssistant, fake_spotify: FakeSpotify
) -> LocalOAuth2Implementation:
    """Register an OAuth2 implementation whose token URL is the fake's."""
    implementation = LocalOAuth2Implementation(
        hass,
        DOMAIN,
        fake_spotify.client_id,
        fake_spotify.client_secret,
        f"{fake_spotify.url}/authorize",
        fake_spotify.token_url,
    )
    async_register_implementation(hass, DOMAIN, implementation)
    return implementation


@pytest.fixture
def spotify_entry(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> MockConfigEntry:
    """Return a config entry (added to hass, not set up) holding a valid fake token."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Smart Player",
        unique_id=fake_spotify.user["id"],
        data={
            "auth_implementation": spotify_implementation.domain,
            "token": fake_spotify.issue_token(),
            "target_type": "spotify",
        },
    )
    entry.add_to_hass(hass)
    return entry


@pytest.fixture
def spotify_session(
    hass: HomeAssistant,
    spotify_entry: MockConfigEntry,
    spotify_implementation: LocalOAuth2Implementation,
) -> OAuth2Session:
    """Return Home Assistant's real OAuth2 session for the entry."""
    return OAuth2Session(hass, spotify_entry, spotify_implementation)


@pytest_asyncio.fixture
async def spotify_target(
    hass: HomeAssistant, fake_spotify: FakeSpotify, spotify_session: OAuth2Session
) -> AsyncGenerator[SpotifyTarget]:
    """Return a SpotifyTarget talking to the fake over real HTTP (short retry delays)."""
    target = SpotifyTarget(
        hass,
        spotify_session,
        api_base=fake_spotify.api_base,
        request_timeout=2.0,
        retry_delays=TEST_RETRY_DELAYS,
    )
    yield target
    await target.async_close()
