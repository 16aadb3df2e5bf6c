"""Scenario clips built from real frames of the bundled clips, one controlled change each.

Usage::

    python bench/scenarios.py --out DIR [--fps 10] [--only NAME ...] [--list]

Every scenario starts from real footage of ``tests/data`` (the empty room and
the people of ``one-by-one-person-detection``, the seated man of
``head-pose-male-preview``): real pixels and real sensor noise, re-timed (frames
played back and forth over a still stretch) and changed in ONE controlled way
(a lamp, a sun patch, a monitor, a cat-sized blob, dimmed lights, a camera
bump, an IR switch, a person composited bigger or leaving behind the pillar).
Each scenario yields ``(t, rgb)`` frames and a label dict in the format of
``tests/data/README.md`` (``present``/``still`` intervals), plus
``exclude_zones`` where the scenario is meant to be watched with a zone.

Generation is deterministic (seeded noise only; the same arguments give the
same frames). ``--out`` writes ``NAME.mp4`` + ``NAME.json`` for every scenario,
so ``bench/evaluate.py DIR`` and the CLI run them exactly like any other clip.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
import json
import math
from pathlib import Path
import sys

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OBO = "one-by-one-person-detection"
SEATED = "head-pose-male-preview"
LICENSE = (
    "derived from CC BY 4.0 footage: Intel IoT Dev Kit sample videos, "
    "https://github.com/intel-iot-devkit/sample-videos (re-timed and edited as described)"
)

# one-by-one (320x180, 10 fps): where things are in the real footage (s).
EMPTY = (0.0, 5.9)  # empty room before the first person (60 real frames)
ENTER = (6.0, 9.0)  # person 1 walks in from the bottom edge to the table
STILL = (9.0, 17.0)  # person 1 stands at the table, back to the camera
LEAVE = (17.0, 20.4)  # person 1 walks out at the bottom (19.9: gone; shadow until 20.3)
AFTER = (20.4, 22.6)  # empty room again, no shadow (played back and forth: must be clean)
PILLAR_X = 218  # left edge of the pillar right of the table (px, 320 wide)

Image = np.ndarray  # HxWx3 uint8 RGB


@cache
def footage(name: str) -> np.ndarray:
    """All frames of a bundled clip as one uint8 array (N, H, W, 3), decoded once."""
    import av

    with av.open(str(DATA / f"{name}.mp4")) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@cache
def clip_fps(name: str) -> float:
    """Native frame rate of a bundled clip (from its labels)."""
    return float(json.loads((DATA / f"{name}.json").read_text())["fps"])


@cache
def background(name: str = OBO) -> np.ndarray:
    """Median of the real empty-room frames (float32), the reference for segmenting people."""
    frames = footage(name)
    fps = clip_fps(name)
    return np.median(frames[int(EMPTY[0] * fps) : int(EMPTY[1] * fps) + 1], axis=0).astype(
        np.float32
    )


def _box_blur(mask: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2r+1)^2 window (edges padded), numpy only."""
    padded = np.pad(mask.astype(np.float32), radius + 1, mode="edge")
    csum = padded.cumsum(0).cumsum(1)
    k = 2 * radius + 1
    out = csum[k:, k:] - csum[:-k, k:] - csum[k:, :-k] + csum[:-k, :-k]
    return out[: mask.shape[0], : mask.shape[1]] / (k * k)


@dataclass(frozen=True)
class Sprite:
    """A person cut out of a real frame: RGB and alpha (0..1) of its bounding box."""

    rgb: np.ndarray  # h x w x 3 float32
    alpha: np.ndarray  # h x w float32
    x: int  # where the box was in the source frame
    y: int

    @property
    def area(self) -> float:
        """Pixels covered by the person."""
        return float(self.alpha.sum())

    def scaled(self, factor: float) -> Sprite:
        """The sprite enlarged by ``factor`` (bilinear), as if closer to the camera."""
        h, w = self.alpha.shape
        nh, nw = round(h * factor), round(w * factor)
        ys = np.clip((np.arange(nh) + 0.5) / factor - 0.5, 0, h - 1)
        xs = np.clip((np.arange(nw) + 0.5) / factor - 0.5, 0, w - 1)
        y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
        y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
        fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]

        def lerp(a: np.ndarray) -> np.ndarray:
            if a.ndim == 3:
                fyy, fxx = fy[..., None], fx[..., None]
            else:
                fyy, fxx = fy, fx
            top = a[y0][:, x0] * (1 - fxx) + a[y0][:, x1] * fxx
            bottom = a[y1][:, x0] * (1 - fxx) + a[y1][:, x1] * fxx
            return (top * (1 - fyy) + bottom * fyy).astype(np.float32)

        return Sprite(
            lerp(self.rgb), lerp(self.alpha), round(self.x * factor), round(self.y * factor)
        )


def cut_person(frame: np.ndarray, name: str = OBO, threshold: float = 28.0) -> Sprite:
    """Segment the person of a real frame by its difference from the real empty room."""
    diff = np.abs(frame.astype(np.float32) - background(name)).max(axis=2)
    mask = diff > threshold
    mask = _box_blur(mask, 2) > 0.5  # drop specks (open) ...
    mask = _box_blur(mask, 3) > 0.2  # ... close small holes ...
    mask = _box_blur(mask, 2) > 0.95  # ... and shrink back: no halo of the old background
    alpha = np.clip(_box_blur(mask, 1), 0.0, 1.0)
    ys, xs = np.nonzero(alpha > 0)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    return Sprite(
        frame[y0:y1, x0:x1].astype(np.float32),
        alpha[y0:y1, x0:x1].astype(np.float32),
        int(x0),
        int(y0),
    )


def paste(
    base: np.ndarray, sprite: Sprite, x: int, y: int, visible: np.ndarray | None = None
) -> None:
    """Alpha-blend ``sprite`` into float ``base`` with its box at (x, y); ``visible``: HxW 0..1 mask."""
    h, w = sprite.alpha.shape
    H, W = base.shape[:2]
    bx0, by0, bx1, by1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if bx0 >= bx1 or by0 >= by1:
        return
    a = sprite.alpha[by0 - y : by1 - y, bx0 - x : bx1 - x]
    if visible is not None:
        a = a * visible[by0:by1, bx0:bx1]
    a = a[..., None]
    rgb = sprite.rgb[by0 - y : by1 - y, bx0 - x : bx1 - x]
    base[by0:by1, bx0:bx1] = base[by0:by1, bx0:bx1] * (1 - a) + rgb * a


def visible_area(
    shape: tuple[int, int], sprite: Sprite, x: int, y: int, visible: np.ndarray | None = None
) -> float:
    """Pixels of the person that are inside the picture (and not hidden)."""
    h, w = sprite.alpha.shape
    bx0, by0, bx1, by1 = max(0, x), max(0, y), min(shape[1], x + w), min(shape[0], y + h)
    if bx0 >= bx1 or by0 >= by1:
        return 0.0
    a = sprite.alpha[by0 - y : by1 - y, bx0 - x : bx1 - x]
    if visible is not None:
        a = a * visible[by0:by1, bx0:bx1]
    return float(a.sum())


# --------------------------------------------------------------------------- time lines


def pingpong_index(k: int, first: int, last: int) -> int:
    """k-th index of first, first+1, .., last, last-1, .., first, first+1, .. (bouncing)."""
    span = last - first
    if span <= 0:
        return first
    phase = k % (2 * span)
    return first + (phase if phase <= span else 2 * span - phase)


@dataclass
class Segment:
    """A stretch of the output: ``duration`` s showing source frames chosen by ``index``.

    ``index(local_t)`` gives the source frame index; ``present``/``still``: what a
    person labelling the output would see (None: take the source clip's labels).
    """

    duration: float
    index: Callable[[float], int]
    present: bool | None = None
    still: bool = False


def straight(name: str, t0: float, t1: float) -> Segment:
    """Play [t0, t1) of the source clip as it is."""
    fps = clip_fps(name)
    return Segment(t1 - t0, lambda lt: round((t0 + lt) * fps))


def bounce(
    name: str,
    t0: float,
    t1: float,
    duration: float,
    *,
    end_at: str = "last",
    present: bool | None = None,
    still: bool = False,
) -> Segment:
    """Play [t0, t1] back and forth for about ``duration`` s (real frames, real noise).

    ``end_at="last"``: the duration is rounded so the stretch ends on the frame at
    ``t1`` (so the clip can continue forward from there seamlessly); ``"first"``:
    it starts at ``t0`` and ends there too.
    """
    fps = clip_fps(name)
    first, last = round(t0 * fps), round(t1 * fps)
    span = (last - first) / fps
    if span <= 0:
        return Segment(duration, lambda _lt: first, present, still)
    passes = max(1, round(duration / span))
    if end_at == "last" and passes % 2 == 0:
        passes += 1
    if end_at == "first" and passes % 2 == 1:
        passes += 1
    total = passes * span

    def index(lt: float) -> int:
        return pingpong_index(round(lt * fps), first, last)

    return Segment(total, index, present, still)


def bounce_into(name: str, t0: float, t1: float, duration: float, **kw: object) -> Segment:
    """Back and forth over [t0, t1] ending exactly on the frame at ``t1`` (then play on)."""
    fps = clip_fps(name)
    first, last = round(t0 * fps), round(t1 * fps)
    n = max(1, round(duration * fps))
    span = last - first

    def index(lt: float) -> int:
        j = max(0, n - 1 - round(lt * fps))  # steps before the end
        return last - pingpong_index(j, 0, span) if span > 0 else first

    return Segment(n / fps, index, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- scenarios


Effect = Callable[[float, np.ndarray, np.random.Generator], np.ndarray]


@dataclass
class Scenario:
    """One scenario: a time line of real frames plus one controlled change."""

    name: str
    description: str
    source: str
    segments: list[Segment]
    effect: Effect | None = None  # (t, float frame, rng) -> float frame
    presence: Callable[[float], bool | None] | None = None  # overrides the labels where not None
    exclude_zones: list[list[float]] = field(default_factory=list)
    kind: str = "change"  # what the scenario tests: lighting, zoned, pet, bump, leave, still
    seed: int = 11

    @property
    def duration(self) -> float:
        """Length of the output clip in seconds."""
        return sum(s.duration for s in self.segments)

    @property
    def native_fps(self) -> float:
        """Frame rate of the source footage (the scenario's native rate)."""
        return clip_fps(self.source)

    def locate(self, t: float) -> tuple[Segment, float, float]:
        """Segment at output time ``t``, the time inside it and its start."""
        start = 0.0
        for seg in self.segments:
            if t < start + seg.duration - 1e-9:
                return seg, t - start, start
            start += seg.duration
        last = self.segments[-1]
        return last, last.duration - 1e-6, start - last.duration

    def source_index(self, t: float) -> int:
        """Index of the real source frame shown at output time ``t``."""
        seg, lt, _ = self.locate(t)
        return min(len(footage(self.source)) - 1, max(0, seg.index(lt)))

    def is_present(self, t: float) -> bool:
        """Whether a person is (at least partly) visible at output time ``t``."""
        if self.presence is not None:
            forced = self.presence(t)
            if forced is not None:
                return forced
        seg, _lt, _ = self.locate(t)
        if seg.present is not None:
            return seg.present
        src_t = self.source_index(t) / self.native_fps
        return _inside(source_labels(self.source)["present"], src_t)

    def is_still(self, t: float) -> bool:
        """Whether the present person barely moves at ``t``."""
        seg, _lt, _ = self.locate(t)
        return seg.still and self.is_present(t)

    def frames(self, fps: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(t, rgb uint8)`` on a grid of ``fps`` (default: the native rate)."""
        fps = fps or self.native_fps
        rng = np.random.default_rng(self.seed)
        src = footage(self.source)
        n = round(self.duration * fps)
        for k in range(n):
            t = k / fps
            image = src[self.source_index(t)]
            if self.effect is not None:
                image = np.clip(self.effect(t, image.astype(np.float32), rng), 0, 255).astype(
                    np.uint8
                )
            yield t, image

    def labels(self) -> dict:
        """Ground truth in the shared-clip label format, from the native frame grid."""
        fps = self.native_fps
        n = round(self.duration * fps)
        times = [k / fps for k in range(n)]
        h, w = footage(self.source).shape[1:3]
        out = {
            "clip": f"{self.name}.mp4",
            "fps": fps,
            "frames": n,
            "duration_s": round(n / fps, 3),
            "width": int(w),
            "height": int(h),
            "source": f"bench/scenarios.py scenario {self.name!r} from tests/data/{self.source}.mp4",
            "license": LICENSE,
            "present": _intervals(times, [self.is_present(t) for t in times], n / fps),
            "still": _intervals(times, [self.is_still(t) for t in times], n / fps),
            "notes": self.description,
            "kind": self.kind,
        }
        if self.exclude_zones:
            out["exclude_zones"] = self.exclude_zones
        return out


@cache
def source_labels(name: str) -> dict:
    """Labels of a bundled clip."""
    return json.loads((DATA / f"{name}.json").read_text())


def _inside(intervals: list[list[float]], t: float) -> bool:
    return any(a - 1e-6 <= t < b - 1e-6 for a, b in intervals)


def _intervals(times: list[float], flags: list[bool], end: float) -> list[list[float]]:
    out: list[list[float]] = []
    start: float | None = None
    for t, flag in zip(times, flags, strict=True):
        if flag and start is None:
            start = t
        elif not flag and start is not None:
            out.append([round(start, 3), round(t, 3)])
            start = None
    if start is not None:
        out.append([round(start, 3), round(end, 3)])
    return out


def _ramp(t: float, t0: float, length: float) -> float:
    """0 before t0, 1 after t0 + length, linear in between."""
    if length <= 0:
        return 1.0 if t >= t0 else 0.0
    return min(1.0, max(0.0, (t - t0) / length))


def _soft_rect(shape: tuple[int, int], x: int, y: int, w: int, h: int, feather: int) -> np.ndarray:
    mask = np.zeros(shape, np.float32)
    mask[max(0, y) : y + h, max(0, x) : x + w] = 1.0
    return np.clip(_box_blur(mask, feather), 0.0, 1.0) if feather else mask


def empty_room(duration: float) -> Segment:
    """Real empty-room frames (one-by-one, 0-5.9 s) played back and forth, ending on 5.9 s."""
    return bounce_into(OBO, *EMPTY, duration, present=False)


def visit(still_for: float, *, preroll: float = 6.0, after: float = 12.0) -> list[Segment]:
    """Empty room, person 1 walks in, stands ~``still_for`` s, walks out, empty room."""
    return [
        empty_room(preroll),
        straight(OBO, *ENTER),
        bounce(OBO, *STILL, still_for, still=True),
        straight(OBO, *LEAVE),
        bounce(OBO, AFTER[0], AFTER[1], after, end_at="first", present=False),
    ]


def _shape() -> tuple[int, int]:
    return tuple(footage(OBO).shape[1:3])  # type: ignore[return-value]


def _sensor_noise(frame: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return frame + rng.normal(0.0, sigma, frame.shape[:2])[..., None].astype(np.float32)


def lamp() -> Scenario:
    """A lamp lights 1/8 of the empty room (+80 % over 3 frames) at 15 s, off again at 30 s."""
    h, w = _shape()
    # 1/8 of the picture: the wall and floor left of the table.
    gain = _soft_rect((h, w), 10, 60, w // 2 - 40, h // 4 + 15, 6)  # 120x60 px = 1/8
    fps = clip_fps(OBO)
    on, off, ramp = 15.0, 30.0, 3 / fps

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        level = _ramp(t, on, ramp) - _ramp(t, off, ramp)
        return frame * (1.0 + 0.8 * level * gain[..., None]) if level > 0 else frame

    return Scenario(
        "lamp-on-off-empty",
        "Empty room (real frames). A lamp brightens one eighth of the picture by 80 % over "
        "3 frames at 15 s and goes off again over 3 frames at 30 s. Nobody is present.",
        OBO,
        [empty_room(45.0)],
        effect,
        kind="lighting",
    )


def sun_patch() -> Scenario:
    """A soft sunlight patch fades in on the floor, drifts slowly, fades out."""
    h, w = _shape()
    margin = 200  # px the patch can drift
    yy, xx = np.mgrid[0:h, 0 : w + margin].astype(np.float32)
    # a slanted parallelogram, as through a window, with soft edges (drawn once)
    inside = (np.abs((xx - margin - 60) - 0.6 * (yy - 130)) < 35) & (np.abs(yy - 135) < 30)
    shape = np.clip(_box_blur(inside, 5), 0, 1)

    def patch(t: float) -> np.ndarray:
        shift = min(margin, max(0, round(2.0 * (t - 15.0))))  # 2 px/s to the right
        return shape[:, margin - shift : margin - shift + w]

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        level = _ramp(t, 15.0, 6.0) - _ramp(t, 60.0, 6.0)
        if level <= 0:
            return frame
        return frame * (1.0 + 0.6 * level * patch(t)[..., None])

    return Scenario(
        "sun-patch-drift-empty",
        "Empty room (real frames). From 15 s a soft sunlight patch (+60 %) fades in on the floor "
        "over 6 s, drifts 2 px/s to the right and fades out again from 60 s. Nobody is present.",
        OBO,
        [empty_room(75.0)],
        effect,
        kind="lighting",
    )


MONITOR = (60, 20, 96, 54)  # x, y, w, h in px (320x180): on the wall left of the table


def _monitor(zoned: bool) -> Scenario:
    h, w = _shape()
    mx, my, mw, mh = MONITOR
    src = footage(OBO)
    fps = clip_fps(OBO)
    # Content: people walking and standing (one-by-one 22.7-45 s and 50.2-70 s), whole picture shrunk.
    content = [
        i for i in range(round(22.7 * fps), round(70.0 * fps)) if not 45.0 * fps <= i < 50.2 * fps
    ]
    on, off = 15.0, 45.0

    def shrink(img: np.ndarray) -> np.ndarray:
        ys = (np.arange(mh) * img.shape[0] / mh).astype(int)
        xs = (np.arange(mw) * img.shape[1] / mw).astype(int)
        return img[ys][:, xs].astype(np.float32)

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        screen = frame[my : my + mh, mx : mx + mw]
        if on <= t < off:
            shown = shrink(src[content[int((t - on) * fps) % len(content)]])
            screen[:] = 0.15 * screen + 0.85 * shown
        else:  # a dark screen in the room
            screen[:] = screen * 0.12 + 8
        frame[my - 2 : my + mh + 2, mx - 2 : mx] = 25  # bezel
        frame[my - 2 : my + mh + 2, mx + mw : mx + mw + 2] = 25
        frame[my - 2 : my, mx - 2 : mx + mw + 2] = 25
        frame[my + mh : my + mh + 2, mx - 2 : mx + mw + 2] = 25
        return frame

    margin = 6
    zone = [
        round((mx - margin) / w, 3),
        round((my - margin) / h, 3),
        round((mw + 2 * margin) / w, 3),
        round((mh + 2 * margin) / h, 3),
    ]
    return Scenario(
        "monitor-playing-zoned" if zoned else "monitor-playing",
        "Empty room (real frames) with a monitor on the wall left of the table (96x54 px, 9 % of "
        "the picture). It is dark, shows people walking and standing (real frames of one-by-one, "
        "shrunk) from 15 s to 45 s, then goes dark again. Nobody is in the room."
        + (" Watched with an exclusion zone over the monitor." if zoned else " No exclusion zone."),
        OBO,
        [empty_room(60.0)],
        effect,
        exclude_zones=[zone] if zoned else [],
        kind="zoned" if zoned else "tv",
    )


def monitor() -> Scenario:
    """A monitor showing people, no exclusion zone (reported, not a target)."""
    return _monitor(False)


def monitor_zoned() -> Scenario:
    """A monitor showing people inside an exclusion zone: must never be OCCUPIED."""
    return _monitor(True)


def pet() -> Scenario:
    """A cat-sized dark textured blob crosses the floor of the empty room."""
    _h, w = _shape()
    rng = np.random.default_rng(5)
    bw, bh = 34, 14  # body, px: about 0.8 % of the picture with head and tail
    yy, xx = np.mgrid[0:24, 0:52].astype(np.float32)
    body = ((xx - 24) / (bw / 2)) ** 2 + ((yy - 14) / (bh / 2)) ** 2 <= 1
    head = ((xx - 44) / 6) ** 2 + ((yy - 9) / 6) ** 2 <= 1
    tail = (np.abs(yy - (14 - (xx - 2) * 0.25)) < 1.6) & (xx < 9)
    alpha = np.clip(_box_blur(body | head | tail, 1) * 1.3, 0, 1).astype(np.float32)
    # fur: dark real-looking texture (dark grey with coarse and fine noise)
    fur = 38 + 10 * _box_blur(rng.normal(0, 1, (24, 52)), 2) + rng.normal(0, 4, (24, 52))
    rgb = np.stack([fur * 1.05, fur * 0.95, fur * 0.85], axis=2).astype(np.float32)
    cat = Sprite(rgb, alpha, 0, 0)
    start, cross = 15.0, 8.0  # s

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        if not start <= t < start + cross:
            return frame
        x = round(-52 + (w + 52) * (t - start) / cross)
        y = round(128 + 1.5 * math.sin(2 * math.pi * 1.8 * (t - start)))
        # a soft contact shadow under it
        frame[y + 18 : y + 24, max(0, x + 6) : max(0, x + 46)] *= 0.8
        paste(frame, cat, x, y)
        return frame

    return Scenario(
        "pet-crossing-empty",
        "Empty room (real frames). From 15 s a cat-sized dark textured animal (about 52x24 px "
        "with head and tail, ~0.7 % of the picture) crosses the floor from the left edge to the "
        "right edge in 8 s. No person is present.",
        OBO,
        [empty_room(35.0)],
        effect,
        kind="pet",
    )


def still_reader(minutes: float = 30.0) -> Scenario:
    """Person 1 walks in, stands reading ~30 min (real still stretch back and forth), walks out."""
    return Scenario(
        f"still-reader-{minutes:g}min",
        f"Person 1 of one-by-one walks in, stands at the table with her back to the camera for "
        f"~{minutes:g} min (the real 8 s still stretch 9-17 s played back and forth: only "
        "breathing-level motion), then walks out. Real frames throughout.",
        OBO,
        visit(minutes * 60.0, after=12.0),
        kind="still",
    )


FROZEN_FOR = 320.0  # s without any movement: longer than the engine's 300 s still timeout


def frozen_person() -> Scenario:
    """A person stands without the slightest movement for 320 s, then walks out."""
    fps = clip_fps(OBO)
    frozen_at = EMPTY[1] + 0.1 + (ENTER[1] - ENTER[0]) + (STILL[1] - STILL[0])
    frozen_index = round(STILL[1] * fps)

    def effect(t: float, frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if frozen_at <= t < frozen_at + FROZEN_FOR:  # one real frame + fresh sensor noise
            return frame + rng.normal(0.0, 1.0, frame.shape).astype(np.float32)
        return frame

    return Scenario(
        "frozen-person-then-leave",
        "Person 1 of one-by-one walks in and stands at the table (real frames); from "
        f"{frozen_at:g} s the picture is one real frame of her with fresh sensor noise only (no "
        f"movement at all, not even breathing) for {FROZEN_FOR:g} s - longer than the 300 s "
        "still timeout - then she walks out (real frames). Present until she has left: the "
        "EMPTY of the still timeout is the documented behaviour; what matters is that her "
        "leaving afterwards still pauses (no cascade).",
        OBO,
        [
            empty_room(EMPTY[1] + 0.1),
            straight(OBO, *ENTER),
            straight(OBO, *STILL),
            Segment(FROZEN_FOR, lambda _lt: frozen_index, True, True),
            straight(OBO, *LEAVE),
            bounce(OBO, AFTER[0], AFTER[1], 12.0, end_at="first", present=False),
        ],
        effect,
        kind="still",
    )


def still_seated(minutes: float = 30.0) -> Scenario:
    """The almost motionless seated man of head-pose-male, played back and forth for 30 min."""
    return Scenario(
        f"still-seated-{minutes:g}min",
        f"The seated man of head-pose-male-preview (present and almost motionless in the whole "
        f"real clip) played back and forth for {minutes:g} min. Present throughout.",
        SEATED,
        [bounce(SEATED, 0.0, 5.0, minutes * 60.0, end_at="first", present=True, still=True)],
        kind="still",
    )


def _composite_visit(
    person_at: Callable[[float], tuple[int, int] | None],
    sprite_for: Callable[[int], Sprite],
    t_start: float,
    visible: np.ndarray | None = None,
) -> tuple[Effect, Callable[[float], bool | None]]:
    """An effect pasting a real, still person over the empty room from ``t_start`` on.

    The person's frames are the still stretch of person 1 played back and forth
    from ``t_start``; ``person_at(t)`` is the shift (dx, dy) of the person from
    where she stood in the source frames, or None while nobody is shown.
    Before ``t_start`` nothing is pasted and the labels of the source are used.
    """
    shape = _shape()
    fps = clip_fps(OBO)
    first, last = round(STILL[0] * fps), round(STILL[1] * fps)

    def sprite_at(t: float) -> Sprite:
        return sprite_for(pingpong_index(round((t - t_start) * fps), first, last))

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        shift = person_at(t) if t >= t_start else None
        if shift is not None:
            sprite = sprite_at(t)
            paste(frame, sprite, sprite.x + shift[0], sprite.y + shift[1], visible)
        return frame

    def presence(t: float) -> bool | None:
        if t < t_start:
            return None
        shift = person_at(t)
        if shift is None:
            return False
        sprite = sprite_at(t)
        return visible_area(shape, sprite, sprite.x + shift[0], sprite.y + shift[1], visible) >= 1.0

    return effect, presence


@cache
def _person_sprite(index: int, factor: float = 1.0) -> Sprite:
    sprite = cut_person(footage(OBO)[index])
    return sprite.scaled(factor) if factor != 1.0 else sprite


def leave_middle() -> Scenario:
    """A person standing at the table walks right and vanishes behind the pillar mid-picture."""
    h, w = _shape()
    stand_from = EMPTY[1] + 0.1 + ENTER[1] - ENTER[0]  # after the real entry frames
    leave_at, walk = 36.0, 1.6  # s; walk: time to get behind the pillar
    hide = np.ones((h, w), np.float32)
    hide[:, PILLAR_X:] = 0.0  # everything right of the pillar's left edge is behind it
    fps = clip_fps(OBO)
    home = _person_sprite(round(STILL[0] * fps))
    travel = PILLAR_X + 2 - home.x  # px until her left edge is behind the pillar

    def person_at(t: float) -> tuple[int, int] | None:
        if t < leave_at:
            return 0, 0
        dx = round(travel * (t - leave_at) / walk)
        return None if dx >= travel else (dx, 0)

    effect, presence = _composite_visit(person_at, _person_sprite, stand_from, hide)
    return Scenario(
        "leave-through-middle",
        "Person 1 of one-by-one walks in (real frames) and stands at the table (real still frames "
        "pasted on the real empty room); at 36 s she moves right and vanishes behind the pillar "
        f"in the middle of the picture within {walk:g} s (never touching a frame edge). Empty room after.",
        OBO,
        [
            empty_room(EMPTY[1] + 0.1),
            straight(OBO, *ENTER),
            empty_room(leave_at + walk + 15.0 - stand_from),
        ],
        effect,
        presence,
        kind="leave",
    )


def large_person() -> Scenario:
    """A person close to the camera (scaled up, >= 13 % of the picture) walks in, stands, leaves."""
    h, w = _shape()
    factor = 1.6
    fps = clip_fps(OBO)
    ref = _person_sprite(round(STILL[0] * fps), factor)
    enter_at, stand_until, walk = 15.0, 40.0, 1.2
    dx = (w - ref.alpha.shape[1]) // 2 + 10 - ref.x  # centred, a little right
    dy = 4 - ref.y  # head near the top, legs below the picture: close to the camera
    rise = h - (ref.y + dy)  # px from standing to just below the bottom edge

    def person_at(t: float) -> tuple[int, int] | None:
        if t < enter_at + walk:  # rises in from the bottom edge
            return dx, dy + round(rise * (1 - (t - enter_at) / walk))
        if t < stand_until:
            return dx, dy
        shift = round(rise * (t - stand_until) / walk)
        return None if shift >= rise else (dx, dy + shift)

    effect, presence = _composite_visit(person_at, lambda i: _person_sprite(i, factor), enter_at)
    visible = visible_area((h, w), ref, ref.x + dx, ref.y + dy)
    return Scenario(
        "large-person-leaving",
        f"Person 1 of one-by-one scaled x{factor:g} (about {visible / (w * h) * 100:.0f} % of the "
        "picture, real still frames pasted on the real empty room) rises in through the bottom edge "
        f"at {enter_at:g} s, stands close to the camera, and leaves through the bottom edge at "
        f"{stand_until:g} s (gone within {walk:g} s). Empty room after.",
        OBO,
        [empty_room(stand_until + walk + 15.0)],
        effect,
        presence,
        kind="leave",
    )


def _visit_with(
    name: str, description: str, effect: Effect, kind: str, still_for: float = 40.0
) -> Scenario:
    return Scenario(name, description, OBO, visit(still_for, after=15.0), effect, kind=kind)


def lights_down() -> Scenario:
    """Lights go down to 30 % while the person stands; later she walks out in the dim room."""

    def effect(t: float, frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        level = _ramp(t, 20.0, 1.0)
        if level <= 0:
            return frame
        gain = 1.0 - 0.7 * level
        return _sensor_noise(frame * gain, rng, 1.5 * level)

    return _visit_with(
        "lights-down-then-leave",
        "Person 1 of one-by-one walks in and stands at the table (real frames); at 20 s the room "
        "lights go down to 30 % within 1 s (gain 0.3 plus read noise sigma 1.5); she stays, then "
        "walks out through the bottom edge in the dim room.",
        effect,
        "leave",
    )


def lamp_while_present() -> Scenario:
    """A lamp across the room goes on while the person stands at the table; she leaves later."""
    h, w = _shape()
    # The same eighth of the picture as lamp-on-off-empty: left of the table, away from her.
    gain = _soft_rect((h, w), 10, 60, w // 2 - 40, h // 4 + 15, 6)
    on, ramp = 20.0, 3 / clip_fps(OBO)

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        level = _ramp(t, on, ramp)
        return frame * (1.0 + 0.8 * level * gain[..., None]) if level > 0 else frame

    return _visit_with(
        "lamp-on-while-present-then-leave",
        "Person 1 of one-by-one walks in and stands at the table (real frames); at 20 s a lamp "
        "across the room brightens one eighth of the picture (left of the table) by 80 % over "
        "3 frames and stays on; she stays, then walks out through the bottom edge.",
        effect,
        "lighting",
    )


def _bump(frame: np.ndarray, dx: int, dy: int) -> np.ndarray:
    shifted = np.roll(frame, (dy, dx), axis=(0, 1))
    if dy > 0:
        shifted[:dy] = shifted[dy : dy + 1]
    if dx > 0:
        shifted[:, :dx] = shifted[:, dx : dx + 1]
    return shifted


def bump_empty() -> Scenario:
    """The camera is bumped (3 px right, 2 px down) in the empty room and stays there."""

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        return _bump(frame, 3, 2) if t >= 15.0 else frame

    return Scenario(
        "camera-bump-empty",
        "Empty room (real frames). At 15 s the camera is bumped: the picture shifts 3 px right "
        "and 2 px down and stays there. Nobody is present.",
        OBO,
        [empty_room(35.0)],
        effect,
        kind="bump",
    )


def bump_occupied() -> Scenario:
    """The camera is bumped while the person stands still; later she walks out."""

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        return _bump(frame, 3, 2) if t >= 20.0 else frame

    return _visit_with(
        "camera-bump-occupied",
        "Person 1 of one-by-one walks in and stands at the table (real frames); at 20 s the camera "
        "is bumped (3 px right, 2 px down, permanent); she stays, then walks out.",
        effect,
        "bump",
    )


def _ir(frame: np.ndarray) -> np.ndarray:
    grey = frame @ np.array([0.299, 0.587, 0.114], np.float32)
    grey = (grey - 128.0) * 0.8 + 128.0 + 22.0  # IR: flatter contrast, brighter
    return np.repeat(grey[..., None], 3, axis=2)


def ir_empty() -> Scenario:
    """Night mode: the camera switches to grey IR in the empty room."""

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        return _ir(frame) if t >= 15.0 else frame

    return Scenario(
        "ir-switch-empty",
        "Empty room (real frames). At 15 s the camera switches to night mode: grey picture, "
        "contrast x0.8, +22 brightness, at once. Nobody is present.",
        OBO,
        [empty_room(35.0)],
        effect,
        kind="lighting",
    )


def ir_person() -> Scenario:
    """Night mode switch while the person stands; later she walks out."""

    def effect(t: float, frame: np.ndarray, _rng: np.random.Generator) -> np.ndarray:
        return _ir(frame) if t >= 20.0 else frame

    return _visit_with(
        "ir-switch-person-then-leave",
        "Person 1 of one-by-one walks in and stands at the table (real frames); at 20 s the camera "
        "switches to grey night mode (contrast x0.8, +22) at once; she stays, then walks out.",
        effect,
        "leave",
    )


SCENARIOS: dict[str, Callable[[], Scenario]] = {
    "lamp-on-off-empty": lamp,
    "sun-patch-drift-empty": sun_patch,
    "monitor-playing": monitor,
    "monitor-playing-zoned": monitor_zoned,
    "pet-crossing-empty": pet,
    "still-reader-30min": still_reader,
    "still-seated-30min": still_seated,
    "frozen-person-then-leave": frozen_person,
    "leave-through-middle": leave_middle,
    "large-person-leaving": large_person,
    "lights-down-then-leave": lights_down,
    "lamp-on-while-present-then-leave": lamp_while_present,
    "camera-bump-empty": bump_empty,
    "camera-bump-occupied": bump_occupied,
    "ir-switch-empty": ir_empty,
    "ir-switch-person-then-leave": ir_person,
}


def build(name: str) -> Scenario:
    """The scenario called ``name``."""
    return SCENARIOS[name]()


def write(scenario: Scenario, folder: Path, fps: float | None = None, crf: int = 23) -> Path:
    """Encode ``scenario`` to ``folder/NAME.mp4`` (H.264) + ``NAME.json``; return the mp4 path."""
    import av

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{scenario.name}.mp4"
    rate = Fraction(fps or scenario.native_fps).limit_denominator(1000)
    labels = scenario.labels()
    count = 0
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height = labels["width"], labels["height"]
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": str(crf)}
        for _t, image in scenario.frames(float(rate)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = count
            frame.time_base = 1 / rate
            count += 1
            out.mux(stream.encode(frame.reformat(format="yuv420p")))
        out.mux(stream.encode(None))
    if fps and float(rate) != scenario.native_fps:
        labels["fps"] = float(rate)
        labels["frames"] = count
        labels["notes"] += f" Written at {float(rate):g} fps."
    path.with_suffix(".json").write_text(json.dumps(labels, indent=1) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write NAME.mp4 + NAME.json here")
    parser.add_argument(
        "--fps", type=float, default=None, help="frame rate to write (default: native)"
    )
    parser.add_argument("--only", nargs="*", default=None, help="scenario names (default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    names = args.only or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    for name in names:
        scenario = build(name)
        if args.list or not args.out:
            labels = scenario.labels()
            print(f"{name:30s} {scenario.duration:7.1f} s  present {labels['present']}")
            continue
        path = write(scenario, args.out, args.fps)
        print(f"wrote {path} ({scenario.duration:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
