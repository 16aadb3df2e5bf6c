"""FrameSource / iter_file_frames / parse_source / redact_url / probe_source on files.

Network sources have their own files (test_source_rtsp.py, test_source_mjpeg.py).
"""

from __future__ import annotations

from collections.abc import Callable
import logging
from pathlib import Path
import threading
import time

import numpy as np
import pytest

from custom_components.smart_play.vision import frames as frames_mod
from custom_components.smart_play.vision.source import (
    FrameSource,
    iter_file_frames,
    parse_source,
    probe_source,
    redact_url,
    scrub,
)
from custom_components.smart_play.vision.types import SourceError, SourceState, SourceStatus
from tests.servers.clips import cached_clip, frame_index
from tests.servers.tcp import SilentTcpServer, closed_port

# Loopback sockets only (pytest-homeassistant-custom-component blocks sockets by default).
pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("socket_enabled")]


@pytest.fixture(scope="module")
def clip() -> Path:
    """4 s, 30 fps, 640x360 H.264 clip whose frames carry their index."""
    return cached_clip(seconds=4.0, fps=30)


@pytest.fixture(scope="module")
def short_clip() -> Path:
    """1 s, 30 fps clip (for loop tests)."""
    return cached_clip(seconds=1.0, fps=30)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` elapsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def drain(src: FrameSource, seconds: float) -> list:
    """Collect frames from ``src`` for ``seconds``."""
    frames = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        frame = src.get(0.05)
        if frame is not None:
            frames.append(frame)
    return frames


# ------------------------------------------------------------- parse / redact
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        (" 2 ", 2),
        ("/dev/video0", "/dev/video0"),
        ("rtsp://cam.local:554/stream1", "rtsp://cam.local:554/stream1"),
        ("rtsp://user:pa%40ss@10.0.0.2/h264", "rtsp://user:pa%40ss@10.0.0.2/h264"),
        ("http://127.0.0.1:8080/video.mjpg", "http://127.0.0.1:8080/video.mjpg"),
        ("https://cam.example/stream", "https://cam.example/stream"),
        ("/srv/clips/room.mp4", "/srv/clips/room.mp4"),
        ("file:///srv/clips/room.mp4", "/srv/clips/room.mp4"),
    ],
)
def test_parse_source_accepts(text: str, expected: str | int) -> None:
    assert parse_source(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello camera",
        "ftp://127.0.0.1/video",
        "javascript:alert(1)",
        "rtsp://",
        "http://:80/x",
        "http://host:99999/x",
        "rtsp://host/with space",
        "rtsp://host/\x00",
        "rtsp://host/" + "a" * 5000,
        "9" * 5000,
        "123",
    ],
)
def test_parse_source_rejects(text: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_source(text)
    assert err.value.code == "invalid_url"
    assert len(str(err.value)) < 300  # a 5000-char input is not echoed back


def test_parse_source_relative_existing_file(clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(clip.parent)
    assert parse_source(clip.name) == clip.name


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:secret@cam/x", "rtsp://user:***@cam/x"),
        ("rtsp://admin:p/w@d@10.0.0.2:554/s", "rtsp://admin:***@10.0.0.2:554/s"),
        ("rtsp://tokenonly@cam/x", "rtsp://***@cam/x"),
        (
            "http://cam/video.cgi?user=a&password=hunter22&x=1",
            "http://cam/video.cgi?user=a&password=***&x=1",
        ),
        ("https://cam/s?token=abc", "https://cam/s?token=***"),
        ("rtsp://cam/x", "rtsp://cam/x"),
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # A camera entity's URL (UniFi Protect, Nest...): token in the path and/or query.
        ("rtsps://192.168.1.5:7441/AbCdEf123456?enableSrtp", "rtsps://192.168.1.5:7441/***"),
        ("rtsp://nvr.local/live/tok3n?auth=xyz", "rtsp://nvr.local/***"),
        ("rtsp://u:pw@nvr:554/x", "rtsp://u:***@nvr:554/***"),
        ("http://cam", "http://cam"),
    ],
)
def test_redact_url_hide_path(url: str, expected: str) -> None:
    assert redact_url(url, hide_path=True) == expected


def test_scrub_removes_path_tokens_quoted_in_messages() -> None:
    url = "rtsps://nvr:7441/AbCdEf123456?auth=QwErTy99"
    message = "Server returned 404 for '/AbCdEf123456' (auth QwErTy99) at " + url
    scrubbed = scrub(message, url, hide_path=True)
    assert "AbCdEf123456" not in scrubbed
    assert "QwErTy99" not in scrubbed
    assert "rtsps://nvr:7441/***" in scrubbed


# ----------------------------------------------------------- iter_file_frames
def test_iter_file_frames_caps_by_pts_and_skips_conversion(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropped frames are never touched; kept ones carry a grey view, RGB only on demand."""
    looked_at = 0
    real = frames_mod.luma_of

    def counting(frame):  # type: ignore[no-untyped-def]
        nonlocal looked_at
        looked_at += 1
        return real(frame)

    monkeypatch.setattr(frames_mod, "luma_of", counting)
    frames = list(iter_file_frames(clip, fps_cap=10.0))
    assert len(frames) == 40
    assert looked_at == 40  # the 80 dropped frames were never looked at
    # No RGB picture was made for the analysis: the grey view is the decoder's plane.
    assert not any(f.has_image for f in frames)
    gray = frames[0].gray
    assert gray.shape == (360, 640)
    assert not gray.flags.owndata
    assert gray.base is not None
    assert [round(f.pts, 3) for f in frames[:4]] == [0.0, 0.1, 0.2, 0.3]
    assert frames[-1].pts == pytest.approx(3.9, abs=0.01)
    assert [frame_index(f.image) for f in frames[:4]] == [0, 3, 6, 9]
    image = frames[0].image
    assert image.shape == (360, 640, 3)
    assert image.dtype == np.uint8
    # RGB order: the background was painted (40, 60, 80).
    assert tuple(int(v) for v in image[200, 600]) == pytest.approx((40, 60, 80), abs=6)


def test_iter_file_frames_uncapped(clip: Path) -> None:
    frames = list(iter_file_frames(clip, fps_cap=None))
    assert len(frames) == 120
    assert [frame_index(f.image) for f in frames] == list(range(120))
    pts = [f.pts for f in frames]
    assert pts == sorted(pts)


def test_iter_file_frames_odd_rate_averages_cap() -> None:
    clip25 = cached_clip(seconds=4.0, fps=25)
    frames = list(iter_file_frames(clip25, fps_cap=10.0))
    # 25 fps has no exact 10 fps subset; the pts grid keeps the average at 10.
    assert 39 <= len(frames) <= 41
    gaps = np.diff([f.pts for f in frames])
    assert gaps.min() >= 0.079
    assert gaps.max() <= 0.121


def test_iter_file_frames_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        list(iter_file_frames(tmp_path / "missing.mp4"))
    assert err.value.code == "cannot_open"
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(SourceError) as err:
        list(iter_file_frames(text))
    assert err.value.code == "no_frames"


# ---------------------------------------------------------------- probe_source
def test_probe_file(clip: Path) -> None:
    assert probe_source(str(clip)) == (640, 360)


@pytest.mark.parametrize(
    "text", ["garbage text", "gopher://127.0.0.1/x", "rtsp://127.0.0.1/" + "x" * 5000]
)
def test_probe_invalid_url(text: str) -> None:
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        probe_source(text, timeout=5)
    assert err.value.code == "invalid_url"
    assert time.monotonic() - started < 0.5


def test_probe_cannot_open(tmp_path: Path) -> None:
    port = closed_port()
    for text in (
        "/dev/video99",
        "9",
        str(tmp_path / "nope.mp4"),
        f"rtsp://127.0.0.1:{port}/x",
        f"http://127.0.0.1:{port}/video.mjpg",
    ):
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            probe_source(text, timeout=5)
        assert err.value.code == "cannot_open", text
        assert time.monotonic() - started < 2, text


def test_probe_no_frames(tmp_path: Path) -> None:
    text = tmp_path / "readme.mp4"
    text.write_text("<html>not a video</html>\n" * 100)
    with pytest.raises(SourceError) as err:
        probe_source(str(text))
    assert err.value.code == "no_frames"


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_probe_timeout_on_silent_server(scheme: str) -> None:
    with SilentTcpServer() as server:
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            probe_source(server.url(scheme), timeout=1.0)
        elapsed = time.monotonic() - started
    assert err.value.code == "timeout"
    assert 0.9 <= elapsed < 3.0


def test_probe_hides_credentials() -> None:
    port = closed_port()
    with pytest.raises(SourceError) as err:
        probe_source(f"rtsp://admin:hunter22@127.0.0.1:{port}/live", timeout=2)
    assert "hunter22" not in str(err.value)
    assert "admin:***@" in str(err.value)


# ----------------------------------------------------------- FrameSource files
def test_file_plays_in_real_time_then_stops() -> None:
    clip = cached_clip(seconds=2.0, fps=30)
    states: list[SourceState] = []
    src = FrameSource(str(clip), fps_cap=10.0, on_state=states.append)
    assert src.state.status is SourceStatus.STOPPED
    started = time.monotonic()
    src.start()
    frames = []
    try:
        while (frame := src.get(1.0)) is not None:
            frames.append(frame)
        elapsed = time.monotonic() - started
    finally:
        src.stop()
    # 2 s of video at real-time pace, 10 fps.
    assert 18 <= len(frames) <= 20
    assert 1.7 <= elapsed <= 3.5
    span_wall = frames[-1].wall - frames[0].wall
    span_pts = frames[-1].pts - frames[0].pts
    assert span_wall == pytest.approx(span_pts, rel=0.15)
    statuses = [s.status for s in states]
    assert statuses[:2] == [SourceStatus.CONNECTING, SourceStatus.STREAMING]
    assert SourceStatus.STOPPED in statuses
    assert next(s for s in states if s.status is SourceStatus.STOPPED).reason == "end of file"


def test_file_loop_keeps_pts_increasing(short_clip: Path) -> None:
    src = FrameSource(str(short_clip), fps_cap=10.0, loop=True)
    src.start()
    try:
        frames = drain(src, 2.6)
        assert src.state.status is SourceStatus.STREAMING
    finally:
        src.stop()
    pts = [f.pts for f in frames]
    assert pts[-1] > 2.0  # went round the 1 s clip at least twice
    assert (np.diff(pts) > 0).all()
    gaps = np.diff(pts)
    assert gaps.max() < 0.2  # no hole at the loop point
    # Frame 0 of the clip comes back after each loop.
    assert sum(1 for f in frames if frame_index(f.image) == 0) >= 2


def test_slow_consumer_gets_newest_frame(clip: Path) -> None:
    src = FrameSource(str(clip), fps_cap=10.0, loop=True)
    src.start()
    try:
        first = src.get(5.0)
        assert first is not None
        time.sleep(1.0)
        second = src.get(1.0)
        assert second is not None
        now = time.monotonic()
    finally:
        src.stop()
    # Not the frame after `first` (a queue) but one from ~1 s later.
    assert second.pts - first.pts >= 0.85
    assert now - second.wall < 0.25
    assert frame_index(second.image) == round(second.pts * 30) % 120


def test_offline_mode_hands_out_every_frame(clip: Path) -> None:
    expected = [round(f.pts, 3) for f in iter_file_frames(clip, fps_cap=10.0)]
    src = FrameSource(str(clip), fps_cap=10.0, realtime=False)
    src.start()
    got = []
    started = time.monotonic()
    try:
        while (frame := src.get(1.0)) is not None:
            got.append(round(frame.pts, 3))
            if len(got) % 10 == 0:
                time.sleep(0.1)  # a consumer that is sometimes slow loses nothing
    finally:
        src.stop()
    assert got == expected
    assert time.monotonic() - started < 3.0  # not paced at real time (4 s)


def test_missing_device_fails_and_backs_off() -> None:
    states: list[SourceState] = []
    src = FrameSource("/dev/video99", max_backoff=30, on_state=states.append)
    src.start()
    try:
        assert wait_for(lambda: src.state.status is SourceStatus.FAILED, 2)
        assert "/dev/video99" in (src.state.reason or "")
        time.sleep(1.3)  # one retry after 1 s, the next only after 2 more
        statuses = [s.status for s in states]
    finally:
        src.stop()
    assert statuses.count(SourceStatus.CONNECTING) == 2
    assert statuses.count(SourceStatus.FAILED) == 2


def test_backoff_is_capped() -> None:
    failures: list[float] = []

    def record(state: SourceState) -> None:
        if state.status is SourceStatus.FAILED:
            failures.append(state.since)

    src = FrameSource(f"rtsp://127.0.0.1:{closed_port()}/x", max_backoff=0.25, on_state=record)
    src.start()
    try:
        assert wait_for(lambda: len(failures) >= 5, 3.0)
    finally:
        src.stop()
    gaps = np.diff(failures)
    assert gaps.max() < 0.6  # never the 1, 2, 4 s of an uncapped backoff


@pytest.mark.parametrize("mode", ["streaming", "offline_blocked", "backoff", "connecting"])
def test_stop_joins_within_a_second(clip: Path, mode: str) -> None:
    baseline = threading.active_count()
    silent: SilentTcpServer | None = None
    if mode == "streaming":
        src = FrameSource(str(clip), loop=True)
    elif mode == "offline_blocked":
        src = FrameSource(str(clip), realtime=False)  # nobody consumes: reader blocks
    elif mode == "backoff":
        src = FrameSource(f"rtsp://127.0.0.1:{closed_port()}/x", max_backoff=30)
    else:
        silent = SilentTcpServer()  # accepts, never answers: stuck connecting
        baseline = threading.active_count()
        src = FrameSource(silent.url("rtsp"), stall_timeout=20, open_timeout=20)
    src.start()
    try:
        if mode == "streaming":
            assert src.get(3) is not None
        elif mode == "offline_blocked":
            assert wait_for(lambda: src.frames_delivered == 1, 3)
            time.sleep(0.2)
        elif mode == "backoff":
            assert wait_for(lambda: src.state.status is SourceStatus.FAILED, 3)
        else:
            time.sleep(0.5)
            assert src.state.status is SourceStatus.CONNECTING
        started = time.monotonic()
        src.stop(timeout=1.0)
        assert time.monotonic() - started < 1.0
        assert src.state.status is SourceStatus.STOPPED
        assert wait_for(lambda: threading.active_count() == baseline, 0.5)
    finally:
        if silent is not None:
            silent.close()


def test_state_callback_errors_do_not_kill_the_reader(clip: Path) -> None:
    def broken(_state: SourceState) -> None:
        raise RuntimeError("boom")

    src = FrameSource(str(clip), on_state=broken)
    src.start()
    try:
        assert src.get(3) is not None
        assert src.state.status is SourceStatus.STREAMING
    finally:
        src.stop()


def test_invalid_source_rejected_at_construction() -> None:
    with pytest.raises(SourceError) as err:
        FrameSource("not a camera")
    assert err.value.code == "invalid_url"


def test_no_secret_in_logs_or_reasons(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    states: list[SourceState] = []
    url = f"rtsp://user:secret@127.0.0.1:{closed_port()}/x"
    src = FrameSource(url, on_state=states.append)
    src.start()
    try:
        assert wait_for(lambda: src.state.status is SourceStatus.FAILED, 3)
    finally:
        src.stop()
    assert caplog.records
    assert "secret" not in caplog.text
    assert all("secret" not in (s.reason or "") for s in states)
    assert "secret" not in src.display
    assert "user:***@127.0.0.1" in caplog.text
