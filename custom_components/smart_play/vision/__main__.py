"""Command line: run the occupancy engine on a file, camera device or stream URL.

    python -m custom_components.smart_play.vision SOURCE [--delay S] [--sensitivity N]
        [--annotate OUT.mp4] [--json] [--realtime] [--no-opencv] [--fps N]

Prints every state transition with its stream time and reason. With
``--json`` stdout carries exactly one JSON object per transition and line,
``{"t": <seconds>, "state": "occupied"|"empty"|"unknown", "reason": "..."}``,
and nothing else (diagnostics go to stderr). Files are processed as fast as
possible unless ``--realtime``; live sources are always real time.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterator
from contextlib import suppress
from fractions import Fraction
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

# numpy, PyAV and the engine are imported when a run starts, not at import time:
# the desk agent's command line imports this module and its --help stays instant.
if TYPE_CHECKING:
    from .engine import OccupancyEngine
    from .types import Frame, FrameResult, SourceState, Transition


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the CLI."""
    parser = argparse.ArgumentParser(
        prog="python -m custom_components.smart_play.vision",
        description="Detect room occupancy in a video file, camera or stream.",
    )
    parser.add_argument(
        "source", help="video file, camera index / /dev/videoN, rtsp:// or http(s):// URL"
    )
    add_engine_arguments(parser)
    return parser


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of a local run (shared with the desk agent's command line)."""
    parser.add_argument(
        "--delay", type=float, default=2.0, help="absence delay in seconds (default 2.0)"
    )
    parser.add_argument(
        "--sensitivity", type=int, default=5, help="1 (least) .. 10 (most), default 5"
    )
    parser.add_argument("--annotate", metavar="OUT.mp4", help="write an annotated video")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per transition on stdout"
    )
    parser.add_argument(
        "--realtime", action="store_true", help="pace file playback to its timestamps"
    )
    parser.add_argument(
        "--no-opencv", action="store_true", help="numpy-only path, even if cv2 imports"
    )
    parser.add_argument(
        "--fps", type=float, default=None, help="analyse at most this many frames/s"
    )


def _live_frames(
    source: str, fps: float | None, engine: OccupancyEngine, as_json: bool
) -> Iterator[Frame]:
    """Frames of a live source (device/URL) through :class:`FrameSource`.

    When the source fails the engine goes UNKNOWN and the transition is printed.
    """
    from .source import FrameSource
    from .types import SourceStatus

    states: deque[SourceState] = deque()
    frame_source = FrameSource(source, fps_cap=fps or 10.0, realtime=True, on_state=states.append)
    frame_source.start()
    last_t = 0.0
    try:
        while True:
            frame = frame_source.get(timeout=0.5)
            while states:
                state = states.popleft()
                if state.status is SourceStatus.FAILED:
                    tr = engine.set_unknown(last_t, f"camera lost: {state.reason}")
                    if tr is not None:
                        _print_transition(tr, as_json)
                elif state.status is SourceStatus.STOPPED:
                    return
            if frame is not None:
                last_t = frame.pts
                yield frame
    finally:
        frame_source.stop()


class _VideoWriter:
    """Annotated video output (H.264 when available, else MPEG-4 part 2)."""

    def __init__(self, path: str, rate: float) -> None:
        import av
        from av.video.stream import VideoStream

        self._container = av.open(path, "w")
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self._rate = Fraction(round(rate * 1000), 1000).limit_denominator(1001)
        stream = self._container.add_stream(codec, rate=self._rate)
        if not isinstance(stream, VideoStream):  # pragma: no cover - video codecs only
            raise TypeError(f"{codec} is not a video codec")
        self._stream = stream
        self._stream.pix_fmt = "yuv420p"
        self._index = 0
        self._opened = False

    def write(self, image: Any) -> None:
        import av

        height, width = image.shape[:2]
        image = image[: height - height % 2, : width - width % 2]
        if not self._opened:
            self._stream.width = image.shape[1]
            self._stream.height = image.shape[0]
            self._opened = True
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self._index
        frame.time_base = 1 / self._rate
        self._index += 1
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def close(self) -> None:
        if self._opened:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()


def _print_transition(tr: Transition, as_json: bool) -> None:
    if as_json:
        line = json.dumps({"t": round(tr.t, 3), "state": tr.state.value, "reason": tr.reason})
    else:
        line = f"{tr.t:9.2f} s  {tr.state.value:8s}  {tr.reason}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _file_rate(path: str) -> float:
    import av

    with av.open(path) as container:
        rate = container.streams.video[0].average_rate
    return float(rate) if rate else 10.0


def run(args: argparse.Namespace) -> int:
    """Run the engine as configured by the parsed ``args``; returns the exit code."""
    from .engine import EngineConfig, OccupancyEngine
    from .render import annotate
    from .source import iter_file_frames
    from .types import SourceError

    engine = OccupancyEngine(
        EngineConfig(
            delay=args.delay,
            sensitivity=args.sensitivity,
            use_opencv=False if args.no_opencv else None,
        )
    )
    is_file = os.path.isfile(args.source)
    live = args.source.isdigit() or args.source.startswith(
        ("/dev/video", "rtsp://", "rtsps://", "http://", "https://")
    )
    if not is_file and not live:
        raise SourceError("cannot_open", f"no such file: {args.source}")
    frames: Iterator[Frame]
    if is_file:
        frames = iter_file_frames(args.source, args.fps)
        rate = min(args.fps, _file_rate(args.source)) if args.fps else _file_rate(args.source)
    else:
        frames = _live_frames(args.source, args.fps, engine, args.json)
        rate = args.fps or 10.0
    writer = _VideoWriter(args.annotate, rate) if args.annotate else None
    count = 0
    last: FrameResult | None = None
    started = time.monotonic()
    try:
        for frame in frames:
            if args.realtime and is_file:
                wait = frame.pts - (time.monotonic() - started)
                if wait > 0:
                    time.sleep(wait)
            last = engine.process(frame)
            count += 1
            if last.transition is not None:
                _print_transition(last.transition, args.json)
            if writer is not None:
                writer.write(annotate(frame.image, last, delay=engine.config.delay))
    except KeyboardInterrupt:
        pass
    finally:
        if writer is not None:
            writer.close()
    elapsed = time.monotonic() - started
    if count == 0:
        sys.stderr.write("no frames decoded\n")
        return 1
    if last is not None:
        sys.stderr.write(
            f"{count} frames, {last.t:.1f} s of video in {elapsed:.1f} s; final state {last.state.value}"
            f" (opencv {'on' if engine.uses_opencv else 'off'})\n"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return run_cli(build_parser().parse_args(argv))


def run_cli(args: argparse.Namespace) -> int:
    """Run with parsed ``args`` and turn errors into messages and exit codes."""
    import av

    from .types import SourceError

    try:
        return run(args)
    except BrokenPipeError:  # e.g. piped into `head`
        with suppress(OSError):
            sys.stdout = open(os.devnull, "w", encoding="utf-8")
        return 0
    except SourceError as err:
        sys.stderr.write(f"error ({err.code}): {err}\n")
        return 2
    except (av.FFmpegError, OSError) as err:
        sys.stderr.write(f"error: {type(err).__name__}: {err}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
