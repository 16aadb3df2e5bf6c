"""``FrameSource``: one reader thread per camera that always hands out the newest frame.

Nothing here imports Home Assistant. Timestamps (``Frame.pts``):

* files: stream time in seconds from the first frame; when a file loops the pts
  keeps increasing (each loop adds the clip length), so consumers see one
  continuous timeline;
* live sources (devices, RTSP, HTTP): seconds of ``time.monotonic()`` since
  :meth:`FrameSource.start`. Camera clocks are unreliable (missing pts in MJPEG,
  90 kHz wrap-around, resets on reconnect); wall time is what the occupancy
  timers need and it stays monotonic across reconnects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import logging
import os
import threading
import time
from typing import Any

import av
import av.error

from .container import open_container, reason_of, setup_decoder, stream_rate
from .frames import make_frame
from .netcheck import Stopped, preflight
from .ratecap import RateCap, frame_time
from .types import Frame, SourceState, SourceStatus
from .urls import device_path, display_of, kind_of, parse_source

_LOGGER = logging.getLogger(__name__)

#: What a :class:`FrameSource` opens: a source string, or a callable that returns
#: one and is called again before every (re)connect (expiring stream URLs).
SourceSpec = str | int | Callable[[], str | int]


class _StreamLost(Exception):
    """Internal: the stream broke; ``reason`` is safe to show."""

    def __init__(self, reason: str, streamed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.streamed = streamed  # frames had been flowing before the loss


class FrameSource:
    """Read frames from a device, file or stream in a background thread.

    * Newest-frame semantics: :meth:`get` returns the newest frame not handed out
      yet; older frames are overwritten, never queued (live sources and files
      with ``realtime=True``).
    * ``realtime=False`` (files only): every frame up to the cap is handed out,
      the reader blocks until the consumer took the previous one (deterministic
      offline processing).
    * ``fps_cap``: frames are dropped on a time grid (pts for files, wall clock
      for live sources) *before* any conversion.
    * Files play at real-time pace (``realtime=True``), optionally looped; at the
      end of a non-looping file the state becomes STOPPED ("end of file").
    * Loss (read errors, EOF of a live stream, no frame for ``stall_timeout`` s)
      is reported as FAILED and retried after 1, 2, 4, ... s (at most
      ``max_backoff``); the delay resets once frames flow again.
    * ``source`` may be a callable returning the source string: it is called
      again before every (re)connect, so an expiring stream URL (a camera
      entity's) is fetched afresh instead of failing until a reload. Its errors
      (e.g. :class:`SourceError`) count as a failed connection attempt.
    * ``label`` replaces the redacted URL in logs, reasons and the thread name;
      ``hide_path`` redacts the URL's whole path and query (tokens in the path).
    * ``on_state`` is called from the reader thread on every state change.
    """

    def __init__(
        self,
        source: SourceSpec,
        *,
        fps_cap: float = 10.0,
        loop: bool = False,
        realtime: bool = True,
        stall_timeout: float = 5.0,
        max_backoff: float = 30.0,
        on_state: Callable[[SourceState], None] | None = None,
        open_timeout: float | None = None,
        label: str | None = None,
        hide_path: bool = False,
    ) -> None:
        """Create the source (nothing is opened before :meth:`start`).

        Raises :class:`SourceError` (``invalid_url``) for an unusable source string.
        ``open_timeout`` bounds connecting (default: ``max(stall_timeout, 10)``).
        """
        self._hide_path = hide_path
        self._resolve: Callable[[], str | int] | None = None
        self._target: str | int | None = None
        if callable(source):
            self._resolve = source
            self._kind = "network"
            self.display = label or "camera"
        else:
            self._target = parse_source(source)
            self._kind = kind_of(self._target)
            self.display = label or display_of(self._target, hide_path=hide_path)
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
        self.resolves = 0  # times a callable source was asked for its URL

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

    def _reason(self, err: BaseException) -> str:
        """Log-safe reason of an error of the current target."""
        target = self._target if self._target is not None else ""
        _code, reason = reason_of(err, target, shown=self.display, hide_path=self._hide_path)
        return reason

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
                except Stopped:
                    break
                except _StreamLost as lost:
                    streamed = lost.streamed
                    reason = lost.reason
                except Exception as err:  # noqa: BLE001 - reported as FAILED
                    reason = self._reason(err)
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

    def _connect_target(self) -> str | int:
        """Return the target of this connection attempt (asks a callable source afresh)."""
        if self._resolve is not None:
            self.resolves += 1
            target = parse_source(self._resolve())
            self._target = target
            self._kind = kind_of(target)
        assert self._target is not None
        return self._target

    def _session(self) -> bool:
        """Open the source once and publish frames until EOF or an error.

        Returns True after a normal end of a file. Raises _StreamLost (with
        ``streamed`` set when frames were flowing) or Stopped.
        """
        target = self._connect_target()
        if self._kind == "network":
            preflight(
                str(target), time.monotonic() + self.open_timeout, self._stop, shown=self.display
            )
        elif self._kind == "device":
            path = device_path(target)
            if not os.path.exists(path):  # unplugged: retried with backoff
                raise _StreamLost(f"No such video device: {path}")
        if self._stop.is_set():
            raise Stopped
        container = open_container(
            target,
            open_timeout=self.open_timeout,
            read_timeout=self._read_timeout,
        )
        try:
            if not container.streams.video:
                raise _StreamLost(f"{self.display} has no video stream")
            stream = container.streams.video[0]
            setup_decoder(stream, live=self._kind != "file")
            if self._kind == "file":
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
                        raise Stopped
                    self._cond.wait(0.1)
            self._slot = frame
            self.frames_delivered += 1
            self._cond.notify_all()

    def _play_file(self, container: Any, stream: Any) -> None:
        """Publish a file's frames (paced in realtime mode) until EOF."""
        rate = stream_rate(stream)
        cap = RateCap(self.fps_cap)
        first: float | None = None
        last_pts = 0.0
        start_wall = time.monotonic()
        index = 0
        got_frame = False
        try:
            for decoded in container.decode(stream):
                if self._stop.is_set():
                    raise Stopped
                t = frame_time(decoded, index, rate)
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
                        raise Stopped
                    if delay < -1.0:  # decoding fell behind: do not rush later
                        start_wall -= delay
                if not got_frame:
                    got_frame = True
                    self._set_state(SourceStatus.STREAMING)
                self._publish(
                    make_frame(decoded, self._loop_offset + rel, time.monotonic()),
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
        """Publish a live stream's frames; always ends with _StreamLost or Stopped."""
        cap = RateCap(self.fps_cap)
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
            for decoded in frames:
                now = time.monotonic()
                last_frame = now
                self.frames_decoded += 1
                if not cap.keep(now - self._t0):
                    continue  # dropped before any conversion
                if not self._streamed:
                    self._streamed = True
                    self._set_state(SourceStatus.STREAMING)
                self._publish(make_frame(decoded, now - self._t0, time.monotonic()), block=False)
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
                raise Stopped from None
            reason = self._reason(err)
            if isinstance(err, av.error.ExitError | TimeoutError):
                reason = f"No frame from {self.display} for {self.stall_timeout:g} s"
            raise _StreamLost(reason, self._streamed) from None
        if self._stop.is_set():
            raise Stopped
