"""Analysis thread: frames from a :class:`FrameSource` through the occupancy engine.

One thread per pipeline takes the newest frame from the source, runs
``engine.process(frame)`` and reports, from that thread:

* ``on_transition(transition)`` whenever the occupancy state changes; when the
  source leaves STREAMING the engine is set UNKNOWN (a lost camera is never read
  as "empty") and that transition is reported as well;
* ``on_source_state(state)`` whenever the source state changes;
* ``on_stats(stats)`` about once per ``stats_interval`` seconds.

Annotated JPEGs (``render.annotate`` + ``render.encode_jpeg``) are produced in
the pipeline thread only while someone asked for :meth:`VisionPipeline.latest_jpeg`
in the last :data:`WATCH_SECONDS` seconds, so an unwatched pipeline spends
nothing on drawing or encoding. Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
import logging
import threading
import time
from typing import Any, Protocol

import numpy as np

from .source import FrameSource
from .types import Frame, FrameResult, Occupancy, SourceState, SourceStatus, Transition

_LOGGER = logging.getLogger(__name__)

WATCH_SECONDS = 10.0  # annotate/encode while latest_jpeg() was called this recently
FPS_WINDOW = 5.0  # seconds of history for the analysed-fps and frame-cost figures
_POLL = 0.1  # longest wait for a frame; bounds how late a source state is seen


class Engine(Protocol):
    """What the pipeline needs from :class:`vision.engine.OccupancyEngine`."""

    @property
    def state(self) -> Occupancy:
        """Current occupancy state."""

    def process(self, frame: Frame) -> FrameResult:
        """Analyse one frame."""

    def set_unknown(self, t: float, reason: str) -> Transition | None:
        """Mark the camera as lost."""


@dataclass(slots=True)
class PipelineStats:
    """Figures about a running pipeline (a snapshot; safe to keep)."""

    state: Occupancy = Occupancy.UNKNOWN
    motion_score: float = 0.0  # of the last analysed frame, 0..100 %
    fps: float = 0.0  # frames analysed per second over the last FPS_WINDOW s
    source_state: SourceState = field(
        default_factory=lambda: SourceState(SourceStatus.STOPPED, None, time.monotonic())
    )
    last_transitions: deque[Transition] = field(default_factory=lambda: deque(maxlen=20))
    frame_cost_ms: float = 0.0  # mean engine.process() time over the last FPS_WINDOW s
    frames: int = 0  # frames analysed since start
    presence: bool = False  # presence evidence in the last analysed frame

    def snapshot(self) -> PipelineStats:
        """Return a copy that later updates do not change."""
        return replace(self, last_transitions=deque(self.last_transitions, maxlen=20))


def reports_figures_at_once(state: SourceState) -> bool:
    """Return True when the figures are reported at once for this source ``state``.

    What a user notices: when the camera stops (end of a file) or fails, the figures
    (frames analysed, fps, camera status) say so right away instead of up to one
    ``stats_interval`` later, and a file analysed faster than one interval still
    reports its figures once.
    """
    return state.status in (SourceStatus.STOPPED, SourceStatus.FAILED)


def _default_renderer(image: np.ndarray, result: FrameResult | None, delay: float) -> bytes:
    """Annotate and encode with ``vision.render`` (imported on first use)."""
    from . import render

    annotated = image if result is None else render.annotate(image, result, delay=delay)
    return render.encode_jpeg(annotated)


class VisionPipeline:
    """Runs ``engine`` on the frames of ``source`` in a background thread."""

    def __init__(
        self,
        source: FrameSource,
        engine: Engine,
        *,
        on_transition: Callable[[Transition], None],
        on_source_state: Callable[[SourceState], None],
        on_stats: Callable[[PipelineStats], None] | None = None,
        stats_interval: float = 1.0,
        renderer: Callable[[np.ndarray, FrameResult | None, float], bytes] | None = None,
    ) -> None:
        """Wire the pipeline (nothing runs before :meth:`start`).

        ``renderer(image, result, delay) -> jpeg`` defaults to ``vision.render``.
        """
        self.source = source
        self.engine = engine
        self._on_transition = on_transition
        self._on_source_state = on_source_state
        self._on_stats = on_stats
        self.stats_interval = stats_interval
        self._renderer = renderer or _default_renderer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stats = PipelineStats()
        self._history: deque[tuple[float, float]] = deque()  # (wall, cost seconds)
        self._watch_until = 0.0
        self._jpeg: bytes | None = None
        self._last_frame: Frame | None = None
        self._last_result: FrameResult | None = None
        self._frame_version = 0
        self._rendered_version = -1
        self._render_failed = False

    # ------------------------------------------------------------------ API
    @property
    def stats(self) -> PipelineStats:
        """A snapshot of the current figures."""
        with self._lock:
            return self._stats.snapshot()

    def start(self) -> None:
        """Start the source and the analysis thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.source.start()
        self._thread = threading.Thread(
            target=self._run, name=f"smart_play pipeline {self.source.display}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the analysis thread and the source; returns within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self.source.stop(timeout=max(0.05, timeout * 0.6))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(max(0.0, deadline - time.monotonic()))
            if not thread.is_alive():
                self._thread = None

    def latest_jpeg(self) -> bytes | None:
        """Return the newest annotated JPEG (None until one is rendered).

        Non-blocking (safe on an event loop). Each call keeps rendering switched
        on for :data:`WATCH_SECONDS`; the first call only switches it on, the
        pipeline thread renders the current frame within about 0.1 s.
        """
        with self._lock:
            now = time.monotonic()
            if self._watch_until < now:
                # Not watched until now: what we have may be old; render afresh.
                self._rendered_version = -1
            self._watch_until = now + WATCH_SECONDS
            return self._jpeg if self._rendered_version >= 0 else None

    @property
    def watched(self) -> bool:
        """True while someone asked for frames in the last WATCH_SECONDS."""
        return time.monotonic() < self._watch_until

    # --------------------------------------------------------------- thread
    def _run(self) -> None:
        """Analysis loop (pipeline thread)."""
        last_state: SourceState | None = None
        next_stats = time.monotonic() + self.stats_interval
        try:
            while not self._stop.is_set():
                frame = self.source.get(_POLL)
                if self._stop.is_set():
                    break
                state = self.source.state
                # Frames decoded before the source stopped are analysed before
                # the stop is reported: the end of a file leaves UNKNOWN, not
                # the verdict on its last frame.
                if state != last_state and (
                    frame is None or state.status is SourceStatus.STREAMING
                ):
                    last_state = state
                    self._handle_source_state(state)
                if frame is not None:
                    self._analyse(frame)
                if self.watched and self._rendered_version != self._frame_version:
                    self._render()
                now = time.monotonic()
                if now >= next_stats:
                    next_stats = now + self.stats_interval
                    self._emit_stats(now)
        except Exception:
            _LOGGER.exception("Vision pipeline for %s crashed", self.source.display)
            self._handle_source_state(
                SourceState(SourceStatus.FAILED, "analysis error", time.monotonic())
            )

    def _call(self, callback: Callable[[Any], None] | None, value: Any) -> None:
        """Invoke a user callback, logging (not propagating) its errors."""
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            _LOGGER.exception("Error in a vision pipeline callback")

    def _stream_time(self) -> float:
        """Best estimate of the current stream time (for set_unknown)."""
        frame = self._last_frame
        if frame is None:
            return 0.0
        return frame.pts + max(0.0, time.monotonic() - frame.wall)

    def _handle_source_state(self, state: SourceState) -> None:
        """Report a new source state; losing the stream makes occupancy UNKNOWN."""
        with self._lock:
            self._stats.source_state = state
        self._call(self._on_source_state, state)
        if state.status is SourceStatus.STREAMING:
            return
        reason = f"camera {state.status.value}"
        if state.reason:
            reason = f"{reason}: {state.reason}"
        transition = self.engine.set_unknown(self._stream_time(), reason)
        if transition is not None:
            transition = replace(transition, wall=transition.wall or time.monotonic())
            self._record_transition(transition)
        with self._lock:
            self._stats.state = self.engine.state
        if reports_figures_at_once(state):
            self._emit_stats(time.monotonic())

    def _record_transition(self, transition: Transition) -> None:
        with self._lock:
            self._stats.last_transitions.append(transition)
            self._stats.state = transition.state
        self._call(self._on_transition, transition)

    def _analyse(self, frame: Frame) -> None:
        """Run the engine on one frame and update the figures."""
        started = time.perf_counter()
        result = self.engine.process(frame)
        cost = time.perf_counter() - started
        now = time.monotonic()
        self._history.append((now, cost))
        while self._history and self._history[0][0] < now - FPS_WINDOW:
            self._history.popleft()
        with self._lock:
            self._last_frame = frame
            self._last_result = result
            self._frame_version += 1
            stats = self._stats
            stats.frames += 1
            stats.motion_score = float(result.motion_score)
            stats.presence = bool(result.presence)
            stats.state = result.state
        if result.transition is not None:
            transition = result.transition
            if not transition.wall:
                transition = replace(transition, wall=frame.wall)
            self._record_transition(transition)

    def _measured(self, now: float) -> tuple[float, float]:
        """Return (analysed fps, mean cost ms) over the recent window."""
        history = self._history
        while history and history[0][0] < now - FPS_WINDOW:
            history.popleft()
        if not history:
            return 0.0, 0.0
        cost_ms = 1000.0 * sum(c for _w, c in history) / len(history)
        span = now - history[0][0]
        if len(history) < 2 or span <= 0:
            return float(len(history)) / FPS_WINDOW, cost_ms
        return (len(history) - 1) / span, cost_ms

    def _emit_stats(self, now: float) -> None:
        fps, cost_ms = self._measured(now)
        with self._lock:
            self._stats.fps = fps
            self._stats.frame_cost_ms = cost_ms
            self._stats.source_state = self.source.state
            snapshot = self._stats.snapshot()
        self._call(self._on_stats, snapshot)

    def _render(self) -> None:
        """Annotate + encode the newest frame (only called while watched)."""
        with self._lock:
            frame, result, version = self._last_frame, self._last_result, self._frame_version
        if frame is None:
            return
        delay = float(getattr(getattr(self.engine, "config", None), "delay", 0.0) or 0.0)
        try:
            jpeg = self._renderer(frame.image, result, delay)
        except Exception:
            if not self._render_failed:
                _LOGGER.exception("Could not render the tracking view")
                self._render_failed = True
            return
        with self._lock:
            self._jpeg = jpeg
            self._rendered_version = version
