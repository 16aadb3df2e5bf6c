"""Occupancy engine on scenario clips built from real frames (bench/scenarios.py).

Every scenario is real footage of tests/data with ONE controlled change (a lamp
in the empty room or across the room while someone is there, a sun patch, a monitor, a cat-sized animal, a camera bump, night mode, dimmed
lights, a person close to the camera or leaving behind the pillar). They are
written as H.264 clips with labels, decoded and scored exactly like the shared
clips and the held-back ones (bench/evaluate.py), numpy path, default delay 2 s.

Targets (issue 11): never EMPTY while someone is present; EMPTY <= delay + 1 s
after a leave (delay + 2 s at 1 fps); OCCUPIED <= 0.5 s after an entry; never
OCCUPIED in an empty room because of lighting, a zoned monitor, a pet or a bump.

Scenarios the engine does not handle yet are marked ``xfail(strict=True)``
in PENDING: the engine change that fixes one must remove it from PENDING in the
same landing (an unexpected pass fails the suite).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from bench import scenarios
from bench.evaluate import ClipReport, evaluate_clip, target_misses
from custom_components.smart_play.vision.engine import EngineConfig
from custom_components.smart_play.vision.types import Occupancy

DATA = Path(__file__).resolve().parent.parent / "data"
DELAY = 2.0
EMPTY_ROOM = [
    "lamp-on-off-empty",
    "sun-patch-drift-empty",
    "monitor-playing-zoned",
    "pet-crossing-empty",
    "camera-bump-empty",
    "ir-switch-empty",
]
WITH_PERSON = [
    "leave-through-middle",
    "large-person-leaving",
    "lights-down-then-leave",
    "camera-bump-occupied",
    "ir-switch-person-then-leave",
    "lamp-on-while-present-then-leave",
]
READER = "still-reader-30min"
READER_FPS = 2.0  # the 30-min reader is written at 2 fps here (full rate: bench/evaluate.py)
FROZEN = "frozen-person-then-leave"
FROZEN_FPS = 5.0
# What the engine on main does not meet yet (measured; see the issue-11 notes).
PENDING: dict[str, str] = {}
_CACHE: dict[tuple[str, float | None], ClipReport] = {}


def pending(key: str) -> list[pytest.MarkDecorator]:
    reason = PENDING.get(key)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def cases(names: list[str], suffix: str = "") -> list[object]:
    return [pytest.param(n, id=n, marks=pending(n + suffix)) for n in names]


@pytest.fixture(scope="session")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All scenarios but the 30-min ones at native rate, the reader at 2 fps."""
    folder = tmp_path_factory.mktemp("scenarios")
    for name in [*EMPTY_ROOM, *WITH_PERSON]:
        scenarios.write(scenarios.build(name), folder)
    scenarios.write(scenarios.build(READER), folder, fps=READER_FPS)
    scenarios.write(scenarios.build(FROZEN), folder, fps=FROZEN_FPS)
    return folder


def report(folder: Path, name: str, rate: float | None = None) -> ClipReport:
    key = (name, rate)
    if key not in _CACHE:
        clip = DATA / f"{name}.mp4" if (DATA / f"{name}.mp4").exists() else folder / f"{name}.mp4"
        _CACHE[key] = evaluate_clip(clip, EngineConfig(delay=DELAY, use_opencv=False), fps_cap=rate)
    return _CACHE[key]


@pytest.mark.parametrize("name", cases(EMPTY_ROOM))
def test_empty_room_changes_never_make_it_occupied(scenario_dir: Path, name: str) -> None:
    rep = report(scenario_dir, name)
    # The engine has settled to EMPTY before the change (start-up quiet time) ...
    assert [tr.state for tr in rep.transitions][:1] == [Occupancy.EMPTY]
    # ... and the lamp / sun / zoned monitor / cat / bump / night mode never resumes the music.
    assert rep.false_occupied == 0.0, rep.transitions
    assert [tr.state for tr in rep.transitions] == [Occupancy.EMPTY]


@pytest.mark.parametrize("name", cases(EMPTY_ROOM, "@1"))
def test_empty_room_changes_at_one_frame_per_second(scenario_dir: Path, name: str) -> None:
    # At 1 frame/s the lamp / sun / zoned monitor / cat / bump / night mode must not resume either.
    rep = report(scenario_dir, name, 1.0)
    assert rep.false_occupied == 0.0, rep.transitions
    assert [tr.state for tr in rep.transitions] == [Occupancy.EMPTY]


@pytest.mark.parametrize("name", cases(WITH_PERSON))
def test_person_scenarios_meet_every_target(scenario_dir: Path, name: str) -> None:
    rep = report(scenario_dir, name)
    assert len(rep.entry_delays) == 1
    assert len(rep.leave_delays) == 1
    assert target_misses(rep) == [], rep.transitions
    # One OCCUPIED when she comes, one EMPTY when she has gone: no pause under her nose.
    assert [tr.state for tr in rep.transitions][-2:] == [Occupancy.OCCUPIED, Occupancy.EMPTY]


@pytest.mark.parametrize("name", cases(["one-by-one-person-detection", *WITH_PERSON], "@1"))
def test_leaves_are_noticed_at_one_frame_per_second(scenario_dir: Path, name: str) -> None:
    # A Raspberry Pi may analyse only 1 frame/s: leaving must still pause within delay + 2 s.
    rep = report(scenario_dir, name, 1.0)
    assert rep.leave_delays
    assert target_misses(rep) == [], rep.transitions


def test_thirty_minutes_of_reading_are_never_empty(scenario_dir: Path) -> None:
    rep = report(scenario_dir, READER)
    labels = json.loads((scenario_dir / f"{READER}.json").read_text())
    ((enter, leave),) = labels["present"]
    assert leave - enter > 30 * 60
    assert rep.false_empty == 0.0, rep.transitions
    assert rep.entry_delays[0] is not None
    assert rep.entry_delays[0] <= 0.5 + 1 / READER_FPS
    # When she finally walks out, the music pauses in time.
    assert rep.leave_delays[0] is not None
    assert rep.leave_delays[0] <= DELAY + 1.0 + 1 / READER_FPS
    # ... and the empty room after her is not taken for her.
    assert rep.false_occupied == 0.0, rep.transitions


def test_the_still_timeout_does_not_cascade(scenario_dir: Path) -> None:
    # She stands without any movement for 320 s (one real frame + sensor noise), then walks out.
    rep = report(scenario_dir, FROZEN)
    states = [(tr.state, tr.reason) for tr in rep.transitions]
    assert [s for s, _r in states] == [
        Occupancy.OCCUPIED,  # she walks in
        Occupancy.EMPTY,  # the documented still timeout: 5 min without the slightest movement
        Occupancy.OCCUPIED,  # she moves again
        Occupancy.EMPTY,  # and her leaving still pauses: the timeout taught the engine nothing wrong
    ], states
    # Never sooner than 300 s after she last moved (she walked until 9 s at least).
    assert rep.transitions[1].t >= scenarios.ENTER[1] + 300.0
    assert rep.leave_delays[0] is not None
    assert rep.leave_delays[0] <= DELAY + 1.0 + 1 / FROZEN_FPS


# --------------------------------------------------------------------------- the builder


def test_scenarios_are_deterministic_real_footage() -> None:
    def digest(name: str) -> str:
        h = hashlib.sha256()
        for _t, image in scenarios.build(name).frames(5.0):
            h.update(image.tobytes())
        return h.hexdigest()

    # Seeded noise: the same scenario twice gives the same frames.
    assert digest("lights-down-then-leave") == digest("lights-down-then-leave")
    # Frames before the change are the real clip's frames, untouched.
    real = scenarios.footage(scenarios.OBO)
    lamp = dict(scenarios.build("lamp-on-off-empty").frames())
    shown = lamp[5.0]
    assert any(np.array_equal(shown, real[i]) for i in range(60))


def test_labels_have_the_shared_clip_format(scenario_dir: Path) -> None:
    shared = json.loads((DATA / "one-by-one-person-detection.json").read_text())
    for path in sorted(scenario_dir.glob("*.json")):
        labels = json.loads(path.read_text())
        assert {
            "clip",
            "fps",
            "frames",
            "duration_s",
            "width",
            "height",
            "present",
            "still",
        } <= set(labels)
        assert set(shared) - {"repo_copy"} <= set(labels)
        assert labels["clip"] == path.with_suffix(".mp4").name
        assert report(scenario_dir, path.stem).frames == labels["frames"]
        for a, b in labels["present"]:
            assert 0.0 <= a < b <= labels["duration_s"]


def test_the_changes_are_the_size_they_claim() -> None:
    h, w = scenarios.footage(scenarios.OBO).shape[1:3]
    fps = scenarios.clip_fps(scenarios.OBO)
    # The close person covers at least 13 % of the picture while standing.
    large = dict(scenarios.build("large-person-leaving").frames())
    empty = scenarios.background()
    diff = np.abs(large[30.0].astype(np.float32) - empty).max(axis=2) > 30
    assert diff.mean() >= 0.13
    # The cat is cat-sized: well under 1.5 % of the picture.
    pet = dict(scenarios.build("pet-crossing-empty").frames())
    diff = np.abs(pet[19.0].astype(np.float32) - empty).max(axis=2) > 30
    assert 0.003 <= diff.mean() <= 0.015
    # The lamp brightens about 1/8 of the picture by ~80 %.
    lamp = dict(scenarios.build("lamp-on-off-empty").frames())
    gain = lamp[20.0].astype(np.float32).mean(axis=2) / np.maximum(
        1.0, lamp[5.0].astype(np.float32).mean(axis=2)
    )
    lit = gain > 1.1  # (less where the white wall clips at 255)
    assert 0.09 <= lit.mean() <= 0.2
    assert round(3 / fps, 1) == 0.3  # ramp: 3 frames at the native 10 fps
    # The reader stands for 30 min on real frames of the still stretch only.
    reader = scenarios.build(READER)
    indices = {reader.source_index(t) for t in np.arange(10.0, 1800.0, 7.3)}
    assert indices <= set(
        range(round(scenarios.STILL[0] * fps), round(scenarios.STILL[1] * fps) + 1)
    )
    assert (h, w) == (180, 320)
