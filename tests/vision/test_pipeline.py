"""VisionPipeline: transitions, camera loss → UNKNOWN, stats, watched-only rendering."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import json
from pathlib import Path
import queue
import threading
import time

import numpy as np
import pytest

from custom_components.smart_play.vision import pipeline as pipeline_mod
from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.pipeline import PipelineStats, VisionPipeline
from custom_components.smart_play.vision.source import FrameSource
from custom_components.smart_play.vision.types import (
    Frame,
    FrameResult,
    Occupancy,
    SourceState,
    SourceStatus,
    Transition,
)
from tests.servers.clips import trim_clip

DATA = Path(__file__).parent.parent / "data"
PERSON_CLIP = DATA / "one-by-one-person-detection.mp4"

pytestmark = pytest.mark.timeout(60)


class FakeSource:
    """Duck-typed FrameSource whose frames and states the test controls."""

    display = "fake://camera"

    def __init__(self) -> None:
        self.state = SourceState(SourceStatus.CONNECTING, None, time.monotonic())
        self.frames: queue.Queue[Frame] = queue.Queue()
        self.started = False
        self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self, timeout: float = 1.0) -> None:
        self.stopped = True
        self.state = SourceState(SourceStatus.STOPPED, None, time.monotonic())

    def get(self, timeout: float) -> Frame | None:
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            return None

    def set(self, status: SourceStatus, reason: str | None = None) -> None:
        self.state = SourceState(status, reason, time.monotonic())

    def push(self, pts: float) -> None:
        image = np.zeros((36, 64, 3), dtype=np.uint8)
        self.frames.put(Frame(image=image, pts=pts, wall=time.monotonic()))


@dataclass
class FakeEngine:
    """Duck-typed engine: OCCUPIED from ``occupied_at`` pts, EMPTY from ``empty_at``."""

    occupied_at: float = 0.3
    empty_at: float | None = None
    cost: float = 0.0
    state: Occupancy = Occupancy.UNKNOWN
    unknown_calls: list[tuple[float, str]] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    config: EngineConfig = field(default_factory=EngineConfig)

    def _to(self, t: float, state: Occupancy, reason: str) -> Transition | None:
        if state is self.state:
            return None
        self.state = state
        return Transition(t=t, state=state, reason=reason, wall=time.monotonic())

    def process(self, frame: Frame) -> FrameResult:
        self.threads.add(threading.current_thread().name)
        if self.cost:
            time.sleep(self.cost)
        transition = None
        if self.empty_at is not None and frame.pts >= self.empty_at:
            transition = self._to(frame.pts, Occupancy.EMPTY, "no one")
        elif frame.pts >= self.occupied_at:
            transition = self._to(frame.pts, Occupancy.OCCUPIED, "motion")
        return FrameResult(
            t=frame.pts,
            state=self.state,
            presence=self.state is Occupancy.OCCUPIED,
            motion_score=12.5,
            transition=transition,
        )

    def set_unknown(self, t: float, reason: str) -> Transition | None:
        self.unknown_calls.append((t, reason))
        return self._to(t, Occupancy.UNKNOWN, reason)


@dataclass
class Recorder:
    """Collects the pipeline callbacks and the threads they ran on."""

    transitions: list[Transition] = field(default_factory=list)
    states: list[SourceState] = field(default_factory=list)
    stats: list[PipelineStats] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def transition(self, value: Transition) -> None:
        self.threads.add(threading.current_thread().name)
        self.transitions.append(value)

    def state(self, value: SourceState) -> None:
        self.threads.add(threading.current_thread().name)
        self.states.append(value)

    def stat(self, value: PipelineStats) -> None:
        self.threads.add(threading.current_thread().name)
        self.stats.append(value)


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll ``predicate`` until true or ``timeout`` elapsed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def make(
    engine: FakeEngine | OccupancyEngine,
    source: FakeSource | FrameSource,
    rec: Recorder,
    **kwargs,  # type: ignore[no-untyped-def]
) -> VisionPipeline:
    return VisionPipeline(
        source,  # type: ignore[arg-type]
        engine,
        on_transition=rec.transition,
        on_source_state=rec.state,
        on_stats=rec.stat,
        **kwargs,
    )


def test_transitions_are_forwarded_from_the_pipeline_thread() -> None:
    src, engine, rec = FakeSource(), FakeEngine(occupied_at=0.3, empty_at=0.8), Recorder()
    pipe = make(engine, src, rec)
    pipe.start()
    try:
        assert src.started
        src.set(SourceStatus.STREAMING)
        for i in range(10):
            src.push(i / 10)
        assert wait_for(lambda: len(rec.transitions) == 2, 2.0)
    finally:
        pipe.stop()
    assert [(t.state, t.t) for t in rec.transitions] == [
        (Occupancy.OCCUPIED, 0.3),
        (Occupancy.EMPTY, 0.8),
    ]
    assert all(name.startswith("smart_play pipeline") for name in rec.threads)
    assert engine.threads == {next(iter(rec.threads))}
    assert list(pipe.stats.last_transitions) == rec.transitions
    assert pipe.stats.state is Occupancy.EMPTY


def test_camera_loss_is_unknown_never_empty() -> None:
    src, engine, rec = FakeSource(), FakeEngine(occupied_at=0.0), Recorder()
    pipe = make(engine, src, rec)
    pipe.start()
    try:
        src.set(SourceStatus.STREAMING)
        for i in range(5):
            src.push(10.0 + i / 10)
        assert wait_for(lambda: engine.state is Occupancy.OCCUPIED, 2.0)
        time.sleep(0.3)
        src.set(SourceStatus.FAILED, "Connection refused")
        assert wait_for(lambda: engine.state is Occupancy.UNKNOWN, 1.0)
        assert wait_for(lambda: len(rec.transitions) == 2, 1.0)
        src.set(SourceStatus.CONNECTING)
        src.set(SourceStatus.STREAMING)
        assert wait_for(lambda: rec.states[-1].status is SourceStatus.STREAMING, 1.0)
    finally:
        pipe.stop()
    lost = rec.transitions[-1]
    assert lost.state is Occupancy.UNKNOWN
    assert "Connection refused" in lost.reason
    assert Occupancy.EMPTY not in [t.state for t in rec.transitions]
    # The stream time of the loss continues from the last frame (10.4 + ~0.3 s).
    t, reason = engine.unknown_calls[-1]
    assert 10.5 <= t <= 11.5
    assert "failed" in reason
    # States are polled (latest wins), so the brief CONNECTING may be skipped.
    statuses = [s.status for s in rec.states if s.status is not SourceStatus.CONNECTING]
    assert statuses == [SourceStatus.STREAMING, SourceStatus.FAILED, SourceStatus.STREAMING]


def test_stats_are_reported_about_every_interval() -> None:
    src, engine, rec = FakeSource(), FakeEngine(cost=0.004), Recorder()
    pipe = make(engine, src, rec, stats_interval=0.2)
    pipe.start()
    try:
        src.set(SourceStatus.STREAMING)
        started = time.monotonic()
        i = 0
        while time.monotonic() - started < 1.25:
            src.push(i / 20)
            i += 1
            time.sleep(0.05)  # 20 fps
    finally:
        pipe.stop()
    assert 4 <= len(rec.stats) <= 8
    last = rec.stats[-1]
    assert last.fps == pytest.approx(20, rel=0.3)
    assert 3.5 <= last.frame_cost_ms <= 20
    assert last.motion_score == 12.5
    assert last.frames >= 20
    assert last.source_state.status is SourceStatus.STREAMING
    assert last.state is Occupancy.OCCUPIED
    # Snapshots are independent of later updates.
    assert rec.stats[0].frames < last.frames


def test_a_stopped_or_failed_camera_is_reported_in_the_figures_at_once() -> None:
    """Long before the next stats interval, the figures say the camera stopped/failed."""
    src, engine, rec = FakeSource(), FakeEngine(), Recorder()
    pipe = make(engine, src, rec, stats_interval=30.0)
    pipe.start()
    try:
        src.set(SourceStatus.STREAMING)
        src.push(0.5)
        assert wait_for(lambda: pipe.stats.frames == 1, 2.0)
        assert rec.stats == []  # the first interval has not passed
        src.set(SourceStatus.FAILED, "connection refused")
        assert wait_for(lambda: len(rec.stats) == 1, 2.0)
        assert rec.stats[0].source_state.status is SourceStatus.FAILED
        assert rec.stats[0].state is Occupancy.UNKNOWN
        assert rec.stats[0].frames == 1
        src.set(SourceStatus.STREAMING)
        src.set(SourceStatus.STOPPED, "end of file")
        assert wait_for(lambda: len(rec.stats) == 2, 2.0)
        assert rec.stats[1].source_state.status is SourceStatus.STOPPED
    finally:
        pipe.stop()


def test_rendering_only_while_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_mod, "WATCH_SECONDS", 0.5)
    calls: list[float] = []

    def renderer(image: np.ndarray, result: FrameResult | None, delay: float) -> bytes:
        calls.append(result.t if result else -1.0)
        return b"\xff\xd8jpeg %d" % len(calls)

    src, engine, rec = FakeSource(), FakeEngine(), Recorder()
    pipe = make(engine, src, rec, renderer=renderer)
    pipe.start()
    stop_feeding = threading.Event()

    def feed() -> None:
        i = 0
        while not stop_feeding.is_set():
            src.push(i / 20)
            i += 1
            time.sleep(0.05)

    feeder = threading.Thread(target=feed)
    src.set(SourceStatus.STREAMING)
    feeder.start()
    try:
        time.sleep(0.5)
        assert calls == []  # nobody watching: no annotation, no encoding
        assert pipe.latest_jpeg() is None  # first request switches rendering on
        assert wait_for(lambda: pipe.latest_jpeg() is not None, 0.5)
        jpeg = pipe.latest_jpeg()
        assert jpeg is not None
        assert jpeg.startswith(b"\xff\xd8")
        watched_calls = len(calls)
        time.sleep(1.0)  # watch expires after 0.5 s (the polls above renewed it)
        settled = len(calls)
        time.sleep(0.5)
        assert len(calls) == settled  # stopped rendering
        assert settled > watched_calls  # but it kept rendering new frames while watched
    finally:
        stop_feeding.set()
        feeder.join()
        pipe.stop()


def test_callback_errors_do_not_stop_analysis() -> None:
    src, engine = FakeSource(), FakeEngine(occupied_at=0.0)

    def broken(_value: object) -> None:
        raise RuntimeError("callback failed")

    pipe = VisionPipeline(
        src,  # type: ignore[arg-type]
        engine,
        on_transition=broken,
        on_source_state=broken,
        on_stats=broken,
        stats_interval=0.1,
    )
    pipe.start()
    try:
        src.set(SourceStatus.STREAMING)
        for i in range(5):
            src.push(i / 10)
        assert wait_for(lambda: pipe.stats.frames == 5, 2.0)
    finally:
        pipe.stop()


def test_stop_joins_within_a_second_and_stops_the_source() -> None:
    baseline = threading.active_count()
    src, engine, rec = FakeSource(), FakeEngine(), Recorder()
    pipe = make(engine, src, rec)
    pipe.start()
    src.set(SourceStatus.STREAMING)
    src.push(0.0)
    assert wait_for(lambda: pipe.stats.frames == 1, 2.0)
    started = time.monotonic()
    pipe.stop(timeout=1.0)
    assert time.monotonic() - started < 1.0
    assert src.stopped
    assert threading.active_count() == baseline


@pytest.fixture(scope="module")
def person_clip_12s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PERSON_CLIP.exists():
        pytest.skip(f"test clip {PERSON_CLIP} is missing")
    return trim_clip(PERSON_CLIP, tmp_path_factory.mktemp("clips") / "person12.mp4", seconds=12.0)


def test_real_engine_on_a_real_clip(person_clip_12s: Path) -> None:
    """File → FrameSource → OccupancyEngine → render: the person is seen, the view renders,
    and the end of the file makes the state UNKNOWN (not EMPTY)."""
    labels = json.loads(PERSON_CLIP.with_suffix(".json").read_text())
    first_entry = labels["present"][0][0]
    rec = Recorder()
    source = FrameSource(str(person_clip_12s), fps_cap=10.0, realtime=False)
    engine = OccupancyEngine(EngineConfig(delay=2.0))
    pipe = make(engine, source, rec, stats_interval=0.2)
    baseline = threading.active_count()
    pipe.start()
    try:
        assert pipe.latest_jpeg() is None  # start watching
        assert wait_for(lambda: source.state.status is SourceStatus.STOPPED, 20.0)
        assert wait_for(lambda: engine.state is Occupancy.UNKNOWN, 1.0)
        jpeg = pipe.latest_jpeg()
    finally:
        pipe.stop()
    assert wait_for(lambda: threading.active_count() == baseline, 0.5)
    states = [t.state for t in rec.transitions]
    assert Occupancy.OCCUPIED in states
    occupied = next(t for t in rec.transitions if t.state is Occupancy.OCCUPIED)
    assert abs(occupied.t - first_entry) <= 1.5
    assert states[-1] is Occupancy.UNKNOWN
    assert "end of file" in rec.transitions[-1].reason
    assert jpeg is not None
    assert jpeg.startswith(b"\xff\xd8")
    assert rec.stats
    assert pipe.stats.frames == 120  # offline mode: every frame of 12 s at 10 fps analysed
