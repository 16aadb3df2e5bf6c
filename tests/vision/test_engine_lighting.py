"""Engine: lighting changes and camera bumps are not people (real empty-room frames)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import av
import numpy as np
import pytest

from bench import scenarios
from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.types import Frame, Occupancy

from .test_engine import BLOCK_W, FPS, scene, walk

CLIP = Path(__file__).resolve().parent.parent / "data" / "one-by-one-person-detection.mp4"


@cache
def empty_room() -> np.ndarray:
    """The real empty room: the first 59 frames (0-5.8 s) of the one-by-one clip."""
    with av.open(str(CLIP)) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == 59:
                break
    return np.stack(frames)


def room_frame(i: int) -> np.ndarray:
    """Frame ``i`` of the empty room played back and forth (real pixels and noise)."""
    frames = empty_room()
    n = len(frames)
    k = i % (2 * n - 2)
    return frames[k if k < n else 2 * n - 2 - k].astype(np.float32)


def feed(engine: OccupancyEngine, images: list[np.ndarray], fps: float) -> list[Occupancy]:
    return [
        engine.process(Frame(np.clip(img, 0, 255).astype(np.uint8), i / fps, 0.0)).state
        for i, img in enumerate(images)
    ]


@pytest.mark.parametrize("fps", [10.0, 5.0, 2.0, 1.0])
def test_a_lamp_switched_on_and_off_in_an_empty_room_is_not_an_arrival(fps: float) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    h, w = empty_room().shape[1:3]
    gain = np.ones((h, w, 1), np.float32)
    gain[h // 3 : h // 3 + h // 3, 10 : 10 + w // 3] = 1.8  # 1/9 of the picture, +80 %
    images = []
    for i in range(round(30 * fps)):
        t = i / fps
        level = min(1.0, max(0.0, (t - 10.0) * FPS / 3)) - min(1.0, max(0.0, (t - 20.0) * FPS / 3))
        images.append(room_frame(round(t * FPS)) * (1.0 + (gain - 1.0) * level))
    states = feed(engine, images, fps)
    assert Occupancy.EMPTY in states
    assert Occupancy.OCCUPIED not in states


@pytest.mark.parametrize("fps", [10.0, 1.0])
def test_a_camera_bump_in_an_empty_room_is_not_an_arrival(fps: float) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    images = []
    for i in range(round(20 * fps)):
        img = room_frame(round(i / fps * FPS))
        if i / fps >= 8.0:
            img = np.roll(img, (2, 3), axis=(0, 1))  # 3 px right, 2 px down, for good
        images.append(img)
    states = feed(engine, images, fps)
    assert Occupancy.EMPTY in states
    assert Occupancy.OCCUPIED not in states


def night_mode(img: np.ndarray) -> np.ndarray:
    """The camera's IR/night switch: grey, flatter contrast, brighter."""
    grey = img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    grey = (grey - 128.0) * 0.8 + 150.0
    return np.clip(np.repeat(grey[..., None], 3, axis=2), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("fps", [10.0, 2.0])
def test_after_a_night_mode_switch_the_person_is_held_and_leaving_is_seen(fps: float) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    step = round(FPS / fps)
    positions = [None] * 40 + walk(-BLOCK_W + 5, 140, 15) + [140] * 150 + [None] * 60
    positions = positions[::step]
    switched = 40 + 15 + 50  # frame (at 10 fps) of the switch: 5 s after she stopped
    gone = 40 + 15 + 150
    results = []
    person = scene(0)[60:150, 0:BLOCK_W]
    for i, x in enumerate(positions):
        img = room_frame(i * step).astype(np.uint8)
        if x is not None:
            x0, x1 = max(0, x), min(img.shape[1], x + BLOCK_W)
            img[60:150, x0:x1] = person[:, x0 - x : x1 - x]
        if i * step >= switched:
            img = night_mode(img)
        results.append(engine.process(Frame(img, i / fps, 0.0)))
    in_view = [r for r in results if 40 / FPS + 0.5 + 1 / fps <= r.t < gone / FPS]
    assert all(r.state is Occupancy.OCCUPIED for r in in_view), "the person is never dropped"
    empty = [r.t for r in results if r.t >= gone / FPS and r.state is Occupancy.EMPTY]
    assert empty, "she vanished in the middle of the picture: EMPTY"
    assert empty[0] <= gone / FPS + 2.0 + 1.0 + 1 / fps


def bumped(frame: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The picture after the camera was knocked: moved ``dx`` px right, ``dy`` px down for good."""
    h, w = frame.shape[:2]
    rows = np.clip(np.arange(h) - dy, 0, h - 1)
    cols = np.clip(np.arange(w) - dx, 0, w - 1)
    return frame[rows][:, cols]


@pytest.mark.parametrize(
    ("dx", "dy", "fps"),
    [(1, 0, 10.0), (0, -1, 2.0), (-2, 3, 10.0), (3, 2, 3.0), (2, -2, 1.0)],
)
def test_a_camera_bump_while_she_stands_does_not_keep_the_room_occupied(
    dx: int, dy: int, fps: float
) -> None:
    # Real frames: person 1 of one-by-one walks in, stands at the table; 10 s later the
    # camera is knocked by 1-3 px (half a pixel to 1.5 pixels of the analysis image);
    # she stays, then walks out.
    visit = scenarios.visit(25.0, after=12.0)
    bump_at = 20.0
    scenario = scenarios.Scenario(
        "bump",
        "",
        scenarios.OBO,
        visit,
        lambda t, frame, _rng: bumped(frame, dx, dy) if t >= bump_at else frame,
    )
    ((_enter, leave),) = scenario.labels()["present"]
    engine = OccupancyEngine(EngineConfig(use_opencv=False))
    results = [engine.process(Frame(img, t, 0.0)) for t, img in scenario.frames(fps)]
    seen = [r for r in results if 9.0 <= r.t < leave]
    assert all(r.state is Occupancy.OCCUPIED for r in seen), "she is never dropped"
    empty = [r.t for r in results if r.t >= leave and r.state is Occupancy.EMPTY]
    assert empty, "her place does not hold the room once she has gone"
    bound = 2.0 + (2.0 if fps <= 1.0 else 1.0 + 1 / fps)
    assert empty[0] - leave <= bound
    after = [r.state for r in results if r.t >= empty[0]]
    assert Occupancy.OCCUPIED not in after, "the empty room after her is not taken for her"


@pytest.mark.parametrize("fps", [3.0, 2.0])
def test_a_lamp_switched_on_across_the_room_does_not_keep_her_place_after_she_leaves(
    fps: float,
) -> None:
    # Real frames: she stands at the table; at 20 s a lamp lights an eighth of the picture
    # left of the table (+80 %) and stays on; later she walks out (bench/scenarios.py).
    scenario = scenarios.build("lamp-on-while-present-then-leave")
    ((enter, leave),) = scenario.labels()["present"]
    engine = OccupancyEngine(EngineConfig(use_opencv=False))
    results = [engine.process(Frame(img, t, 0.0)) for t, img in scenario.frames(fps)]
    seen = [r for r in results if enter + 0.5 + 1 / fps <= r.t < leave]
    assert all(r.state is Occupancy.OCCUPIED for r in seen), "she is never dropped"
    empty = [r.t for r in results if r.t >= leave and r.state is Occupancy.EMPTY]
    assert empty, "the lit wall is not taken for her once she has gone"
    assert empty[0] - leave <= 2.0 + 1.0 + 1 / fps
    after = [r.state for r in results if r.t >= empty[0]]
    assert Occupancy.OCCUPIED not in after, "the lamp never resumes the music"
