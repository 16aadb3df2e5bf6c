"""Cost and accuracy of the optional features (gestures, people) on the bundled clips.

    .venv/bin/python -m bench.features_bench

Prints: gesture cost per frame at 640x360 next to the occupancy engine's, false
gesture triggers on the real clips (5 zone placements), face detection +
recognition cost per run, and recognition accuracy (LBPH vs a raw-pixel baseline).
"""

from __future__ import annotations

from pathlib import Path
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.smart_play.vision.engine import OccupancyEngine
from custom_components.smart_play.vision.faces import (
    FaceDetector,
    FaceGallery,
    PeopleAnalyzer,
    Recognition,
    face_support,
)
from custom_components.smart_play.vision.gestures import GestureConfig, GestureDetector
from custom_components.smart_play.vision.source import iter_file_frames
from custom_components.smart_play.vision.types import FrameResult, Occupancy
from tests.vision import gesture_synth as gs

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SHARED = Path("/work/shared/clips")
ZONES = {
    "top-right": (0.5, 0.0, 1.0, 0.5),
    "top-left": (0.0, 0.0, 0.5, 0.5),
    "bottom-right": (0.5, 0.5, 1.0, 1.0),
    "bottom-left": (0.0, 0.5, 0.5, 1.0),
    "centre": (0.25, 0.25, 0.75, 0.75),
}


def ms(values: list[float]) -> str:
    return f"median {1000 * statistics.median(values):.2f} ms, mean {1000 * statistics.fmean(values):.2f} ms"


def gesture_cost() -> None:
    clip = SHARED / "one-by-one-person-detection.mp4"
    if not clip.exists():
        clip = DATA / "one-by-one-person-detection.mp4"
    frames = [f for f, _ in zip(iter_file_frames(clip, fps_cap=10.0), range(400), strict=False)]
    images = [gs.resize(f.image, 640, 360) if f.image.shape[1] != 640 else f.image for f in frames]
    engine = OccupancyEngine()
    detector = GestureDetector()
    eng, ges = [], []
    for frame, image in zip(frames, images, strict=True):
        f = frame.__class__(image, frame.pts, frame.wall)
        t0 = time.perf_counter()
        engine.process(f)
        t1 = time.perf_counter()
        detector.process(image, frame.pts)
        t2 = time.perf_counter()
        eng.append(t1 - t0)
        ges.append(t2 - t1)
    print(f"gestures @640x360 ({len(frames)} frames): {ms(ges)}; engine: {ms(eng)}")
    print(f"  -> at 10 fps gestures add {10 * statistics.fmean(ges) * 100:.2f} % of one core")


def gesture_false_triggers() -> None:
    total = 0
    seconds = 0.0
    for clip in sorted(DATA.glob("*.mp4")):
        frames = list(iter_file_frames(clip, fps_cap=10.0))
        seconds += frames[-1].pts
        for zone in ZONES.values():
            detector = GestureDetector(GestureConfig(zone=zone))
            total += sum(detector.process(f.image, f.pts) is not None for f in frames)
    print(f"false gesture triggers on {seconds:.0f} s of real clips x {len(ZONES)} zones: {total}")


def face_numbers() -> None:
    if (why := face_support()) is not None:
        print("faces:", why)
        return
    detector = FaceDetector()
    runs: list[float] = []
    per: dict[str, list[np.ndarray]] = {}
    for name, clip in (("A", "head-pose-male-preview.mp4"), ("B", "face-exposure-swings.mp4")):
        per[name] = []
        frames = list(iter_file_frames(DATA / clip, fps_cap=None))
        for frame in frames:
            image = gs.resize(frame.image, 640, 360) if name == "A" else frame.image
            t0 = time.perf_counter()
            found = detector.descriptors(image)
            runs.append(time.perf_counter() - t0)
            if found:
                per[name].append(found[0][1])
        print(f"faces {name}: {len(per[name])}/{len(frames)} frames with a face")
    print(f"face detection + descriptor per run (640x360 / 270x480): {ms(runs)}")
    for k in (3, 5, 10):
        gallery = FaceGallery()
        tests = {}
        for name, d in per.items():
            half = len(d) // 2
            gallery.enrol(name, [d[i] for i in np.linspace(0, half - 1, k).astype(int)])
            tests[name] = d[half:]
        correct = sum(gallery.match(x).name == n for n, t in tests.items() for x in t)
        confused = sum(gallery.match(x).name not in (n, None) for n, t in tests.items() for x in t)
        n = sum(len(t) for t in tests.values())
        only_a = FaceGallery()
        half = len(per["A"]) // 2
        only_a.enrol("A", [per["A"][i] for i in np.linspace(0, half - 1, k).astype(int)])
        stranger = sum(only_a.match(x).name is not None for x in per["B"])
        print(
            f"LBPH K={k}: recognised {correct}/{n} test faces, confused {confused}, "
            f"stranger B accepted as A {stranger}/{len(per['B'])}"
        )


def arrivals() -> None:
    """Arrivals (EMPTY -> OCCUPIED) at every second of the second half of each clip."""
    if face_support() is not None:
        return
    detector = FaceDetector()
    clips = {"A": "head-pose-male-preview.mp4", "B": "face-exposure-swings.mp4"}
    frames = {n: list(iter_file_frames(DATA / c, fps_cap=10.0)) for n, c in clips.items()}
    enrolled: dict[str, list[np.ndarray]] = {}
    for name, clip_frames in frames.items():
        found = [d[0][1] for f in clip_frames if (d := detector.descriptors(f.image))]
        half = len(found) // 2
        enrolled[name] = [found[i] for i in np.linspace(0, half - 1, 5).astype(int)]
    for scenario in ("both enrolled", "only A enrolled"):
        for name, clip_frames in frames.items():
            outcomes: list[Recognition] = []
            half = len(clip_frames) // 2
            starts = range(half, len(clip_frames) - 10, 10)
            for start in starts:
                analyzer = PeopleAnalyzer(outcomes.append, lambda _: None, enabled=True)
                for person, samples in enrolled.items():
                    if scenario == "both enrolled" or person == "A":
                        analyzer.gallery.enrol(person, samples)
                first = clip_frames[start]
                analyzer(first, FrameResult(first.pts, Occupancy.EMPTY, False, 0.0))
                for frame in clip_frames[start + 1 :]:
                    analyzer(frame, FrameResult(frame.pts, Occupancy.OCCUPIED, True, 0.0))
                    if len(outcomes) == len(starts[: starts.index(start) + 1]):
                        break
            names = [o.name for o in outcomes]
            cost = statistics.fmean(o.cost_ms for o in outcomes)
            runs = statistics.fmean(o.runs for o in outcomes)
            print(
                f"arrivals of {name} ({scenario}): {len(names)}, as A {names.count('A')}, "
                f"as B {names.count('B')}, unknown {names.count(None)}; "
                f"mean {runs:.1f} runs, {cost:.0f} ms CPU per arrival"
            )


if __name__ == "__main__":
    gesture_cost()
    gesture_false_triggers()
    face_numbers()
    arrivals()
