"""The frame-rate cap: which decoded frames are analysed (before any conversion).

Nothing here imports Home Assistant.
"""

from __future__ import annotations

from typing import Any

# Grid tolerance when subsampling by pts: a frame up to this share of one
# interval early still counts (timestamps jitter by a tick or two).
CAP_TOLERANCE = 0.25


class RateCap:
    """Keep frames on a time grid so that at most ``fps`` are kept per second."""

    def __init__(self, fps: float | None) -> None:
        """Cap at ``fps`` frames per second (``None`` or 0: keep every frame)."""
        self.interval = 1.0 / fps if fps and fps > 0 else 0.0
        self._due: float | None = None

    def keep(self, t: float) -> bool:
        """Return True when a frame at time ``t`` should be kept."""
        if self.interval <= 0:
            return True
        if self._due is None:
            self._due = t + self.interval
            return True
        if t < self._due - self.interval * CAP_TOLERANCE:
            if t < self._due - 2 * self.interval:  # time went backwards: re-anchor
                self._due = t + self.interval
                return True
            return False
        self._due += self.interval
        if self._due <= t:  # fell behind (gap in the stream): restart the grid
            self._due = t + self.interval
        return True


def frame_time(frame: Any, index: int, rate: float) -> float:
    """Return a frame's presentation time in seconds (index-based if missing)."""
    t = frame.time
    if t is None:
        return index / rate if rate > 0 else 0.0
    return float(t)
