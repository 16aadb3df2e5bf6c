"""A real RTSP server on 127.0.0.1 for tests: GStreamer's gst-rtsp-server.

Why GStreamer: FFmpeg can only *receive* RTSP in listen mode, it cannot serve a
file to players; gst-rtsp-server is a real, widely deployed server, supports
several clients, survives client reconnects and is in Debian.

Debian packages (installed by :func:`ensure_installed` when running as root):
``python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-tools``.

The server runs in a subprocess of Debian's ``/usr/bin/python3`` (PyGObject is
not in the venv). The clip is remuxed (no re-encoding) back to back into one
long MP4 so it streams "looped" for ``loop_seconds``; each new client starts at
the beginning. :meth:`RtspServer.stop` kills the process (a server dying),
:meth:`RtspServer.start` brings it back on the same port.

Usage::

    with RtspServer(clip) as server:
        url = server.url          # rtsp://127.0.0.1:PORT/cam
        server.stop(); server.start()
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from types import TracebackType
from typing import Self

from .clips import loop_clip

SYSTEM_PYTHON = "/usr/bin/python3"
DEBIAN_PACKAGES = (
    "python3-gi",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-tools",
)
_MAIN = Path(__file__).with_name("_gst_rtsp_main.py")
_INSTALL_LOCK = threading.Lock()


def gst_available() -> bool:
    """Return True when Debian's python3 can import GstRtspServer."""
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    code = (
        "import gi; gi.require_version('Gst', '1.0'); "
        "gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
        "import sys; sys.exit(0 if Gst.ElementFactory.find('qtdemux') and "
        "Gst.ElementFactory.find('rtph264pay') and Gst.ElementFactory.find('h264parse') "
        "else 1)"
    )
    try:
        result = subprocess.run(
            [SYSTEM_PYTHON, "-c", code], capture_output=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def ensure_installed() -> str | None:
    """Make gst-rtsp-server usable; return None when ready, else why not.

    Installs the Debian packages with apt-get when running as root and they are
    missing (once per process). The returned reason is meant for ``pytest.skip``.
    """
    with _INSTALL_LOCK:
        if gst_available():
            return None
        if os.geteuid() != 0 or shutil.which("apt-get") is None:
            return (
                "gst-rtsp-server is not installed and cannot be installed here "
                f"(need root + apt-get): apt-get install {' '.join(DEBIAN_PACKAGES)}"
            )
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for cmd in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *DEBIAN_PACKAGES],
        ):
            try:
                subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=True)
            except (OSError, subprocess.SubprocessError) as err:
                return f"installing gst-rtsp-server failed ({' '.join(cmd[:2])}): {err}"
        if not gst_available():
            return "gst-rtsp-server installed but GstRtspServer still does not import"
        return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RtspServer:
    """gst-rtsp-server serving ``clip_path`` (looped) at ``rtsp://127.0.0.1:PORT/cam``."""

    def __init__(
        self,
        clip_path: str | os.PathLike[str],
        port: int | None = None,
        *,
        mount: str = "/cam",
        loop_seconds: float = 600.0,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        """Prepare the server; call :meth:`start` (or use ``with``) to run it.

        ``user``/``password`` only change :attr:`url` (the server does not check
        them; RTSP servers accept credentials they do not need).
        """
        self.clip_path = Path(clip_path)
        self.port = port or free_port()
        self.mount = mount
        self.loop_seconds = loop_seconds
        self.user = user
        self.password = password
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._looped: Path | None = None
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """The RTSP URL of the stream (with credentials when given)."""
        auth = ""
        if self.user is not None:
            auth = self.user + (f":{self.password}" if self.password is not None else "") + "@"
        return f"rtsp://{auth}127.0.0.1:{self.port}{self.mount}"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def _prepare(self) -> Path:
        if self._looped is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smart_play_rtsp_")
            self._looped = loop_clip(
                self.clip_path,
                Path(self._tmp.name) / "looped.mp4",
                min_seconds=self.loop_seconds,
            )
        return self._looped

    def start(self, timeout: float = 15.0) -> None:
        """Start (or restart) the server process and wait until it listens."""
        if self.running:
            return
        reason = ensure_installed()
        if reason is not None:
            raise RuntimeError(reason)
        looped = self._prepare()
        deadline = time.monotonic() + timeout
        while True:
            proc = subprocess.Popen(
                [SYSTEM_PYTHON, str(_MAIN), str(self.port), self.mount, str(looped)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                text=True,
                env=_clean_env(),
            )
            line = proc.stdout.readline() if proc.stdout else ""
            if line.startswith("READY"):
                self._proc = proc
                return
            # The port may still be held by a dying predecessor: retry briefly.
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait(5)
            if time.monotonic() > deadline:
                raise RuntimeError(f"RTSP server did not start on port {self.port}: {line!r}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Kill the server process (like a crash: connections are reset)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            proc.kill()
            proc.send_signal(signal.SIGCONT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
        if proc.stdout:
            proc.stdout.close()

    def pause(self) -> None:
        """Freeze the server process (SIGSTOP): connections stay open, no data flows."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused server run again (SIGCONT)."""
        if self._proc is not None:
            self._proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop the server and delete the prepared clip."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
            self._looped = None

    def __enter__(self) -> Self:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server and clean up."""
        self.close()


def _clean_env() -> dict[str, str]:
    """Environment for the system interpreter: without the venv's Python variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    env["GST_DEBUG"] = env.get("GST_DEBUG", "0")
    return env


def main() -> None:
    """Serve a clip until Ctrl-C: ``python -m tests.servers.rtsp_server CLIP [--port N]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve a clip (looped) over RTSP on 127.0.0.1")
    parser.add_argument("clip")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--mount", default="/cam")
    args = parser.parse_args()
    with RtspServer(args.clip, args.port, mount=args.mount, loop_seconds=3600) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while server.running:
                time.sleep(1)


if __name__ == "__main__":
    main()
