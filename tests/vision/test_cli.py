"""Command line: python -m custom_components.smart_play.vision."""

from __future__ import annotations

from collections.abc import Callable
import json
from pathlib import Path
import subprocess
import sys
import time

import av
import numpy as np
import pytest

from custom_components.smart_play.vision import source as vision_source
from custom_components.smart_play.vision.__main__ import main
from custom_components.smart_play.vision.types import Frame, SourceState, SourceStatus

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
EMPTY_ROOM = DATA / "empty-room-preview.mp4"
HEAD_POSE = DATA / "head-pose-male-preview.mp4"


def test_module_entry_point_prints_json_lines_only() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "custom_components.smart_play.vision",
            str(EMPTY_ROOM),
            "--json",
            "--delay",
            "0.5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    events = [json.loads(line) for line in lines]  # every stdout line is one JSON object
    assert [e["state"] for e in events] == ["occupied", "empty"]
    for event in events:
        assert set(event) == {"t", "state", "reason"}
        assert isinstance(event["t"], float | int)
    assert events[0]["t"] <= 0.5
    assert events[0]["reason"] == "motion"
    assert events[1]["t"] >= events[0]["t"] + 0.5


def test_human_output_lists_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(HEAD_POSE), "--no-opencv"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 1
    assert "occupied" in lines[0]
    assert "still person" in lines[0]
    assert "final state occupied" in err
    assert "opencv off" in err


def test_delay_and_sensitivity_options_reach_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EMPTY_ROOM), "--json", "--delay", "0.5", "--sensitivity", "5"]) == 0
    short = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main([str(EMPTY_ROOM), "--json", "--delay", "5"]) == 0
    long = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["state"] for e in short] == ["occupied", "empty"]
    assert [e["state"] for e in long] == ["occupied"]  # 1.9 s clip: too short to pause


def test_annotate_writes_a_video_with_every_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "annotated.mp4"
    assert main([str(HEAD_POSE), "--annotate", str(out), "--json"]) == 0
    capsys.readouterr()
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    with av.open(str(HEAD_POSE)) as container:
        source_count = sum(1 for _ in container.decode(video=0))
        stream = container.streams.video[0]
        size = (stream.height, stream.width)
    assert len(frames) == source_count
    assert frames[0].shape[:2] == size
    bar = frames[-1][-10:]
    assert bar.mean() < 80  # dark status bar at the bottom
    assert (bar[..., 1] > 150).any()  # green "Occupied"


def test_realtime_paces_file_playback(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.monotonic()
    assert main([str(EMPTY_ROOM), "--realtime", "--json"]) == 0
    assert time.monotonic() - start >= 1.5  # 1.9 s clip
    start = time.monotonic()
    assert main([str(EMPTY_ROOM), "--json"]) == 0
    assert time.monotonic() - start < 1.5  # as fast as possible
    capsys.readouterr()


def test_missing_file_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main([str(tmp_path / "nope.mp4"), "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "cannot_open" in err


def test_not_a_video_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not a video")
    assert main([str(bad), "--json"]) == 2
    out, _err = capsys.readouterr()
    assert out == ""


class FakeSource:
    """Stands in for FrameSource: a person walks in, then the camera drops out."""

    def __init__(
        self,
        source: str,
        *,
        fps_cap: float,
        realtime: bool,
        on_state: Callable[[SourceState], None],
    ) -> None:
        assert source.startswith("rtsp://")
        self._on_state = on_state
        self._i = 0
        self.stopped = False
        rng = np.random.default_rng(0)
        self._room = (
            rng.integers(40, 200, size=(9, 16, 3)).astype(np.uint8).repeat(20, 0).repeat(20, 1)
        )

    def start(self) -> None:
        self._on_state(SourceState(SourceStatus.STREAMING))

    def get(self, timeout: float) -> Frame | None:
        i = self._i
        self._i += 1
        if i == 40:
            self._on_state(SourceState(SourceStatus.FAILED, "timeout"))
            return None
        if i > 40:
            self._on_state(SourceState(SourceStatus.STOPPED, "stopped"))
            return None
        image = self._room.copy()
        if i >= 10:
            x = min(150, (i - 10) * 12)
            image[60:150, x : x + 40] = (30, 40, 160)
        return Frame(image, i / 10.0, time.monotonic())

    def stop(self, timeout: float = 1.0) -> None:
        self.stopped = True


def test_live_source_loss_is_reported_as_unknown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI imports the source module when a live run starts (not at import time).
    monkeypatch.setattr(vision_source, "FrameSource", FakeSource)
    assert main(["rtsp://127.0.0.1:8554/cam", "--json", "--no-opencv"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["state"] for e in events] == ["occupied", "unknown"]
    assert events[1]["reason"] == "camera lost: timeout"
    assert events[1]["t"] == pytest.approx(3.9)
