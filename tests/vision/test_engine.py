"""Occupancy engine on synthetic scenes (numpy-generated frames)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.motion import components
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy

W, H = 320, 180
FPS = 10.0
BLOCK_W, BLOCK_H = 40, 90


def _room(seed: int = 1) -> np.ndarray:
    """A textured, static 'room' (smooth random pattern)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(60, 200, size=(9, 16, 3)).astype(np.float32)
    return np.kron(coarse, np.ones((20, 20, 1), dtype=np.float32)).astype(np.uint8)


ROOM = _room()
PERSON = np.zeros((BLOCK_H, BLOCK_W, 3), dtype=np.uint8)
PERSON[:, :] = (30, 40, 160)
PERSON[:25, 10:30] = (220, 180, 150)  # head


def scene(
    x: int | None, y: int = 60, gain: float = 1.0, noise: float = 0.0, seed: int = 0
) -> np.ndarray:
    """The room with the person block at x (None: nobody), brightness gain and noise."""
    img = ROOM.astype(np.float32)
    if x is not None:
        x0, x1 = max(0, x), min(W, x + BLOCK_W)
        if x1 > x0:
            img[y : y + BLOCK_H, x0:x1] = PERSON[:, x0 - x : x1 - x]
    img *= gain
    if noise:
        img += np.random.default_rng(seed).normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def run(
    engine: OccupancyEngine, positions: list[int | None], *, start: float = 0.0, **kwargs: float
) -> list[FrameResult]:
    """Feed one frame per position at FPS; returns the results."""
    out = []
    for i, x in enumerate(positions):
        t = start + i / FPS
        out.append(engine.process(Frame(scene(x, **kwargs), t, 0.0)))
    return out


def walk(x0: int, x1: int, frames: int) -> list[int | None]:
    """Positions of a block moving from x0 to x1 in ``frames`` steps."""
    return [round(x0 + (x1 - x0) * i / (frames - 1)) for i in range(frames)]


def transitions(results: list[FrameResult]) -> list[tuple[float, Occupancy, str]]:
    return [(r.t, r.state, r.transition.reason) for r in results if r.transition]


@pytest.fixture(params=[False, True], ids=["numpy", "opencv"])
def make_engine(request: pytest.FixtureRequest) -> Callable[..., OccupancyEngine]:
    def factory(**kwargs: float) -> OccupancyEngine:
        kwargs.setdefault("startup_quiet", 3.0)  # shorter start-up keeps the tests fast
        return OccupancyEngine(EngineConfig(use_opencv=request.param, **kwargs))

    return factory


def settled_empty(engine: OccupancyEngine) -> float:
    """Bring the engine to EMPTY on the empty room; returns the next stream time."""
    quiet = max(engine.config.startup_quiet, engine.config.delay)
    results = run(engine, [None] * int(quiet * FPS + 5))
    assert engine.state is Occupancy.EMPTY
    return results[-1].t + 1 / FPS


def test_starts_unknown_and_waits_for_startup_quiet(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine(startup_quiet=10.0)
    assert engine.state is Occupancy.UNKNOWN
    results = run(engine, [None] * 120)
    trs = transitions(results)
    # A still person and an empty room look alike at start-up: no EMPTY before 10 s.
    assert trs == [(pytest.approx(10.0), Occupancy.EMPTY, "no presence for 10.0 s")]
    assert all(r.state is Occupancy.UNKNOWN for r in results if r.t < 10.0 - 1e-6)
    assert all(r.countdown is None for r in results)


def test_enter_stay_still_then_leave_through_edge(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    enter = walk(-BLOCK_W + 5, 140, 15)
    still = [140] * 300  # 30 s without any movement
    leave = walk(140, W + 5, 12)
    gone = [None] * 40
    results = run(engine, enter + still + leave + gone, start=t0)
    trs = transitions(results)
    assert [s for _, s, _ in trs] == [Occupancy.OCCUPIED, Occupancy.EMPTY]
    assert t0 <= trs[0][0] <= t0 + 0.5  # within 0.5 s of the block coming into view
    assert trs[0][2] == "motion"
    # Present the whole time the block is in view, including 30 s standing still.
    in_view = results[5 : len(enter) + len(still) + len(leave) - 1]
    assert all(r.state is Occupancy.OCCUPIED for r in in_view)
    still_results = results[len(enter) + 5 : len(enter) + len(still)]
    assert all(r.presence and r.reason == "still person" for r in still_results)
    box = still_results[-1].person_box
    assert box is not None
    x, _y, w, _h = box
    assert x <= 140 + 10  # the box is on the person
    assert x + w >= 140 + BLOCK_W - 10
    # Left through the right edge: EMPTY after the delay (not later than delay + 1 s).
    t_left = t0 + (len(enter) + len(still) + len(leave) - 1) / FPS
    assert trs[1][2] == "left through edge"
    assert t_left + 2.0 - 1e-6 <= trs[1][0] <= t_left + 3.0


def test_countdown_runs_in_stream_time(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine(delay=3.0)
    t0 = settled_empty(engine)
    results = run(engine, walk(-BLOCK_W + 5, W + 5, 25) + [None] * 50, start=t0)
    counting = [r for r in results if r.countdown is not None]
    assert counting, "a countdown is shown before EMPTY"
    first = counting[0]
    for r in counting:
        assert r.state is Occupancy.OCCUPIED
        assert r.countdown == pytest.approx(first.countdown - (r.t - first.t), abs=1e-6)
    empty = next(r for r in results if r.transition and r.state is Occupancy.EMPTY)
    assert empty.t == pytest.approx(counting[-1].t + 1 / FPS)
    assert empty.countdown is None


def test_set_delay_applies_live(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine(delay=10.0)
    t0 = settled_empty(engine)
    results = run(engine, walk(-BLOCK_W + 5, W + 5, 25), start=t0)
    engine.set_delay(1.0)
    after = run(engine, [None] * 30, start=results[-1].t + 0.1)
    empty = [r for r in after if r.transition]
    assert empty
    assert empty[0].t - results[-1].t <= 1.0 + 0.5


def test_global_brightness_jump_is_not_presence(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    results = []
    for i, gain in enumerate([1.0] * 5 + [1.6] * 20 + [0.5] * 20 + [1.0] * 20):
        results.append(engine.process(Frame(scene(None, gain=gain), t0 + i / FPS, 0.0)))
    assert all(r.state is Occupancy.EMPTY for r in results)
    assert all(not r.motion_boxes for r in results)


def test_brightness_jump_keeps_still_person(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    results = run(engine, walk(-BLOCK_W + 5, 140, 15) + [140] * 20, start=t0)
    t1 = results[-1].t + 1 / FPS
    for i, gain in enumerate([0.6] * 40 + [1.4] * 40):
        r = engine.process(Frame(scene(140, gain=gain), t1 + i / FPS, 0.0))
        assert r.state is Occupancy.OCCUPIED, f"lost the person at {r.t:.1f} s"


def test_sensor_noise_is_not_presence(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine(sensitivity=10)
    results = [
        engine.process(Frame(scene(None, noise=4.0, seed=i), i / FPS, 0.0)) for i in range(60)
    ]
    assert [r.state for r in results if r.transition] == [Occupancy.EMPTY]
    assert all(not r.presence for r in results)


def test_person_present_at_startup_who_moves_is_found(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine()
    positions: list[int | None] = [140] * 20 + walk(140, 150, 5) + [150] * 50
    results = run(engine, positions)
    assert engine.state is Occupancy.OCCUPIED
    assert all(r.state is not Occupancy.EMPTY for r in results)


def test_sensitivity_changes_what_counts_as_motion() -> None:
    def faint_entry(sensitivity: int) -> Occupancy:
        engine = OccupancyEngine(
            EngineConfig(sensitivity=sensitivity, use_opencv=False, startup_quiet=3.0)
        )
        t0 = settled_empty(engine)
        for i, x in enumerate(walk(60, 200, 20)):
            img = ROOM.astype(np.int16)
            img[60:150, x : x + BLOCK_W] += 12  # low-contrast object
            engine.process(Frame(np.clip(img, 0, 255).astype(np.uint8), t0 + i / FPS, 0.0))
        return engine.state

    assert faint_entry(10) is Occupancy.OCCUPIED
    assert faint_entry(1) is Occupancy.EMPTY


def test_set_unknown_and_recovery(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    run(engine, walk(-BLOCK_W + 5, 140, 15) + [140] * 10, start=t0)
    assert engine.state is Occupancy.OCCUPIED
    tr = engine.set_unknown(50.0, "camera lost")
    assert tr is not None
    assert (tr.state, tr.reason, tr.t) == (Occupancy.UNKNOWN, "camera lost", 50.0)
    assert engine.set_unknown(51.0, "still lost") is None
    # Camera back, person still sitting there: never EMPTY (the known empty room
    # differs where the person sits).
    results = run(engine, [140] * 150, start=60.0)
    assert all(r.state is not Occupancy.EMPTY for r in results)
    assert engine.state is Occupancy.OCCUPIED


def test_decisions_depend_on_pts_not_wall_time(make_engine: Callable[..., OccupancyEngine]) -> None:
    positions = [None] * 110 + walk(-BLOCK_W + 5, W + 5, 30) + [None] * 40

    def frames(wall: Callable[[int], float]) -> Iterator[Frame]:
        for i, x in enumerate(positions):
            yield Frame(scene(x), i / FPS, wall(i))

    fast = make_engine()
    slow = make_engine()
    a = [fast.process(f) for f in frames(lambda i: 0.001 * i)]
    b = [slow.process(f) for f in frames(lambda i: 100.0 + 7.3 * i)]
    assert transitions(a) == transitions(b)
    assert [r.countdown for r in a] == [r.countdown for r in b]
    assert len(transitions(a)) == 3


def test_stream_time_jump_back_on_file_loop(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    run(engine, walk(-BLOCK_W + 5, 140, 15) + [140] * 20, start=t0)
    # The file restarts at pts 0 while the person still stands there.
    results = run(engine, [140] * 60, start=0.0)
    assert all(r.state is Occupancy.OCCUPIED for r in results)


def test_reset_forgets_and_relearns(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine()
    settled_empty(engine)
    engine.reset()
    assert engine.state is Occupancy.UNKNOWN
    # The block comes in wide enough to be motion in its first frame: a
    # forgotten reference means the walk, not a stale "still person", decides.
    results = run(engine, [None] * 5 + walk(-BLOCK_W + 25, 140, 10), start=20.0)
    assert engine.state is Occupancy.OCCUPIED
    assert transitions(results)[0][2] == "motion"


def test_setters_clamp() -> None:
    engine = OccupancyEngine(EngineConfig(delay=0.1, sensitivity=42, use_opencv=False))
    assert engine.config.delay == 0.5
    assert engine.config.sensitivity == 10
    engine.set_delay(600)
    engine.set_sensitivity(-3)
    assert engine.config.delay == 60.0
    assert engine.config.sensitivity == 1


def test_use_opencv_false_never_loads_opencv_stage() -> None:
    assert not OccupancyEngine(EngineConfig(use_opencv=False)).uses_opencv
    assert OccupancyEngine(
        EngineConfig(use_opencv=None)
    ).uses_opencv  # cv2 is installed in the venv


def test_frame_size_change_relearns(make_engine: Callable[..., OccupancyEngine]) -> None:
    engine = make_engine()
    settled_empty(engine)
    big = np.kron(ROOM, np.ones((2, 2, 1), dtype=np.uint8))
    result = engine.process(Frame(big, 20.0, 0.0))
    assert result.state is Occupancy.EMPTY  # a new size is not motion


def test_components_are_8_connected() -> None:
    grid = np.zeros((6, 8), dtype=bool)
    grid[0:2, 0:2] = True
    grid[2, 2] = True  # diagonal contact with the first blob
    grid[4:6, 5:8] = True
    blobs = sorted(components(grid), key=lambda b: b.x0)
    assert [(b.x0, b.y0, b.x1, b.y1, b.cells) for b in blobs] == [(0, 0, 3, 3, 5), (5, 4, 8, 6, 6)]


def test_hands_moving_at_the_bottom_edge_are_not_someone_leaving(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    # Desk webcam after a restart: the person already sits there (touching the
    # bottom edge); only the hands move at the bottom edge, then everything is still.
    engine = make_engine()
    y = H - BLOCK_H
    results = []
    for i in range(260):
        img = scene(140, y=y)
        if 20 <= i < 35:  # typing for 1.5 s
            hx = 135 + (i % 2) * 14
            img[H - 18 :, hx : hx + 30] = (230, 190, 160)
        results.append(engine.process(Frame(img, i / FPS, 0.0)))
    assert engine.state is Occupancy.OCCUPIED
    assert all(r.state is not Occupancy.EMPTY for r in results)


def test_leaving_through_a_door_inside_the_picture(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    # The empty room is known: someone walks in, stands, then disappears
    # through a door in the middle of the picture (not through a frame edge).
    engine = make_engine()
    t0 = settled_empty(engine)
    positions: list[int | None] = walk(-BLOCK_W + 5, 140, 15) + [140] * 40
    results = run(engine, positions + [None] * 40, start=t0)
    gone_at = t0 + len(positions) / FPS
    assert all(r.state is Occupancy.OCCUPIED for r in results[5 : len(positions)])
    empty = [r for r in results if r.transition and r.state is Occupancy.EMPTY]
    assert empty, "the person left: EMPTY after the delay"
    assert gone_at + 2.0 - 1e-6 <= empty[0].t <= gone_at + 3.0
    assert empty[0].reason == "no presence for 2.0 s"


def test_a_thing_left_behind_does_not_hold_the_room_forever(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine(still_timeout=20.0)
    t0 = settled_empty(engine)
    enter = walk(-BLOCK_W + 5, 140, 15)
    # A perfectly static object (no micro-motion at all) stays where it stopped.
    results = run(engine, enter + [140] * 300, start=t0)
    empty = [r for r in results if r.transition and r.state is Occupancy.EMPTY]
    stopped = t0 + (len(enter) - 1) / FPS
    assert len(empty) == 1
    assert empty[0].reason == "no movement for 20 s"
    assert stopped + 20.0 + 2.0 - 0.2 <= empty[0].t <= stopped + 20.0 + 2.0 + 1.0
    countdown = [r.countdown for r in results if r.countdown is not None]
    assert countdown
    assert max(countdown) > 1.5  # a normal countdown precedes it


def test_a_breathing_still_person_is_held_past_the_still_timeout(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine(still_timeout=20.0)
    t0 = settled_empty(engine)
    enter = walk(-BLOCK_W + 5, 140, 15)
    results = run(engine, enter, start=t0)
    t1 = results[-1].t + 1 / FPS
    for i in range(400):
        img = scene(140)
        if (i // 15) % 2:  # shoulders rise and fall every 1.5 s (small, local change)
            img[60:70, 140:180] = np.clip(img[60:70, 140:180].astype(int) + 25, 0, 255)
        r = engine.process(Frame(img, t1 + i / FPS, 0.0))
        assert r.state is Occupancy.OCCUPIED, f"lost the person at {r.t:.1f} s"


@pytest.mark.parametrize("shape", [(4, 6, 3), (12, 700, 3), (480, 640, 4), (1080, 1920, 3)])
def test_odd_frame_shapes_are_handled(shape: tuple[int, int, int]) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False))
    rng = np.random.default_rng(3)
    for i in range(5):
        image = np.full(shape, 90, dtype=np.uint8)
        if i >= 3:
            image[: shape[0] // 2, : shape[1] // 2] = rng.integers(
                0, 255, size=(shape[0] // 2, shape[1] // 2, shape[2])
            )
        result = engine.process(Frame(image, i / FPS, 0.0))
        assert 0.0 <= result.motion_score <= 100.0
        for x, y, w, h in result.motion_boxes:
            assert 0 <= x < shape[1]
            assert 0 <= y < shape[0]
            assert x + w <= shape[1]
            assert y + h <= shape[0]


def test_a_one_off_change_in_the_empty_room_is_not_an_entry(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    # Something appears at once and then stays put (a bag falling over, a screen
    # waking, a cut in the video): the background model sees "motion" for a few
    # frames, but nobody walked in, so the music must not be resumed.
    engine = make_engine()
    t0 = settled_empty(engine)
    results = run(engine, [150] * 60, start=t0)
    assert results[0].motion_boxes, "the step is seen as motion against the background"
    assert transitions(results) == []
    assert engine.state is Occupancy.EMPTY


def test_an_entry_still_takes_only_one_more_frame(
    make_engine: Callable[..., OccupancyEngine],
) -> None:
    engine = make_engine()
    t0 = settled_empty(engine)
    results = run(engine, walk(-BLOCK_W + 5, 140, 15), start=t0)
    trs = transitions(results)
    assert [s for _, s, _ in trs] == [Occupancy.OCCUPIED]
    first_motion = next(r.t for r in results if r.motion_boxes)
    assert trs[0][0] == pytest.approx(first_motion + 1 / FPS)
