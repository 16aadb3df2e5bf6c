"""Extra per-frame analyses next to the occupancy engine (no Home Assistant).

:class:`AnalyzingEngine` wraps an :class:`~.engine.OccupancyEngine` for the
:class:`~.pipeline.VisionPipeline`: the pipeline calls ``process(frame)`` as
usual, the wrapper runs the engine and then every analyzer with
``(frame, result)`` in the same (analysis) thread. Analyzers are the optional
features (gestures, face recognition); each decides itself whether it is
switched on, so a feature that is off costs one attribute check per frame.

:func:`overlay_renderer` draws what the analyzers want to show on the tracking
view on top of :func:`.render.annotate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import logging
from typing import Any, Protocol

import numpy as np

from .types import Frame, FrameResult, Occupancy, Transition

_LOGGER = logging.getLogger(__name__)

Analyzer = Callable[[Frame, FrameResult], None]


class Overlay(Protocol):
    """Something that draws on the annotated tracking view."""

    def draw(self, image: np.ndarray, result: FrameResult | None) -> None:
        """Draw in place on ``image`` (an annotated RGB copy)."""


class AnalyzingEngine:
    """The occupancy engine plus analyzers called after each ``process``."""

    def __init__(self, engine: Any, analyzers: Sequence[Analyzer] = ()) -> None:
        """Wrap ``engine``; ``analyzers`` run in order after it on every frame."""
        self.engine = engine
        self.analyzers: list[Analyzer] = list(analyzers)
        self._failed: set[int] = set()

    @property
    def state(self) -> Occupancy:
        """Current occupancy state of the wrapped engine."""
        state: Occupancy = self.engine.state
        return state

    @property
    def config(self) -> Any:
        """The wrapped engine's config (the pipeline reads the delay from it)."""
        return self.engine.config

    def set_unknown(self, t: float, reason: str) -> Transition | None:
        """Forward a camera loss to the engine."""
        transition: Transition | None = self.engine.set_unknown(t, reason)
        return transition

    def process(self, frame: Frame) -> FrameResult:
        """Run the engine, then the analyzers; an analyzer error never stops the engine."""
        result: FrameResult = self.engine.process(frame)
        for index, analyzer in enumerate(self.analyzers):
            try:
                analyzer(frame, result)
            except Exception:
                if index not in self._failed:  # log the first failure of each analyzer
                    self._failed.add(index)
                    _LOGGER.exception("Frame analyzer %r failed", analyzer)
        return result

    def __getattr__(self, name: str) -> Any:
        """Anything else is the engine's (set_delay, set_sensitivity, reset, ...)."""
        return getattr(self.engine, name)


def overlay_renderer(
    overlays: Sequence[Overlay],
) -> Callable[[np.ndarray, FrameResult | None, float], bytes]:
    """Return a pipeline renderer: ``render.annotate`` + ``overlays`` + JPEG."""

    def _render(image: np.ndarray, result: FrameResult | None, delay: float) -> bytes:
        from . import render  # imported on first render, like the pipeline

        if result is None:
            return render.encode_jpeg(image)
        annotated = render.annotate(image, result, delay=delay)
        for overlay in overlays:
            overlay.draw(annotated, result)
        return render.encode_jpeg(annotated)

    return _render
