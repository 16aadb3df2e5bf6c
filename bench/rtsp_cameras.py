"""Eight RTSP cameras in a real Home Assistant: CPU and memory of Smart Play (run by hand).

    python bench/rtsp_cameras.py [--cameras 8] [--size 1280x720] [--stream-fps 25]
        [--fps 5] [--seconds 60] [--clip CLIP.mp4]

What it does, all on 127.0.0.1:

1. encodes the clip as H.264 at ``--size`` and ``--stream-fps`` (a camera's main
   or sub-stream; the clip's frames are played at that rate) and starts one
   gst-rtsp-server (tests/servers/rtsp_server.py) per camera;
2. starts a real ``hass`` (tests/e2e/hass_process.py, demo media players) and
   measures its CPU and RSS without any Smart Play entry (the baseline);
3. adds ``--cameras`` Smart Play entries through the real config flow, one per
   server, restarts hass once with each entry's analysed frame rate set to
   ``--fps`` (the ``fps`` entry option, written into the entry storage while
   hass is stopped), waits for every camera to stream, and measures again.

Printed: the CPU of the whole hass process over ``--seconds`` (decoding of all
streams included) in % of one core, minus the baseline = Smart Play's share,
per camera; RSS per camera; and for comparison the CPU of decoding the same
streams alone (PyAV in this process, one thread per stream, nothing else).
Target (issue 12): 8 cameras at 1280x720, 25 fps streams, 5 fps analysed: <= 1 core.
"""

from __future__ import annotations

import argparse
import asyncio
from fractions import Fraction
import importlib.util
import json
import os
from pathlib import Path
import sys
import tempfile
import threading
import time

import av
import psutil

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from tests.e2e.hass_process import HassProcess, add_media_player_entry, ensure_frontend  # noqa: E402
from tests.servers.rtsp_server import RtspServer, ensure_installed  # noqa: E402

PLAYER = "media_player.walkman"
DEFAULT_CLIP = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"


def encode(clip: Path, out: Path, size: tuple[int, int], fps: int) -> Path:
    """The clip's frames as an H.264 camera stream at ``size`` and ``fps`` (GOP 2 s, no B-frames)."""
    with av.open(str(clip)) as src, av.open(str(out), "w") as dst:
        stream = dst.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": str(2 * fps), "bf": "0"}
        for index, frame in enumerate(src.decode(video=0)):
            scaled = frame.reformat(width=size[0], height=size[1], format="yuv420p")
            scaled.pts = index
            scaled.time_base = Fraction(1, fps)
            dst.mux(stream.encode(scaled))
        dst.mux(stream.encode(None))
    return out


def measure(proc: psutil.Process, seconds: float) -> tuple[float, float]:
    """(CPU in % of one core over ``seconds``, RSS MiB at the end) of ``proc`` and its threads."""
    start_cpu = sum(proc.cpu_times()[:2])
    start = time.monotonic()
    time.sleep(seconds)
    cpu = sum(proc.cpu_times()[:2]) - start_cpu
    return 100.0 * cpu / (time.monotonic() - start), proc.memory_info().rss / 2**20


def decode_only(urls: list[str], seconds: float) -> float:
    """CPU % of one core to decode every stream, one reader thread each, nothing else."""
    stop = threading.Event()

    def read(url: str) -> None:
        with av.open(url, options={"rtsp_transport": "tcp"}) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1  # as Smart Play's live sources
            for _frame in container.decode(stream):
                if stop.is_set():
                    return

    threads = [threading.Thread(target=read, args=(u,), daemon=True) for u in urls]
    for thread in threads:
        thread.start()
    time.sleep(3)  # connected, first keyframes decoded
    me = psutil.Process()
    start_cpu = sum(me.cpu_times()[:2])
    start = time.monotonic()
    time.sleep(seconds)
    cpu = sum(me.cpu_times()[:2]) - start_cpu
    elapsed = time.monotonic() - start
    stop.set()
    for thread in threads:
        thread.join(5)
    return 100.0 * cpu / elapsed


def set_fps(config_dir: Path, fps: float) -> int:
    """Write ``fps`` into the options of every Smart Play entry (hass must be stopped)."""
    path = config_dir / ".storage" / "core.config_entries"
    data = json.loads(path.read_text())
    count = 0
    for entry in data["data"]["entries"]:
        if entry["domain"] == "smart_play":
            entry["options"] = {**entry.get("options", {}), "fps": fps}
            count += 1
    path.write_text(json.dumps(data, indent=2))
    return count


async def wait_streaming(hass: HassProcess, entry_ids: list[str], within: float) -> None:
    """Wait until every entry's occupancy sensor is available (its camera streams)."""
    deadline = time.monotonic() + within
    async with hass.client() as client:
        while True:
            sensors = []
            for entry_id in entry_ids:
                entities = await client.entities_of_entry(entry_id)
                sensors += [
                    e["entity_id"] for e in entities if e["entity_id"].endswith("_occupancy")
                ]
            states = [await client.state(s) for s in sensors]
            ready = [s for s in states if s and s["state"] not in ("unavailable", "unknown")]
            if len(ready) >= len(entry_ids):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(ready)} of {len(entry_ids)} cameras stream")
            await asyncio.sleep(1)


async def add_entries(hass: HassProcess, urls: list[str]) -> list[str]:
    """One Smart Play entry per camera URL, through the real config flow."""
    ids = []
    async with hass.client() as client:
        for index, url in enumerate(urls):
            result = await add_media_player_entry(
                client, PLAYER, url, loop=False, name=f"Cam {index + 1}"
            )
            if result.get("type") != "create_entry":
                raise SystemExit(f"config flow failed: {result}")
            ids.append(result["result"]["entry_id"])
    return ids


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--stream-fps", type=int, default=25)
    parser.add_argument("--fps", type=float, default=5.0, help="frames analysed per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP)
    args = parser.parse_args()
    if reason := ensure_installed():
        raise SystemExit(f"RTSP server unavailable: {reason}")
    ensure_frontend()
    width, height = (int(v) for v in args.size.lower().split("x"))
    work = Path(tempfile.mkdtemp(prefix="smart_play_cams_"))
    clip = encode(args.clip, work / "camera.mp4", (width, height), args.stream_fps)
    servers = [RtspServer(clip, loop_seconds=args.seconds * 3 + 600) for _ in range(args.cameras)]
    hass = HassProcess(work / "config")
    try:
        print(
            f"[cams] {args.cameras} RTSP servers, {args.size} at {args.stream_fps} fps ...",
            flush=True,
        )
        for server in servers:
            server.start()
        urls = [server.url for server in servers]
        hass.start(timeout=240)
        assert hass.proc is not None
        time.sleep(10)
        base_cpu, base_rss = measure(psutil.Process(hass.proc.pid), min(30.0, args.seconds))
        print(
            f"[cams] hass without Smart Play: {base_cpu:.1f} % CPU, RSS {base_rss:.0f} MiB",
            flush=True,
        )
        ids = asyncio.run(add_entries(hass, urls))
        hass.stop()
        set_fps(hass.config_dir, args.fps)
        hass.start(timeout=240)
        assert hass.proc is not None
        asyncio.run(wait_streaming(hass, ids, 120))
        time.sleep(15)  # warm up: references learned, first transitions done
        cpu, rss = measure(psutil.Process(hass.proc.pid), args.seconds)
        threads = psutil.Process(hass.proc.pid).num_threads()
        decode = decode_only(urls, min(30.0, args.seconds))
    finally:
        hass.stop()
        for server in servers:
            server.close()
    share = cpu - base_cpu
    load = os.getloadavg()[0]
    print()
    print(
        f"{args.cameras} cameras, {args.size} H.264 at {args.stream_fps} fps, {args.fps:g} fps analysed"
        f" (load average {load:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"hass process, all cameras:     {cpu:6.1f} % of one core, RSS {rss:.0f} MiB, {threads} threads"
    )
    print(f"hass process, no Smart Play:   {base_cpu:6.1f} % of one core, RSS {base_rss:.0f} MiB")
    print(
        f"Smart Play (decoding incl.):   {share:6.1f} % of one core"
        f" ({share / args.cameras:.1f} % per camera); target <= 100 %"
    )
    print(f"RSS per camera:                {(rss - base_rss) / args.cameras:6.1f} MiB")
    print(
        f"decoding the {args.cameras} streams alone: {decode:6.1f} % of one core"
        f" -> Smart Play / decode-only = {share / max(decode, 1e-6):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
