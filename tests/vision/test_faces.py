"""Face recognition on real footage: enrol from some frames, recognise others, strangers stay unknown.

Two people: the man of head-pose-male-preview (A) and the man of
face-exposure-swings (B, strong exposure swings, head turns). Enrolment uses
frames from the first half of a clip, tests use the second half.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_components.smart_play.vision.faces import (
    CROP,
    DESCRIPTOR_SIZE,
    PERSON_TEXT_COLOUR,
    FaceDetector,
    FaceGallery,
    PeopleAnalyzer,
    Recognition,
    chi_square,
    face_support,
    lbp_descriptor,
)
from custom_components.smart_play.vision.source import iter_file_frames
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy

DATA = Path(__file__).resolve().parent.parent / "data"
CLIPS = {"A": "head-pose-male-preview.mp4", "B": "face-exposure-swings.mp4"}
ENROL = 5  # samples per person

pytestmark = pytest.mark.skipif(face_support() is not None, reason="OpenCV not installed")


@pytest.fixture(scope="module")
def frames() -> dict[str, list[Frame]]:
    return {name: list(iter_file_frames(DATA / clip, fps_cap=6.0)) for name, clip in CLIPS.items()}


@pytest.fixture(scope="module")
def faces(frames: dict[str, list[Frame]]) -> dict[str, list[np.ndarray]]:
    detector = FaceDetector()
    out: dict[str, list[np.ndarray]] = {}
    for name, clip_frames in frames.items():
        out[name] = [d[0][1] for f in clip_frames if (d := detector.descriptors(f.image))]
    return out


def split(descriptors: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    half = len(descriptors) // 2
    index = np.linspace(0, half - 1, ENROL).astype(int)
    return [descriptors[i] for i in index], descriptors[half:]


def test_descriptor_basics() -> None:
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (CROP, CROP), dtype=np.uint8)
    d = lbp_descriptor(crop)
    assert d.shape == (DESCRIPTOR_SIZE,)
    assert d.dtype == np.uint8
    assert int(d.sum()) == 64 * 64  # every pixel in exactly one bin
    # Brightness/contrast changes do not change local binary patterns.
    brighter = np.clip(crop.astype(int) // 2 + 100, 0, 255).astype(np.uint8)
    assert (
        chi_square(lbp_descriptor(brighter), d[None, :])[0]
        < 0.05 * chi_square(lbp_descriptor(np.rot90(crop).copy()), d[None, :])[0]
    )


def test_faces_are_found(
    faces: dict[str, list[np.ndarray]], frames: dict[str, list[Frame]]
) -> None:
    assert len(faces["A"]) == len(frames["A"])  # frontal face in every frame
    assert len(faces["B"]) >= 0.5 * len(frames["B"])  # tilts, looks down, over-exposure


def test_enrolled_people_are_recognised(faces: dict[str, list[np.ndarray]]) -> None:
    gallery = FaceGallery()
    tests = {}
    for name, descriptors in faces.items():
        enrol, tests[name] = split(descriptors)
        gallery.enrol(name, enrol)
    results = {name: [gallery.match(d).name for d in test] for name, test in tests.items()}
    for name, names in results.items():
        other = "B" if name == "A" else "A"
        assert other not in names, f"{name} confused with {other}"
    assert results["A"].count("A") / len(results["A"]) >= 0.9
    assert results["B"].count("B") / len(results["B"]) >= 0.5


def test_strangers_stay_unknown(faces: dict[str, list[np.ndarray]]) -> None:
    for known, stranger in (("A", "B"), ("B", "A")):
        gallery = FaceGallery()
        gallery.enrol(known, split(faces[known])[0])
        assert [gallery.match(d).name for d in faces[stranger]] == [None] * len(faces[stranger])


def test_removed_person_is_forgotten(faces: dict[str, list[np.ndarray]]) -> None:
    gallery = FaceGallery()
    gallery.enrol("A", split(faces["A"])[0])
    gallery.remove("A")
    assert gallery.match(faces["A"][-1]).name is None
    assert gallery.people == {}


def _result(state: Occupancy) -> FrameResult:
    return FrameResult(t=0.0, state=state, presence=state is Occupancy.OCCUPIED, motion_score=0.0)


def test_analyzer_runs_only_after_arrival(
    frames: dict[str, list[Frame]], faces: dict[str, list[np.ndarray]]
) -> None:
    results: list[Recognition] = []
    left: list[None] = []
    analyzer = PeopleAnalyzer(results.append, left.append, enabled=True)
    analyzer.gallery.enrol("A", split(faces["A"])[0])
    analyzer.gallery.enrol("B", split(faces["B"])[0])
    clip = frames["A"]
    half = len(clip) // 2
    for frame in clip[:half]:  # already occupied: no arrival, no recognition
        analyzer(frame, _result(Occupancy.UNKNOWN))
    assert analyzer._runs == 0
    analyzer(clip[half], _result(Occupancy.EMPTY))
    for frame in clip[half + 1 :]:
        analyzer(frame, _result(Occupancy.OCCUPIED))
    assert [r.name for r in results] == ["A"]
    assert results[0].runs <= 3  # decided after two agreeing runs (every 2nd frame)
    assert left == []
    # The tracking view names the person (top left) for a few seconds.
    canvas = np.zeros((270, 480, 3), dtype=np.uint8)
    analyzer.draw(canvas, None)
    assert (canvas[:30, :200] == PERSON_TEXT_COLOUR).all(axis=2).sum() > 50
    analyzer(clip[-1], _result(Occupancy.EMPTY))
    assert left == [None]


def test_analyzer_unknown_person(
    frames: dict[str, list[Frame]], faces: dict[str, list[np.ndarray]]
) -> None:
    results: list[Recognition] = []
    analyzer = PeopleAnalyzer(results.append, lambda _: None, enabled=True, window=2.0)
    analyzer.gallery.enrol("A", split(faces["A"])[0])
    clip = frames["B"]
    analyzer(clip[0], _result(Occupancy.EMPTY))
    for frame in clip[1:]:
        analyzer(frame, _result(Occupancy.OCCUPIED))
    assert len(results) == 1
    assert results[0].name is None
    assert results[0].faces >= 2


def test_disabled_analyzer_still_captures(frames: dict[str, list[Frame]]) -> None:
    got: list[list[np.ndarray]] = []
    analyzer = PeopleAnalyzer(lambda _: None, lambda _: None, enabled=False)
    analyzer.start_capture(4, got.append, interval=0.2)
    for frame in frames["A"]:
        analyzer(frame, _result(Occupancy.OCCUPIED))
    assert len(got) == 1
    assert len(got[0]) == 4
    assert analyzer._runs == 0  # recognition itself never ran
