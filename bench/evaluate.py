"""Evaluate the occupancy engine on labelled clips and scenarios, at several analysis rates.

Usage::

    python bench/evaluate.py [CLIP.mp4|LABELS.json|FOLDER ...] [--scenarios] [--rates native,1,2,3,5,10,15]
                             [--delay 2.0] [--sensitivity 5] [--no-opencv] [--transitions] [--skip-long]

Each clip needs a label JSON with the same base name (format in
``tests/data/README.md``); a FOLDER means every ``*.mp4`` in it that has one
(the held-back clips are run this way). ``--scenarios`` adds the scenario
clips of ``bench/scenarios.py`` (written to a temporary folder first). A label
file may carry ``exclude_zones`` ([[x, y, w, h], ...] shares of the picture):
the engine is then run with those zones. Clips are decoded at native rate and
processed as fast as possible (decisions depend on frame pts only); a rate N
keeps at most N frames per second of video, as the integration does.

Per clip and rate it prints (seconds):

* falseE - EMPTY while someone was present;
* falseO - OCCUPIED while nobody was there, beyond ``delay + 1 s`` after a leave;
* leave->EMPTY - for every leave followed by a gap long enough to pause in;
* entry->OCCUPIED - for every entry after the start;
* agree - whether the transitions match the native-rate ones (same states,
  each within one frame interval of the reduced rate);
* targets - "ok" or what is missed (see :func:`target_misses`).

Without clip arguments it evaluates ``../shared/clips`` when present, else the
bundled ``tests/data`` clips, plus the scenarios.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
import importlib.util
import json
from pathlib import Path
import sys
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine  # noqa: E402
from custom_components.smart_play.vision.source import iter_file_frames  # noqa: E402
from custom_components.smart_play.vision.types import Frame, Occupancy, Transition  # noqa: E402

LEAVE_SLACK = 1.0  # EMPTY must come within delay + this after a leave
ENTRY_GRACE = 0.5  # OCCUPIED must come within this after an entry
RATES: tuple[float | None, ...] = (None, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0)  # None: native
NO_FALSE_OCCUPIED_EXCEPT = ("tv",)  # scenario kinds where OCCUPIED while absent is no target
LONG = 600.0  # s: clips longer than this are skipped with --skip-long


@dataclass
class ClipReport:
    """Evaluation of one clip at one analysis rate."""

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
    rate: float | None = None  # analysis rate (None: every frame)
    native_fps: float = 10.0
    kind: str = ""  # scenario kind from the labels ("" for plain clips)
    delay: float = 2.0

    def row(self) -> str:
        """One table row (without the agreement/targets columns)."""

        def fmt(values: list[float | None]) -> str:
            if not values:
                return "-"
            return " ".join("miss" if v is None else f"{v:.1f}" for v in values)

        rate = "native" if self.rate is None else f"{self.rate:g}"
        return (
            f"{self.clip:34s} {rate:>6s} {self.false_empty:7.2f} {self.unknown_present:6.2f} "
            f"{self.false_occupied:7.2f}  leave[{fmt(self.leave_delays)}]  entry[{fmt(self.entry_delays)}]"
        )

    @property
    def interval(self) -> float:
        """Frame interval of the analysis (s)."""
        fps = self.native_fps if self.rate is None else min(self.rate, self.native_fps)
        return 1.0 / fps


def target_misses(report: ClipReport) -> list[str]:
    """What the user would notice on this clip at this rate; empty when every target holds.

    Targets (issue 11): never EMPTY while a person is present; EMPTY within
    ``delay + 1 s`` after a leave (``delay + 2 s`` at 1 fps; one frame interval
    more at any reduced rate); OCCUPIED within 0.5 s of an entry (plus one frame
    interval at a reduced rate); never OCCUPIED while nobody is there (a lamp,
    the sun, a zoned monitor, a pet, a camera bump), except for an unzoned
    monitor showing people (kind "tv"), which is reported only.
    """
    misses: list[str] = []
    extra = 0.0 if report.rate is None or report.rate >= report.native_fps else report.interval
    leave_bound = report.delay + LEAVE_SLACK + extra
    if report.rate is not None and report.rate <= 1.0:
        leave_bound = max(leave_bound, report.delay + 2.0)
    if report.false_empty > 0:
        misses.append(f"false EMPTY {report.false_empty:.1f}s")
    misses.extend(
        "leave missed" if d is None else f"leave {d:.1f}s>{leave_bound:.1f}"
        for d in report.leave_delays
        if d is None or d > leave_bound + 1e-6
    )
    misses.extend(
        "entry missed" if d is None else f"entry {d:.1f}s"
        for d in report.entry_delays
        if d is None or d > ENTRY_GRACE + extra + 1e-6
    )
    if report.false_occupied > 0 and report.kind not in NO_FALSE_OCCUPIED_EXCEPT:
        misses.append(f"false OCCUPIED {report.false_occupied:.1f}s")
    return misses


def rate_differences(native: ClipReport, other: ClipReport) -> list[str]:
    """Where ``other`` (a reduced rate) decides differently from ``native``; empty when they agree.

    Agreement (issue 11): the same sequence of states, each transition within
    one frame interval of ``other``'s rate. That is what the frame grid
    allows and no more: a transition at native time t can only show at the
    first analysed frame at or after t, which the rate cap keeps less than one
    interval later (:class:`~custom_components.smart_play.vision.ratecap.RateCap`:
    consecutive analysed frames are less than one interval plus one native
    frame apart). Half a native frame is added for the native time's own
    rounding to its frame. A transition may also come up to an interval
    earlier (the last frame with evidence may be dropped at the reduced rate).
    Each difference reads ``STATE@native_t +delta``.
    """
    a, b = native.transitions, other.transitions
    tol = other.interval + native.interval / 2 + 1e-6
    out = [
        f"{x.state.value}@{x.t:.2f} {y.t - x.t:+.2f}"
        for x, y in zip(a, b, strict=False)
        if x.state is y.state and abs(x.t - y.t) > tol
    ]
    if [t.state for t in a] != [t.state for t in b]:
        first = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x.state is not y.state),
            min(len(a), len(b)),
        )
        where = f"@{a[first].t:.2f}" if first < len(a) else f"@{b[first].t:.2f}"
        out.append(f"states differ from transition {first + 1}{where} ({len(a)} vs {len(b)})")
    return out


def rates_agree(native: ClipReport, other: ClipReport) -> bool:
    """Same transitions as at native rate, each within one frame interval of ``other``'s rate."""
    return not rate_differences(native, other)


def load_labels(path: Path) -> dict:
    """Label JSON for a clip (``clip.mp4`` -> ``clip.json``)."""
    return json.loads(path.with_suffix(".json").read_text())


def _present(intervals: list[list[float]], t: float) -> bool:
    return any(a <= t < b for a, b in intervals)


def config_for(labels: dict, config: EngineConfig | None = None) -> EngineConfig:
    """A fresh engine config for one clip: ``config`` plus the clip's exclusion zones."""
    values = vars(config or EngineConfig()).copy()
    zones = labels.get("exclude_zones")
    if zones and "exclude_zones" in {f.name for f in fields(EngineConfig)}:
        values["exclude_zones"] = tuple(tuple(float(v) for v in z) for z in zones)
    return EngineConfig(**values)


def evaluate_frames(
    frames: Iterable[Frame],
    labels: dict,
    config: EngineConfig | None = None,
    name: str = "",
    rate: float | None = None,
) -> ClipReport:
    """Run a fresh engine over ``frames`` and score it against ``labels``."""
    engine = OccupancyEngine(config_for(labels, config))
    fps = float(labels.get("fps") or 10.0)
    start = time.perf_counter()
    timeline: list[tuple[float, Occupancy]] = []
    transitions: list[Transition] = []
    for frame in frames:
        result = engine.process(frame)
        timeline.append((result.t, result.state))
        if result.transition is not None:
            transitions.append(result.transition)
    seconds = time.perf_counter() - start
    duration = float(labels.get("duration_s") or (timeline[-1][0] + 1 / fps if timeline else 0.0))
    report = ClipReport(
        name or str(labels.get("clip", "")),
        duration,
        len(timeline),
        transitions=transitions,
        seconds=seconds,
        rate=rate,
        native_fps=fps,
        kind=str(labels.get("kind", "")),
        delay=engine.config.delay,
    )
    score(report, timeline, labels["present"])
    return report


def score(
    report: ClipReport, timeline: list[tuple[float, Occupancy]], present: list[list[float]]
) -> None:
    """Fill the measurements of ``report`` from the engine's per-frame states."""
    duration, delay = report.duration, report.delay
    leaves = [b for _a, b in present if b < duration - 1e-6]
    # EMPTY in the first ENTRY_GRACE s of a presence, before the engine first
    # said OCCUPIED in it, is entry latency (reported as entry_delays), not a
    # false "empty": the room was empty a moment ago and nobody gets paused.
    first_occupied = {
        a: next((t for t, s in timeline if a <= t < b and s is Occupancy.OCCUPIED), b)
        for a, b in present
    }
    grace = ENTRY_GRACE + (0.0 if report.rate is None else report.interval)

    def entering(t: float) -> bool:
        return any(a <= t < min(first_occupied[a], a + grace) for a, _b in present if a > 0.0)

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


def evaluate_clip(
    path: Path | str,
    config: EngineConfig | None = None,
    labels: dict | None = None,
    fps_cap: float | None = None,
) -> ClipReport:
    """Run a fresh engine over the clip at ``path`` (at most ``fps_cap`` frames/s) and score it."""
    path = Path(path)
    labels = labels if labels is not None else load_labels(path)
    return evaluate_frames(iter_file_frames(str(path), fps_cap), labels, config, path.name, fps_cap)


def default_clips() -> list[Path]:
    """Shared clips next to the repo if present, else the bundled ones."""
    # next to the repo, or next to the worktrees folder (/work/wt/NAME -> /work/shared)
    for shared in (ROOT.parent / "shared" / "clips", ROOT.parent.parent / "shared" / "clips"):
        if shared.is_dir():
            return clips_in(shared)
    return clips_in(ROOT / "tests" / "data")


def clips_in(folder: Path) -> list[Path]:
    """Every ``*.mp4`` in ``folder`` that has a label JSON."""
    return sorted(p for p in folder.glob("*.mp4") if p.with_suffix(".json").exists())


def write_scenarios(folder: Path, skip_long: bool = False) -> list[Path]:
    """Write every scenario of ``bench/scenarios.py`` into ``folder``; return the clips."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import scenarios
    finally:
        sys.path.pop(0)
    out = []
    for name in scenarios.SCENARIOS:
        scenario = scenarios.build(name)
        if skip_long and scenario.duration > LONG:
            continue
        out.append(scenarios.write(scenario, folder))
    return out


def parse_rates(text: str) -> list[float | None]:
    """``"native,1,2"`` -> [None, 1.0, 2.0]."""
    return [None if r.strip() == "native" else float(r) for r in text.split(",") if r.strip()]


def evaluate_rates(
    clip: Path, config: EngineConfig, rates: list[float | None]
) -> list[tuple[ClipReport, str, list[str]]]:
    """Reports of one clip at every rate, with the agreement column and target misses."""
    labels = load_labels(clip)
    native_fps = float(labels.get("fps") or 10.0)
    out: list[tuple[ClipReport, str, list[str]]] = []
    native: ClipReport | None = None
    for rate in rates:
        if rate is not None and rate > native_fps + 1e-6:
            continue  # cannot analyse faster than the clip
        report = evaluate_clip(clip, config, labels, rate)
        if rate is None:
            native = report
            agree = "-"
        elif native is None:
            agree = "?"
        else:
            agree = "yes" if rates_agree(native, report) else "NO"
        out.append((report, agree, target_misses(report)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="*", type=Path, help="clips, label files or folders")
    parser.add_argument("--scenarios", action="store_true", help="add the bench/scenarios.py clips")
    parser.add_argument(
        "--scenario-dir", type=Path, default=None, help="write the scenarios here (kept)"
    )
    parser.add_argument(
        "--skip-long", action="store_true", help=f"skip clips longer than {LONG:g} s"
    )
    parser.add_argument(
        "--rates", default="native,1,2,3,5,10,15", help="analysis rates, 'native' = every frame"
    )
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--sensitivity", type=int, default=5)
    parser.add_argument("--no-opencv", action="store_true")
    parser.add_argument("--transitions", action="store_true", help="also list every transition")
    parser.add_argument(
        "--fps", type=float, default=None, help="only this rate (same as --rates N)"
    )
    args = parser.parse_args(argv)
    clips: list[Path] = []
    for item in args.clips:
        clips.extend(clips_in(item) if item.is_dir() else [item.with_suffix(".mp4")])
    with tempfile.TemporaryDirectory() as tmp:
        if not args.clips:
            clips = default_clips()
        if args.scenarios or not args.clips:
            clips += write_scenarios(args.scenario_dir or Path(tmp), args.skip_long)
        if args.skip_long:
            clips = [c for c in clips if float(load_labels(c).get("duration_s") or 0) <= LONG]
        rates = [args.fps] if args.fps else parse_rates(args.rates)
        config = EngineConfig(
            delay=args.delay,
            sensitivity=args.sensitivity,
            use_opencv=False if args.no_opencv else None,
        )
        return run(clips, config, rates, args)


def run(
    clips: list[Path], config: EngineConfig, rates: list[float | None], args: argparse.Namespace
) -> int:
    """Print the table; exit status 1 when a target is missed at native rate."""
    print(
        f"delay {config.delay:.1f} s, sensitivity {config.sensitivity}, "
        f"opencv {'off' if args.no_opencv else 'auto'}; times in seconds"
    )
    print(
        f"{'clip':34s} {'rate':>6s} {'falseE':>7s} {'unkP':>6s} {'falseO':>7s}  "
        "leave->EMPTY  entry->OCCUPIED  | agree | targets"
    )
    worst = 0
    met = total = 0
    for clip in clips:
        native: ClipReport | None = None
        for report, agree, misses in evaluate_rates(clip, config, rates):
            total += 1
            met += not misses
            speed = report.duration / max(report.seconds, 1e-6)
            print(
                f"{report.row()}  | {agree:5s} | {'ok' if not misses else ', '.join(misses)}  (x{speed:.0f})"
            )
            if report.rate is None:
                native = report
            elif agree == "NO" and native is not None:
                for diff in rate_differences(native, report):
                    print(f"    differs from native: {diff}")
            if args.transitions:
                for tr in report.transitions:
                    print(f"    {tr.t:8.2f} {tr.state.value:8s} {tr.reason}")
            if report.rate is None and misses:
                worst = 1
    print(f"targets met in {met} of {total} rows")
    return worst


if __name__ == "__main__":
    sys.exit(main())
