"""FrameSource / probe_source against an HTTP MJPEG server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
import itertools
import time

import pytest

from custom_components.smart_play.vision.source import FrameSource, probe_source
from custom_components.smart_play.vision.types import SourceError, SourceState, SourceStatus
from tests.servers.clips import cached_clip, frame_index
from tests.servers.mjpeg_server import MjpegServer

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture
def mjpeg(socket_enabled: None) -> Iterator[MjpegServer]:
    """MJPEG camera serving a synthetic clip (frames carry their index) at 10 fps."""
    server = MjpegServer(cached_clip(seconds=4.0, fps=30), fps=10.0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` elapsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_probe_mjpeg(mjpeg: MjpegServer) -> None:
    assert probe_source(mjpeg.url, timeout=5) == (640, 360)


def test_probe_html_page_is_no_frames(mjpeg: MjpegServer) -> None:
    with pytest.raises(SourceError) as err:
        probe_source(mjpeg.html_url, timeout=5)
    assert err.value.code == "no_frames"


def test_probe_http_404_is_cannot_open(mjpeg: MjpegServer) -> None:
    with pytest.raises(SourceError) as err:
        probe_source(mjpeg.url_for("/missing"), timeout=5)
    assert err.value.code == "cannot_open"
    assert "404" in str(err.value)


def test_mjpeg_frames_stream(mjpeg: MjpegServer) -> None:
    src = FrameSource(mjpeg.url, fps_cap=10.0)
    src.start()
    try:
        assert src.get(5.0) is not None
        assert src.state.status is SourceStatus.STREAMING
        frames = []
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            if (frame := src.get(0.5)) is not None:
                frames.append(frame)
    finally:
        src.stop()
    assert 12 <= len(frames) <= 17  # the server sends 10 fps
    assert frames[0].image.shape == (360, 640, 3)
    # Consecutive server frames are 3 clip frames apart (30 fps clip at 10 fps).
    indices = [frame_index(f.image) for f in frames]
    steps = {(b - a) % 120 for a, b in itertools.pairwise(indices)}
    assert steps <= {3, 6}


def test_mjpeg_stall_and_reconnect(mjpeg: MjpegServer) -> None:
    """/hang sends one frame and then nothing: the source must notice and retry."""
    states: list[SourceState] = []
    stall = 1.0
    src = FrameSource(
        mjpeg.url_for("/hang"), stall_timeout=stall, max_backoff=1.0, on_state=states.append
    )
    src.start()
    try:
        assert src.get(5.0) is not None
        streaming_at = time.monotonic()
        assert wait_for(lambda: src.state.status is SourceStatus.FAILED, stall + 1.0)
        assert time.monotonic() - streaming_at < stall + 1.0
        # Backoff 1 s, then it connects again and gets the first frame again.
        assert wait_for(lambda: [s.status for s in states].count(SourceStatus.STREAMING) >= 2, 3.0)
    finally:
        src.stop()


def test_mjpeg_server_restart(mjpeg: MjpegServer) -> None:
    src = FrameSource(mjpeg.url, stall_timeout=2.0, max_backoff=2.0)
    src.start()
    try:
        assert src.get(5.0) is not None
        mjpeg.stop()
        assert wait_for(lambda: src.state.status is not SourceStatus.STREAMING, 3.0)
        mjpeg.start()
        assert wait_for(lambda: src.state.status is SourceStatus.STREAMING, 5.0)
        assert src.get(2.0) is not None
    finally:
        src.stop()
        mjpeg.start()


def test_callable_source_is_asked_again_at_every_reconnect(
    mjpeg: MjpegServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An expiring stream URL: the reader fetches a fresh one for each connection.

    The URLs carry their token in the path and the query; with ``hide_path``
    neither reaches the log, the state reasons or the thread name.
    """
    caplog.set_level("DEBUG")
    issued: list[str] = []

    def resolve() -> str:
        token = f"Tk{len(issued):02d}secretPath"
        issued.append(token)
        path = f"/live/{token}/stream.mjpg?auth={token}"
        mjpeg.tokens.add(path)
        return mjpeg.url_for(path)

    states: list[SourceState] = []
    src = FrameSource(
        resolve, fps_cap=10.0, max_backoff=0.5, hide_path=True, on_state=states.append
    )
    src.start()
    try:
        assert wait_for(lambda: src.state.status is SourceStatus.STREAMING, 10)
        assert len(issued) == 1
        mjpeg.revoke(f"/live/{issued[0]}/stream.mjpg?auth={issued[0]}")
        assert wait_for(lambda: len(issued) >= 2 and src.state.status is SourceStatus.STREAMING, 20)
        assert src.get(2.0) is not None
        thread_name = src._thread.name if src._thread else ""
    finally:
        src.stop()
    assert src.resolves == len(issued) >= 2
    shown = [caplog.text, thread_name, src.display, *(s.reason or "" for s in states)]
    for token in issued:
        assert all(token not in text for text in shown)
