"""Benchmark of the occupancy engine (run by hand, not in CI).

    python bench/vision_bench.py [CLIP.mp4] [--frames 300] [--memory-frames 10000]
        [--stream-frames 600] [--sizes 640x360,1280x720,1920x1080] [--repeats 3]

Part 1, streams (issue 12): the clip is encoded to H.264 at 640x360, 1280x720
and 1920x1080 (``--stream-frames`` frames at 10 fps, and a 2 s cut of it), then

* decode only: PyAV decoding the file (the decoder set up as the CLI does),
  CPU ms per frame (decoder threads counted);
* whole pipeline: ``iter_file_frames`` + ``OccupancyEngine.process`` on every
  frame (decoding included), CPU ms per frame, numpy only and with OpenCV;
* CLI ratio: the marginal CPU of the whole CLI (``python -m
  custom_components.smart_play.vision FILE --json``, default and ``--no-opencv``)
  over the marginal CPU of a decode-only run of the same file in the same
  interpreter; marginal = the full file minus the 2 s cut (start-up and
  imports), each the best of ``--repeats`` runs. Target <= 1.10.

Part 2, engine: frames are decoded once and kept in memory at 640x360 and 1280x720 as
the pipeline sees them (yuv420p, the grey view of the luma plane and its black level,
``frames.make_frame``; no RGB), then:

* motion: downscale + normalise + motion stage, per frame;
* presence confirmation: one OpenCV Haar face check (it runs at most 2x/s);
* whole pipeline: ``OccupancyEngine.process`` numpy-only and with OpenCV
  (face checks amortised as they happen: low motion, <= 2 Hz);
* decode: decoding the same frames from an H.264 stream with PyAV
  (plus the luma view the pipeline takes; no RGB conversion any more);
* memory over 10,000 frames, and 8 sources at 5 fps on one core.

Targets: pipeline < 3 ms/frame at 640x360 (10 fps under 3 % of a core),
pipeline < 25 % of decode, flat memory, 8 x 5 fps < 1 core.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
import gc
import importlib.util
import io
import os
from pathlib import Path
import resource
import subprocess
import sys
import tempfile
import time

import av

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from custom_components.smart_play.vision.container import setup_decoder  # noqa: E402
from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine  # noqa: E402
from custom_components.smart_play.vision.frames import iter_file_frames, luma_of, make_frame  # noqa: E402
from custom_components.smart_play.vision.motion import (  # noqa: E402
    MotionDetector,
    components,
    downscale_factor,
    downscale_gray,
    normalise,
)
from custom_components.smart_play.vision.optional import opencv  # noqa: E402
from custom_components.smart_play.vision.presence import FaceConfirmer, SceneReference, cell_means  # noqa: E402
from custom_components.smart_play.vision.types import Frame  # noqa: E402

DEFAULT_CLIP = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"


def load_frames(path: Path, size: tuple[int, int], count: int, skip: int = 0) -> list[Frame]:
    """Decode ``count`` frames (after ``skip``) scaled to ``size`` (w, h), as the pipeline's Frames.

    Each is a yuv420p picture (what H.264 cameras deliver) wrapped by
    :func:`make_frame` as the sources do: the grey view of its luma plane,
    its black level, and the decoded frame for an RGB picture on demand.
    """
    out: list[Frame] = []
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index < skip:
                continue
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            out.append(make_frame(scaled, 0.0, 0.0))
            if len(out) >= count:
                break
    return out


def at(frame: Frame, pts: float) -> Frame:
    """The same picture as ``frame`` at stream time ``pts`` (the grey view, nothing converted)."""
    return Frame(None, pts, 0.0, gray=frame.gray, black=frame.black)


def h264(frames: list[Frame], fps: int = 10) -> bytes:
    """Encode frames to an in-memory H.264 MP4 (veryfast, CRF 23, like a camera stream)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = frames[0].gray.shape[1]
        stream.height = frames[0].gray.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "g": str(fps * 2)}
        for index, picture in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(picture.image, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def time_decode(data: bytes) -> tuple[float, int]:
    """CPU seconds per frame to decode (PyAV defaults, threads counted) + the luma view."""
    start = time.process_time()
    count = 0
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            luma_of(frame)
            count += 1
    return (time.process_time() - start) / max(count, 1), count


def per_frame(fn, frames: list[Frame], repeat: int = 1) -> float:
    """Mean CPU seconds per call of ``fn(index, frame)``."""
    gc.collect()
    start = time.process_time()
    n = 0
    for _ in range(repeat):
        for index, image in enumerate(frames):
            fn(index, image)
            n += 1
    return (time.process_time() - start) / n


def bench_size(frames: list[Frame], fps: float) -> dict[str, float]:
    """All per-frame costs for one frame size (seconds)."""
    height, width = frames[0].gray.shape[:2]
    factor = downscale_factor(height, width)
    res: dict[str, float] = {}
    res["downscale"] = per_frame(
        lambda i, fr: normalise(downscale_gray(fr.gray, factor, fr.black)), frames
    )
    motion = MotionDetector()
    res["motion"] = per_frame(
        lambda i, fr: motion.update(*normalise(downscale_gray(fr.gray, factor, fr.black))),
        frames,
    )

    def run_engine(use_opencv: bool) -> float:
        engine = OccupancyEngine(EngineConfig(use_opencv=use_opencv))
        # Warm up (the first frames allocate the models).
        for index, frame in enumerate(frames[:20]):
            engine.process(at(frame, index / fps))
        base = 20 / fps
        return per_frame(lambda i, fr: engine.process(at(fr, base + i / fps)), frames)

    res["pipeline_numpy"] = run_engine(False)
    cv2 = opencv()
    if cv2 is not None:
        res["pipeline_opencv"] = run_engine(True)
        face = FaceConfirmer(cv2)
        res["face_check"] = per_frame(lambda i, fr: face.detect(float(i), fr.gray), frames[:60])
    # Still-person check of the numpy path (reference foreground + components).
    cells = [cell_means(normalise(downscale_gray(fr.gray, factor, fr.black))[0]) for fr in frames]
    ref = SceneReference()
    ref.seed(cells[0], trusted=True)

    def still_check(i: int, _fr: Frame) -> None:
        fg, _share = ref.foreground(cells[i])
        if fg is not None:
            components(fg)

    res["presence_numpy"] = per_frame(still_check, frames)
    res["decode"], _ = time_decode(h264(frames, int(fps)))
    return res


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def bench_memory(frames: list[Frame], total: int, fps: float) -> list[tuple[int, float]]:
    """RSS after every 2,000 of ``total`` frames through one engine."""
    engine = OccupancyEngine(EngineConfig())
    points: list[tuple[int, float]] = []
    for index in range(total):
        engine.process(at(frames[index % len(frames)], index / fps))
        if index % 2000 == 1999:
            gc.collect()
            points.append((index + 1, rss_mib()))
    return points


def bench_eight_sources(frames: list[Frame], seconds: int = 10) -> float:
    """CPU share of one core for 8 engines analysing 5 fps each (engine only)."""
    engines = [OccupancyEngine(EngineConfig()) for _ in range(8)]
    start_cpu = time.process_time()
    for tick in range(seconds * 5):
        t = tick / 5.0
        for k, engine in enumerate(engines):
            engine.process(at(frames[(tick * 2 + k * 37) % len(frames)], t))
    return (time.process_time() - start_cpu) / seconds


# ----------------------------------------------------------------- part 1: streams
DECODE_ONLY = """
import sys
import av
from custom_components.smart_play.vision.container import setup_decoder
with av.open(sys.argv[1]) as container:
    stream = container.streams.video[0]
    setup_decoder(stream, live=False)
    for _frame in container.decode(stream):
        pass
"""


def encode_h264(path: Path, clip: Path, size: tuple[int, int], count: int, fps: int = 10) -> int:
    """Write ``count`` frames of ``clip`` (looped) scaled to ``size`` as H.264 (like a camera)."""
    written = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "g": str(fps * 2), "bf": "0"}
        while written < count:
            with av.open(str(clip)) as container:
                for frame in container.decode(video=0):
                    scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
                    scaled.pts = written
                    scaled.time_base = Fraction(1, fps)
                    out.mux(stream.encode(scaled))
                    written += 1
                    if written >= count:
                        break
        out.mux(stream.encode(None))
    return written


def cpu_self() -> float:
    """CPU seconds (user + system, all threads) of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu(args: list[str]) -> float:
    """CPU seconds (user + system, all threads) of one run of ``args``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best_marginal(make_args, full: Path, cut: Path, repeats: int) -> float:
    """Best-of CPU of the full file minus best-of CPU of the 2 s cut."""
    full_cpu = min(child_cpu(make_args(full)) for _ in range(repeats))
    cut_cpu = min(child_cpu(make_args(cut)) for _ in range(repeats))
    return max(1e-6, full_cpu - cut_cpu)


def decode_only_ms(path: Path) -> float:
    """In-process CPU ms per frame of decoding ``path`` (decoder set up as the CLI does)."""
    start, count = cpu_self(), 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        setup_decoder(stream, live=False)
        for _frame in container.decode(stream):
            count += 1
    return (cpu_self() - start) * 1000 / max(count, 1)


def pipeline_ms(path: Path, use_opencv: bool, rgb: bool = False) -> float:
    """In-process CPU ms per frame of decoding + engine on every frame of ``path``.

    ``rgb``: convert every frame to RGB first and analyse that (the path before issue 12).
    """
    engine = OccupancyEngine(EngineConfig(use_opencv=use_opencv))
    engine.uses_opencv  # noqa: B018 - load the cascade before measuring
    start, count = cpu_self(), 0
    for frame in iter_file_frames(path, fps_cap=None):
        engine.process(Frame(frame.image, frame.pts, frame.wall) if rgb else frame)
        count += 1
    return (cpu_self() - start) * 1000 / max(count, 1)


def bench_streams(clip: Path, sizes: list[tuple[int, int]], frames: int, repeats: int) -> None:
    """Print decode-only and whole-pipeline ms/frame and the CLI/decode CPU ratio per size."""
    python = sys.executable
    cli = [python, "-m", "custom_components.smart_play.vision"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="smart_play_bench_") as tmp:
        for size in sizes:
            name = f"{size[0]}x{size[1]}"
            full, cut = Path(tmp) / f"{name}.mp4", Path(tmp) / f"{name}-cut.mp4"
            encode_h264(full, clip, size, frames)
            encode_h264(cut, clip, size, 20)  # 2 s: start-up, imports, first frames
            decode = min(decode_only_ms(full) for _ in range(repeats))
            numpy_only = min(pipeline_ms(full, False) for _ in range(repeats))
            old_rgb = min(pipeline_ms(full, False, rgb=True) for _ in range(repeats))
            with_cv = min(pipeline_ms(full, True) for _ in range(repeats)) if opencv() else None
            dec_cpu = best_marginal(
                lambda p: [python, "-c", DECODE_ONLY, str(p)], full, cut, repeats
            )
            cli_cpu = best_marginal(lambda p: [*cli, str(p), "--json"], full, cut, repeats)
            cli_np = best_marginal(
                lambda p: [*cli, str(p), "--json", "--no-opencv"], full, cut, repeats
            )
            rows.append(
                (name, decode, old_rgb, numpy_only, with_cv, cli_cpu / dec_cpu, cli_np / dec_cpu)
            )
    load = os.getloadavg()[0]
    print(
        f"\nH.264 streams ({frames} frames at 10 fps each; load average {load:.1f} on {os.cpu_count()} cores)"
    )
    header = (
        f"{'size':10s} {'decode ms/f':>11s} {'via RGB ms/f':>12s} {'pipeline ms/f':>13s}"
        f" {'+opencv ms/f':>12s} {'CLI/decode CPU':>14s} {'(no opencv)':>11s}"
    )
    print(header)
    for name, decode, old_rgb, numpy_only, with_cv, ratio, ratio_np in rows:
        cv_text = f"{with_cv:12.3f}" if with_cv is not None else f"{'-':>12s}"
        print(
            f"{name:10s} {decode:11.3f} {old_rgb:12.3f} {numpy_only:13.3f} {cv_text}"
            f" {ratio:14.2f} {ratio_np:11.2f}"
        )
    print("(pipeline: decode + engine on the luma view; via RGB: on RGB pictures, as before)")
    print("(target: CLI marginal CPU / decode-only marginal CPU <= 1.10)")


def parse_size(text: str) -> tuple[int, int]:
    """``640x360`` -> (640, 360)."""
    width, height = text.lower().split("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description="Occupancy engine benchmark")
    parser.add_argument("clip", nargs="?", type=Path, default=DEFAULT_CLIP)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--memory-frames", type=int, default=10000)
    parser.add_argument("--stream-frames", type=int, default=600, help="0: skip part 1")
    parser.add_argument("--sizes", default="640x360,1280x720,1920x1080")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    fps = 10.0
    if args.stream_frames:
        sizes = [parse_size(s) for s in args.sizes.split(",") if s]
        bench_streams(args.clip, sizes, args.stream_frames, max(1, args.repeats))
    print(f"clip {args.clip.name}, {args.frames} frames from 20 s in (people moving and standing)")
    results: dict[str, dict[str, float]] = {}
    cache: dict[str, list[Frame]] = {}
    for size in ((640, 360), (1280, 720)):
        frames = load_frames(args.clip, size, args.frames, skip=200)
        cache[f"{size[0]}x{size[1]}"] = frames
        results[f"{size[0]}x{size[1]}"] = bench_size(frames, fps)
    print(f"\n{'ms per frame':28s} {'640x360':>10s} {'1280x720':>10s}")
    keys = [
        "downscale",
        "motion",
        "presence_numpy",
        "face_check",
        "pipeline_numpy",
        "pipeline_opencv",
        "decode",
    ]
    labels = {
        "downscale": "downscale+normalise",
        "motion": "motion stage (incl. downscale)",
        "presence_numpy": "still-person check (numpy)",
        "face_check": "face check (1 run, <=2 Hz)",
        "pipeline_numpy": "whole pipeline, numpy only",
        "pipeline_opencv": "whole pipeline, with OpenCV",
        "decode": "H.264 decode + luma view",
    }
    for key in keys:
        row = [results[s].get(key) for s in results]
        cells = " ".join(f"{v * 1000:10.3f}" if v is not None else f"{'-':>10s}" for v in row)
        print(f"{labels[key]:28s} {cells}")
    print()
    for name, res in results.items():
        dec = res["decode"]
        for key in ("pipeline_numpy", "pipeline_opencv"):
            if key in res:
                print(
                    f"{name} {key}: {res[key] / dec * 100:5.1f} % of decode; at 10 fps "
                    f"{res[key] * 10 * 100:4.2f} % of one core"
                )
    print()
    points = bench_memory(cache["640x360"], args.memory_frames, fps)
    print("memory (RSS MiB) after frames: " + ", ".join(f"{n}: {m:.1f}" for n, m in points))
    if len(points) >= 2:
        print(
            f"growth from {points[0][0]} to {points[-1][0]} frames: {points[-1][1] - points[0][1]:+.1f} MiB"
        )
    share = bench_eight_sources(cache["640x360"])
    dec = results["640x360"]["decode"]
    print(
        f"8 sources x 5 fps at 640x360: engines use {share * 100:.1f} % of one core"
        f" (+ decoding 40 frames/s: {(share + 40 * dec) * 100:.1f} %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
