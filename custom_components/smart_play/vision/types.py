"""Shared value types of the vision engine (no Home Assistant imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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


class Frame:
    """One decoded frame: a grey view for the analysis, RGB only on demand.

    gray: HxW uint8 view of the luma plane of the decoded picture (line stride
    kept, no copy; for RGB sources the green channel, also a view). black: the
    grey level of black in ``gray`` (16 for limited-range YUV, 0 for full range
    and RGB); :func:`.motion.downscale_gray` subtracts it, so the analysis sees
    the same contrast as it would in the RGB picture.
    image: HxWx3 uint8 RGB, converted from the decoded frame on first access
    only (tracking view while watched, face recognition while it runs) and then
    kept. pts: stream time in seconds, never going back: files count from their
    first frame and keep increasing across loops; live sources use seconds since
    the source was started (steady across reconnects). wall: time.monotonic()
    when the frame was decoded.

    ``Frame(rgb, pts, wall)`` wraps an RGB array (tests, tools);
    ``Frame(None, pts, wall, gray=..., black=..., decoded=...)`` is what the
    sources make: ``decoded`` is the PyAV frame the RGB picture is made from.
    """

    __slots__ = ("_decoded", "_image", "black", "gray", "pts", "wall")

    def __init__(
        self,
        image: np.ndarray | None = None,
        pts: float = 0.0,
        wall: float = 0.0,
        *,
        gray: np.ndarray | None = None,
        black: int = 0,
        decoded: Any = None,
    ) -> None:
        """Wrap an RGB ``image``, or a grey view plus the decoded frame (see class)."""
        if gray is None:
            if image is None:
                raise ValueError("a Frame needs an RGB image or a grey view")
            gray = image[:, :, 1] if image.ndim == 3 else image
        self.gray: np.ndarray = gray
        self.black = int(black)
        self.pts = pts
        self.wall = wall
        self._image = image
        self._decoded = decoded

    @property
    def image(self) -> np.ndarray:
        """HxWx3 uint8 RGB picture (converted from the decoded frame on first use)."""
        image = self._image
        if image is None:
            decoded = self._decoded
            if decoded is not None:
                image = np.ascontiguousarray(decoded.to_ndarray(format="rgb24"))
            else:
                image = np.repeat(self.gray[:, :, None], 3, axis=2)
            self._image = image
        return image

    @property
    def has_image(self) -> bool:
        """Whether the RGB picture exists already (no conversion needed)."""
        return self._image is not None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the picture."""
        return (int(self.gray.shape[0]), int(self.gray.shape[1]))

    def __repr__(self) -> str:
        """Size and times, not pixels."""
        height, width = self.shape
        return f"Frame({width}x{height}, pts={self.pts:.3f}, wall={self.wall:.3f})"


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
