"""Engine: a still person is a person who was seen; no cascade from an uncertain EMPTY."""

from __future__ import annotations

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.types import Occupancy

from .test_engine import BLOCK_W, FPS, run, walk


def test_leaving_through_the_middle_right_after_start_up() -> None:
    # The room was quiet since start-up (never EMPTY yet): someone walks in,
    # stands, then vanishes behind something in the middle of the picture.
    engine = OccupancyEngine(EngineConfig(use_opencv=False))
    quiet = [None] * 50  # 5 s of the empty room, still UNKNOWN (start-up wait 10 s)
    present = walk(-BLOCK_W + 5, 140, 15) + [140] * 60
    results = run(engine, quiet + present + [None] * 50)
    gone = (len(quiet) + len(present)) / FPS
    assert all(
        r.state is Occupancy.OCCUPIED for r in results[len(quiet) + 3 : len(quiet) + len(present)]
    )
    empty = [r.t for r in results if r.t >= gone and r.state is Occupancy.EMPTY]
    assert empty, "the person left in the middle of the picture: EMPTY"
    assert empty[0] <= gone + 2.0 + 1.0


def test_a_still_timeout_does_not_teach_the_person_to_the_empty_room() -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0, still_timeout=15.0))
    t0 = run(engine, [None] * 40)[-1].t + 1 / FPS
    assert engine.state is Occupancy.EMPTY
    enter = walk(-BLOCK_W + 5, 140, 15)
    frozen = [140] * 200  # perfectly still for 20 s: the still timeout empties the room
    results = run(engine, enter + frozen, start=t0)
    assert results[-1].state is Occupancy.EMPTY
    emptied = [r.transition for r in results if r.transition and r.state is Occupancy.EMPTY]
    assert [tr.reason for tr in emptied] == ["no movement for 15 s"]
    # It was a person after all: they walk to the middle and vanish there.
    t1 = results[-1].t + 1 / FPS
    moves = walk(140, 200, 8) + [200] * 20
    results = run(engine, moves + [None] * 50, start=t1)
    assert any(r.state is Occupancy.OCCUPIED for r in results[: len(moves)])
    gone = t1 + len(moves) / FPS
    empty = [r.t for r in results if r.t >= gone and r.state is Occupancy.EMPTY]
    assert empty, "the place they stood was not learned as empty room: they can leave"
    assert empty[0] <= gone + 2.0 + 1.0


def test_a_thing_left_at_the_still_timeout_does_not_occupy_the_room_when_the_camera_returns() -> (
    None
):
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0, still_timeout=15.0))
    t0 = run(engine, [None] * 40)[-1].t + 1 / FPS
    # Something carried in and left standing there: never moves again, the still timeout empties.
    results = run(engine, walk(-BLOCK_W + 5, 140, 15) + [140] * 200, start=t0)
    assert results[-1].state is Occupancy.EMPTY
    t1 = results[-1].t + 1 / FPS
    engine.set_unknown(t1, "camera lost")
    # The camera comes back 5 s later: the thing is still there, nobody is.
    results = run(engine, [140] * 100, start=t1 + 5.0)
    assert Occupancy.EMPTY in [r.state for r in results]
    assert all(r.state is not Occupancy.OCCUPIED for r in results), "no resume into an empty room"
    # If it was a person after all, moving brings them back.
    t2 = results[-1].t + 1 / FPS
    results = run(engine, walk(140, 200, 8) + [200] * 20, start=t2)
    assert any(r.state is Occupancy.OCCUPIED for r in results)
