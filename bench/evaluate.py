"""Evaluate the occupancy engine on labelled clips.

Usage::

    python bench/evaluate.py [CLIP.mp4|LABELS.json ...] [--delay 2.0] [--sensitivity 5] [--no-opencv]

Each clip needs a label JSON with the same base name (format in
``tests/data/README.md``). Clips are decoded at native rate and processed as
fast as possible (decisions depend on frame pts only). Per clip it prints:

* false pause time - seconds the engine said EMPTY while someone was present;
* leave delay - from a person really leaving to EMPTY, for every leave that is
  followed by a gap long enough to pause in;
* re-entry delay - from a person entering to OCCUPIED;
* false presence - seconds OCCUPIED while nobody was there, beyond the
  allowed ``delay + 1 s`` after each leave.

Without arguments it evaluates ``../shared/clips`` when present, else the
bundled ``tests/data`` clips.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import importlib.util
import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine  # noqa: E402
from custom_components.smart_play.vision.source import iter_file_frames  # noqa: E402
from custom_components.smart_play.vision.types import Occupancy, Transition  # noqa: E402

LEAVE_SLACK = 1.0  # EMPTY must come within delay + this after a leave
ENTRY_GRACE = 0.5  # OCCUPIED must come within this after an entry


@dataclass
class ClipReport:
    """Evaluation of one clip."""

    clip: str
    duration: float
    frames: int
    false_empty: float = 0.0  # s EMPTY while present
    unknown_present: float = 0.0  # s UNKNOWN while present (start-up)
    false_occupied: float = 0.0  # s OCCUPIED while absent beyond delay + slack
    leave_delays: list[float | None] = field(default_factory=list)  # None: never EMPTY in the gap
    entry_delays: list[float | None] = field(
        default_factory=list
    )  # None: never OCCUPIED while present
    transitions: list[Transition] = field(default_factory=list)
    seconds: float = 0.0  # wall time spent (decode + engine)

    def row(self) -> str:
        """One table row."""

        def fmt(values: list[float | None]) -> str:
            if not values:
                return "-"
            return " ".join("miss" if v is None else f"{v:.1f}" for v in values)

        return (
            f"{self.clip:32s} {self.duration:6.1f} {self.false_empty:7.2f} {self.unknown_present:7.2f} "
            f"{self.false_occupied:7.2f}  leave[{fmt(self.leave_delays)}]  entry[{fmt(self.entry_delays)}]"
            f"  x{self.duration / max(self.seconds, 1e-6):.0f} realtime"
        )


def load_labels(path: Path) -> dict:
    """Label JSON for a clip (``clip.mp4`` -> ``clip.json``)."""
    return json.loads(path.with_suffix(".json").read_text())


def _present(intervals: list[list[float]], t: float) -> bool:
    return any(a <= t < b for a, b in intervals)


def evaluate_clip(
    path: Path | str,
    config: EngineConfig | None = None,
    labels: dict | None = None,
    fps_cap: float | None = None,
) -> ClipReport:
    """Run a fresh engine over ``path`` and score it against its labels."""
    import time

    path = Path(path)
    labels = labels if labels is not None else load_labels(path)
    config = config or EngineConfig()
    engine = OccupancyEngine(EngineConfig(**vars(config)))
    present: list[list[float]] = labels["present"]
    fps = float(labels.get("fps") or 10.0)
    start = time.perf_counter()
    timeline: list[tuple[float, Occupancy]] = []
    transitions: list[Transition] = []
    for frame in iter_file_frames(str(path), fps_cap):
        result = engine.process(frame)
        timeline.append((result.t, result.state))
        if result.transition is not None:
            transitions.append(result.transition)
    seconds = time.perf_counter() - start
    duration = float(labels.get("duration_s") or (timeline[-1][0] + 1 / fps if timeline else 0.0))
    report = ClipReport(
        path.name, duration, len(timeline), transitions=transitions, seconds=seconds
    )
    delay = engine.config.delay
    leaves = [b for _a, b in present if b < duration - 1e-6]
    # EMPTY in the first ENTRY_GRACE s of a presence, before the engine first
    # said OCCUPIED in it, is entry latency (reported as entry_delays), not a
    # false "empty": the room was empty a moment ago and nobody gets paused.
    first_occupied = {
        a: next((t for t, s in timeline if a <= t < b and s is Occupancy.OCCUPIED), b)
        for a, b in present
    }

    def entering(t: float) -> bool:
        return any(a <= t < min(first_occupied[a], a + ENTRY_GRACE) for a, _b in present if a > 0.0)

    for index, (t, state) in enumerate(timeline):
        end = timeline[index + 1][0] if index + 1 < len(timeline) else duration
        dur = max(0.0, end - t)
        if _present(present, t):
            if state is Occupancy.EMPTY and not entering(t):
                report.false_empty += dur
            elif state is Occupancy.UNKNOWN:
                report.unknown_present += dur
        elif state is Occupancy.OCCUPIED and not any(
            b <= t < b + delay + LEAVE_SLACK for b in leaves
        ):
            report.false_occupied += dur
    enters = [a for a, _b in present]
    for b in leaves:
        nxt = min([a for a in enters if a >= b] + [duration])
        if nxt - b < delay:  # gap too short to pause in: nothing to measure
            continue
        hit = next((t for t, s in timeline if b <= t < nxt and s is Occupancy.EMPTY), None)
        report.leave_delays.append(None if hit is None else hit - b)
    for a, b in present:
        if a <= 0.0:
            continue
        hit = next((t for t, s in timeline if a <= t < b and s is Occupancy.OCCUPIED), None)
        report.entry_delays.append(None if hit is None else hit - a)
    return report


def default_clips() -> list[Path]:
    """Shared clips next to the repo if present, else the bundled ones."""
    shared = ROOT.parent / "shared" / "clips"
    folder = shared if shared.is_dir() else ROOT / "tests" / "data"
    return sorted(p for p in folder.glob("*.mp4") if p.with_suffix(".json").exists())


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", type=Path)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--sensitivity", type=int, default=5)
    parser.add_argument("--no-opencv", action="store_true")
    parser.add_argument("--transitions", action="store_true", help="also list every transition")
    parser.add_argument(
        "--fps", type=float, default=None, help="analyse at most N frames/s (default: all)"
    )
    args = parser.parse_args(argv)
    clips = [p.with_suffix(".mp4") for p in args.clips] or default_clips()
    config = EngineConfig(
        delay=args.delay, sensitivity=args.sensitivity, use_opencv=False if args.no_opencv else None
    )
    print(
        f"delay {config.delay:.1f} s, sensitivity {config.sensitivity}, "
        f"opencv {'off' if args.no_opencv else 'auto'}, fps {args.fps or 'native'}; times in seconds"
    )
    print(
        f"{'clip':32s} {'dur':>6s} {'falseE':>7s} {'unkP':>7s} {'falseO':>7s}  "
        "leave->EMPTY delays  entry->OCCUPIED delays"
    )
    worst = 0
    for clip in clips:
        report = evaluate_clip(clip, config, fps_cap=args.fps)
        print(report.row())
        if args.transitions:
            for tr in report.transitions:
                print(f"    {tr.t:7.2f} {tr.state.value:8s} {tr.reason}")
        if report.false_empty > 0 or None in report.leave_delays or None in report.entry_delays:
            worst = 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
