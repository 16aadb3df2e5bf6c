"""End to end: a real `hass` watching a real RTSP server (gst-rtsp-server) that dies and returns."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
import time

import pytest

from tests.servers.rtsp_server import RtspServer, ensure_installed

from .conftest import DEMO_PLAYER
from .hass_process import HassClient, HassProcess, add_media_player_entry
from .test_e2e_media_player import Recorder, entity_by_key

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SECRET = "rtspS3cret"


@pytest.fixture
def rtsp_server(clip: Path) -> Iterator[RtspServer]:
    """gst-rtsp-server streaming the bundled clip (with credentials in its URL)."""
    if reason := ensure_installed():
        pytest.skip(reason)
    server = RtspServer(clip, user="viewer", password=SECRET, loop_seconds=300)
    server.start()
    yield server
    server.close()


async def test_rtsp_camera_follows_the_room_and_survives_a_server_crash(
    hass_proc: HassProcess, client: HassClient, rtsp_server: RtspServer
) -> None:
    """Occupancy follows the RTSP stream; a dead server makes entities unavailable without
    pausing anything, and streaming comes back by itself when the server does."""
    result = await add_media_player_entry(client, DEMO_PLAYER, rtsp_server.url, loop=False)
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]
    assert SECRET not in result["result"]["title"]
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")

    # The clip's first visitor walks in 6 s after the stream starts.
    await client.wait_state(sensor, "on", 30)

    recorder = Recorder({sensor, DEMO_PLAYER})
    await recorder.start(client)
    try:
        rtsp_server.stop()  # the server process dies; connections are reset
        lost = time.monotonic()
        await client.wait_state(sensor, "unavailable", 10)
        lost_after = time.monotonic() - lost
        await asyncio.sleep(3)  # stays down a little while
        assert (await client.state(DEMO_PLAYER))["state"] == "playing"

        rtsp_server.start()
        back = time.monotonic()
        # FrameSource retries with backoff capped at 30 s (max_backoff).
        await client.wait_state(sensor, ["on", "off"], 40)
        back_after = time.monotonic() - back
        await asyncio.sleep(1)
    finally:
        await recorder.stop()

    assert lost_after < 10
    assert back_after < 40
    assert (DEMO_PLAYER, "paused") not in recorder.sequence(), recorder.show()
    assert not any(e["event_type"] == "smart_play_paused" for e in recorder.events), recorder.show()
    assert (await client.state(DEMO_PLAYER))["state"] == "playing"

    log = hass_proc.log_text()
    assert SECRET not in log, [line for line in log.splitlines() if SECRET in line][:5]
