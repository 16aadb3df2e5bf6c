"""``probe_source``: the blocking "open and read one frame" check of config flows.

Nothing here imports Home Assistant.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from .container import open_container, reason_of
from .netcheck import preflight
from .types import SourceError
from .urls import device_path, display_of, kind_of, parse_source


def probe_source(
    source: str | int, timeout: float = 10.0, *, hide_path: bool = False
) -> tuple[int, int]:
    """Open ``source``, decode one frame and return its ``(width, height)``.

    Blocking (call it in an executor). Raises :class:`SourceError` with code
    ``invalid_url``, ``cannot_open``, ``no_frames`` or ``timeout``. With
    ``hide_path`` (a camera entity's stream URL) messages show no path or query.
    """
    target = parse_source(source)
    deadline = time.monotonic() + timeout
    kind = kind_of(target)
    shown = display_of(target, hide_path=hide_path)
    if kind == "device":
        path = device_path(target)
        if not os.path.exists(path):
            raise SourceError("cannot_open", f"No such video device: {path}")
    elif kind == "file" and not os.path.exists(str(target)):
        raise SourceError("cannot_open", f"No such file: {target}")
    elif kind == "network":
        preflight(str(target), deadline, None, shown=shown)
    left = max(0.5, deadline - time.monotonic())
    try:
        container = open_container(target, open_timeout=left, read_timeout=left)
    except Exception as err:  # noqa: BLE001 - mapped to SourceError
        code, message = reason_of(err, target, shown=shown, hide_path=hide_path)
        raise SourceError(code, message) from None
    try:
        return _first_frame_size(container, shown, deadline, timeout)
    except SourceError:
        raise
    except Exception as err:  # noqa: BLE001 - mapped to SourceError
        code, message = reason_of(err, target, shown=shown, hide_path=hide_path)
        if code == "cannot_open":
            code = "no_frames"
        raise SourceError(code, message) from None
    finally:
        with contextlib.suppress(Exception):
            container.close()


def _first_frame_size(
    container: Any, shown: str, deadline: float, timeout: float
) -> tuple[int, int]:
    """Decode the first video frame of an open container and return its size."""
    if not container.streams.video:
        raise SourceError("no_frames", f"{shown} has no video stream")
    stream = container.streams.video[0]
    for packet in container.demux(stream):
        for frame in packet.decode():
            return int(frame.width), int(frame.height)
        if time.monotonic() > deadline:
            raise SourceError("timeout", f"No frame from {shown} in {timeout:g} s")
    raise SourceError("no_frames", f"No frame could be decoded from {shown}")
