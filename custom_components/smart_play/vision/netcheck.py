"""Socket pre-checks of network sources, before FFmpeg is asked to open them.

Done in Python with short socket timeouts so that a check can be cancelled
(FFmpeg's own connect can only be bounded, not interrupted) and so that
"refused/unreachable" (``cannot_open``) is told apart from "no answer"
(``timeout``). RTSP servers are also sent an OPTIONS request and must answer.
Nothing here imports Home Assistant.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import time
from typing import Any
from urllib.parse import SplitResult, urlsplit

from .types import SourceError
from .urls import DEFAULT_PORTS


class Stopped(Exception):
    """The source was asked to stop while waiting."""


def preflight(target: str, deadline: float, stop: threading.Event | None, *, shown: str) -> None:
    """Check that a network source's host accepts a TCP connection (and speaks RTSP).

    ``shown`` is the log-safe name of the source used in error messages.
    Raises :class:`SourceError` (``cannot_open`` / ``timeout``) or :class:`Stopped`.
    """
    parsed: SplitResult = urlsplit(target)
    scheme = parsed.scheme.lower()
    host = parsed.hostname or ""
    port = parsed.port or DEFAULT_PORTS.get(scheme, 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise SourceError("cannot_open", f"Cannot resolve host of {shown}") from err
    last_error: OSError | None = None
    for family, socktype, proto, _canon, addr in infos:
        try:
            _connect_once(
                (family, socktype, proto, addr),
                rtsp_path=(parsed.path or "/") if scheme == "rtsp" else None,
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
        if rtsp_path is None:
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
            raise Stopped
        left = deadline - time.monotonic()
        if left <= 0:
            raise SourceError("timeout", f"No answer from {shown}")
        wlist = [sock] if write else []
        rlist = [] if write else [sock]
        ready = select.select(rlist, wlist, [], min(0.1, left))
        if ready[0] or ready[1]:
            return
