"""A TCP server on 127.0.0.1 that accepts connections and never answers."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType
from typing import Self


class SilentTcpServer:
    """Accepts TCP connections and keeps them open without sending a byte.

    Models a camera (or anything on that port) that is reachable but hangs,
    e.g. for ``timeout`` errors.
    """

    def __init__(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.1)
        self.port = int(self._sock.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)

    def url(self, scheme: str = "rtsp", path: str = "/x") -> str:
        """URL pointing at this server."""
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        """Close the listener and every accepted connection."""
        self._stop.set()
        self._thread.join(2)
        self._sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self) -> Self:
        """Return the running server."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the server."""
        self.close()


def closed_port() -> int:
    """Return a port on 127.0.0.1 with nothing listening (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
