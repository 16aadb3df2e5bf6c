"""Decoded PyAV frames to :class:`~.types.Frame`, and fast decoding of whole files.

Nothing here imports Home Assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
import logging
import os
import time
from typing import Any

import av
import av.error
import numpy as np

from .container import reason_of, setup_decoder, stream_rate
from .ratecap import RateCap, frame_time
from .types import Frame, SourceError

_LOGGER = logging.getLogger(__name__)


def to_rgb(frame: Any) -> np.ndarray:
    """Convert a decoded video frame to a contiguous HxWx3 uint8 RGB array."""
    image = frame.to_ndarray(format="rgb24")
    return np.ascontiguousarray(image)


def make_frame(decoded: Any, pts: float, wall: float) -> Frame:
    """Return the pipeline's :class:`Frame` of one decoded PyAV frame."""
    return Frame(to_rgb(decoded), pts, wall)


def iter_file_frames(path: str | os.PathLike[str], fps_cap: float | None = 10.0) -> Iterator[Frame]:
    """Decode a video file as fast as possible, yielding frames.

    ``pts`` is seconds from the first frame; frames are subsampled on a pts grid
    so that at most ``fps_cap`` per second of video are yielded (``None`` or
    ``0``: every frame). Frames that are dropped are never converted.
    Raises :class:`SourceError` (``cannot_open`` / ``no_frames``).
    """
    target = os.fspath(path)
    try:
        container = av.open(target)
    except Exception as err:
        code, message = reason_of(err, target)
        raise SourceError(code, message) from err
    with container:
        if not container.streams.video:
            raise SourceError("no_frames", f"{target} has no video stream")
        stream = container.streams.video[0]
        setup_decoder(stream, live=False)
        rate = stream_rate(stream)
        cap = RateCap(fps_cap)
        first: float | None = None
        index = 0
        try:
            for decoded in container.decode(stream):
                t = frame_time(decoded, index, rate)
                index += 1
                if first is None:
                    first = t
                pts = t - first
                if not cap.keep(pts):
                    continue
                yield make_frame(decoded, pts, time.monotonic())
        except av.error.InvalidDataError as err:
            if index == 0:
                raise SourceError(
                    "no_frames", f"{target} is not a video the decoder understands"
                ) from err
            _LOGGER.debug("Corrupt data at the end of %s: %s", target, err)
        if index == 0:
            raise SourceError("no_frames", f"No frame could be decoded from {target}")
