"""Fixtures for the end-to-end tests: a real `hass` process per test module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from fractions import Fraction
from pathlib import Path
import subprocess
from typing import Any

import av
import pytest
import pytest_socket

from .hass_process import DATA_DIR, HassClient, HassError, HassProcess, ensure_frontend

CLIP = DATA_DIR / "one-by-one-person-detection.mp4"
DEMO_PLAYER = "media_player.walkman"


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Let e2e tests open sockets (pytest-socket still limits them to 127.0.0.1)."""


@pytest.fixture(scope="session")
def e2e_ready() -> None:
    """Skip when Home Assistant's frontend package cannot be had (HA needs it to start)."""
    try:
        ensure_frontend(log=lambda _msg: None)
    except (subprocess.SubprocessError, OSError, HassError) as err:
        pytest.skip(f"home-assistant-frontend is not installed and pip could not install it: {err}")


@pytest.fixture(scope="session")
def clip() -> Path:
    """The bundled clip: empty room, then six people come and go one at a time."""
    if not CLIP.exists():
        pytest.skip(f"{CLIP.name} is not in tests/data")
    return CLIP


@pytest.fixture(scope="session")
def away_clip(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled clip's first visit, then the empty room held still for 20 s.

    Frames 0-22.5 s of the clip (empty 6 s, a visitor 6.0-19.9 s, empty again) and then
    its last frame repeated for 20 s, so the room stays empty long enough for a test to
    act while Smart Play holds a pause; looped, the visitor returns 6 s into the next
    round (about 48 s after the start).
    """
    dst = tmp_path_factory.mktemp("clips") / "visit-then-away.mp4"
    with av.open(str(clip)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = round(float(vin.average_rate or 10))
        stream = out.add_stream("libx264", rate=rate)
        stream.width = vin.codec_context.width
        stream.height = vin.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(rate), "bf": "0", "crf": "26"}
        images: list[Any] = []
        for frame in inp.decode(vin):
            if float(frame.pts * frame.time_base) >= 22.5:
                break
            images.append(frame.to_ndarray(format="rgb24"))
        images += [images[-1]] * (20 * rate)
        for index, image in enumerate(images):
            new = av.VideoFrame.from_ndarray(image, format="rgb24")
            new.pts = index
            new.time_base = Fraction(1, rate)
            for packet in stream.encode(new):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


@pytest.fixture(scope="module")
def hass_proc(e2e_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[HassProcess]:
    """A real Home Assistant (demo integration + Smart Play) for the test module."""
    pytest_socket.enable_socket()  # module fixtures run before the autouse one above
    hass = HassProcess(tmp_path_factory.mktemp("hass") / "config")
    try:
        hass.start(timeout=120)
    except HassError:
        hass.stop()
        raise
    yield hass
    hass.stop()


@pytest.fixture
async def client(hass_proc: HassProcess) -> AsyncIterator[HassClient]:
    """Authenticated REST/websocket client; removes Smart Play entries afterwards."""
    if not hass_proc.running:
        hass_proc.start(timeout=120)
    async with hass_proc.client() as hass_client:
        await hass_client.call_service("media_player", "media_play", {"entity_id": DEMO_PLAYER})
        yield hass_client
        for entry in await hass_client.config_entries("smart_play"):
            await hass_client.rest(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )
