"""End to end: Spotify as the target, through HA's real OAuth2 flow, against the fake Spotify.

The `hass` process gets the test-only import hook of tests/e2e/spotify_hook (see
`fake_spotify_env`), which points Smart Play at tests/fake_spotify running in this process.
The flow is driven like a browser would: application credentials over the websocket,
the flow's external step URL opened on the fake accounts server (which approves and
redirects), the redirect followed to HA's /auth/external/callback, then the camera form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_socket

from tests.fake_spotify import FakeSpotify

from .hass_process import (
    HassClient,
    HassError,
    HassProcess,
    fake_spotify_env,
    free_port,
    next_event,
)
from .test_e2e_media_player import entity_by_key

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def spotify_port() -> int:
    """Port of the fake Spotify (fixed before hass starts: hass gets it in its env)."""
    pytest_socket.enable_socket()
    return free_port()


@pytest.fixture(scope="module")
def hass_proc(
    e2e_ready: None, tmp_path_factory: pytest.TempPathFactory, spotify_port: int
) -> Iterator[HassProcess]:
    """A real Home Assistant whose Smart Play talks to the fake Spotify."""
    pytest_socket.enable_socket()
    base = f"http://127.0.0.1:{spotify_port}"
    hass = HassProcess(
        tmp_path_factory.mktemp("hass_spotify") / "config",
        env=fake_spotify_env(base),
    )
    try:
        hass.start(timeout=120)
    except HassError:
        hass.stop()
        raise
    yield hass
    hass.stop()


@pytest.fixture
async def fake_spotify(spotify_port: int) -> AsyncIterator[FakeSpotify]:
    """The fake Spotify Web API + accounts server on the port hass was told about."""
    server = FakeSpotify(lag=0.0)
    await server.start(port=spotify_port)
    try:
        yield server
    finally:
        await server.stop()


async def authorize_spotify(client: HassClient, fake: FakeSpotify) -> dict[str, object]:
    """Run the Spotify branch of the config flow up to the device choice."""
    await client.ws_command(
        {
            "type": "application_credentials/create",
            "domain": "smart_play",
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "name": "Fake Spotify",
        }
    )
    flow = await client.flow_start("smart_play")
    assert flow["type"] == "menu", flow
    flow = await client.flow_step(flow["flow_id"], {"next_step_id": "pick_implementation"})
    assert flow["type"] == "external", flow
    authorize_url = flow["url"]
    assert authorize_url.startswith(f"{fake.url}/authorize?"), authorize_url

    assert client.session is not None
    # The "browser": Spotify's consent page approves and redirects back to HA.
    async with client.session.get(authorize_url, allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        callback = resp.headers["Location"]
    assert callback.startswith(f"{client.url}/auth/external/callback?"), callback
    async with client.session.get(callback) as resp:
        assert resp.status == 200, await resp.text()

    # The frontend then continues the flow: HA fetches the token and reads the account.
    return await client.flow_step(flow["flow_id"], {})


async def test_spotify_paused_on_leave_and_resumed_on_return(
    hass_proc: HassProcess, client: HassClient, fake_spotify: FakeSpotify, clip: Path
) -> None:
    """OAuth through HA, then the room empties (pause sent) and fills again (play sent)."""
    fake_spotify.user_play(device_id="dev-speaker", context_uri="spotify:album:mezzanine")
    paused_q = await client.subscribe_events("smart_play_paused")
    resumed_q = await client.subscribe_events("smart_play_resumed")

    choice = await authorize_spotify(client, fake_spotify)
    assert choice["step_id"] == "spotify_devices", choice
    camera = await client.flow_step(
        str(choice["flow_id"]), {"devices": ["dev-speaker"], "any_device": False}
    )
    assert camera["type"] == "form", camera
    assert camera["step_id"] == "camera", camera
    result = await client.flow_step(str(camera["flow_id"]), {"source": str(clip), "loop": True})
    assert result["type"] == "create_entry", result
    entry = result["result"]
    assert "Smart Player" in entry["title"]
    entry_id = entry["entry_id"]
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")

    await client.wait_state(sensor, "on", 30)
    assert fake_spotify.api_requests("PUT", "/v1/me/player/pause") == []

    paused = await next_event(paused_q, 45, lambda e: e["data"].get("entry_id") == entry_id)
    assert paused["data"]["device_id"] == "dev-speaker"
    assert paused["data"]["item_uri"] == "spotify:track:1"
    assert fake_spotify.api_requests("PUT", "/v1/me/player/pause")

    resumed = await next_event(resumed_q, 30, lambda e: e["data"].get("entry_id") == entry_id)
    assert resumed["data"]["item_uri"] == "spotify:track:1"
    plays = fake_spotify.api_requests("PUT", "/v1/me/player/play")
    assert plays, "no play command reached Spotify"
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is True
    assert state["device"]["id"] == "dev-speaker"
    assert state["item"]["uri"] == "spotify:track:1"

    log = hass_proc.log_text()
    assert fake_spotify.client_secret not in log
    assert fake_spotify.refresh_token not in log
