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


def downscale_gray(
    image: np.ndarray, factor: int, black: float = 0.0, out: np.ndarray | None = None
) -> np.ndarray:
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

    ``out``: a float32 array of the result's shape to write into (the engine
    reuses one per frame size); another shape or None makes a new array.
    The four taps are summed exactly in int16 with the black level taken
    off first, then scaled by 1/4 once: the same float32 values as summing
    in float and subtracting afterwards, in fewer passes.
    """
    height, width = image.shape[:2]
    h = (height // factor) // CELL * CELL
    w = (width // factor) // CELL * CELL
    plane = image[:, :, 1] if image.ndim == 3 else image
    if out is None or out.shape != (h, w) or out.dtype != np.float32:
        out = np.empty((h, w), dtype=np.float32)
    if factor == 1:
        np.copyto(out, plane[:h, :w])
        if black:
            out -= np.float32(black)
        return out
    lo, hi = (factor // 4, (3 * factor) // 4) if factor >= 4 else (0, factor - 1)
    end_y, end_x = h * factor, w * factor
    whole = float(black).is_integer() and 0 <= black <= 255
    if factor <= 8:
        # Up to 8: add the two tap rows in full first (contiguous, one pass),
        # then the two tap columns of that (fewer strided reads).
        pair = np.add(
            plane[lo:end_y:factor, :end_x], plane[hi:end_y:factor, :end_x], dtype=np.int16
        )
        blocks = pair.reshape(h, w, factor)
        acc = np.add(blocks[:, :, lo], blocks[:, :, hi])
        if whole and black:
            acc -= int(black) * 4
    else:
        first = plane[lo:end_y:factor, lo:end_x:factor]
        if whole and black:
            acc = np.subtract(first, int(black) * 4, dtype=np.int16)
        else:
            acc = first.astype(np.int16)
        acc += plane[lo:end_y:factor, hi:end_x:factor]
        acc += plane[hi:end_y:factor, lo:end_x:factor]
        acc += plane[hi:end_y:factor, hi:end_x:factor]
    np.multiply(acc, np.float32(0.25), out=out)
    if black and not whole:
        out -= np.float32(black)
    return out


def normalise(
    gray: np.ndarray, mean: float | None = None, out: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Scale ``gray`` so its mean is 128; returns the scaled image and the mean.

    Dividing by the global mean removes most of a global brightness change
    (lights, auto-exposure), so differences measure structure, not exposure.
    ``mean`` overrides the mean (the engine leaves exclusion zones out of it).
    ``out``: an array of ``gray``'s shape and dtype to write the result into.
    """
    if mean is None:
        mean = array_mean(gray)
    scale = 128.0 / max(mean, 4.0)
    if out is None or out.shape != gray.shape or out.dtype != gray.dtype:
        return gray * scale, mean
    np.multiply(gray, scale, out=out)
    return out, mean


def array_mean(values: np.ndarray) -> float:
    """``float(values.mean())`` of a float32 array, bit for bit, without NumPy's wrapper.

    NumPy sums float32 in float32 (pairwise), divides in float64 by the count
    and rounds the quotient to float32; this does the same in two calls.
    """
    total = float(np.add.reduce(values, axis=None))
    return float(np.float32(total / values.size))


def share_set(mask: np.ndarray) -> float:
    """``float(mask.mean())`` of a boolean array (the share of set elements), exactly."""
    return np.count_nonzero(mask) / mask.size


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


def active_cells(mask: np.ndarray, share: float) -> np.ndarray:
    """Cells (boolean grid) where at least ``share`` (> 0) of the pixels of ``mask`` are set.

    The same as ``cell_fraction(mask) >= share``; a mask without any set
    pixel gives no active cell without the pooling (the fraction is 0 there).
    """
    h, w = mask.shape
    if share > 0.0 and not mask.any():
        return np.zeros((h // CELL, w // CELL), dtype=bool)
    active: np.ndarray = cell_fraction(mask) >= share
    return active


def dilate(grid: np.ndarray) -> np.ndarray:
    """3x3 binary dilation (a row pass, then a column pass: the same as the 3x3 box)."""
    h, w = grid.shape
    row = np.zeros((h, w + 2), dtype=bool)
    row[:, 1:-1] = grid
    col = np.zeros((h + 2, w), dtype=bool)
    mid = col[1:-1]
    np.logical_or(row[:, :-2], row[:, 2:], out=mid)
    mid |= grid
    out = col[:-2] | col[2:]
    out |= mid
    return out


def erode(grid: np.ndarray) -> np.ndarray:
    """3x3 binary erosion (outside the grid counts as set, so edges survive)."""
    h, w = grid.shape
    row = np.ones((h, w + 2), dtype=bool)
    row[:, 1:-1] = grid
    col = np.ones((h + 2, w), dtype=bool)
    mid = col[1:-1]
    np.logical_and(row[:, :-2], row[:, 2:], out=mid)
    mid &= grid
    out = col[:-2] & col[2:]
    out &= mid
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
    32x18 grid takes a few tens of microseconds. Components come in the
    order of their first run (row-major).
    """
    h, w = grid.shape
    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    edges = padded[:, 1:] - padded[:, :-1]
    start_rows, start_cols = np.nonzero(edges == 1)  # row-major order
    if not start_rows.size:
        return []
    ys: list[int] = start_rows.tolist()
    starts: list[int] = start_cols.tolist()
    ends: list[int] = np.nonzero(edges == -1)[1].tolist()  # end exclusive
    parent = list(range(len(ys)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    prev_lo = prev_hi = 0  # run ids [lo, hi) of the previous row
    cur_lo = 0  # first run id of the current row
    row = -2
    for rid, y in enumerate(ys):
        if y != row:
            if y == row + 1:
                prev_lo, prev_hi = cur_lo, rid
            else:
                prev_lo = prev_hi = rid
            cur_lo = rid
            row = y
        s, e = starts[rid], ends[rid]
        for pid in range(prev_lo, prev_hi):
            if starts[pid] <= e and ends[pid] >= s:  # overlap incl. diagonal contact
                ra, rb = find(rid), find(pid)
                if ra != rb:
                    parent[ra] = rb
    boxes: dict[int, list[int]] = {}
    for rid, y in enumerate(ys):
        root = find(rid)
        s, e = starts[rid], ends[rid]
        box = boxes.get(root)
        if box is None:
            boxes[root] = [s, y, e, y + 1, e - s]
        else:
            box[0] = min(box[0], s)
            box[2] = max(box[2], e)
            box[3] = y + 1
            box[4] += e - s
    return [Blob(*box) for box in boxes.values()]


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
        self._work: np.ndarray | None = None  # scratch of the small image's shape

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
        work = self._work
        if work is None or work.shape != small.shape:
            work = self._work = np.empty_like(small)
        np.subtract(small, bg, out=work)
        np.abs(work, out=work)
        active = active_cells(work > self.threshold, self.cell_share)
        ignore = self.ignore
        if ignore is not None and ignore.shape == active.shape:
            active &= ~ignore
        count = np.count_nonzero(active)
        share = count / active.size
        # Update the running background (in place, no allocation).
        alpha = 1.0 - math.exp(-max(dt, 0.0) / self.TAU)
        bg *= 1.0 - alpha
        np.multiply(small, alpha, out=work)
        bg += work
        if share >= self.GLOBAL_SHARE and self._last_share < self.CALM_SHARE:
            self.background = small.copy()
            self._last_share = share
            return MotionResult(share * 100.0, [], True)
        self._last_share = share
        if not count:
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
        active = active_cells(mask, self.cell_share)
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
