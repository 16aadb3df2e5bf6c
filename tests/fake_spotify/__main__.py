"""Run the fake Spotify standalone: ``python -m tests.fake_spotify [--port N] [--play]``.

For end-to-end tests and demos with a real Home Assistant: start hass with the env of
``tests.e2e.hass_process.fake_spotify_env(<url>)`` (a test-only import hook on its
``PYTHONPATH`` points Smart Play at the fake; production has no such switch), use client id ``fake-client-id`` / secret ``fake-client-secret``; ``GET /authorize``
approves at once. Drive it with ``POST /_fake/<action>`` (see ``FakeSpotify._control``),
watch it with ``GET /_fake/state`` and ``GET /_fake/log``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from .server import FakeSpotify


async def _main(port: int, play: bool) -> None:
    server = FakeSpotify()
    await server.start(port=port)
    if play:
        server.user_play()
    print(f"fake Spotify on {server.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main() -> None:
    """Parse arguments and serve until SIGINT/SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--play", action="store_true", help="start with music playing")
    args = parser.parse_args()
    asyncio.run(_main(args.port, args.play))


if __name__ == "__main__":
    main()
