"""Soak test: a looping RTSP stream into a real Home Assistant with Smart Play, for N minutes.

Run by hand (not part of the test suite):

    .venv/bin/python bench/soak.py --minutes 30

What it sets up: gst-rtsp-server (tests/servers) streaming the labelled clip
tests/data/one-by-one-person-detection.mp4 in a loop; a real `hass` (HA's demo
integration, Smart Play symlinked) whose config dir also holds a tiny `loop_lag`
component measuring how late a 100 ms event-loop timer fires; Smart Play added through
the config flow with the RTSP URL, pausing HA's demo media player.

What it prints: CPU % of the hass process (average over the measured window), RSS and
thread count at start and end, event-loop lag (p50/p99/max of the 100 ms timer's
lateness), occupancy transitions compared with the clip's labels (false transitions),
and how many pause/resume commands were sent.

Options: ``--control`` runs the same hass, demo and RTSP server without the Smart Play
entry (Home Assistant's own drift, to subtract); ``--jemalloc`` preloads jemalloc with
the configuration of Home Assistant's official container (what HA OS and container users
run; needs Debian's libjemalloc2); ``--tracemalloc`` traces hass's Python allocations
and prints the source lines whose memory grew between the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.hass_process import HassClient, HassProcess, add_media_player_entry, ensure_frontend  # noqa: E402
from tests.servers.rtsp_server import RtspServer, ensure_installed  # noqa: E402

CLIP = REPO / "tests" / "data" / "one-by-one-person-detection.mp4"
PLAYER = "media_player.walkman"
WARMUP = 20.0  # seconds after setup before measuring
TOLERANCE = 4.0  # seconds: a transition this close to a labelled change is a true one

LOOP_LAG_MANIFEST = {
    "domain": "loop_lag",
    "name": "Loop lag (soak test)",
    "codeowners": [],
    "documentation": "https://example.invalid/loop_lag",
    "iot_class": "calculated",
    "requirements": [],
    "version": "1.0.0",
}
LOOP_LAG_INIT = '''"""Soak-test helper: how late does a 100 ms event-loop timer fire?"""

from array import array
from datetime import timedelta
import gc
import tracemalloc

from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType

DOMAIN = "loop_lag"
INTERVAL = 0.1


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the timer, publish sensor.loop_lag every 5 s, offer loop_lag.reset/snapshot."""
    # A preallocated ring (the last ~55 min at 10 samples/s): the probe must not grow
    # the RSS it measures (a list of floats grew ~0.4 MB in 20 min).
    ring = array("d", bytes(8 * 33000))
    count = [0]
    expected = [hass.loop.time() + INTERVAL]

    def tick() -> None:
        now = hass.loop.time()
        ring[count[0] % len(ring)] = max(0.0, now - expected[0])
        count[0] += 1
        expected[0] = now + INTERVAL
        hass.loop.call_later(INTERVAL, tick)

    hass.loop.call_later(INTERVAL, tick)

    @callback
    def publish(_now: object = None) -> None:
        if not count[0]:
            return
        ordered = sorted(ring[: min(count[0], len(ring))])
        pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
        hass.states.async_set(
            "sensor.loop_lag",
            round(pick(0.99), 2),
            {
                "p50_ms": round(pick(0.5), 2),
                "p99_ms": round(pick(0.99), 2),
                "max_ms": round(ordered[-1] * 1000, 2),
                "samples": len(ordered),
                "unit_of_measurement": "ms",
            },
        )

    @callback
    def reset(_call: ServiceCall) -> None:
        count[0] = 0

    def snapshot(call: ServiceCall) -> None:
        # Runs in the executor: dumping a tracemalloc snapshot takes a while.
        if tracemalloc.is_tracing():
            gc.collect()
            tracemalloc.take_snapshot().dump(call.data["path"])

    hass.services.async_register(DOMAIN, "reset", reset)
    hass.services.async_register(DOMAIN, "snapshot", snapshot)
    async_track_time_interval(hass, publish, timedelta(seconds=5))
    return True
'''


def write_loop_lag(folder: Path) -> Path:
    """Write the loop_lag custom component into `folder` and return its path."""
    comp = folder / "loop_lag"
    comp.mkdir(parents=True, exist_ok=True)
    (comp / "manifest.json").write_text(json.dumps(LOOP_LAG_MANIFEST, indent=2))
    (comp / "__init__.py").write_text(LOOP_LAG_INIT)
    return comp


def labelled_changes(clip: Path) -> tuple[float, list[tuple[float, bool]]]:
    """(clip duration, [(t, occupied)]) from the clip's label file."""
    labels = json.loads(clip.with_suffix(".json").read_text())
    changes: list[tuple[float, bool]] = []
    for start, end in labels["present"]:
        changes += [(float(start), True), (float(end), False)]
    return float(labels["duration_s"]), changes


@dataclass
class Sample:
    """Resource use of the hass process at one moment."""

    t: float
    cpu_seconds: float
    rss_mb: float
    threads: int


@dataclass
class Observed:
    """What the websocket told us during the measured window."""

    transitions: list[tuple[float, str]] = field(default_factory=list)  # (t, on/off/unavailable)
    paused: int = 0
    resumed: int = 0
    skipped: int = 0


def sample(proc: psutil.Process) -> Sample:
    """CPU time, RSS and threads of hass now."""
    with proc.oneshot():
        cpu = proc.cpu_times()
        return Sample(
            time.monotonic(),
            cpu.user + cpu.system,
            proc.memory_info().rss / 2**20,
            proc.num_threads(),
        )


def classify(
    transitions: list[tuple[float, str]], duration: float, changes: list[tuple[float, bool]]
) -> tuple[int, int, float | None]:
    """Count (true, false) transitions against the labels; also return the offset used.

    The stream's clock is unknown, so the offset (stream time 0 in our clock) is the
    one that lines up most transitions with labelled changes (searched in 0.1 s steps).
    """
    onoff = [(t, s == "on") for t, s in transitions if s in ("on", "off")]
    if not onoff:
        return 0, 0, None

    def matches(offset: float) -> list[bool]:
        out = []
        for t, occupied in onoff:
            pos = (t - offset) % duration
            out.append(
                any(
                    occ == occupied and min(abs(pos - c), duration - abs(pos - c)) <= TOLERANCE
                    for c, occ in changes
                )
            )
        return out

    best = max(
        (onoff[0][0] - k * 0.1 for k in range(int(duration * 10))),
        key=lambda off: sum(matches(off)),
    )
    good = matches(best)
    return sum(good), len(good) - sum(good), best


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Set everything up, measure for args.minutes, tear down; return the numbers."""
    if reason := ensure_installed():
        raise SystemExit(f"RTSP server unavailable: {reason}")
    ensure_frontend()
    duration, changes = labelled_changes(args.clip)
    work = Path(tempfile.mkdtemp(prefix="smart_play_soak_"))
    lag_comp = write_loop_lag(work / "components")
    server = RtspServer(args.clip, loop_seconds=args.minutes * 60 + 300)
    hass = HassProcess(
        work / "config",
        extra_config="demo:\nloop_lag:\n",
        custom_components={
            "smart_play": REPO / "custom_components" / "smart_play",
            "loop_lag": lag_comp,
        },
        env=hass_env(args),
    )
    observed = Observed()
    try:
        print(f"[soak] preparing the RTSP server ({args.clip.name}, looped) ...", flush=True)
        server.start()
        hass.start(timeout=180)
        assert hass.proc is not None
        proc = psutil.Process(hass.proc.pid)
        async with hass.client() as client:
            if args.control:
                # Same hass, demo and RTSP server, but no Smart Play entry: HA's own drift.
                entry_id, sensor = "", "binary_sensor.none"
                print(f"[soak] control run: hass pid {proc.pid} without Smart Play", flush=True)
            else:
                result = await add_media_player_entry(client, PLAYER, server.url, loop=False)
                if result.get("type") != "create_entry":
                    raise SystemExit(f"config flow failed: {result}")
                entry_id = result["result"]["entry_id"]
                sensor = await occupancy_sensor(client, entry_id)
                print(
                    f"[soak] hass pid {proc.pid}, {sensor} on {server.url}; "
                    f"warming up {WARMUP:.0f} s",
                    flush=True,
                )
            await asyncio.sleep(WARMUP)
            events = await client.subscribe_events()
            await client.call_service("loop_lag", "reset")
            if args.tracemalloc:
                await client.call_service("loop_lag", "snapshot", {"path": str(work / "start.tm")})
                await wait_for_file(work / "start.tm")
            start = sample(proc)
            end_at = time.monotonic() + args.minutes * 60
            reader = asyncio.create_task(collect(events, sensor, entry_id, observed))
            last_print = time.monotonic()
            while (now := time.monotonic()) < end_at:
                await asyncio.sleep(min(5.0, end_at - now))
                if time.monotonic() - last_print >= 60:
                    last_print = time.monotonic()
                    cur = sample(proc)
                    print(
                        f"[soak] {(cur.t - start.t) / 60:5.1f} min: RSS {cur.rss_mb:.0f} MB, "
                        f"{cur.threads} threads, {len(observed.transitions)} transitions",
                        flush=True,
                    )
            end = sample(proc)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await asyncio.sleep(5.5)  # let loop_lag publish its last numbers
        # HA access tokens live 30 minutes: read the result with a fresh one.
        async with hass.client() as fresh:
            lag = await fresh.state("sensor.loop_lag")
            if args.tracemalloc:
                await fresh.call_service("loop_lag", "snapshot", {"path": str(work / "end.tm")})
                await wait_for_file(work / "end.tm")
    finally:
        hass.stop()
        server.close()

    if args.tracemalloc:
        print_growth(work / "start.tm", work / "end.tm")
    true_n, false_n, offset = classify(observed.transitions, duration, changes)
    wall = end.t - start.t
    loops = wall / duration
    return {
        "minutes": round(wall / 60, 2),
        "clip_loops": round(loops, 2),
        "cpu_percent": round(100 * (end.cpu_seconds - start.cpu_seconds) / wall, 1),
        "rss_mb_start": round(start.rss_mb, 1),
        "rss_mb_end": round(end.rss_mb, 1),
        "threads_start": start.threads,
        "threads_end": end.threads,
        "loop_lag_ms": {
            k: (lag or {}).get("attributes", {}).get(k)
            for k in ("p50_ms", "p99_ms", "max_ms", "samples")
        },
        "transitions": len(observed.transitions),
        "labelled_changes_in_window": round(len(changes) * loops),
        "true_transitions": true_n,
        "false_transitions": false_n,
        "unavailable": sum(1 for _t, s in observed.transitions if s == "unavailable"),
        "alignment_offset_s": offset,
        "paused": observed.paused,
        "resumed": observed.resumed,
        "resume_skipped": observed.skipped,
        "log": str(hass.log_path),
    }


# Home Assistant's official container (and so HA OS) preloads jemalloc with this configuration.
HA_MALLOC_CONF = (
    "background_thread:true,metadata_thp:auto,dirty_decay_ms:20000,muzzy_decay_ms:20000"
)


def hass_env(args: argparse.Namespace) -> dict[str, str]:
    """Environment of the hass process for the chosen options."""
    env: dict[str, str] = {}
    if args.tracemalloc:
        env["PYTHONTRACEMALLOC"] = "8"
    if args.jemalloc:
        found = sorted(Path("/usr/lib").glob("*/libjemalloc.so.2")) + sorted(
            Path("/usr/local/lib").glob("libjemalloc.so.2")
        )
        if not found:
            raise SystemExit("--jemalloc: install it first (Debian: apt-get install libjemalloc2)")
        env["LD_PRELOAD"] = str(found[0])
        env["MALLOC_CONF"] = HA_MALLOC_CONF
    return env


async def wait_for_file(path: Path, limit: float = 300.0) -> None:
    """Wait until hass has finished writing ``path`` (its size stops changing)."""
    last, stable_since, deadline = -1, time.monotonic(), time.monotonic() + limit
    while time.monotonic() < deadline:
        size = os.stat(path).st_size if os.path.exists(path) else -1  # noqa: ASYNC240
        if size != last:
            last, stable_since = size, time.monotonic()
        elif size > 0 and time.monotonic() - stable_since >= 3.0:
            return
        await asyncio.sleep(0.5)
    raise SystemExit(f"hass did not write {path}")


def print_growth(start: Path, end: Path, top: int = 25) -> None:
    """Where Python-level memory grew between two tracemalloc snapshots of hass."""
    import tracemalloc

    before = tracemalloc.Snapshot.load(str(start))
    after = tracemalloc.Snapshot.load(str(end))
    total = sum(s.size for s in after.statistics("filename")) - sum(
        s.size for s in before.statistics("filename")
    )
    print(f"[soak] traced Python memory grew by {total / 2**20:+.2f} MiB; top lines:")
    for stat in after.compare_to(before, "lineno")[:top]:
        frame = stat.traceback[0]
        name = "/".join(Path(frame.filename).parts[-3:])
        print(
            f"  {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {name}:{frame.lineno}"
        )


async def occupancy_sensor(client: HassClient, entry_id: str) -> str:
    """The entry's occupancy binary sensor."""
    for _ in range(60):
        for ent in await client.entities_of_entry(entry_id):
            if ent["entity_id"].startswith("binary_sensor."):
                return str(ent["entity_id"])
        await asyncio.sleep(0.5)
    raise SystemExit("no occupancy sensor appeared")


async def collect(
    events: asyncio.Queue[dict[str, Any]], sensor: str, entry_id: str, observed: Observed
) -> None:
    """Record occupancy changes and Smart Play events from the websocket."""
    while True:
        event = await events.get()
        kind = event["event_type"]
        data = event["data"]
        if kind == "state_changed" and data["entity_id"] == sensor:
            old, new = data["old_state"], data["new_state"]
            if new is not None and (old is None or old["state"] != new["state"]):
                observed.transitions.append((time.monotonic(), new["state"]))
        elif data.get("entry_id") == entry_id:
            if kind == "smart_play_paused":
                observed.paused += 1
            elif kind == "smart_play_resumed":
                observed.resumed += 1
            elif kind == "smart_play_resume_skipped":
                observed.skipped += 1


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="measured time (default 30)")
    parser.add_argument("--clip", type=Path, default=CLIP, help="labelled clip (needs CLIP.json)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace hass's Python allocations and print where memory grew (slower)",
    )
    parser.add_argument(
        "--jemalloc",
        action="store_true",
        help="run hass on jemalloc configured like Home Assistant's official container",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="the same setup without the Smart Play entry (Home Assistant's own drift)",
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    lag = result["loop_lag_ms"]
    print(
        f"""
Soak{" (control, no Smart Play)" if args.control else ""}{" on jemalloc" if args.jemalloc else ""}: {result["minutes"]} min of RTSP ({result["clip_loops"]} loops of the clip)
  hass CPU           {result["cpu_percent"]} % of one core (average)
  hass RSS           {result["rss_mb_start"]} MB -> {result["rss_mb_end"]} MB
  hass threads       {result["threads_start"]} -> {result["threads_end"]}
  event-loop lag     p50 {lag["p50_ms"]} ms, p99 {lag["p99_ms"]} ms, max {lag["max_ms"]} ms ({lag["samples"]} samples of a 100 ms timer)
  transitions        {result["transitions"]} (labelled changes in the window: ~{result["labelled_changes_in_window"]})
  false transitions  {result["false_transitions"]} (true: {result["true_transitions"]}, unavailable: {result["unavailable"]})
  player commands    {result["paused"]} pauses, {result["resumed"]} resumes, {result["resume_skipped"]} resumes skipped
  hass log           {result["log"]}"""
    )


if __name__ == "__main__":
    main()
