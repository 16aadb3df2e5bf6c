"""Command line of the desk agent: ``smart-play-agent`` / ``python -m smart_play_agent``.

Three ways to run it:

* ``smart-play-agent --url URL --key KEY [CAMERA]`` reports the camera to the Smart
  Play entry in Home Assistant (the config flow shows this command, filled in);
* ``smart-play-agent SOURCE [--json] [--delay S] ...`` without ``--url`` analyses
  locally and prints the transitions, exactly as the integration's own command line
  (``python -m custom_components.smart_play.vision``) does: it *is* that code;
* ``smart-play-agent --list-cameras`` lists the cameras of this computer.

Only the standard library is imported here; numpy and PyAV are imported once a run
starts, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .vision.__main__ import add_engine_arguments, run_cli

ENV_URL = "SMART_PLAY_URL"
ENV_KEY = "SMART_PLAY_KEY"


def build_parser() -> argparse.ArgumentParser:
    """Argument parser of the agent."""
    parser = argparse.ArgumentParser(
        prog="smart-play-agent",
        description=(
            "Smart Play desk agent: analyses a camera of this computer and reports "
            "occupancy to Home Assistant. Frames never leave this computer."
        ),
        epilog=(
            "Without --url the camera or file is analysed locally and every occupancy "
            "change is printed (as python -m custom_components.smart_play.vision does)."
        ),
    )
    parser.add_argument(
        "source",
        nargs="?",
        help=(
            "camera (index or /dev/videoN; see --list-cameras), video file, rtsp:// or "
            "http(s):// URL; with --url the default is this computer's first camera"
        ),
    )
    parser.add_argument(
        "--url",
        default=os.environ.get(ENV_URL),
        help=f"Home Assistant URL, e.g. http://homeassistant.local:8123 (or ${ENV_URL})",
    )
    parser.add_argument(
        "--key",
        default=os.environ.get(ENV_KEY),
        help=f"the key Home Assistant showed when you added the entry (or ${ENV_KEY})",
    )
    parser.add_argument(
        "--list-cameras", action="store_true", help="list the cameras of this computer and exit"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="seconds between heartbeats to Home Assistant (default 5)",
    )
    parser.add_argument(
        "--loop", action="store_true", help="with --url and a file: play it in a loop"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_engine_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``smart-play-agent``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_cameras:
        from .cameras import print_cameras

        return print_cameras()
    if args.url or args.key:
        if not (args.url and args.key):
            parser.error("--url and --key go together (Home Assistant shows both)")
        from .link import run_agent

        return run_agent(args)
    if args.source is None:
        parser.error("give a camera or file to analyse locally, or --url and --key")
    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())
