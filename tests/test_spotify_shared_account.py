"""Two Smart Play entries on one Spotify account share one client (fake Spotify, real HTTP)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import LocalOAuth2Implementation, OAuth2Session
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import DOMAIN
from custom_components.smart_play.controller import PlaybackController
from custom_components.smart_play.players.base import RateLimited
from custom_components.smart_play.players.spotify import (
    DATA_ACCOUNTS,
    SpotifyTarget,
    async_acquire_account,
)
from custom_components.smart_play.vision.types import Occupancy, Transition

from .conftest import DATA
from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no motion")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")

TEST_RETRY_DELAYS = (0.05, 0.1)

type MakeController = Callable[..., Awaitable[PlaybackController]]


@pytest_asyncio.fixture
async def make_controller(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> AsyncGenerator[MakeController]:
    """Create entries of the fake's account, each with its own sign-in and controller."""
    controllers: list[PlaybackController] = []

    async def _make(title: str, refresh_token: str | None = None) -> PlaybackController:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=title,
            data={
                "auth_implementation": spotify_implementation.domain,
                "token": fake_spotify.issue_token(refresh_token=refresh_token),
                "target_type": "spotify",
                "spotify_user_id": fake_spotify.user["id"],
            },
        )
        entry.add_to_hass(hass)
        account = async_acquire_account(
            hass,
            fake_spotify.user["id"],
            api_base=fake_spotify.api_base,
            request_timeout=2.0,
            retry_delays=TEST_RETRY_DELAYS,
        )
        session = OAuth2Session(hass, entry, spotify_implementation)
        target = SpotifyTarget(hass, session, account=account)
        ctrl = PlaybackController(hass, entry.entry_id, target)
        await ctrl.async_load()
        await ctrl.async_on_transition(OCCUPIED)
        controllers.append(ctrl)
        return ctrl

    yield _make
    for ctrl in controllers:
        await ctrl.async_shutdown()


async def test_entries_of_one_account_share_one_client(
    hass: HomeAssistant, fake_spotify: FakeSpotify, make_controller: MakeController
) -> None:
    desk = await make_controller("Desk")
    kitchen = await make_controller("Kitchen")
    assert desk.target.account is kitchen.target.account  # type: ignore[attr-defined]
    assert hass.data[DOMAIN][DATA_ACCOUNTS][fake_spotify.user["id"]] is desk.target.account  # type: ignore[attr-defined]

    fake_spotify.user_play("dev-desktop")
    fake_spotify.slow_next(0.1, count=10)
    await asyncio.gather(desk.async_on_transition(EMPTY), kitchen.async_on_transition(EMPTY))
    assert fake_spotify.max_in_flight == 1  # serialised: never two requests at once
    # Each entry keeps its own memo: one paused, the other found it paused already.
    assert [c.memo is not None for c in (desk, kitchen)].count(True) == 1
    assert fake_spotify.state()["is_playing"] is False


async def test_one_rate_limit_holds_every_entry_back(
    fake_spotify: FakeSpotify, make_controller: MakeController
) -> None:
    """A QUOTA_EXCEEDED 429 seen by one entry: the other sends nothing before it passes."""
    desk = await make_controller("Desk")
    kitchen = await make_controller("Kitchen")
    fake_spotify.user_play("dev-desktop")
    fake_spotify.fail_next(429, retry_after=60, reason="QUOTA_EXCEEDED")
    with pytest.raises(RateLimited) as err:
        await desk.target.async_get_playback()
    assert err.value.reason == "QUOTA_EXCEEDED"
    with pytest.raises(RateLimited):
        await kitchen.target.async_get_playback()
    assert len(fake_spotify.api_requests()) == 1  # the kitchen never asked


async def test_one_token_refresh_for_the_account(
    fake_spotify: FakeSpotify, make_controller: MakeController
) -> None:
    desk = await make_controller("Desk")
    kitchen = await make_controller("Kitchen")
    fake_spotify.user_play("dev-desktop")
    fake_spotify.expire_tokens()
    await asyncio.gather(desk.target.async_get_playback(), kitchen.target.async_get_playback())
    refreshes = [r for r in fake_spotify.log if r.path == "/api/token"]
    assert len(refreshes) == 1
    tokens = {r.token for r in fake_spotify.api_requests()}
    assert None not in tokens


async def test_unloading_one_entry_leaves_the_other_working(
    hass: HomeAssistant, fake_spotify: FakeSpotify, make_controller: MakeController
) -> None:
    desk = await make_controller("Desk")
    kitchen = await make_controller("Kitchen")
    account = desk.target.account  # type: ignore[attr-defined]
    await desk.async_shutdown()  # the desk entry is unloaded first (it signed the requests)
    assert hass.data[DOMAIN][DATA_ACCOUNTS][fake_spotify.user["id"]] is account

    fake_spotify.user_play("dev-speaker")
    fake_spotify.expire_tokens()  # the kitchen's own sign-in is used from now on
    await kitchen.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert kitchen.memo is not None
    await kitchen.async_on_transition(OCCUPIED)
    assert fake_spotify.state()["is_playing"] is True

    await kitchen.async_shutdown()
    assert fake_spotify.user["id"] not in hass.data[DOMAIN][DATA_ACCOUNTS]


async def test_one_refused_login_does_not_stop_the_other_entry(
    hass: HomeAssistant, fake_spotify: FakeSpotify, make_controller: MakeController
) -> None:
    """The kitchen's sign-in (which signs the requests) is revoked: the desk goes on."""
    kitchen = await make_controller("Kitchen", refresh_token="kitchen-refresh")
    desk = await make_controller("Desk")
    fake_spotify.revoke_refresh_token("kitchen-refresh")
    fake_spotify.expire_tokens()
    fake_spotify.user_play("dev-desktop")
    await desk.async_on_transition(EMPTY)
    assert fake_spotify.state()["is_playing"] is False
    assert desk.memo is not None
    await hass.async_block_till_done()
    reauths = [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"].get("source") == "reauth"
    ]
    assert [flow["context"]["entry_id"] for flow in reauths] == [kitchen.entry_id]
    await desk.async_on_transition(OCCUPIED)
    assert fake_spotify.state()["is_playing"] is True


async def test_config_entries_share_the_client_and_unload_one_by_one(
    hass: HomeAssistant,
    fake_spotify: FakeSpotify,
    spotify_implementation: LocalOAuth2Implementation,
) -> None:
    """Real setup of two entries of one account; unloading the kitchen keeps the desk."""
    clip = str(DATA / "head-pose-male-preview.mp4")
    entries = []
    for title in ("Kitchen", "Desk"):
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=title,
            version=1,
            minor_version=2,
            unique_id=f"spotify:smartplayer:{title}",
            data={
                "auth_implementation": spotify_implementation.domain,
                "token": fake_spotify.issue_token(),
                "target_type": "spotify",
                "spotify_user_id": fake_spotify.user["id"],
                "source": clip,
                "loop": True,
            },
            options={"spotify_any_device": True, "spotify_devices": []},
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    kitchen, desk = entries
    with patch("custom_components.smart_play.players.spotify.API_BASE", fake_spotify.api_base):
        assert await hass.config_entries.async_setup(kitchen.entry_id)  # sets up both
        await hass.async_block_till_done()
        assert desk.state is ConfigEntryState.LOADED
        account = hass.data[DOMAIN][DATA_ACCOUNTS][fake_spotify.user["id"]]
        assert kitchen.runtime_data.controller.target.account is account
        assert desk.runtime_data.controller.target.account is account
        # HA sets both entries up at once, so either may come first.
        assert sorted(account.entry_ids) == sorted([kitchen.entry_id, desk.entry_id])

        assert await hass.config_entries.async_unload(kitchen.entry_id)
        assert account.entry_ids == [desk.entry_id]
        fake_spotify.user_play("dev-desktop")
        controller = desk.runtime_data.controller
        await controller.async_on_transition(OCCUPIED)
        await controller.async_on_transition(EMPTY)
        assert fake_spotify.state()["is_playing"] is False

        assert await hass.config_entries.async_unload(desk.entry_id)
        assert fake_spotify.user["id"] not in hass.data[DOMAIN][DATA_ACCOUNTS]
