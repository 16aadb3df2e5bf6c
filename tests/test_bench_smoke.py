"""The by-hand benchmarks still start (they are not run in CI otherwise, and can rot).

Only that they run and print their table is checked here: their speed targets are
read by a person from a full run (`bench/vision_bench.py`, `bench/soak.py`), never
asserted in a timed test.
"""

from __future__ import annotations

import importlib
from pathlib import Path
import subprocess
import sys

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_vision_bench_runs_and_prints_its_ratios() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "vision_bench.py"),
            "--frames",
            "12",
            "--memory-frames",
            "40",
            "--stream-frames",
            "30",
            "--sizes",
            "320x180",
            "--repeats",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "whole pipeline, numpy only" in out.stdout
    assert "% of decode" in out.stdout
    assert "8 sources x 5 fps" in out.stdout
    assert "CLI/decode CPU" in out.stdout


@pytest.mark.parametrize(
    "module",
    [
        "bench.soak",
        "bench.features_bench",
        "bench.evaluate",
        "bench.scenarios",
        "bench.zone_screenshot",
    ],
)
def test_bench_modules_import(module: str) -> None:
    importlib.import_module(module)


def test_soak_classifies_transitions_against_the_labels() -> None:
    from bench.soak import classify

    changes = [(6.0, True), (20.0, False)]
    # One loop of a 30 s clip seen from clock time 100: an entry, a leave 2.5 s late,
    # and one blip in the empty stretch.
    transitions = [(106.1, "on"), (122.5, "off"), (127.0, "on")]
    true_n, false_n, offset = classify(transitions, 30.0, changes)
    assert (true_n, false_n) == (2, 1)
    assert offset is not None


def test_zone_screenshot_renders_the_tracking_view(tmp_path: Path) -> None:
    out = tmp_path / "zones.jpg"
    clip = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "zone_screenshot.py"), str(clip), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "occupied" in done.stdout  # the person standing at the table at 12 s
    assert out.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
