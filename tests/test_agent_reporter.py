"""The desk agent's reporter against a stand-in Home Assistant webhook (real HTTP, real clip).

The stand-in answers as the Smart Play entry does and records every message, so
the test sees what the agent sends: pictures only while the answer says the
tracking view is watched, settings applied, the camera closed when switched off.
The agent package is imported as the package build lays it out (symlinks).
"""

from __future__ import annotations

import argparse
import base64
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import io
import json
from pathlib import Path
import sys
import threading
import time
from typing import Any

import av
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"
KEY = "k" * 64


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """Real HTTP between the agent and the stand-in (pytest-socket keeps it on 127.0.0.1)."""


class FakeEntry:
    """What the entry answers; every message the agent sent."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {
            "v": 1,
            "camera": True,
            "watched": False,
            "settings": {"delay": 2.0, "sensitivity": 5, "fps": 10.0, "exclude_zones": []},
        }
        self.lock = threading.Lock()

    def since(self, start: int) -> list[dict[str, Any]]:
        with self.lock:
            return self.messages[start:]

    def wait(self, what: Any, within: float, start: int = 0) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for message in self.since(start):
                if what(message):
                    return message
            time.sleep(0.05)
        raise AssertionError(f"no such message in {within} s: {self.since(start)[-3:]}")


@pytest.fixture
def entry() -> Iterator[tuple[FakeEntry, str]]:
    fake = FakeEntry()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path != f"/api/webhook/{KEY}":
                self.send_response(200)  # as Home Assistant answers unknown webhooks
                self.end_headers()
                return
            with fake.lock:
                fake.messages.append(json.loads(body))
                answer = json.dumps(fake.answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def link_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("agent")
    package = root / "smart_play_agent"
    package.mkdir()
    for source in (ROOT / "agent" / "smart_play_agent").glob("*.py"):
        (package / source.name).symlink_to(source)
    (package / "vision").symlink_to(ROOT / "custom_components" / "smart_play" / "vision")
    sys.path.insert(0, str(root))
    try:
        from smart_play_agent import link

        yield link
    finally:
        sys.path.remove(str(root))


def _args(url: str, key: str = KEY) -> argparse.Namespace:
    return argparse.Namespace(
        url=url,
        key=key,
        source=str(CLIP),
        loop=True,
        interval=0.5,
        delay=2.0,
        sensitivity=5,
        fps=None,
        no_opencv=True,
        json=False,
    )


@pytest.fixture
def reporter(link_module: Any, entry: tuple[FakeEntry, str]) -> Iterator[Any]:
    reporter = link_module.Reporter(_args(entry[1]))
    thread = threading.Thread(target=reporter.run, daemon=True)
    thread.start()
    yield reporter
    reporter.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_pictures_only_while_watched(entry: tuple[FakeEntry, str], reporter: Any) -> None:
    fake, _url = entry
    fake.wait(lambda m: m["camera"] == "streaming", 10)
    time.sleep(1.5)  # three heartbeats, nobody watching
    assert not any("jpeg" in m for m in fake.since(0))

    with fake.lock:
        fake.answer["watched"] = True
    start = len(fake.since(0))
    frame = fake.wait(lambda m: "jpeg" in m, 5, start)
    assert frame["kind"] == "frame"
    jpeg = base64.b64decode(frame["jpeg"])
    with av.open(io.BytesIO(jpeg)) as container:
        picture = next(container.decode(video=0))
    assert picture.width <= 480  # small: scaled down from the clip's 640 px

    with fake.lock:
        fake.answer["watched"] = False
    fake.wait(lambda m: m["kind"] == "heartbeat", 5, len(fake.since(0)))  # answer seen
    start = len(fake.since(0))
    time.sleep(1.5)
    assert not any("jpeg" in m for m in fake.since(start))


def test_settings_and_camera_switch_from_the_answer(
    entry: tuple[FakeEntry, str], reporter: Any
) -> None:
    fake, _url = entry
    fake.wait(lambda m: m["camera"] == "streaming", 10)
    with fake.lock:
        fake.answer["settings"] = {**fake.answer["settings"], "delay": 7.5, "sensitivity": 8}
    fake.wait(lambda m: True, 3, len(fake.since(0)))
    deadline = time.monotonic() + 3
    while reporter._engine.config.delay != 7.5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reporter._engine.config.delay == 7.5
    assert reporter._engine.config.sensitivity == 8

    with fake.lock:
        fake.answer["camera"] = False
    stopped = fake.wait(lambda m: m["camera"] == "stopped", 5, len(fake.since(0)))
    assert stopped["state"] == "unknown"
    assert reporter._pipeline is None  # the source is closed, not just ignored

    with fake.lock:
        fake.answer["camera"] = True
    fake.wait(lambda m: m["camera"] == "streaming", 10, len(fake.since(0)))


def test_unknown_key_is_said_plainly(
    link_module: Any, entry: tuple[FakeEntry, str], capsys: pytest.CaptureFixture[str]
) -> None:
    reporter = link_module.Reporter(_args(entry[1], key="wrong"))
    with pytest.raises(link_module.Rejected, match="does not know this key"):
        reporter.send(reporter.message("heartbeat"))
    assert entry[0].messages == []


def _swipe_clip(path: Path) -> Path:
    """A hand swiping to the picture's left through the gesture zone, over a real room."""
    from fractions import Fraction

    from .vision import gesture_synth as gs

    base = gs.resize(gs.background("one-by-one-person-detection.mp4", 2.0), 640, 360)
    frames = gs.sequence(base, [None] * 20 + gs.SWIPES["left"] + [None] * 20, lead=0, tail=0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "16"}
        for index, (image, _t) in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_gestures_sent_only_while_the_answer_says_they_are_on(
    link_module: Any, entry: tuple[FakeEntry, str], tmp_path: Path
) -> None:
    fake, url = entry
    args = _args(url)
    args.source = str(_swipe_clip(tmp_path / "swipe.mp4"))  # 4.7 s, looped
    reporter = link_module.Reporter(args)
    thread = threading.Thread(target=reporter.run, daemon=True)
    thread.start()
    try:
        fake.wait(lambda m: m["camera"] == "streaming", 10)
        time.sleep(6.0)  # the swipe went by at least once: gestures are off in the answer
        assert not any(m["kind"] == "gesture" or "gesture" in m for m in fake.since(0))

        with fake.lock:
            fake.answer["settings"] = {
                **fake.answer["settings"],
                "gestures": {"enabled": True, "zone": [0.5, 0.0, 1.0, 0.5], "mirror": True},
            }
        start = len(fake.since(0))
        sent = fake.wait(lambda m: m["kind"] == "gesture", 15, start)
        # Mirrored: a swipe to the picture's left is the person's right, next track.
        assert sent["gesture"]["gesture"] == "next_track"
        assert sent["gesture"]["motion"] == "swipe left"
        assert sent["camera"] == "streaming"  # with the whole state, like every message

        with fake.lock:
            fake.answer["settings"] = {**fake.answer["settings"], "gestures": {"enabled": False}}
        fake.wait(lambda m: True, 3, len(fake.since(0)))  # the answer was seen
        start = len(fake.since(0))
        time.sleep(6.0)
        assert not any(m["kind"] == "gesture" for m in fake.since(start))
    finally:
        reporter.stop()
        thread.join(10)
    assert not thread.is_alive()
