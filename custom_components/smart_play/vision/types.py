"""Shared value types of the vision engine (no Home Assistant imports)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .compat import StrEnum


class Occupancy(StrEnum):
    """Occupancy state of the watched room."""

    OCCUPIED = "occupied"
    EMPTY = "empty"
    UNKNOWN = "unknown"


class SourceStatus(StrEnum):
    """Connection state of a frame source."""

    CONNECTING = "connecting"
    STREAMING = "streaming"
    FAILED = "failed"
    STOPPED = "stopped"
    OFFLINE = "offline"  # a desk agent stopped reporting (Home Assistant side only)


@dataclass(frozen=True, slots=True)
class SourceState:
    """State of a frame source; ``reason`` is set for FAILED (never holds secrets)."""

    status: SourceStatus
    reason: str | None = None
    since: float = 0.0  # time.monotonic() when the status was entered


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    image: HxWx3 uint8 RGB. pts: stream time in seconds, never going back: files
    count from their first frame and keep increasing across loops; live sources
    use seconds since the source was started (steady across reconnects).
    wall: time.monotonic() when the frame was decoded.
    """

    image: np.ndarray
    pts: float
    wall: float


Box = tuple[int, int, int, int]  # x, y, w, h in full-frame pixel coordinates


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of occupancy state. ``t`` is stream time, ``wall`` monotonic time."""

    t: float
    state: Occupancy
    reason: str
    wall: float = 0.0


@dataclass(slots=True)
class FrameResult:
    """What the engine concluded from one frame."""

    t: float
    state: Occupancy
    presence: bool  # any presence evidence in this frame
    motion_score: float  # 0..100, share of the (downscaled) frame in motion, in %
    motion_boxes: list[Box] = field(default_factory=list)
    person_box: Box | None = None  # where the person is believed to be (held while still)
    countdown: float | None = None  # seconds left until EMPTY, while counting down
    transition: Transition | None = None  # set when this frame changed the state
    reason: str = ""


class SourceError(Exception):
    """A source could not be opened or read. ``code`` is one of CODES."""

    CODES = ("invalid_url", "cannot_open", "no_frames", "timeout")

    def __init__(self, code: str, message: str) -> None:
        """Create the error; ``message`` must not contain credentials."""
        super().__init__(message)
        self.code = code
