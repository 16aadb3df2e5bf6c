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


# Formats whose first plane is the 8-bit luma plane (planar and semi-planar YUV, grey).
_PLANAR_LUMA = frozenset(
    {
        "yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
        "yuv440p", "yuvj440p", "yuv411p", "yuvj411p", "yuv410p", "yuva420p",
        "yuva422p", "yuva444p", "nv12", "nv21", "nv16", "nv24", "nv42", "gray",
    }
)  # fmt: skip
# Packed formats: (bytes per pixel, byte offset of the channel to analyse).
# YUV 4:2:2: Y of every pixel; RGB: the green channel (as the RGB path used).
_PACKED = {
    "yuyv422": (2, 0),
    "yvyu422": (2, 0),
    "uyvy422": (2, 1),
    "rgb24": (3, 1),
    "bgr24": (3, 1),
    "rgba": (4, 1),
    "bgra": (4, 1),
    "rgb0": (4, 1),
    "bgr0": (4, 1),
    "argb": (4, 2),
    "abgr": (4, 2),
    "0rgb": (4, 2),
    "0bgr": (4, 2),
}
_RGB_FORMATS = frozenset(
    {"rgb24", "bgr24", "rgba", "bgra", "rgb0", "bgr0", "argb", "abgr", "0rgb", "0bgr"}
)
_RANGE_MPEG = 1  # AVCOL_RANGE_MPEG: limited ("TV") range
_RANGE_JPEG = 2  # AVCOL_RANGE_JPEG: full ("PC") range


def to_rgb(frame: Any) -> np.ndarray:
    """Convert a decoded video frame to a contiguous HxWx3 uint8 RGB array."""
    image = frame.to_ndarray(format="rgb24")
    return np.ascontiguousarray(image)


def _plane_view(plane: Any, height: int, row_bytes: int) -> np.ndarray:
    """Return the first ``row_bytes`` of each of ``height`` lines of a plane (a view)."""
    stride = int(plane.line_size)
    buffer = np.frombuffer(plane, dtype=np.uint8)
    if buffer.size < stride * height:  # last line not padded to the stride
        buffer = np.pad(buffer, (0, stride * height - buffer.size))
    return buffer[: stride * height].reshape(height, stride)[:, :row_bytes]


def black_level(format_name: str, color_range: int) -> int:
    """Grey level of black in the first plane, as the RGB conversion reads it.

    FFmpeg's RGB conversion takes YUV as limited range (black 16) unless the
    format is a JPEG one (``yuvj*``) or the frame says full range; grey frames
    count as full range unless they say limited. RGB has black at 0.
    """
    if format_name in _RGB_FORMATS:
        return 0
    if format_name == "gray":
        return 16 if color_range == _RANGE_MPEG else 0
    if format_name.startswith("yuvj") or color_range == _RANGE_JPEG:
        return 0
    return 16


def luma_of(decoded: Any) -> tuple[np.ndarray, int]:
    """Return (grey HxW uint8 view, black level) of a decoded PyAV frame.

    The luma plane as it lies in the decoder's buffer (or the green channel of
    an RGB frame): no copy. A format without an 8-bit luma plane (10-bit
    video, paletted, ...) is converted to grey once.
    """
    name = decoded.format.name
    height, width = int(decoded.height), int(decoded.width)
    color_range = int(getattr(decoded, "color_range", 0) or 0)
    if name in _PLANAR_LUMA:
        return _plane_view(decoded.planes[0], height, width), black_level(name, color_range)
    packed = _PACKED.get(name)
    if packed is not None:
        step, offset = packed
        row = _plane_view(decoded.planes[0], height, width * step)
        return row[:, offset::step], black_level(name, color_range)
    # Unusual format: one conversion to full-range grey (FFmpeg maps the range).
    grey = decoded.reformat(format="gray")
    return _plane_view(grey.planes[0], height, width), 0


def make_frame(decoded: Any, pts: float, wall: float) -> Frame:
    """Return the pipeline's :class:`Frame` of one decoded PyAV frame.

    It carries the grey view for the analysis and the decoded frame, from
    which the RGB picture is made only if someone asks for it.
    """
    gray, black = luma_of(decoded)
    return Frame(None, pts, wall, gray=gray, black=black, decoded=decoded)


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
