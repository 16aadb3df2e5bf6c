"""The fake Spotify itself: OAuth consent stand-in, control API, standalone mode."""

from __future__ import annotations

import asyncio
from pathlib import Path
import signal
import sys

import aiohttp
import pytest
from yarl import URL

from .fake_spotify import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]


async def test_authorize_redirects_with_a_code_the_token_endpoint_accepts(
    fake_spotify: FakeSpotify,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{fake_spotify.url}/authorize",
            params={
                "client_id": fake_spotify.client_id,
                "response_type": "code",
                "redirect_uri": "https://example.com/auth/external/callback",
                "state": "xyz",
            },
            allow_redirects=False,
        ) as response:
            assert response.status == 302
            location = URL(response.headers["Location"])
        assert location.host == "example.com"
        assert location.query["state"] == "xyz"
        async with session.post(
            fake_spotify.token_url,
            data={
                "grant_type": "authorization_code",
                "code": location.query["code"],
                "client_id": fake_spotify.client_id,
                "client_secret": fake_spotify.client_secret,
            },
        ) as response:
            token = await response.json()
        assert response.status == 200
        assert token["refresh_token"] == fake_spotify.refresh_token
        async with session.get(
            f"{fake_spotify.api_base}me",
            headers={"Authorization": f"Bearer {token['access_token']}"},
        ) as response:
            assert (await response.json())["product"] == "premium"


async def test_control_api_drives_the_fake(fake_spotify: FakeSpotify) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake_spotify.url}/_fake/user_play",
            json={"device_id": "dev-speaker", "position_ms": 1000},
        ) as response:
            assert response.status == 200
        async with session.post(f"{fake_spotify.url}/_fake/user_pause") as response:
            body = await response.json()
        assert body["playback"]["is_playing"] is False
        assert body["playback"]["device"]["name"] == "Living Room"
        async with session.post(f"{fake_spotify.url}/_fake/nope") as response:
            assert response.status == 404
        async with session.post(
            f"{fake_spotify.url}/_fake/fail_next", json={"status": 503}
        ) as response:
            assert response.status == 200
    assert fake_spotify.playback is not None
    assert fake_spotify._faults[0].status == 503


@pytest.mark.usefixtures("socket_enabled")
async def test_standalone_server() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fake_spotify",
        "--play",
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[1],
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{url}/_fake/state") as response,
        ):
            state = await response.json()
        assert state["playback"]["is_playing"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0
