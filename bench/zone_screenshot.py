"""Render the README picture of the zones to ignore: a real clip through the real engine.

Usage::

    python bench/zone_screenshot.py [CLIP] [--at 12.0] [--zone X0,Y0,X1,Y1] [--out docs/screenshots/07-zones.jpg]

The clip (default: the shared one-by-one clip, else the bundled copy) is analysed
from its start with the zone set, exactly as the integration does; the frame at
``--at`` seconds is drawn as the tracking view shows it (motion boxes, person box,
status bar, the hatched "ignored" zone) and saved as a JPEG.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from custom_components.smart_play.vision import render  # noqa: E402
from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine  # noqa: E402
from custom_components.smart_play.vision.gestures import parse_zone  # noqa: E402
from custom_components.smart_play.vision.source import iter_file_frames  # noqa: E402

SHARED = ROOT.parent / "shared" / "clips" / "one-by-one-person-detection.mp4"
BUNDLED = ROOT / "tests" / "data" / "one-by-one-person-detection.mp4"
WINDOW = "0, 0, 0.16, 0.42"  # the window at the top left of one-by-one


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "clip", nargs="?", type=Path, default=SHARED if SHARED.exists() else BUNDLED
    )
    parser.add_argument("--at", type=float, default=12.0, help="stream time of the frame (s)")
    parser.add_argument("--zone", default=WINDOW, help="left, top, right, bottom shares")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "07-zones.jpg")
    parser.add_argument("--quality", type=int, default=70)
    args = parser.parse_args(argv)
    x0, y0, x1, y1 = parse_zone(args.zone, min_side=0.02)
    zones = ((x0, y0, x1 - x0, y1 - y0),)
    engine = OccupancyEngine(EngineConfig(exclude_zones=zones, use_opencv=False))
    for frame in iter_file_frames(str(args.clip), 10.0):
        result = engine.process(frame)
        if frame.pts >= args.at:
            image = render.annotate(frame.image, result, delay=engine.config.delay)
            render.draw_zones(image, zones)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_bytes(render.encode_jpeg(image, args.quality))
            print(
                f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, t={frame.pts:.1f} s, {result.state.value})"
            )
            return 0
    print(f"{args.clip} is shorter than {args.at} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
