"""Motion stage of the occupancy engine (pure numpy).

Everything here works on a small, brightness-normalised grayscale image (about
160x90 pixels, see :func:`downscale_gray`) and on a coarse grid of cells
(5x5 pixels of the small image, i.e. 32x18 cells for a 16:9 camera), which
keeps the cost of one frame well below a millisecond without OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .types import Box

TARGET_PIXELS = 160 * 90
CELL = 5  # cell edge in pixels of the small image

_GRAY_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def downscale_factor(height: int, width: int) -> int:
    """Integer factor that brings a frame to about 160x90 (area preserving)."""
    return max(1, round((height * width / TARGET_PIXELS) ** 0.5))


def downscale_gray(image: np.ndarray, factor: int) -> np.ndarray:
    """Downscale an RGB uint8 image by ``factor`` to float32 grayscale.

    The result is cropped so both sides are a multiple of :data:`CELL`. For
    even factors the image is first subsampled with a stride of ``factor // 2``
    and then 2x2 block-averaged, which costs a quarter of a full area average
    and is visually the same at this scale.
    """
    height, width = image.shape[:2]
    h = (height // factor) // CELL * CELL
    w = (width // factor) // CELL * CELL
    if factor >= 2 and factor % 2 == 0:
        step = factor // 2
        block = 2
    else:
        step = 1
        block = factor
    sub = image[: h * factor : step, : w * factor : step]
    if sub.ndim == 2:
        sub = sub[:, :, None]
    channels = sub.shape[2]
    summed = sub.reshape(h, block, w, block, channels).sum(axis=(1, 3), dtype=np.uint32)
    if channels == 3:
        gray = summed.astype(np.float32) @ _GRAY_WEIGHTS
    else:
        gray = summed[:, :, 0].astype(np.float32)
    gray *= 1.0 / (block * block)
    return gray


def normalise(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale ``gray`` so its mean is 128; returns the scaled image and the mean.

    Dividing by the global mean removes most of a global brightness change
    (lights, auto-exposure), so differences measure structure, not exposure.
    """
    mean = float(gray.mean())
    return gray * (128.0 / max(mean, 4.0)), mean


def cell_fraction(mask: np.ndarray) -> np.ndarray:
    """Share (0..1) of set pixels in each CELLxCELL cell of ``mask``."""
    h, w = mask.shape
    counts = mask.reshape(h // CELL, CELL, w // CELL, CELL).sum(axis=(1, 3), dtype=np.int32)
    return counts * (1.0 / (CELL * CELL))


def _shifted(grid: np.ndarray, fill: bool) -> list[np.ndarray]:
    """Return the 3x3 neighbourhood of every cell as nine shifted copies."""
    padded = np.pad(grid, 1, constant_values=fill)
    h, w = grid.shape
    return [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]


def dilate(grid: np.ndarray) -> np.ndarray:
    """3x3 binary dilation."""
    out = np.zeros_like(grid)
    for part in _shifted(grid, False):
        out |= part
    return out


def erode(grid: np.ndarray) -> np.ndarray:
    """3x3 binary erosion (outside the grid counts as set, so edges survive)."""
    out = np.ones_like(grid)
    for part in _shifted(grid, True):
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


def components(grid: np.ndarray) -> list[Blob]:
    """8-connected components of a small boolean grid (run-length union-find).

    Work is proportional to the number of horizontal runs, not pixels, so a
    32x18 grid takes a few tens of microseconds.
    """
    h, w = grid.shape
    parent: list[int] = []
    runs: list[tuple[int, int, int]] = []  # (row, start, end) end exclusive
    prev: list[int] = []  # run ids of the previous row

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    padded = np.zeros((h, w + 2), dtype=np.int8)
    padded[:, 1:-1] = grid
    edges = np.diff(padded, axis=1)
    for y in range(h):
        row_edges = edges[y]
        starts = np.flatnonzero(row_edges == 1)
        if starts.size == 0:
            prev = []
            continue
        ends = np.flatnonzero(row_edges == -1)
        current: list[int] = []
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
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
        prev = current
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
    MEAN_JUMP = 0.12  # relative change of the mean brightness from one frame to the next

    def __init__(self) -> None:
        """Create an empty model; the first frame seeds it."""
        self.background: np.ndarray | None = None
        self.alpha = 0.5
        self.pixel_threshold = 14.0
        self.cell_share = 0.2
        self.min_cells = 2
        self._last_share = 0.0
        self._last_mean: float | None = None

    def configure(self, pixel_threshold: float, cell_share: float, min_cells: int) -> None:
        """Apply sensitivity-derived thresholds."""
        self.pixel_threshold = pixel_threshold
        self.cell_share = cell_share
        self.min_cells = min_cells

    def reset(self) -> None:
        """Forget the background."""
        self.background = None
        self._last_share = 0.0
        self._last_mean = None

    def update(self, small: np.ndarray, mean: float) -> MotionResult:
        """Feed one normalised small frame and its raw mean; returns its motion.

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
        diff = np.abs(small - bg)
        mask = diff > self.pixel_threshold
        active = cell_fraction(mask) >= self.cell_share
        share = float(active.mean())
        # Update the running background (in place, no allocation).
        bg *= 1.0 - self.alpha
        bg += self.alpha * small
        if share >= self.GLOBAL_SHARE and self._last_share < self.CALM_SHARE:
            self.background = small.copy()
            self._last_share = share
            return MotionResult(share * 100.0, [], True)
        self._last_share = share
        if not active.any():
            return MotionResult(0.0, [], False)
        closed = close_cells(active)
        blobs = [
            b for b in components(closed) if b.cells >= self.min_cells and b.x1 - b.x0 >= 2 and b.y1 - b.y0 >= 2
        ]
        return MotionResult(share * 100.0, blobs, False, closed)


def blob_to_box(blob: Blob, scale: float, frame_w: int, frame_h: int) -> Box:
    """Cell-coordinate blob to an (x, y, w, h) box in full-frame pixels."""
    x = int(blob.x0 * scale)
    y = int(blob.y0 * scale)
    x1 = min(frame_w, round(blob.x1 * scale))
    y1 = min(frame_h, round(blob.y1 * scale))
    return (x, y, max(1, x1 - x), max(1, y1 - y))
