"""Motion stage of the occupancy engine (pure numpy).

Everything here works on a small, brightness-normalised grayscale image (about
160x90 pixels, see :func:`downscale_gray`) and on a coarse grid of cells
(5x5 pixels of the small image, i.e. 32x18 cells for a 16:9 camera), which
keeps the cost of one frame well below a millisecond without OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, reduce
import math

import numpy as np

from .types import Box

TARGET_PIXELS = 160 * 90
CELL = 5  # cell edge in pixels of the small image


def downscale_factor(height: int, width: int) -> int:
    """Integer factor that brings a frame to about 160x90 (area preserving).

    Never so large that fewer than 2x2 cells remain (tiny or very thin frames).
    """
    factor = max(1, round((height * width / TARGET_PIXELS) ** 0.5))
    return int(max(1, min(factor, height // (2 * CELL), width // (2 * CELL))))


def downscale_gray(image: np.ndarray, factor: int, black: float = 0.0) -> np.ndarray:
    """Downscale a grey (or RGB) uint8 image by ``factor`` to float32.

    ``image`` is normally :attr:`.types.Frame.gray`: the decoder's luma plane,
    a strided view (no copy). An RGB array is read through its green channel
    (most of the luma, and what camera sensors sample most densely). Four taps
    per ``factor x factor`` block are averaged, at offsets 1/4 and 3/4 of the
    block in both directions: a cheap, anti-aliased approximation of an area
    average that reads 4 pixels per block of the full frame, nothing more.
    ``black`` (16 for limited-range video) is subtracted, so that after
    :func:`normalise` limited- and full-range pictures have the same contrast.
    The result is cropped so both sides are a multiple of :data:`CELL`.
    """
    height, width = image.shape[:2]
    h = (height // factor) // CELL * CELL
    w = (width // factor) // CELL * CELL
    plane = image[:, :, 1] if image.ndim == 3 else image
    if factor == 1:
        out = plane[:h, :w].astype(np.float32)
    else:
        offsets = (factor // 4, (3 * factor) // 4) if factor >= 4 else (0, factor - 1)
        acc: np.ndarray | None = None
        for oy in offsets:
            for ox in offsets:
                tap = plane[oy::factor, ox::factor][:h, :w]
                if acc is None:
                    acc = tap.astype(np.uint16)
                else:
                    acc += tap
        assert acc is not None
        out = acc.astype(np.float32)
        out *= 0.25
    if black:
        out -= np.float32(black)
    return out


def normalise(gray: np.ndarray, mean: float | None = None) -> tuple[np.ndarray, float]:
    """Scale ``gray`` so its mean is 128; returns the scaled image and the mean.

    Dividing by the global mean removes most of a global brightness change
    (lights, auto-exposure), so differences measure structure, not exposure.
    ``mean`` overrides the mean (the engine leaves exclusion zones out of it).
    """
    if mean is None:
        mean = float(gray.mean())
    return gray * (128.0 / max(mean, 4.0)), mean


@cache
def _pooling(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column averaging matrices for CELLxCELL pooling of an h x w image."""
    rows = np.kron(np.eye(h // CELL, dtype=np.float32), np.full((1, CELL), 1.0 / CELL, np.float32))
    cols = np.kron(np.eye(w // CELL, dtype=np.float32), np.full((CELL, 1), 1.0 / CELL, np.float32))
    return rows, cols


def pool_cells(image: np.ndarray) -> np.ndarray:
    """Mean of every CELLxCELL cell (two small matrix products: ~3x faster than reshape-mean)."""
    rows, cols = _pooling(*image.shape)
    pooled: np.ndarray = rows @ image.astype(np.float32, copy=False) @ cols
    return pooled


def cell_fraction(mask: np.ndarray) -> np.ndarray:
    """Share (0..1) of set pixels in each CELLxCELL cell of ``mask``."""
    return pool_cells(mask.astype(np.float32))


def _shifted(grid: np.ndarray, fill: bool) -> list[np.ndarray]:
    """Return the 3x3 neighbourhood of every cell as nine shifted copies."""
    h, w = grid.shape
    padded = np.full((h + 2, w + 2), fill, dtype=bool)
    padded[1:-1, 1:-1] = grid
    return [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]


def dilate(grid: np.ndarray) -> np.ndarray:
    """3x3 binary dilation."""
    parts = _shifted(grid, False)
    out = parts[0].copy()
    for part in parts[1:]:
        out |= part
    return out


def erode(grid: np.ndarray) -> np.ndarray:
    """3x3 binary erosion (outside the grid counts as set, so edges survive)."""
    parts = _shifted(grid, True)
    out = parts[0].copy()
    for part in parts[1:]:
        out &= part
    return out


def close_cells(grid: np.ndarray) -> np.ndarray:
    """Morphological closing: joins the fragments of one moving body."""
    return erode(dilate(grid))


@dataclass(slots=True)
class Blob:
    """A connected group of cells; coordinates in cells, end exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int
    cells: int

    def union(self, other: Blob) -> Blob:
        """Bounding blob of both."""
        return Blob(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
            self.cells + other.cells,
        )


def bounding(blobs: list[Blob]) -> Blob:
    """Bounding blob of a non-empty list of blobs."""
    return reduce(Blob.union, blobs)


def components(grid: np.ndarray) -> list[Blob]:
    """8-connected components of a small boolean grid (run-length union-find).

    Work is proportional to the number of horizontal runs, not pixels, so a
    32x18 grid takes a few tens of microseconds.
    """
    h, w = grid.shape
    parent: list[int] = []
    runs: list[tuple[int, int, int]] = []  # (row, start, end) end exclusive
    prev: list[int] = []  # run ids of the previous row
    current: list[int] = []  # run ids of the current row

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    edges = np.diff(padded, axis=1)
    start_rows, start_cols = np.nonzero(edges == 1)  # row-major order
    end_cols = np.nonzero(edges == -1)[1]
    prev_row = -2
    for y, s, e in zip(start_rows.tolist(), start_cols.tolist(), end_cols.tolist(), strict=True):
        if y != prev_row:
            prev = current if y == prev_row + 1 else []
            current = []
            prev_row = y
        rid = len(runs)
        runs.append((y, s, e))
        parent.append(rid)
        for pid in prev:
            _, ps, pe = runs[pid]
            if ps <= e and pe >= s:  # overlap incl. diagonal contact
                ra, rb = find(rid), find(pid)
                if ra != rb:
                    parent[ra] = rb
        current.append(rid)
    blobs: dict[int, Blob] = {}
    for rid, (y, s, e) in enumerate(runs):
        root = find(rid)
        run = Blob(s, y, e, y + 1, e - s)
        blobs[root] = blobs[root].union(run) if root in blobs else run
    return list(blobs.values())


@dataclass(slots=True)
class MotionResult:
    """Output of :meth:`MotionDetector.update`."""

    score: float  # % of cells in motion (0..100)
    blobs: list[Blob]  # significant moving regions, in cells
    global_change: bool  # most of the frame changed at once (lights/exposure)
    cells: np.ndarray | None = None  # moving cells (after closing), when any moved


class MotionDetector:
    """Background model + difference + threshold + morphology + components.

    The background is an exponential running average of normalised frames.
    A frame where most of the picture changes at once after a calm frame is a
    global change (light switched, exposure jump): it yields no blobs and the
    background is re-seeded, so only what keeps moving afterwards counts.
    """

    GLOBAL_SHARE = 0.6  # share of cells that marks a global change
    CALM_SHARE = 0.25  # the previous frame must have been below this
    RAW_MIN = 7.0  # grey levels (0..255) a pixel must change by before normalising
    MEAN_JUMP = 0.12  # relative change of the mean brightness from one frame to the next

    TAU = 0.144  # s: background time constant (half of the gap blended in per 0.1 s)

    def __init__(self) -> None:
        """Create an empty model; the first frame seeds it."""
        self.background: np.ndarray | None = None
        self.ignore: np.ndarray | None = None  # cells never counted as motion (exclusion zones)
        self.pixel_threshold = 14.0
        self.threshold = 14.0  # pixel threshold in effect for the last frame (see :meth:`update`)
        self.cell_share = 0.2
        self.min_cells = 2
        self._last_share = 0.0
        self._last_mean: float | None = None

    def configure(self, pixel_threshold: float, cell_share: float, min_cells: int) -> None:
        """Apply sensitivity-derived thresholds."""
        self.pixel_threshold = pixel_threshold
        self.threshold = pixel_threshold
        self.cell_share = cell_share
        self.min_cells = min_cells

    def reset(self) -> None:
        """Forget the background."""
        self.background = None
        self._last_share = 0.0
        self._last_mean = None

    def update(self, small: np.ndarray, mean: float, dt: float = 0.1) -> MotionResult:
        """Feed one normalised small frame and its raw mean; returns its motion.

        ``dt`` is the time since the previous frame: the background blends in
        ``1 - exp(-dt / TAU)`` of the new frame, the same per second at any rate.

        In a dim picture the normalisation amplifies sensor and compression
        noise and faint shadows: a pixel must also have changed by RAW_MIN
        grey levels before normalising (the threshold rises as the light
        falls; in normal light the sensitivity's threshold is the larger one).

        A jump of the raw mean brightness by more than MEAN_JUMP between two
        frames (light switched, exposure step; clipped highlights make such a
        change non-uniform even after normalising) is a global change too.
        """
        bg = self.background
        last_mean, self._last_mean = self._last_mean, mean
        if bg is None or bg.shape != small.shape:
            self.background = small.copy()
            self._last_share = 0.0
            return MotionResult(0.0, [], False)
        if last_mean is not None and abs(mean - last_mean) > self.MEAN_JUMP * max(last_mean, 4.0):
            self.background = small.copy()
            self._last_share = 1.0
            return MotionResult(100.0, [], True)
        self.threshold = max(self.pixel_threshold, self.RAW_MIN * 128.0 / max(mean, 4.0))
        diff = np.abs(small - bg)
        mask = diff > self.threshold
        active = cell_fraction(mask) >= self.cell_share
        ignore = self.ignore
        if ignore is not None and ignore.shape == active.shape:
            active &= ~ignore
        share = float(active.mean())
        # Update the running background (in place, no allocation).
        alpha = 1.0 - math.exp(-max(dt, 0.0) / self.TAU)
        bg *= 1.0 - alpha
        bg += alpha * small
        if share >= self.GLOBAL_SHARE and self._last_share < self.CALM_SHARE:
            self.background = small.copy()
            self._last_share = share
            return MotionResult(share * 100.0, [], True)
        self._last_share = share
        if not active.any():
            return MotionResult(0.0, [], False)
        closed = close_cells(active)
        blobs = [
            b
            for b in components(closed)
            if b.cells >= self.min_cells and b.x1 - b.x0 >= 2 and b.y1 - b.y0 >= 2
        ]
        return MotionResult(share * 100.0, blobs, False, closed)

    def changed_cells(self, before: np.ndarray, after: np.ndarray) -> int:
        """Cells that changed between two successive normalised frames.

        Unlike :meth:`update` (difference to the running background), this sees
        only what changes from one frame to the next: a one-off step (an object
        toppling, a screen waking, a cut in the video) shows here once and then
        never again, while a person walking in keeps changing frame after frame.
        """
        if before.shape != after.shape:
            return 0
        mask = np.abs(after - before) > self.threshold
        active = cell_fraction(mask) >= self.cell_share
        ignore = self.ignore
        if ignore is not None and ignore.shape == active.shape:
            active &= ~ignore
        return int(np.count_nonzero(active))


def blob_to_box(blob: Blob, scale: float, frame_w: int, frame_h: int) -> Box:
    """Cell-coordinate blob to an (x, y, w, h) box in full-frame pixels."""
    x = int(blob.x0 * scale)
    y = int(blob.y0 * scale)
    x1 = min(frame_w, round(blob.x1 * scale))
    y1 = min(frame_h, round(blob.y1 * scale))
    return (x, y, max(1, x1 - x), max(1, y1 - y))
