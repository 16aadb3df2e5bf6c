"""Engine: exclusion zones, minimum person size, rate independence, errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine, clean_zones
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy

from .test_engine import BLOCK_W, FPS, H, W, scene, settled_empty, walk

TV = (0.6, 0.1, 0.3, 0.4)  # x, y, w, h shares: a monitor in the top right


def tv_frame(i: int, person: int | None = None) -> np.ndarray:
    """The room with a 'TV' in the TV zone showing a new picture every frame."""
    img = scene(person)
    x0, y0 = int(TV[0] * W), int(TV[1] * H)
    x1, y1 = int((TV[0] + TV[2]) * W), int((TV[1] + TV[3]) * H)
    rng = np.random.default_rng(100 + i)
    coarse = rng.integers(20, 240, size=((y1 - y0) // 8 + 1, (x1 - x0) // 8 + 1, 3)).astype(
        np.uint8
    )
    img[y0:y1, x0:x1] = np.kron(coarse, np.ones((8, 8, 1), dtype=np.uint8))[: y1 - y0, : x1 - x0]
    return img


def feed(
    engine: OccupancyEngine, images: list[np.ndarray], start: float, fps: float = FPS
) -> list[FrameResult]:
    return [engine.process(Frame(img, start + i / fps, 0.0)) for i, img in enumerate(images)]


def test_clean_zones_clips_and_drops_bad_entries() -> None:
    zones = clean_zones(
        [(0.5, 0.5, 0.8, 0.2), (0.1, 0.1, 0, 0.3), "0123", (1, 2), (-0.2, 0.0, 0.5, 1.5)]
    )
    assert zones == (pytest.approx((0.5, 0.5, 0.5, 0.2)), pytest.approx((0.0, 0.0, 0.3, 1.0)))
    assert clean_zones(None) == ()


def test_a_tv_playing_in_an_exclusion_zone_does_not_make_the_room_occupied() -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0, exclude_zones=(TV,)))
    t0 = settled_empty(engine)
    results = feed(engine, [tv_frame(i) for i in range(100)], t0)
    assert all(r.state is Occupancy.EMPTY for r in results)
    # The zone hides only the TV: someone walking in elsewhere is still seen at once.
    t1 = results[-1].t + 1 / FPS
    walk_in = [tv_frame(100 + i, x) for i, x in enumerate(walk(-BLOCK_W + 5, 100, 12))]
    results = feed(engine, walk_in, t1)
    occupied = [r.t for r in results if r.state is Occupancy.OCCUPIED]
    assert occupied
    assert occupied[0] <= t1 + 0.5


def test_without_the_zone_the_tv_is_motion_and_zones_apply_live() -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    t0 = settled_empty(engine)
    results = feed(engine, [tv_frame(i) for i in range(20)], t0)
    assert results[-1].state is Occupancy.OCCUPIED  # what the zone is for
    engine.set_exclude_zones([TV])
    results = feed(engine, [tv_frame(20 + i) for i in range(60)], results[-1].t + 1 / FPS)
    assert results[-1].state is Occupancy.EMPTY
    assert engine.config.exclude_zones == (TV,)


def test_a_cat_crossing_the_floor_is_not_an_arrival() -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    t0 = settled_empty(engine)
    images = []
    for x in walk(-30, W + 5, 40):  # 30x16 px (9 % of the height) dark blob along the floor
        img = scene(None)
        x0, x1 = max(0, x), min(W, x + 30)
        if x1 > x0:
            img[150:166, x0:x1] = (40, 35, 30)
        images.append(img)
    results = feed(engine, images, t0)
    assert any(r.motion_boxes for r in results), "the cat is seen moving"
    assert all(r.state is Occupancy.EMPTY for r in results)


@pytest.mark.parametrize("fps", [1.0, 2.0, 3.0, 5.0, 15.0])
def test_leaving_is_found_at_low_and_high_rates(fps: float) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    t0 = settled_empty(engine)
    n_in, n_still, n_out = max(3, round(1.5 * fps)), round(10 * fps), max(3, round(1.2 * fps))
    positions = walk(-BLOCK_W + 5, 140, n_in) + [140] * n_still + walk(140, W + 5, n_out)
    images = [scene(x) for x in positions] + [scene(None)] * round(6 * fps)
    results = feed(engine, images, t0, fps)
    gone = t0 + (len(positions) - 1) / fps  # last frame with the person in view
    entry = next(r.t for r in results if r.state is Occupancy.OCCUPIED)
    assert entry <= t0 + 0.5 + 1 / fps
    assert all(r.state is Occupancy.OCCUPIED for r in results if entry <= r.t <= gone)
    empty = next(r.t for r in results if r.t > gone and r.state is Occupancy.EMPTY)
    assert empty <= gone + 2.0 + 1.0 + 1 / fps


def test_an_error_inside_the_engine_is_logged_once_and_analysis_goes_on(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = OccupancyEngine(EngineConfig(use_opencv=False, startup_quiet=3.0))
    t0 = settled_empty(engine)
    results = feed(engine, [scene(x) for x in walk(-BLOCK_W + 5, 140, 15)], t0)
    assert results[-1].state is Occupancy.OCCUPIED
    original = engine._still_person
    calls = {"n": 0}

    def broken(*args: object) -> object:
        calls["n"] += 1
        if calls["n"] <= 3:
            raise ValueError("boom")
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_still_person", broken)
    with caplog.at_level(logging.DEBUG):
        t1 = results[-1].t + 1 / FPS
        after = feed(engine, [scene(140)] * 20, t1)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "resetting" in errors[0].getMessage()
    assert calls["n"] > 3  # the engine kept analysing
    # The person is not dropped by the error: still OCCUPIED, never EMPTY.
    assert all(r.state is Occupancy.OCCUPIED for r in after)
    # After the reset the engine works again: the person walks out, EMPTY follows.
    t2 = after[-1].t + 1 / FPS
    out = feed(engine, [scene(x) for x in walk(140, W + 5, 12)] + [scene(None)] * 150, t2)
    assert out[-1].state is Occupancy.EMPTY
