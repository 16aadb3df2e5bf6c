"""The optional OpenCV confirmation stage (Haar face check)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.presence import FaceConfirmer
from custom_components.smart_play.vision.types import Box, Frame, Occupancy

from .test_engine import BLOCK_W, FPS, run, scene, settled_empty, walk

cv2 = pytest.importorskip("cv2")
DATA = Path(__file__).resolve().parent.parent / "data"


def first_frame(clip: str, index: int = 0) -> np.ndarray:
    with av.open(str(DATA / clip)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError("clip too short")


def test_face_check_finds_the_face_and_nothing_in_an_empty_room() -> None:
    face = FaceConfirmer(cv2)
    boxes = face.detect(0.0, first_frame("head-pose-male-preview.mp4", 10))
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    # The man's face is around x 200-295, y 40-135 in the 480x270 clip.
    assert 180 <= x <= 230
    assert 20 <= y <= 70
    assert 60 <= w <= 130
    assert h == w
    assert face.detect(1.0, first_frame("empty-room-preview.mp4", 20)) == []
    assert face.detect(2.0, first_frame("one-by-one-person-detection.mp4", 30)) == []


class FakeFace:
    """Stands in for FaceConfirmer: answers what the test says, counts calls."""

    interval = 0.5

    def __init__(self) -> None:
        self.faces: list[Box] = []
        self.calls: list[float] = []
        self._last: float | None = None

    def due(self, t: float) -> bool:
        return self._last is None or t - self._last >= self.interval

    def detect(self, t: float, image: np.ndarray) -> list[Box]:
        self._last = t
        self.calls.append(t)
        return list(self.faces)

    def reset(self) -> None:
        self._last = None


def engine_with_fake(**kwargs: float) -> tuple[OccupancyEngine, FakeFace]:
    engine = OccupancyEngine(EngineConfig(use_opencv=True, startup_quiet=3.0, **kwargs))
    fake = FakeFace()
    engine._face = fake  # type: ignore[assignment]
    engine._face_tried = True
    return engine, fake


def test_face_holds_occupied_when_the_picture_has_no_other_evidence() -> None:
    engine, fake = engine_with_fake()
    t0 = settled_empty(engine)
    results = run(engine, walk(-BLOCK_W + 5, 140, 15) + [140] * 10, start=t0)
    assert engine.state is Occupancy.OCCUPIED
    # The person vanishes from the picture without walking out (e.g. a frame
    # glitch), but the face check still sees a face: stay occupied.
    fake.faces = [(150, 70, 20, 20)]
    t1 = results[-1].t + 1 / FPS
    held = run(engine, [None] * 50, start=t1)
    assert all(r.state is Occupancy.OCCUPIED for r in held)
    assert any(r.reason == "face" and r.person_box is not None for r in held)
    # Face calls are rate limited to 2 per second of stream time.
    gaps = np.diff([t for t in fake.calls if t >= t1])
    assert len(gaps) > 0
    assert gaps.min() >= 0.5 - 1e-6
    # No more face: EMPTY after the delay.
    fake.faces = []
    t2 = held[-1].t + 1 / FPS
    after = run(engine, [None] * 40, start=t2)
    empty = [r for r in after if r.transition]
    assert [r.state for r in empty] == [Occupancy.EMPTY]
    assert empty[0].t <= t2 + 2.0 + 0.5 + 0.25


def test_face_alone_never_makes_a_room_occupied() -> None:
    engine, fake = engine_with_fake()
    fake.faces = [(100, 50, 30, 30)]  # e.g. a face on a poster
    results = run(engine, [None] * 60)
    # While UNKNOWN it only postpones the start-up decision ...
    assert all(r.state is Occupancy.UNKNOWN for r in results)
    fake.faces = []
    results = run(engine, [None] * 40, start=6.0)
    assert engine.state is Occupancy.EMPTY
    # ... and an EMPTY room is not made OCCUPIED by it either.
    fake.faces = [(100, 50, 30, 30)]
    results = run(engine, [None] * 30, start=10.0)
    assert all(r.state is Occupancy.EMPTY for r in results)


def test_face_check_is_skipped_while_things_move() -> None:
    engine, fake = engine_with_fake()
    t0 = settled_empty(engine)
    run(engine, walk(-BLOCK_W + 5, 280, 30), start=t0)
    during = [t for t in fake.calls if t > t0 + 0.25]
    assert during == []  # motion is evidence enough: no face checks while walking


def test_numpy_only_engine_never_loads_opencv_stage() -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False))
    run(engine, [None] * 5)
    engine.process(Frame(scene(None), 1.0, 0.0))
    assert engine._face is None
    assert not engine.uses_opencv
