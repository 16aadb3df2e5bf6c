"""HTTP MJPEG server on 127.0.0.1 for tests (``http.server`` in a thread).

Endpoints:

* ``/stream.mjpg`` - ``multipart/x-mixed-replace`` JPEG stream of the clip, looped,
  at ``fps`` frames per second (what cheap IP cameras and ESP32-CAMs serve);
* ``/snapshot.jpg`` - one JPEG;
* ``/page.html`` - a ``text/html`` page (an URL that opens but is not video);
* ``/hang`` - sends the multipart headers and one frame, then nothing (a stalled camera);
* any path (with its query) in :attr:`MjpegServer.tokens` - the stream, like an NVR
  handing out expiring URLs; :meth:`MjpegServer.revoke` ends the streams of such
  a URL and refuses it (403) from then on.

The clip's frames are decoded and JPEG-encoded once with PyAV when the server is
created. :meth:`MjpegServer.stop` closes the listener and every open stream,
:meth:`MjpegServer.start` listens again on the same port.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
from pathlib import Path
import threading
import time
from types import TracebackType
from typing import ClassVar, Self

import av

from .rtsp_server import free_port

BOUNDARY = "smartplayframe"
_JPEG_CACHE: dict[tuple[str, float], list[bytes]] = {}


def encode_clip_jpegs(
    clip_path: str | os.PathLike[str], *, fps: float = 10.0, max_frames: int = 100
) -> list[bytes]:
    """Decode ``clip_path`` and return JPEG bytes of frames subsampled to ``fps``."""
    jpegs: list[bytes] = []
    with av.open(str(clip_path)) as container:
        stream = container.streams.video[0]
        next_t = 0.0
        encoder: av.VideoCodecContext | None = None
        for frame in container.decode(stream):
            t = float(frame.time or 0.0)
            if t + 1e-6 < next_t:
                continue
            next_t = t + 1.0 / fps
            if encoder is None:
                encoder = av.CodecContext.create("mjpeg", "w")
                encoder.width = frame.width
                encoder.height = frame.height
                encoder.pix_fmt = "yuvj420p"
                encoder.time_base = Fraction(1, 25)
                encoder.options = {"qscale": "5"}
                encoder.open()
            yuv = frame.reformat(format="yuvj420p")
            jpegs.extend(bytes(packet) for packet in encoder.encode(yuv))
            if len(jpegs) >= max_frames:
                break
    if not jpegs:
        raise ValueError(f"no frames in {clip_path}")
    return jpegs


class _Handler(BaseHTTPRequestHandler):
    """Serves the endpoints of one :class:`MjpegServer`."""

    server: _Server
    protocol_version = "HTTP/1.0"
    routes: ClassVar[tuple[str, ...]] = ("/stream.mjpg", "/snapshot.jpg", "/page.html", "/hang")

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        """Route a GET request."""
        owner = self.server.owner
        owner.requests += 1
        path = self.path.split("?", 1)[0]
        if path == "/page.html":
            body = b"<!doctype html><html><body><h1>Camera admin</h1></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if path == "/snapshot.jpg":
            body = owner.jpegs[0]
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        tokenised = self.path in owner.tokens
        if self.path in owner.revoked:
            self.send_error(403)
            return
        if path not in ("/stream.mjpg", "/hang") and not tokenised:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        owner.clients += 1
        try:
            self._stream(owner, hang=path == "/hang")
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        finally:
            owner.clients -= 1

    def _stream(self, owner: MjpegServer, *, hang: bool) -> None:
        interval = 1.0 / owner.fps
        index = 0
        next_due = time.monotonic()
        while not owner.closing.is_set():
            if self.path in owner.revoked:
                return  # the URL expired: end this stream
            if hang and index >= 1:
                owner.closing.wait(0.1)
                continue
            jpeg = owner.jpegs[index % len(owner.jpegs)]
            part = (
                (
                    f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                    f"Content-Length: {len(jpeg)}\r\n\r\n"
                ).encode()
                + jpeg
                + b"\r\n"
            )
            self.wfile.write(part)
            self.wfile.flush()
            index += 1
            owner.frames_sent += 1
            next_due += interval
            delay = next_due - time.monotonic()
            if delay > 0:
                owner.closing.wait(delay)
            else:
                next_due = time.monotonic()


class _Server(ThreadingHTTPServer):
    # Handler threads are joined by server_close(), so a stopped server leaves
    # no thread behind (Home Assistant's test plugin checks that).
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    owner: MjpegServer


class MjpegServer:
    """MJPEG-over-HTTP camera on ``http://127.0.0.1:PORT/stream.mjpg``."""

    def __init__(
        self,
        clip_path: str | os.PathLike[str] | None = None,
        port: int | None = None,
        *,
        fps: float = 10.0,
        jpegs: list[bytes] | None = None,
    ) -> None:
        """Prepare the frames (from ``clip_path`` or given ``jpegs``)."""
        if jpegs is None:
            if clip_path is None:
                raise ValueError("need clip_path or jpegs")
            key = (str(clip_path), fps)
            if key not in _JPEG_CACHE:
                _JPEG_CACHE[key] = encode_clip_jpegs(Path(clip_path), fps=fps)
            jpegs = _JPEG_CACHE[key]
        self.jpegs = jpegs
        self.fps = fps
        self.port = port or free_port()
        self.closing = threading.Event()
        self.requests = 0
        self.clients = 0
        self.frames_sent = 0
        self.tokens: set[str] = set()  # extra stream URLs (path + query), e.g. with a token
        self.revoked: set[str] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def url_for(self, path: str) -> str:
        """Return the URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def url(self) -> str:
        """The MJPEG stream URL."""
        return self.url_for("/stream.mjpg")

    @property
    def html_url(self) -> str:
        """URL of a text/html page (not video)."""
        return self.url_for("/page.html")

    def revoke(self, path: str) -> None:
        """Expire the stream URL ``path``: its open streams end, new requests get 403."""
        self.tokens.discard(path)
        self.revoked.add(path)

    def start(self) -> None:
        """Listen (again) on the server's port."""
        if self._httpd is not None:
            return
        self.closing.clear()
        deadline = time.monotonic() + 10
        while True:
            try:
                httpd = _Server(("127.0.0.1", self.port), _Handler)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and end every open stream."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.closing.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        deadline = time.monotonic() + 5
        while self.clients and time.monotonic() < deadline:
            time.sleep(0.02)

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
        """Stop the server."""
        with contextlib.suppress(Exception):
            self.stop()


def main() -> None:
    """Serve a clip until Ctrl-C: ``python -m tests.servers.mjpeg_server CLIP [--port N]``."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve a clip as MJPEG over HTTP on 127.0.0.1")
    parser.add_argument("clip")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--fps", type=float, default=10.0)
    args = parser.parse_args()
    with MjpegServer(args.clip, args.port, fps=args.fps) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == "__main__":
    main()
