"""Gesture recognition: no actions from ordinary activity, real gestures recognised."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from custom_components.smart_play.vision.gestures import (
    DEFAULT_ZONE,
    Gesture,
    GestureAnalyzer,
    GestureConfig,
    GestureDetector,
    GestureEvent,
    parse_zone,
)
from custom_components.smart_play.vision.source import iter_file_frames
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy

from . import gesture_synth as gs

DATA = Path(__file__).resolve().parent.parent / "data"
CLIPS = sorted(p.name for p in DATA.glob("*.mp4"))
ZONES = {
    "top-right": DEFAULT_ZONE,
    "top-left": (0.0, 0.0, 0.5, 0.5),
    "bottom-right": (0.5, 0.5, 1.0, 1.0),
    "bottom-left": (0.0, 0.5, 0.5, 1.0),
    "centre": (0.25, 0.25, 0.75, 0.75),
}


def run(
    detector: GestureDetector, frames: Iterable[tuple[np.ndarray, float]]
) -> list[GestureEvent]:
    events = []
    for image, t in frames:
        event = detector.process(image, t)
        if event is not None:
            events.append(event)
    return events


@pytest.fixture(scope="module")
def desk() -> np.ndarray:
    """A real frame of a room (one-by-one clip), at 640x360."""
    return gs.resize(gs.background("one-by-one-person-detection.mp4", 2.0), 640, 360)


@pytest.fixture(scope="module")
def selfie() -> np.ndarray:
    """A real close-up frame of a face (face-exposure clip), at 640x360."""
    return gs.resize(gs.background("face-exposure-swings.mp4", 1.0), 640, 360)


@pytest.mark.parametrize("clip", CLIPS)
def test_ordinary_activity_triggers_nothing(clip: str) -> None:
    """Walking in/out, sitting down, head turns, exposure swings: zero actions in any zone."""
    frames = list(iter_file_frames(DATA / clip, fps_cap=10.0))
    assert frames
    detectors = {name: GestureDetector(GestureConfig(zone=zone)) for name, zone in ZONES.items()}
    fired: dict[str, list[GestureEvent]] = {name: [] for name in ZONES}
    for frame in frames:
        for name, detector in detectors.items():
            if (event := detector.process(frame.image, frame.pts)) is not None:
                fired[name].append(event)
    assert fired == {name: [] for name in ZONES}


@pytest.mark.parametrize(
    ("direction", "mirrored", "expected"),
    [
        ("left", Gesture.NEXT_TRACK, Gesture.PREVIOUS_TRACK),
        ("right", Gesture.PREVIOUS_TRACK, Gesture.NEXT_TRACK),
        ("up", Gesture.VOLUME_UP, Gesture.VOLUME_UP),
        ("down", Gesture.VOLUME_DOWN, Gesture.VOLUME_DOWN),
    ],
)
@pytest.mark.parametrize("background", ["desk", "selfie"])
@pytest.mark.parametrize("fps", [10.0, 15.0])
def test_swipe_is_one_action(
    request: pytest.FixtureRequest,
    background: str,
    fps: float,
    direction: str,
    mirrored: Gesture,
    expected: Gesture,
) -> None:
    """A hand swiping through the zone is exactly one action, mapped per mirror setting."""
    base = request.getfixturevalue(background)
    path = gs.SWIPES[direction]
    events = run(GestureDetector(), gs.sequence(base, path, fps=fps))
    assert [(e.gesture, e.motion) for e in events] == [(mirrored, f"swipe {direction}")]
    plain = run(GestureDetector(GestureConfig(mirror=False)), gs.sequence(base, path, fps=fps))
    assert [e.gesture for e in plain] == [expected]


@pytest.mark.parametrize("size", [0.07, 0.14])
@pytest.mark.parametrize("seconds", [0.5, 0.7])
@pytest.mark.parametrize("direction", ["left", "right", "up", "down"])
def test_swipe_hand_sizes_and_speeds(
    desk: np.ndarray, direction: str, seconds: float, size: float
) -> None:
    """Small and large hands (with forearm), across the picture in 0.5-0.7 s at 10 fps."""
    start, end = gs.SWIPES[direction][0], gs.SWIPES[direction][-1]
    assert start is not None
    assert end is not None
    path = gs.swipe_path(start, end, round(seconds * 10) + 1)
    events = run(GestureDetector(), gs.sequence(desk, path, fps=10.0, size=size))
    assert [e.motion for e in events] == [f"swipe {direction}"]


@pytest.mark.parametrize("background", ["desk", "selfie"])
def test_hold_toggles_once(request: pytest.FixtureRequest, background: str) -> None:
    """Hand raised into the zone and held: one play/pause after about a second, no repeat."""
    base = request.getfixturevalue(background)
    events = run(GestureDetector(), gs.sequence(base, gs.hold_path(frames=50), fps=10.0))
    assert [e.gesture for e in events] == [Gesture.PLAY_PAUSE]
    entered = 1.0  # lead of 10 frames at 10 fps
    assert 0.9 <= events[0].t - entered <= 1.6


def test_short_hold_does_nothing(desk: np.ndarray) -> None:
    """Hand in the zone for half a second, then away: no action."""
    assert run(GestureDetector(), gs.sequence(desk, gs.hold_path(frames=5), fps=10.0)) == []


def test_refractory_period(desk: np.ndarray) -> None:
    """Two swipes 0.3 s apart are one action; one 2 s later counts again."""
    left = gs.SWIPES["left"]
    quick = left + [None] * 3 + left
    events = run(GestureDetector(), gs.sequence(desk, quick, fps=10.0))
    assert [e.gesture for e in events] == [Gesture.NEXT_TRACK]
    spaced = left + [None] * 20 + gs.SWIPES["right"]
    events = run(GestureDetector(), gs.sequence(desk, spaced, fps=10.0))
    assert [e.gesture for e in events] == [Gesture.NEXT_TRACK, Gesture.PREVIOUS_TRACK]


def test_slow_pass_is_not_a_swipe(desk: np.ndarray) -> None:
    """Something crossing the zone slowly (2 s) is not a swipe."""
    slow = gs.swipe_path((1.08, 0.22), (0.42, 0.22), 20)
    assert run(GestureDetector(), gs.sequence(desk, slow, fps=10.0)) == []


def test_swipe_while_the_whole_picture_moves(desk: np.ndarray) -> None:
    """Camera shake / someone walking close past: a swipe at the same time is ignored."""
    rng = np.random.default_rng(3)
    frames = []
    path = [None] * 10 + gs.SWIPES["left"] + [None] * 10
    for i, pos in enumerate(path):
        img = np.roll(desk, shift=(i % 2) * 6, axis=1)  # picture shakes sideways
        if pos is not None:
            gs.draw_hand(img, pos[0], pos[1], 0.1)
        frames.append((gs.noisy(img, rng), i / 10.0))
    assert run(GestureDetector(), frames) == []


def test_person_walking_through_zone(desk: np.ndarray) -> None:
    """A body-sized blob crossing the zone quickly is not a hand (too large)."""
    path = gs.swipe_path((1.2, 0.3), (0.3, 0.3), 6)
    events = run(GestureDetector(), gs.sequence(desk, path, fps=10.0, size=0.35))
    assert events == []


def test_time_jump_back_resets(desk: np.ndarray) -> None:
    """A looping file (pts jumps back) does not produce a bogus gesture."""
    detector = GestureDetector()
    assert run(detector, gs.sequence(desk, gs.SWIPES["left"], fps=10.0, t0=50.0)) != []
    events = run(detector, gs.sequence(desk, gs.SWIPES["right"], fps=10.0, t0=0.0))
    assert [e.gesture for e in events] == [Gesture.PREVIOUS_TRACK]


def test_parse_zone() -> None:
    assert parse_zone("0.5, 0, 1, 0.5") == (0.5, 0.0, 1.0, 0.5)
    assert parse_zone([0, 0.5, 0.5, 1]) == (0.0, 0.5, 0.5, 1.0)
    for bad in ("1,2,3", "0.5,0,0.4,0.5", "0,0,0.1,0.1", "a,b,c,d", "0,0,1.5,1"):
        with pytest.raises(ValueError):
            parse_zone(bad)
    with pytest.raises(TypeError):
        parse_zone(7)


def test_moved_zone(desk: np.ndarray) -> None:
    """With the zone at the bottom left, swipes there count and the top right is ignored."""
    detector = GestureDetector(GestureConfig(zone=(0.0, 0.5, 0.5, 1.0)))
    top_right = run(detector, gs.sequence(desk, gs.SWIPES["left"], fps=10.0))
    assert top_right == []
    path = gs.swipe_path((0.58, 0.72), (-0.08, 0.72), 7)
    events = run(detector, gs.sequence(desk, path, fps=10.0, t0=10.0))
    assert [e.gesture for e in events] == [Gesture.NEXT_TRACK]


def test_analyzer_only_works_when_enabled(desk: np.ndarray) -> None:
    """The pipeline hook does nothing while off; on, it reports gestures; zone moves live."""
    seen: list[GestureEvent] = []
    analyzer = GestureAnalyzer(seen.append)
    result = FrameResult(t=0.0, state=Occupancy.OCCUPIED, presence=True, motion_score=0.0)
    frames = list(gs.sequence(desk, gs.SWIPES["left"], fps=10.0))
    for image, t in frames:
        analyzer(Frame(image, t, t), result)
    assert seen == []
    assert analyzer.detector._prev is None  # nothing was even analysed
    analyzer.enabled = True
    for image, t in frames:
        analyzer(Frame(image, t + 10, t + 10), result)
    assert [e.gesture for e in seen] == [Gesture.NEXT_TRACK]
    assert analyzer.cost_s > 0
    analyzer.set_zone((0.0, 0.5, 0.5, 1.0))
    for image, t in frames:
        analyzer(Frame(image, t + 20, t + 20), result)
    assert len(seen) == 1
    assert analyzer.zone == (0.0, 0.5, 0.5, 1.0)
