"""Small private PyAV file decoder for the CLI, the evaluation and the tests.

Prefer :func:`vision.source.iter_file_frames` (owned by the source module)
when it exists; :func:`iter_frames` falls back to this implementation.
"""

from __future__ import annotations

from collections.abc import Iterator
import time

import av

from .types import Frame


def decode_file(path: str, fps_cap: float | None = None) -> Iterator[Frame]:
    """Decode every frame of a video file as RGB, keeping at most ``fps_cap`` per second.

    ``pts`` is the stream time in seconds from the first frame.
    """
    min_step = 1.0 / fps_cap if fps_cap else 0.0
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.time_base
        first: float | None = None
        last_kept: float | None = None
        for index, vframe in enumerate(container.decode(stream)):
            if vframe.pts is not None and base is not None:
                pts = float(vframe.pts * base)
            else:
                rate = float(stream.average_rate or 25)
                pts = index / rate
            if first is None:
                first = pts
            t = pts - first
            if last_kept is not None and min_step and t - last_kept < min_step - 1e-6:
                continue
            last_kept = t
            yield Frame(vframe.to_ndarray(format="rgb24"), t, time.monotonic())


def iter_frames(path: str, fps_cap: float | None = None) -> Iterator[Frame]:
    """Frames of a file: ``source.iter_file_frames`` when available, else :func:`decode_file`."""
    try:
        from .source import iter_file_frames
    except ImportError:
        return decode_file(path, fps_cap)
    return iter_file_frames(path, fps_cap)
