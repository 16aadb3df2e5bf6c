"""Make and prepare video clips for the loopback test servers (PyAV only)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def synthetic_frames(count: int, width: int = 640, height: int = 360) -> Iterator[np.ndarray]:
    """Yield RGB frames of a bright square sliding over a dim background.

    Each frame also carries its index as a binary strip (16 cells of 8 px in the
    top-left row) so tests can tell which frame of a clip they received.
    """
    for index in range(count):
        image = np.full((height, width, 3), (40, 60, 80), dtype=np.uint8)
        x = (index * 7) % max(1, width - 60)
        image[height // 3 : height // 3 + 60, x : x + 60] = (240, 240, 240)
        for bit in range(16):
            if index >> bit & 1:
                image[0:8, bit * 8 : bit * 8 + 8] = (255, 255, 255)
            else:
                image[0:8, bit * 8 : bit * 8 + 8] = (0, 0, 0)
        yield image


def frame_index(image: np.ndarray) -> int:
    """Read back the index strip written by :func:`synthetic_frames`."""
    value = 0
    for bit in range(16):
        if image[2:6, bit * 8 + 2 : bit * 8 + 6].mean() > 127:
            value |= 1 << bit
    return value


def make_clip(
    path: Path,
    *,
    seconds: float = 4.0,
    fps: int = 30,
    width: int = 640,
    height: int = 360,
    gop: int | None = None,
) -> Path:
    """Encode a synthetic H.264 MP4 clip (yuv420p, keyframe every ``gop`` frames)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {
            "preset": "veryfast",
            "tune": "zerolatency",
            "g": str(gop or fps),
            "bf": "0",
        }
        for image in synthetic_frames(int(seconds * fps), width, height):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def _is_plain_h264(path: Path) -> bool:
    """Return True when the clip's first video stream is H.264 without B-frames issues."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path} has no video stream")
        return container.streams.video[0].codec_context.name == "h264"


def transcode_h264(src: Path, dst: Path, *, fps: int | None = None) -> Path:
    """Re-encode any clip to an H.264 MP4 with a keyframe every second."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = fps or round(float(vin.average_rate or 25))
        stream = out.add_stream("libx264", rate=rate)
        stream.width = vin.codec_context.width // 2 * 2
        stream.height = vin.codec_context.height // 2 * 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "g": str(rate), "bf": "0"}
        for index, frame in enumerate(inp.decode(vin)):
            image = frame.to_ndarray(format="rgb24")[: stream.height, : stream.width]
            new = av.VideoFrame.from_ndarray(image, format="rgb24")
            new.pts = index
            new.time_base = Fraction(1, rate)
            for packet in stream.encode(new):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dst


def loop_clip(src: Path, dst: Path, *, min_seconds: float = 600.0) -> Path:
    """Remux ``src`` back to back into one long H.264 MP4 of ``min_seconds`` or more.

    No re-encoding (the clip is transcoded first only when it is not H.264), so
    this takes about a second; timestamps continue across the joins, which lets a
    plain file-serving RTSP pipeline stream the clip "looped" for a long time.
    """
    if not _is_plain_h264(src):
        src = transcode_h264(src, dst.with_suffix(".h264src.mp4"))
    with av.open(str(src)) as probe:
        vin = probe.streams.video[0]
        duration = 0.0
        packets = []
        for packet in probe.demux(vin):
            if packet.pts is None or packet.size == 0:
                continue
            packets.append((packet.pts, packet.dts, bytes(packet), packet.is_keyframe))
        time_base = vin.time_base
        rate = vin.average_rate or Fraction(25)
        if not packets:
            raise ValueError(f"{src} has no video packets")
        step = round(1 / (float(rate) * float(time_base)))
        first = min(p[0] for p in packets)
        last = max(p[0] for p in packets)
        span = last - first + step
        duration = float(span * time_base)
        loops = max(1, int(min_seconds // duration) + 1)
        with av.open(str(dst), "w") as out:
            vout = out.add_stream_from_template(vin)
            for loop in range(loops):
                offset = loop * span - first
                for pts, dts, data, key in packets:
                    packet = av.Packet(data)
                    packet.stream = vout
                    packet.time_base = time_base
                    packet.pts = pts + offset
                    packet.dts = (dts if dts is not None else pts) + offset
                    packet.is_keyframe = key
                    out.mux(packet)
    return dst


_CACHE: dict[tuple[object, ...], Path] = {}
_CACHE_DIR: list[Path] = []


def cached_clip(**kwargs: float) -> Path:
    """Return a synthetic clip made by :func:`make_clip`, encoded once per process."""
    key = tuple(sorted(kwargs.items()))
    path = _CACHE.get(key)
    if path is None or not path.exists():
        if not _CACHE_DIR:
            import atexit
            import shutil
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="smart_play_clips_"))
            atexit.register(shutil.rmtree, folder, True)
            _CACHE_DIR.append(folder)
        name = "_".join(f"{k}{v}" for k, v in key) or "default"
        path = make_clip(_CACHE_DIR[0] / f"clip_{name}.mp4", **kwargs)  # type: ignore[arg-type]
        _CACHE[key] = path
    return path


def trim_clip(src: Path, dst: Path, *, seconds: float) -> Path:
    """Remux the first ``seconds`` of ``src`` (video only, no re-encoding) into ``dst``."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        for packet in inp.demux(vin):
            if packet.pts is None or packet.size == 0:
                continue
            if float(packet.pts * vin.time_base) >= seconds:
                continue  # B-frames: later packets may still belong before the cut
            packet.stream = vout
            out.mux(packet)
    return dst
