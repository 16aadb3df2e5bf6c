"""Digest of every engine output, to prove that a speed-up changed no decision (run by hand).

    python bench/engine_digest.py CLIP_OR_FOLDER ... [--rates native,1,2,3,5,10,15]
        [--no-opencv] [--out FILE.json] [--compare OLD.json]

For every clip and analysis rate the engine runs on every kept frame (as
``bench/evaluate.py`` does) and each :class:`FrameResult` (time, state,
presence, motion score as its exact float, motion boxes, person box,
countdown, transition, reason) goes into a SHA-256 digest. Two runs with the
same digests gave bit-identical engine output on every frame; ``--compare``
lists the clips/rates that differ and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
if importlib.util.find_spec("custom_components") is None:
    sys.path.insert(0, str(ROOT))

from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine  # noqa: E402
from custom_components.smart_play.vision.frames import iter_file_frames  # noqa: E402
from custom_components.smart_play.vision.types import FrameResult  # noqa: E402


def line(result: FrameResult) -> str:
    """Every field of one result, floats exact (repr)."""
    tr = result.transition
    trans = None if tr is None else (repr(tr.t), tr.state.value, tr.reason)
    return repr(
        (
            repr(result.t),
            result.state.value,
            result.presence,
            repr(result.motion_score),
            result.motion_boxes,
            result.person_box,
            None if result.countdown is None else repr(result.countdown),
            trans,
            result.reason,
        )
    )


def digest(clip: Path, rate: float | None, use_opencv: bool) -> tuple[str, int]:
    """(hex digest, frames) of the engine's output on ``clip`` at ``rate``.

    A label file beside the clip with ``exclude_zones`` runs the engine with
    those zones (as ``bench/evaluate.py`` does).
    """
    labels = clip.with_suffix(".json")
    zones = json.loads(labels.read_text()).get("exclude_zones") if labels.exists() else None
    config = EngineConfig(use_opencv=use_opencv)
    if zones:
        config.exclude_zones = tuple(tuple(float(v) for v in z) for z in zones)  # type: ignore[misc]
    engine = OccupancyEngine(config)
    sha = hashlib.sha256()
    count = 0
    for frame in iter_file_frames(clip, fps_cap=rate):
        sha.update(line(engine.process(frame)).encode())
        sha.update(b"\n")
        count += 1
    return sha.hexdigest(), count


def main(argv: list[str] | None = None) -> int:
    """Digest every clip at every rate; optionally compare with an earlier run."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clips", nargs="+", type=Path)
    parser.add_argument("--rates", default="native,1,2,3,5,10,15")
    parser.add_argument("--no-opencv", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--compare", type=Path, default=None)
    args = parser.parse_args(argv)
    clips: list[Path] = []
    for item in args.clips:
        clips.extend(sorted(item.glob("*.mp4")) if item.is_dir() else [item])
    rates = [None if r == "native" else float(r) for r in args.rates.split(",") if r]
    out: dict[str, list[object]] = {}
    for clip in clips:
        for rate in rates:
            key = f"{clip.name}@{'native' if rate is None else f'{rate:g}'}"
            hexd, count = digest(clip, rate, not args.no_opencv)
            out[key] = [hexd, count]
            print(f"{key:50s} {count:6d} {hexd[:16]}", flush=True)
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))
    if args.compare:
        old = json.loads(args.compare.read_text())
        bad = [k for k in out if old.get(k) != out[k]]
        missing = [k for k in old if k not in out]
        for key in bad:
            print(f"DIFFERS: {key}")
        print(f"{len(out) - len(bad)} of {len(out)} identical; {len(missing)} not run")
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
