"""FrameSource against a real RTSP server (gst-rtsp-server) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import itertools
import logging
from pathlib import Path
import threading
import time

import pytest
import pytest_socket

from custom_components.smart_play.vision.source import FrameSource, probe_source
from custom_components.smart_play.vision.types import SourceState, SourceStatus
from tests.servers.rtsp_server import RtspServer, ensure_installed

DATA = Path(__file__).parent.parent / "data"
REAL_CLIP = DATA / "one-by-one-person-detection.mp4"

# Generous timeout: the first test's setup may apt-install gst-rtsp-server (ensure_installed);
# the tests themselves finish in seconds.
pytestmark = [pytest.mark.timeout(600), pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture(scope="module")
def rtsp() -> Iterator[RtspServer]:
    """A real RTSP server streaming a real clip (looped) with credentials in its URL."""
    reason = ensure_installed()
    if reason is not None:
        pytest.skip(reason)
    if not REAL_CLIP.exists():
        pytest.skip(f"test clip {REAL_CLIP} is missing")
    pytest_socket.enable_socket()
    server = RtspServer(REAL_CLIP, user="viewer", password="s3cr3t-pw", loop_seconds=300)
    server.start()
    try:
        yield server
    finally:
        server.close()


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` elapsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_probe_rtsp(rtsp: RtspServer) -> None:
    assert probe_source(rtsp.url, timeout=10) == (320, 180)


def test_rtsp_frames_arrive_at_the_cap(rtsp: RtspServer) -> None:
    src = FrameSource(rtsp.url, fps_cap=5.0)
    src.start()
    try:
        first = src.get(10.0)
        assert first is not None
        assert first.image.shape == (180, 320, 3)
        assert src.state.status is SourceStatus.STREAMING
        frames = []
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            if (frame := src.get(0.5)) is not None:
                frames.append(frame)
    finally:
        src.stop()
    # The clip runs at 10 fps; the cap keeps 5 of them per second.
    assert 8 <= len(frames) <= 11
    assert src.frames_decoded >= 1.6 * len(frames)
    assert all(b.pts > a.pts for a, b in itertools.pairwise(frames))


def test_server_death_and_return(rtsp: RtspServer, caplog: pytest.LogCaptureFixture) -> None:
    """Kill the server: FAILED quickly, UNKNOWN-worthy; restart: STREAMING again."""
    caplog.set_level(logging.DEBUG)
    states: list[SourceState] = []
    stall = 2.0
    src = FrameSource(rtsp.url, stall_timeout=stall, max_backoff=4.0, on_state=states.append)
    baseline_threads = threading.active_count()
    src.start()
    try:
        assert src.get(10.0) is not None
        rtsp.stop()
        killed = time.monotonic()
        assert wait_for(lambda: src.state.status is not SourceStatus.STREAMING, stall + 1.0)
        detect = time.monotonic() - killed
        assert src.state.status in (SourceStatus.FAILED, SourceStatus.CONNECTING)
        time.sleep(1.5)  # at least one failed reconnect while the server is down
        rtsp.start()
        back = time.monotonic()
        assert wait_for(lambda: src.state.status is SourceStatus.STREAMING, 4.0 + 3.0)
        reconnect = time.monotonic() - back
        assert src.get(5.0) is not None
    finally:
        src.stop()
        if not rtsp.running:
            rtsp.start()
    assert wait_for(lambda: threading.active_count() == baseline_threads, 1.0)
    statuses = [s.status for s in states]
    assert statuses.count(SourceStatus.STREAMING) == 2
    assert SourceStatus.FAILED in statuses
    print(f"dead server detected in {detect:.2f} s, reconnected {reconnect:.2f} s after restart")
    # Credentials never leak: not in logs, not in reasons.
    assert "s3cr3t-pw" not in caplog.text
    assert all("s3cr3t-pw" not in (s.reason or "") for s in states)
    assert "viewer:***@127.0.0.1" in caplog.text


def test_frozen_server_is_a_stall(rtsp: RtspServer) -> None:
    """A server that keeps the connection but sends nothing is detected by the timeout."""
    stall = 1.5
    src = FrameSource(rtsp.url, stall_timeout=stall, max_backoff=2.0)
    src.start()
    try:
        assert src.get(10.0) is not None
        rtsp.pause()
        frozen = time.monotonic()
        try:
            assert wait_for(lambda: src.state.status is not SourceStatus.STREAMING, stall + 1.0)
            detect = time.monotonic() - frozen
            assert src.state.status is SourceStatus.FAILED
            assert "No frame" in (src.state.reason or "")
        finally:
            rtsp.resume()
        assert wait_for(lambda: src.state.status is SourceStatus.STREAMING, 2.0 + 3.0)
    finally:
        src.stop()
    print(f"frozen server detected in {detect:.2f} s")


def test_stop_while_streaming_rtsp(rtsp: RtspServer) -> None:
    src = FrameSource(rtsp.url)
    src.start()
    assert src.get(10.0) is not None
    started = time.monotonic()
    src.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert src.state.status is SourceStatus.STOPPED
