"""Frame sources: files, V4L2 devices, RTSP and HTTP(S) streams via PyAV.

Nothing here imports Home Assistant. The public pieces are:

* :func:`iter_file_frames` - decode a file as fast as possible (CLI / evaluation).
* :func:`redact_url` / :func:`parse_source` - validate and log-safe source strings.
* :func:`probe_source` - blocking "open and read one frame" check for config flows.
* :class:`FrameSource` - one reader thread per source that always hands out the
  newest frame, caps the frame rate, detects stalls and reconnects with backoff.

Timestamps (``Frame.pts``):

* files: stream time in seconds from the first frame; when a file loops the pts
  keeps increasing (each loop adds the clip length), so consumers see one
  continuous timeline;
* live sources (devices, RTSP, HTTP): seconds of ``time.monotonic()`` since
  :meth:`FrameSource.start`. Camera clocks are unreliable (missing pts in MJPEG,
  90 kHz wrap-around, resets on reconnect); wall time is what the occupancy
  timers need and it stays monotonic across reconnects.

Credentials embedded in URLs never reach logs, state reasons or exception
messages: everything that is shown goes through :func:`redact_url` or
:func:`_scrub`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import errno
from fractions import Fraction
import logging
import os
import re
import select
import socket
import threading
import time
from typing import Any
from urllib.parse import SplitResult, urlsplit

import av
import av.error
import numpy as np

from .types import Frame, SourceError, SourceState, SourceStatus

_LOGGER = logging.getLogger(__name__)

MAX_SOURCE_LENGTH = 2048
NETWORK_SCHEMES = frozenset({"rtsp", "rtsps", "http", "https"})
_DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_SECRET_QUERY_RE = re.compile(
    r"(?i)([?&;](?:password|passwd|pwd|pass|token|access_token|auth|key|apikey|"
    r"api_key|secret|sig|signature)=)[^&;#]*"
)
# Grid tolerance when subsampling by pts: a frame up to this share of one
# interval early still counts (timestamps jitter by a tick or two).
_CAP_TOLERANCE = 0.25


# --------------------------------------------------------------------------
# Source strings
# --------------------------------------------------------------------------


def _split_userinfo(url: str) -> tuple[str, str, str] | None:
    """Return (prefix, userinfo, rest) for ``scheme://userinfo@rest`` or None.

    Passwords may contain ``/``, ``:`` or even an unencoded ``@``; the userinfo is
    taken up to the last ``@`` before any query or fragment so that none of the
    secret leaks into the host part.
    """
    match = _SCHEME_RE.match(url)
    if match is None:
        return None
    prefix = match.group(0)
    rest = url[len(prefix) :]
    end = len(rest)
    for sep in ("?", "#"):
        pos = rest.find(sep)
        if pos != -1:
            end = min(end, pos)
    at = rest.rfind("@", 0, end)
    if at == -1:
        return None
    userinfo = rest[:at]
    # "host/path@x" (an @ in the path, no credentials) is not userinfo unless it
    # looks like "user:password".
    if "/" in userinfo and ":" not in userinfo.split("/", 1)[0]:
        return None
    return prefix, userinfo, rest[at + 1 :]


def redact_url(url: object) -> str:
    """Return ``url`` with its password (and secret query values) replaced by ``***``.

    ``rtsp://user:secret@host/x`` becomes ``rtsp://user:***@host/x``; a bare
    userinfo without password (often a token) becomes ``***``. Non-URLs are
    returned unchanged.
    """
    if not isinstance(url, str):
        return str(url)
    parts = _split_userinfo(url)
    if parts is not None:
        prefix, userinfo, rest = parts
        user, sep, _password = userinfo.partition(":")
        safe = f"{user}:***" if sep else "***"
        url = f"{prefix}{safe}@{rest}"
    if _SCHEME_RE.match(url):
        url = _SECRET_QUERY_RE.sub(r"\1***", url)
    return url


def _secrets_of(url: str) -> list[str]:
    """Return the secret substrings of ``url`` (password, userinfo, query secrets)."""
    secrets: list[str] = []
    parts = _split_userinfo(url)
    if parts is not None:
        userinfo = parts[1]
        secrets.append(userinfo)
        _user, sep, password = userinfo.partition(":")
        if sep and password:
            secrets.append(password)
    secrets.extend(m.group(0).split("=", 1)[1] for m in _SECRET_QUERY_RE.finditer(url))
    return [s for s in secrets if len(s) >= 1]


def _scrub(text: str, url: str) -> str:
    """Remove every trace of ``url``'s credentials from ``text``."""
    redacted = redact_url(url)
    text = text.replace(url, redacted)
    for secret in sorted(_secrets_of(url), key=len, reverse=True):
        # Only scrub reasonably specific strings; a 1-char password would turn
        # the whole message into stars.
        if len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


def parse_source(text: str | int) -> str | int:
    """Validate a user-entered source and return what :class:`FrameSource` opens.

    ``"0"`` (or ``0``) -> ``0`` (``/dev/video0``), ``"/dev/video0"``, an existing
    or absolute file path, or an ``rtsp(s)://`` / ``http(s)://`` URL with a host.
    Raises :class:`SourceError` with code ``invalid_url`` for anything else.
    """
    if isinstance(text, bool):
        raise SourceError("invalid_url", "Not a camera source")
    if isinstance(text, int):
        if 0 <= text < 64:
            return text
        raise SourceError("invalid_url", f"Device index out of range: {text}")
    if not isinstance(text, str):
        raise SourceError("invalid_url", "Not a camera source")
    value = text.strip()
    if not value:
        raise SourceError("invalid_url", "The source is empty")
    if len(value) > MAX_SOURCE_LENGTH:
        raise SourceError("invalid_url", f"The source is too long (over {MAX_SOURCE_LENGTH} chars)")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise SourceError("invalid_url", "The source contains control characters")
    if value.isdigit():
        index = int(value)
        if index < 64:
            return index
        raise SourceError("invalid_url", f"Device index out of range: {index}")
    match = _SCHEME_RE.match(value)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme == "file":
            path = value[len("file://") :]
            if path.startswith("/"):
                return path
            raise SourceError("invalid_url", "file:// URLs need an absolute path")
        if scheme not in NETWORK_SCHEMES:
            raise SourceError(
                "invalid_url",
                f"Unsupported URL scheme '{scheme}' (use rtsp, rtsps, http or https)",
            )
        try:
            parsed = urlsplit(value)
            host = parsed.hostname
            _port = parsed.port  # raises ValueError for a bad port
        except ValueError as err:
            raise SourceError("invalid_url", f"Malformed URL {redact_url(value)}") from err
        if not host or any(ch.isspace() for ch in value):
            raise SourceError("invalid_url", f"Malformed URL {redact_url(value)}")
        return value
    if "://" in value or value.startswith(("rtsp:", "http:", "https:")):
        raise SourceError("invalid_url", "Malformed URL")
    if value.startswith("/") or os.path.exists(value):
        return value
    raise SourceError(
        "invalid_url",
        "Not a device, file path or rtsp/http URL",
    )


def _display(target: str | int) -> str:
    """Return a log-safe description of a parsed source."""
    if isinstance(target, int):
        return f"/dev/video{target}"
    return redact_url(target)


def _kind_of(target: str | int) -> str:
    """Return ``device``, ``network`` or ``file`` for a parsed source."""
    if isinstance(target, int) or target.startswith("/dev/"):
        return "device"  # /dev/videoN, /dev/v4l/by-id/... (V4L2)
    if _SCHEME_RE.match(target):
        return "network"
    return "file"


# --------------------------------------------------------------------------
# Opening containers
# --------------------------------------------------------------------------


def _usec(seconds: float) -> str:
    """Return ``seconds`` as an FFmpeg microsecond option string."""
    return str(max(1, int(seconds * 1_000_000)))


def _open_container(target: str | int, *, open_timeout: float, read_timeout: float) -> Any:
    """Open ``target`` with PyAV, options chosen per kind of source.

    PyAV's ``timeout=(open, read)`` installs FFmpeg's interrupt callback so no
    call can block for longer than that. On top of it the protocol socket
    timeouts are set; since FFmpeg 5 (PyAV >= 13.1 bundles FFmpeg >= 7) the
    RTSP socket timeout is ``timeout`` in microseconds (``stimeout`` is gone) and
    HTTP's is ``timeout`` / ``rw_timeout`` in microseconds too.
    """
    timeouts = (open_timeout, read_timeout)
    kind = _kind_of(target)
    if kind == "device":
        path = f"/dev/video{target}" if isinstance(target, int) else target
        return av.open(path, format="v4l2", timeout=timeouts)
    if kind == "file":
        return av.open(target, timeout=timeouts)
    scheme = str(target).split(":", 1)[0].lower()
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


def _preflight(target: str, deadline: float, stop: threading.Event | None) -> None:
    """Check that a network source's host accepts a TCP connection.

    Done in Python with short socket timeouts so that it can be cancelled via
    ``stop`` (FFmpeg's own connect can only be bounded, not interrupted) and so
    that "refused/unreachable" (cannot_open) is told apart from "no answer"
    (timeout). RTSP servers are also sent an OPTIONS request and must answer.
    """
    parsed: SplitResult = urlsplit(target)
    scheme = parsed.scheme.lower()
    host = parsed.hostname or ""
    port = parsed.port or _DEFAULT_PORTS.get(scheme, 80)
    shown = redact_url(target)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise SourceError("cannot_open", f"Cannot resolve host of {shown}") from err
    last_error: OSError | None = None
    for family, socktype, proto, _canon, addr in infos:
        try:
            _connect_once(
                (family, socktype, proto, addr),
                rtsp_path=parsed.path or "/",
                deadline=deadline,
                stop=stop,
                shown=shown,
            )
        except OSError as err:
            last_error = err
        else:
            return
    reason = last_error.strerror if last_error and last_error.strerror else "failed"
    raise SourceError("cannot_open", f"Cannot connect to {shown}: {reason}")


def _connect_once(
    address: tuple[int, int, int, Any],
    *,
    rtsp_path: str | None,
    deadline: float,
    stop: threading.Event | None,
    shown: str,
) -> None:
    """Connect to one resolved address; for RTSP also expect an OPTIONS answer.

    Raises OSError when refused/unreachable, SourceError(timeout) without answer.
    """
    family, socktype, proto, addr = address
    with socket.socket(family, socktype, proto) as sock:
        sock.setblocking(False)
        code = sock.connect_ex(addr)
        if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
            raise OSError(code, os.strerror(code))
        _wait_socket(sock, deadline, stop, write=True, shown=shown)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            raise OSError(code, os.strerror(code))
        if not shown.lower().startswith("rtsp://"):
            return
        host = addr[0] if family == socket.AF_INET else f"[{addr[0]}]"
        request = (
            f"OPTIONS rtsp://{host}:{addr[1]}{rtsp_path} RTSP/1.0\r\nCSeq: 1\r\n"
            "User-Agent: smart_play\r\n\r\n"
        ).encode()
        sock.sendall(request)
        _wait_socket(sock, deadline, stop, write=False, shown=shown)
        reply = sock.recv(16)
        if not reply.startswith(b"RTSP/"):
            raise SourceError("cannot_open", f"{shown} did not answer as an RTSP server")


def _wait_socket(
    sock: socket.socket,
    deadline: float,
    stop: threading.Event | None,
    *,
    write: bool,
    shown: str,
) -> None:
    """Wait until ``sock`` is ready, in 0.1 s slices that honour ``stop``."""
    while True:
        if stop is not None and stop.is_set():
            raise _Stopped
        left = deadline - time.monotonic()
        if left <= 0:
            raise SourceError("timeout", f"No answer from {shown}")
        wlist = [sock] if write else []
        rlist = [] if write else [sock]
        ready = select.select(rlist, wlist, [], min(0.1, left))
        if ready[0] or ready[1]:
            return


def _reason_of(err: BaseException, target: str | int) -> tuple[str, str]:
    """Map an exception from opening/reading to (SourceError code, safe message)."""
    shown = _display(target)
    if isinstance(err, SourceError):
        return err.code, _scrub(str(err), str(target))
    if isinstance(err, av.error.ExitError | TimeoutError):
        return "timeout", f"No answer from {shown} (timed out)"
    if isinstance(err, av.error.InvalidDataError):
        return "no_frames", f"{shown} is not a video the decoder understands"
    if isinstance(err, av.error.HTTPError | av.error.HTTPClientError):
        return "cannot_open", f"{shown} answered with an HTTP error ({_strerror(err)})"
    if isinstance(err, OSError):
        return "cannot_open", f"Cannot open {shown}: {_strerror(err)}"
    text = _scrub(str(err), str(target))
    return "cannot_open", f"Cannot open {shown}: {type(err).__name__}: {text}"


def _strerror(err: BaseException) -> str:
    """Return the OS/FFmpeg error text without the file name (which may hold secrets)."""
    strerror = getattr(err, "strerror", None)
    if isinstance(strerror, str) and strerror:
        return strerror
    return type(err).__name__


class _Stopped(Exception):
    """Internal: the source was asked to stop."""


class _StreamLost(Exception):
    """Internal: the stream broke; ``reason`` is safe to show."""

    def __init__(self, reason: str, streamed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.streamed = streamed  # frames had been flowing before the loss


# --------------------------------------------------------------------------
# Decoding helpers
# --------------------------------------------------------------------------


class _RateCap:
    """Keep frames on a time grid so that at most ``fps`` are kept per second."""

    def __init__(self, fps: float | None) -> None:
        self.interval = 1.0 / fps if fps and fps > 0 else 0.0
        self._due: float | None = None

    def keep(self, t: float) -> bool:
        """Return True when a frame at time ``t`` should be kept."""
        if self.interval <= 0:
            return True
        if self._due is None:
            self._due = t + self.interval
            return True
        if t < self._due - self.interval * _CAP_TOLERANCE:
            if t < self._due - 2 * self.interval:  # time went backwards: re-anchor
                self._due = t + self.interval
                return True
            return False
        self._due += self.interval
        if self._due <= t:  # fell behind (gap in the stream): restart the grid
            self._due = t + self.interval
        return True


def _frame_time(frame: Any, index: int, rate: float) -> float:
    """Return a frame's presentation time in seconds (index-based if missing)."""
    t = frame.time
    if t is None:
        return index / rate if rate > 0 else 0.0
    return float(t)


def _to_rgb(frame: Any) -> np.ndarray:
    """Convert a decoded video frame to a contiguous HxWx3 uint8 RGB array."""
    image = frame.to_ndarray(format="rgb24")
    return np.ascontiguousarray(image)


def _stream_rate(stream: Any) -> float:
    """Return the nominal frame rate of a video stream (0 when unknown)."""
    rate = stream.average_rate or stream.base_rate or stream.guessed_rate
    if isinstance(rate, Fraction | int | float) and rate:
        return float(rate)
    return 0.0


def iter_file_frames(path: str | os.PathLike[str], fps_cap: float | None = 10.0) -> Iterator[Frame]:
    """Decode a video file as fast as possible, yielding RGB frames.

    ``pts`` is seconds from the first frame; frames are subsampled on a pts grid
    so that at most ``fps_cap`` per second of video are yielded (``None`` or
    ``0``: every frame). Frames that are dropped are never converted to RGB.
    Raises :class:`SourceError` (``cannot_open`` / ``no_frames``).
    """
    target = os.fspath(path)
    try:
        container = av.open(target)
    except Exception as err:
        code, message = _reason_of(err, target)
        raise SourceError(code, message) from err
    with container:
        if not container.streams.video:
            raise SourceError("no_frames", f"{target} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = _stream_rate(stream)
        cap = _RateCap(fps_cap)
        first: float | None = None
        index = 0
        try:
            for frame in container.decode(stream):
                t = _frame_time(frame, index, rate)
                index += 1
                if first is None:
                    first = t
                pts = t - first
                if not cap.keep(pts):
                    continue
                yield Frame(image=_to_rgb(frame), pts=pts, wall=time.monotonic())
        except av.error.InvalidDataError as err:
            if index == 0:
                raise SourceError(
                    "no_frames", f"{target} is not a video the decoder understands"
                ) from err
            _LOGGER.debug("Corrupt data at the end of %s: %s", target, err)
        if index == 0:
            raise SourceError("no_frames", f"No frame could be decoded from {target}")


# --------------------------------------------------------------------------
# probe_source
# --------------------------------------------------------------------------


def probe_source(source: str | int, timeout: float = 10.0) -> tuple[int, int]:
    """Open ``source``, decode one frame and return its ``(width, height)``.

    Blocking (call it in an executor). Raises :class:`SourceError` with code
    ``invalid_url``, ``cannot_open``, ``no_frames`` or ``timeout``.
    """
    target = parse_source(source)
    deadline = time.monotonic() + timeout
    kind = _kind_of(target)
    shown = _display(target)
    if kind == "device":
        path = f"/dev/video{target}" if isinstance(target, int) else str(target)
        if not os.path.exists(path):
            raise SourceError("cannot_open", f"No such video device: {path}")
    elif kind == "file" and not os.path.exists(str(target)):
        raise SourceError("cannot_open", f"No such file: {target}")
    elif kind == "network":
        _preflight(str(target), deadline, None)
    left = max(0.5, deadline - time.monotonic())
    try:
        container = _open_container(target, open_timeout=left, read_timeout=left)
    except Exception as err:  # noqa: BLE001 - mapped to SourceError
        code, message = _reason_of(err, target)
        raise SourceError(code, message) from None
    try:
        return _first_frame_size(container, shown, deadline, timeout)
    except SourceError:
        raise
    except Exception as err:  # noqa: BLE001 - mapped to SourceError
        code, message = _reason_of(err, target)
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


# --------------------------------------------------------------------------
# FrameSource
# --------------------------------------------------------------------------


class FrameSource:
    """Read frames from a device, file or stream in a background thread.

    * Newest-frame semantics: :meth:`get` returns the newest frame not handed out
      yet; older frames are overwritten, never queued (live sources and files
      with ``realtime=True``).
    * ``realtime=False`` (files only): every frame up to the cap is handed out,
      the reader blocks until the consumer took the previous one (deterministic
      offline processing).
    * ``fps_cap``: frames are dropped on a time grid (pts for files, wall clock
      for live sources) *before* the expensive RGB conversion.
    * Files play at real-time pace (``realtime=True``), optionally looped; at the
      end of a non-looping file the state becomes STOPPED ("end of file").
    * Loss (read errors, EOF of a live stream, no frame for ``stall_timeout`` s)
      is reported as FAILED and retried after 1, 2, 4, ... s (at most
      ``max_backoff``); the delay resets once frames flow again.
    * ``on_state`` is called from the reader thread on every state change.
    """

    def __init__(
        self,
        source: str | int,
        *,
        fps_cap: float = 10.0,
        loop: bool = False,
        realtime: bool = True,
        stall_timeout: float = 5.0,
        max_backoff: float = 30.0,
        on_state: Callable[[SourceState], None] | None = None,
        open_timeout: float | None = None,
    ) -> None:
        """Create the source (nothing is opened before :meth:`start`).

        Raises :class:`SourceError` (``invalid_url``) for an unusable source string.
        ``open_timeout`` bounds connecting (default: ``max(stall_timeout, 10)``).
        """
        self._target = parse_source(source)
        self._kind = _kind_of(self._target)
        self.display = _display(self._target)
        self.fps_cap = fps_cap
        self.loop = loop
        self.realtime = realtime
        self.stall_timeout = stall_timeout
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout if open_timeout is not None else max(stall_timeout, 10.0)
        self._on_state = on_state
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = SourceState(SourceStatus.STOPPED, None, time.monotonic())
        self._t0 = time.monotonic()
        self._streamed = False
        self._failure_logged = False
        self._loop_offset = 0.0
        self.frames_decoded = 0
        self.frames_delivered = 0
        self.reconnects = 0

    # -- public API ---------------------------------------------------------

    @property
    def state(self) -> SourceState:
        """Current connection state."""
        return self._state

    @property
    def _read_timeout(self) -> float:
        """Longest wait for one packet.

        Half the stall timeout for network streams: when a TCP RTSP read times
        out, FFmpeg first hands out what it still had queued and only the next
        read fails, so two reads of ``stall_timeout / 2`` make one stall.
        """
        if self._kind == "network":
            return max(0.25, self.stall_timeout / 2)
        return self.stall_timeout

    @property
    def is_live(self) -> bool:
        """True for devices and network streams, False for files."""
        return self._kind != "file"

    def start(self) -> None:
        """Start the reader thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name=f"smart_play source {self.display}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop reading, release the device/container and join the thread.

        Waits at most ``timeout`` seconds. Every wait of the reader is
        interruptible except a blocking FFmpeg call on a peer that accepted the
        connection and then went silent; that call ends at its read timeout
        (``stall_timeout``) and the daemon thread then exits on its own.
        """
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                _LOGGER.debug(
                    "Reader of %s still inside FFmpeg; it exits at its timeout",
                    self.display,
                )
        if thread is None or not thread.is_alive():
            self._thread = None
        if self._state.status != SourceStatus.STOPPED:
            self._set_state(SourceStatus.STOPPED)

    def get(self, timeout: float) -> Frame | None:
        """Return the newest frame not handed out yet, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._slot is None:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set():
                    return None
                self._cond.wait(left)
            frame = self._slot
            self._slot = None
            self._cond.notify_all()
            return frame

    # -- reader thread ------------------------------------------------------

    def _set_state(self, status: SourceStatus, reason: str | None = None) -> None:
        """Record a state change and tell ``on_state`` (no-op if unchanged)."""
        current = self._state
        if current.status == status and current.reason == reason:
            return
        if self._stop.is_set() and status is not SourceStatus.STOPPED:
            return  # a late report of the reader after stop(): STOPPED stays
        state = SourceState(status, reason, time.monotonic())
        self._state = state
        if status is SourceStatus.FAILED and not self._failure_logged:
            # Once per outage; the retries every <= max_backoff s go to debug.
            self._failure_logged = True
            _LOGGER.info("Camera %s failed: %s (retrying)", self.display, reason)
        else:
            if status is SourceStatus.STREAMING:
                self._failure_logged = False
            _LOGGER.debug("Camera %s is %s (%s)", self.display, status.value, reason or "")
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                _LOGGER.exception("Error in the source state callback")

    def _run(self) -> None:
        """Reader thread: connect, stream, back off and retry until stopped."""
        first_backoff = min(1.0, self.max_backoff)
        backoff = first_backoff
        self._loop_offset = 0.0
        try:
            while not self._stop.is_set():
                self._set_state(SourceStatus.CONNECTING)
                streamed = False
                try:
                    streamed = self._session()
                except _Stopped:
                    break
                except _StreamLost as lost:
                    streamed = lost.streamed
                    reason = lost.reason
                except Exception as err:  # noqa: BLE001 - reported as FAILED
                    _code, reason = _reason_of(err, self._target)
                else:
                    if self._kind == "file" and self.loop:
                        continue
                    self._set_state(SourceStatus.STOPPED, "end of file")
                    return
                if self._stop.is_set():
                    break
                if streamed:
                    backoff = first_backoff
                self._set_state(SourceStatus.FAILED, reason)
                self.reconnects += 1
                if self._stop.wait(backoff):
                    break
                backoff = min(backoff * 2.0, self.max_backoff)
        finally:
            if self._stop.is_set():
                self._set_state(SourceStatus.STOPPED)

    def _session(self) -> bool:
        """Open the source once and publish frames until EOF or an error.

        Returns True after a normal end of a file. Raises _StreamLost (with
        ``streamed`` set when frames were flowing) or _Stopped.
        """
        if self._kind == "network":
            _preflight(str(self._target), time.monotonic() + self.open_timeout, self._stop)
        elif self._kind == "device":
            path = (
                f"/dev/video{self._target}" if isinstance(self._target, int) else str(self._target)
            )
            if not os.path.exists(path):  # unplugged: retried with backoff
                raise _StreamLost(f"No such video device: {path}")
        if self._stop.is_set():
            raise _Stopped
        container = _open_container(
            self._target,
            open_timeout=self.open_timeout,
            read_timeout=self._read_timeout,
        )
        try:
            if not container.streams.video:
                raise _StreamLost(f"{self.display} has no video stream")
            stream = container.streams.video[0]
            if self._kind == "file":
                stream.thread_type = "AUTO"
                self._play_file(container, stream)
                return True
            self._play_live(container, stream)
        finally:
            with contextlib.suppress(Exception):
                container.close()
        return False  # not reached: _play_live always raises

    def _publish(self, frame: Frame, *, block: bool) -> None:
        """Hand ``frame`` to the consumer (overwrite, or wait for a free slot)."""
        with self._cond:
            if block:
                while self._slot is not None:
                    if self._stop.is_set():
                        raise _Stopped
                    self._cond.wait(0.1)
            self._slot = frame
            self.frames_delivered += 1
            self._cond.notify_all()

    def _play_file(self, container: Any, stream: Any) -> None:
        """Publish a file's frames (paced in realtime mode) until EOF."""
        rate = _stream_rate(stream)
        cap = _RateCap(self.fps_cap)
        first: float | None = None
        last_pts = 0.0
        start_wall = time.monotonic()
        index = 0
        got_frame = False
        try:
            for frame in container.decode(stream):
                if self._stop.is_set():
                    raise _Stopped
                t = _frame_time(frame, index, rate)
                index += 1
                self.frames_decoded += 1
                if first is None:
                    first = t
                    start_wall = time.monotonic()
                rel = t - first
                last_pts = rel
                if not cap.keep(rel):
                    continue
                if self.realtime:
                    delay = start_wall + rel - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        raise _Stopped
                    if delay < -1.0:  # decoding fell behind: do not rush later
                        start_wall -= delay
                if not got_frame:
                    got_frame = True
                    self._set_state(SourceStatus.STREAMING)
                image = _to_rgb(frame)
                self._publish(
                    Frame(image, self._loop_offset + rel, time.monotonic()),
                    block=not self.realtime,
                )
        except av.error.InvalidDataError as err:
            if not got_frame:
                raise _StreamLost(f"{self.display} is not a video the decoder understands") from err
        if not got_frame:
            raise _StreamLost(f"No frame could be decoded from {self.display}")
        step = 1.0 / rate if rate > 0 else (cap.interval or 0.1)
        self._loop_offset += last_pts + step

    def _play_live(self, container: Any, stream: Any) -> None:
        """Publish a live stream's frames; always ends with _StreamLost or _Stopped."""
        cap = _RateCap(self.fps_cap)
        last_frame = time.monotonic()
        self._streamed = False
        for frames in self._decoded(container, stream):
            now = time.monotonic()
            if not frames:
                # Before the first frame allow for a long keyframe interval.
                limit = self.stall_timeout if self._streamed else self.open_timeout
                if now - last_frame > limit:
                    raise _StreamLost(
                        f"No frame from {self.display} for {self.stall_timeout:g} s",
                        self._streamed,
                    )
                continue
            for frame in frames:
                now = time.monotonic()
                last_frame = now
                self.frames_decoded += 1
                if not cap.keep(now - self._t0):
                    continue  # dropped before the (expensive) RGB conversion
                if not self._streamed:
                    self._streamed = True
                    self._set_state(SourceStatus.STREAMING)
                image = _to_rgb(frame)
                self._publish(Frame(image, now - self._t0, time.monotonic()), block=False)
        raise _StreamLost(f"{self.display}: the stream ended", self._streamed)

    def _decoded(self, container: Any, stream: Any) -> Iterator[list[Any]]:
        """Yield the decoded frames of each packet; errors become _StreamLost."""
        try:
            for packet in container.demux(stream):
                if self._stop.is_set():
                    break
                yield packet.decode()
        except Exception as err:  # noqa: BLE001 - reported as FAILED
            if self._stop.is_set():
                raise _Stopped from None
            _code, reason = _reason_of(err, self._target)
            if isinstance(err, av.error.ExitError | TimeoutError):
                reason = f"No frame from {self.display} for {self.stall_timeout:g} s"
            raise _StreamLost(reason, self._streamed) from None
        if self._stop.is_set():
            raise _Stopped
