"""Start a local Home Assistant with Smart Play set up on a bundled clip (scripts/demo).

Steps: install the frontend package HA pins (without it HA starts in recovery mode),
write a config dir (default .demo/config, git-ignored) from demo/configuration.yaml with
the repo's integration symlinked in, start `hass`, finish onboarding through HA's API
(user `demo` / `demo1234`), add Smart Play through the real config-flow REST API
(target: HA's demo media player, camera: the bundled clip, looped in real time), create
a "Smart Play" dashboard, then keep running until Ctrl-C (SIGINT/SIGTERM are forwarded
to hass and waited for). Running it again reuses the config, the user and the entry.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
import shutil
import signal
import socket
import sys
import time
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from hass_process import (  # noqa: E402
    HOST,
    HassClient,
    HassError,
    HassProcess,
    add_media_player_entry,
    ensure_frontend,
    find_clip,
)

TEMPLATE = REPO / "demo" / "configuration.yaml"
DEFAULT_DIR = REPO / ".demo" / "config"
DEFAULT_PLAYER = "media_player.walkman"
CLIP_PATTERNS = (
    "one-by-one-person-detection*.mp4",
    "*person*.mp4",
    "head-pose*.mp4",
    "*.mp4",
)
DASHBOARD = "smart-play"
RESTART_EXIT_CODE = 100  # what hass exits with when restarted from the UI


def log(msg: str) -> None:
    """Progress line on stdout."""
    print(f"[demo] {msg}", flush=True)


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) == 0


async def smart_play_entry(client: HassClient, source: str, player: str) -> dict[str, Any]:
    """Return the Smart Play entry: the existing one, else one made via the config flow."""
    entries = await client.config_entries("smart_play")
    if entries:
        log(f"Smart Play already set up: {entries[0]['title']}")
        return entries[0]
    if await client.state(player) is None:
        raise HassError(f"{player} does not exist; is the demo integration loaded?")
    log(f"Adding Smart Play via the config flow: target {player}, camera {source}")
    result = await add_media_player_entry(client, player, source, loop=True, name="Desk")
    if result.get("type") != "create_entry":
        raise HassError(f"config flow did not create an entry: {result}")
    return dict(result["result"])


async def enable_entities(client: HassClient, entry_id: str) -> list[dict[str, Any]]:
    """Enable entities disabled by the integration (e.g. the tracking camera)."""
    entities = await client.entities_of_entry(entry_id)
    disabled = [e for e in entities if e.get("disabled_by") == "integration"]
    for ent in disabled:
        await client.ws_command(
            {
                "type": "config/entity_registry/update",
                "entity_id": ent["entity_id"],
                "disabled_by": None,
            }
        )
    if disabled:
        log(f"Enabled {', '.join(e['entity_id'] for e in disabled)}; reloading the entry")
        await client.rest("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
        entities = await client.entities_of_entry(entry_id)
    return entities


def dashboard_config(entities: list[dict[str, Any]], player: str) -> dict[str, Any]:
    """Lovelace config of the Smart Play dashboard."""
    by_domain: dict[str, list[str]] = {}
    for ent in entities:
        by_domain.setdefault(ent["entity_id"].split(".")[0], []).append(ent["entity_id"])
    cards: list[dict[str, Any]] = [
        {"type": "picture-entity", "entity": camera, "camera_view": "live", "show_state": False}
        for camera in by_domain.get("camera", [])
    ]
    status = by_domain.get("binary_sensor", []) + by_domain.get("sensor", [])
    controls = by_domain.get("switch", []) + by_domain.get("number", [])
    if status:
        cards.append({"type": "entities", "title": "Occupancy", "entities": status})
    # A tile, not a media-control card: the latter loads the demo player's cover art
    # from the internet through HA, which hangs offline and starves the camera stream.
    cards.append({"type": "tile", "entity": player, "name": "Music (demo player)"})
    if controls:
        cards.append({"type": "entities", "title": "Smart Play", "entities": controls})
    return {
        "title": "Smart Play",
        "views": [{"title": "Smart Play", "path": "smart-play", "cards": cards}],
    }


async def ensure_dashboard(client: HassClient, config: dict[str, Any]) -> None:
    """Create (once) and fill the Smart Play dashboard."""
    dashboards = await client.ws_command({"type": "lovelace/dashboards/list"})
    if not any(d.get("url_path") == DASHBOARD for d in dashboards):
        await client.ws_command(
            {
                "type": "lovelace/dashboards/create",
                "url_path": DASHBOARD,
                "title": "Smart Play",
                "icon": "mdi:motion-play",
                "mode": "storage",
                "show_in_sidebar": True,
                "require_admin": False,
            }
        )
    await client.ws_command(
        {"type": "lovelace/config/save", "url_path": DASHBOARD, "config": config}
    )


async def configure(hass: HassProcess, source: str, player: str) -> list[dict[str, Any]]:
    """Set Smart Play and its dashboard up; return the entry's entities."""
    async with hass.client() as client:
        # What onboarding's location step would store (see HassProcess._seed_onboarding).
        await client.ws_command(
            {
                "type": "config/core/update",
                "location_name": "Smart Play demo",
                "country": "US",
                "currency": "USD",
                "unit_system": "metric",
                "time_zone": "UTC",
            }
        )
        entry = await smart_play_entry(client, source, player)
        deadline = time.monotonic() + 30
        entities: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not entities:
            entities = await client.entities_of_entry(entry["entry_id"])
            await asyncio.sleep(0.5)
        entities = await enable_entities(client, entry["entry_id"])
        await ensure_dashboard(client, dashboard_config(entities, player))
        return entities


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port", type=int, default=8123, help="HTTP port on 127.0.0.1 (default 8123)"
    )
    parser.add_argument(
        "--config-dir", type=Path, default=DEFAULT_DIR, help="HA config dir (default .demo/config)"
    )
    parser.add_argument("--source", help="camera source (default: the bundled clip in tests/data)")
    parser.add_argument(
        "--media-player", default=DEFAULT_PLAYER, help=f"target (default {DEFAULT_PLAYER})"
    )
    parser.add_argument("--reset", action="store_true", help="delete the demo config dir first")
    parser.add_argument(
        "--setup-only", action="store_true", help="set everything up, then stop hass"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C."""
    args = parse_args(argv)
    config_dir: Path = args.config_dir.resolve()
    if args.reset and config_dir.exists():
        log(f"Removing {config_dir}")
        shutil.rmtree(config_dir)
    source = args.source
    if source is None:
        clip = find_clip(*CLIP_PATTERNS)
        if clip is None:
            log("No clip in tests/data; pass --source (a file, rtsp:// URL or /dev/videoN)")
            return 2
        source = str(clip)
    if port_in_use(args.port):
        log(f"Port {args.port} is in use (another demo running?); choose one with --port")
        return 2

    ensure_frontend(log=log)
    config_dir.mkdir(parents=True, exist_ok=True)
    hass = HassProcess(config_dir, port=args.port, configuration=TEMPLATE.read_text())
    hass.prepare(overwrite=True)

    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        log(f"{signal.Signals(signum).name}: stopping Home Assistant ...")
        if hass.proc is not None and hass.proc.poll() is None:
            hass.proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    log(f"Starting Home Assistant ({config_dir}) ...")
    started = time.monotonic()
    try:
        hass.start(timeout=180, onboard=False)
        hass.login(full_onboarding=True)
        hass.wait_running(120)
        log(f"Home Assistant is up after {time.monotonic() - started:.1f} s")
        entities = asyncio.run(configure(hass, source, args.media_player))
    except (HassError, OSError) as err:
        if not stopping:
            log(f"Failed: {err}")
        hass.stop()
        return 0 if stopping else 1

    print(
        "\n"
        f"  Home Assistant:  {hass.url}/  (Smart Play dashboard: {hass.url}/{DASHBOARD}/smart-play)\n"
        f"  Login:           user {hass.username!r}, password {hass.password!r}\n"
        f"  Camera source:   {source} (looped)\n"
        f"  Pauses/resumes:  {args.media_player}\n"
        f"  Entities:        {', '.join(e['entity_id'] for e in entities) or '(none yet)'}\n"
        f"  Log:             {hass.log_path}\n"
        "  Ctrl-C stops Home Assistant.\n",
        flush=True,
    )
    if args.setup_only:
        hass.stop()
        return 0

    while True:
        assert hass.proc is not None
        code = hass.proc.wait()
        if code == RESTART_EXIT_CODE and not stopping:
            log("Home Assistant asked for a restart; starting it again")
            hass.proc = None
            hass.start(timeout=180)
            continue
        hass.stop()
        log(f"Home Assistant stopped (exit code {code})")
        return 0 if stopping or code == 0 else code


if __name__ == "__main__":
    sys.exit(main())
