"""Opening containers with PyAV: options per kind of source, decoder setup, error mapping.

Nothing here imports Home Assistant.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import av.error

from .types import SourceError
from .urls import desktop_camera, device_path, display_of, kind_of, scrub


def _usec(seconds: float) -> str:
    """Return ``seconds`` as an FFmpeg microsecond option string."""
    return str(max(1, int(seconds * 1_000_000)))


def open_container(target: str | int, *, open_timeout: float, read_timeout: float) -> Any:
    """Open ``target`` with PyAV, options chosen per kind of source.

    PyAV's ``timeout=(open, read)`` installs FFmpeg's interrupt callback so no
    call can block for longer than that. On top of it the protocol socket
    timeouts are set; since FFmpeg 5 (PyAV >= 13.1 bundles FFmpeg >= 7) the
    RTSP socket timeout is ``timeout`` in microseconds (``stimeout`` is gone) and
    HTTP's is ``timeout`` / ``rw_timeout`` in microseconds too.
    """
    timeouts = (open_timeout, read_timeout)
    kind = kind_of(target)
    if (desktop := desktop_camera(target)) is not None:
        input_format, device = desktop
        # AVFoundation refuses FFmpeg's default 29.97 fps on most webcams.
        camera_options = {"framerate": "30"} if input_format == "avfoundation" else {}
        return av.open(device, format=input_format, options=camera_options, timeout=timeouts)
    if kind == "device":
        return av.open(device_path(target), format="v4l2", timeout=timeouts)
    if kind == "file":
        return av.open(target, timeout=timeouts)
    assert isinstance(target, str)
    scheme = target.split(":", 1)[0].lower()
    options: dict[str, str] = {}
    if scheme in ("rtsp", "rtsps"):
        options = {
            "rtsp_transport": "tcp",
            "timeout": _usec(read_timeout),
            "allowed_media_types": "video",
            # The SDP already describes the stream; probing 5 s (the default)
            # only delays the first frame (2.2 s vs 0.4 s on a 10 fps camera).
            "analyzeduration": "500000",
        }
    else:
        options = {
            "timeout": _usec(read_timeout),
            "rw_timeout": _usec(read_timeout),
            "reconnect": "0",
        }
    return av.open(target, options=options, timeout=timeouts)


def setup_decoder(stream: Any, *, live: bool) -> None:
    """Choose the decoder's threading for a video stream (before the first packet).

    Files (offline evaluation, CLI) use FFmpeg's automatic frame + slice
    threading: throughput is all that counts there.

    Live streams decode in the reader thread itself (one decoder thread).
    Measured on this project's H.264 clips (bench/vision_bench.py): extra
    decoder threads never lowered the CPU per frame (slice threads +0-10 %,
    frame threads +15-20 % at 640x360 .. 1920x1080), and frame threads delay
    every frame by one frame interval per thread. One thread decodes a
    1080p frame in ~4 ms, a tenth of the 40 ms between frames of a 25 fps
    camera, so threads would not lower the latency either; with several
    cameras on a small machine the cores are better used by the other streams.
    """
    if not live:
        stream.thread_type = "AUTO"
        return
    stream.codec_context.thread_count = 1


def stream_rate(stream: Any) -> float:
    """Return the nominal frame rate of a video stream (0 when unknown)."""
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    if isinstance(rate, Fraction | int | float) and rate:
        return float(rate)
    return 0.0


def reason_of(
    err: BaseException, target: str | int, *, shown: str | None = None, hide_path: bool = False
) -> tuple[str, str]:
    """Map an exception from opening/reading to (SourceError code, safe message)."""
    if shown is None:
        shown = display_of(target, hide_path=hide_path)
    if isinstance(err, SourceError):
        return err.code, scrub(str(err), str(target), hide_path=hide_path)
    if isinstance(err, av.error.ExitError | TimeoutError):
        return "timeout", f"No answer from {shown} (timed out)"
    if isinstance(err, av.error.InvalidDataError):
        return "no_frames", f"{shown} is not a video the decoder understands"
    if isinstance(err, av.error.HTTPError | av.error.HTTPClientError):
        return "cannot_open", f"{shown} answered with an HTTP error ({_strerror(err)})"
    if isinstance(err, OSError):
        return "cannot_open", f"Cannot open {shown}: {_strerror(err)}"
    text = scrub(str(err), str(target), hide_path=hide_path)
    return "cannot_open", f"Cannot open {shown}: {type(err).__name__}: {text}"


def _strerror(err: BaseException) -> str:
    """Return the OS/FFmpeg error text without the file name (which may hold secrets)."""
    strerror = getattr(err, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    return type(err).__name__
