"""Still-person evidence: empty-scene reference, person track, micro-motion, face check.

Motion alone cannot hold presence (a reading person hardly moves), so the
engine combines:

* :class:`SceneReference` - the look of the *empty* room on the cell grid,
  learned only while the room is EMPTY (a provisional one from the first
  frame at start-up). A still person stays foreground against it; the
  comparison goes through a robust affine brightness fit (:meth:`SceneReference.fit`),
  so exposure, dimmed lights or an IR/night switch do not make everything differ.
* :class:`PersonTrack` - where motion was last seen. A person whose last
  motion was inside the picture and who did not reappear as "gone" in the
  reference is still there; a track that ended at the frame edge means the
  person walked out.
* :class:`MicroMotion` - small, clustered changes against the picture of about
  one second ago; finds a seated person at start-up before anyone walked.
* :class:`FaceConfirmer` - optional OpenCV Haar face cascade, run rarely.
"""

from __future__ import annotations

from collections import deque
import math
from typing import Any

import numpy as np

from .motion import CELL, Blob, close_cells, components, pool_cells, share_set
from .types import Box


def cell_means(small: np.ndarray) -> np.ndarray:
    """Average of every CELLxCELL cell of the small image."""
    return pool_cells(small)


def median(values: np.ndarray) -> float:
    """``float(np.median(values))`` of a float32 array, bit for bit, in one partition.

    NumPy's median partitions at the middle element(s) and at the last one
    (a NaN sorts last and makes the median NaN), then averages the middle
    pair in float32; this does the same without its wrappers.
    """
    flat = values.reshape(-1)
    n = flat.size
    half = n // 2
    if n % 2:
        part = np.partition(flat, (half, n - 1))
        mid = part[half]
    else:
        part = np.partition(flat, (half - 1, half, n - 1))
        mid = (part[half - 1] + part[half]) / np.float32(2.0)
    if np.isnan(part[n - 1]):
        return math.nan
    return float(mid)


def blob_mask_share(mask: np.ndarray, blob: Blob, grow: int = 1) -> tuple[int, int]:
    """(set cells, all cells) of ``mask`` inside ``blob`` grown by ``grow`` cells."""
    h, w = mask.shape
    y0, y1 = max(0, blob.y0 - grow), min(h, blob.y1 + grow)
    x0, x1 = max(0, blob.x0 - grow), min(w, blob.x1 + grow)
    part = mask[y0:y1, x0:x1]
    return int(np.count_nonzero(part)), int(part.size)


def touching_blobs(mask: np.ndarray, region: Blob, grow: int = 1) -> Blob | None:
    """Union of the components of ``mask`` that reach into ``region`` (grown)."""
    found: Blob | None = None
    for blob in components(mask):
        if (
            blob.x0 < region.x1 + grow
            and blob.x1 > region.x0 - grow
            and blob.y0 < region.y1 + grow
            and blob.y1 > region.y0 - grow
        ):
            found = blob if found is None else found.union(blob)
    return found


def shift_cells(grid: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``grid`` sampled at (x + dx, y + dy) cells, bilinear, edges clamped."""
    h, w = grid.shape
    ys = np.clip(np.arange(h, dtype=np.float32) + dy, 0, h - 1)
    xs = np.clip(np.arange(w, dtype=np.float32) + dx, 0, w - 1)
    y0 = np.floor(ys).astype(int)
    x0 = np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x1] * fx
    bottom = grid[y1][:, x0] * (1 - fx) + grid[y1][:, x1] * fx
    out: np.ndarray = (top * (1 - fy) + bottom * fy).astype(np.float32)
    return out


class SceneReference:
    """Picture of the empty scene: cell means, and the small image it was learned from.

    ``trusted`` is False for the provisional reference taken at start-up (the
    first frame may already show a still person) and becomes True once it has
    been learned while the room was EMPTY. ``pixels`` is the same picture at
    small-image resolution (cells are its CELLxCELL means): a camera bump
    moves the picture by a fraction of a cell, and only the pixels can be
    moved that far without smearing strong edges (see :meth:`relearn`).
    """

    STALE_SHARE = 0.5  # more foreground than this: the reference no longer fits

    def __init__(self) -> None:
        """No reference yet."""
        self.cells: np.ndarray | None = None
        self.pixels: np.ndarray | None = None  # small image behind ``cells`` (None: unknown)
        self.trusted = False
        self.threshold = 10.0
        self.ignore: np.ndarray | None = None  # cells never foreground (exclusion zones)

    def reset(self) -> None:
        """Forget the reference."""
        self.cells = None
        self.pixels = None
        self.trusted = False

    def seed(self, cells: np.ndarray, trusted: bool, pixels: np.ndarray | None = None) -> None:
        """Replace the reference by ``cells`` (and the small image ``pixels`` they come from)."""
        self.cells = cells.copy()
        px = _matching(pixels, cells)
        self.pixels = None if px is None else px.copy()
        self.trusted = trusted

    def learn(
        self,
        cells: np.ndarray,
        alpha: float,
        calm: np.ndarray | None = None,
        pixels: np.ndarray | None = None,
    ) -> None:
        """Blend ``cells`` in (only call while the room is known to be empty).

        ``calm``: only these cells are blended (the ones that did not change
        since the previous frame: something moving too little to be seen as
        motion is not learned half-way). ``pixels``: the small image of
        ``cells``, blended the same way.
        """
        if self.cells is None or self.cells.shape != cells.shape:
            self.seed(cells, trusted=True, pixels=pixels)
            return
        step = alpha * (cells - self.cells)
        if calm is not None and calm.shape == step.shape:
            step *= calm
        self.cells += step
        self.trusted = True
        ref_px, px = self.pixels, _matching(pixels, cells)
        if ref_px is None or px is None or ref_px.shape != px.shape:
            self.pixels = None
            return
        px_step = px - ref_px
        if calm is not None and calm.shape == step.shape:
            gain = np.where(calm, np.float32(alpha), np.float32(0.0))
            px_step *= np.repeat(np.repeat(gain, CELL, axis=0), CELL, axis=1)
        else:
            px_step *= np.float32(alpha)
        ref_px += px_step

    def fit(self, cells: np.ndarray) -> tuple[float, float]:
        """Brightness mapping ``cells ~ a * reference + b`` of the room as a whole.

        Robust to a person covering part of the picture: start from the median
        ratio, then a least-squares fit over the cells that agree with it. An
        affine mapping covers exposure and gain (lights dimmed), and the
        flatter, brighter grey of an IR/night-mode switch.
        """
        ref = self.cells
        if ref is None or ref.shape != cells.shape:
            return 1.0, 0.0
        ignore = (
            self.ignore if self.ignore is not None and self.ignore.shape == cells.shape else None
        )
        r = ref if ignore is None else ref[~ignore]
        c = cells if ignore is None else cells[~ignore]
        if r.size < 4:
            return 1.0, 0.0
        a, b = median(c / np.maximum(r, 1.0)), 0.0
        keep = np.abs(c - a * r) <= 2.0 * self.threshold
        n = int(np.count_nonzero(keep))
        if n >= 4:
            rk, ck = r[keep], c[keep]
            sr, sc = float(rk.sum()), float(ck.sum())
            var = float(np.dot(rk, rk)) - sr * sr / n
            if var > n:  # enough contrast in the room to fit an offset as well
                a = (float(np.dot(rk, ck)) - sr * sc / n) / var
                b = (sc - a * sr) / n
        return a, b

    def foreground(self, cells: np.ndarray) -> tuple[np.ndarray | None, float]:
        """Foreground cell mask against the reference and its share (0..1).

        The reference is first mapped to the current brightness (see
        :meth:`fit`). Returns ``(None, share)`` when there is no usable
        reference (none yet, other size, or stale: most of the picture
        differs even so, e.g. the camera was turned).
        """
        ref = self.cells
        if ref is None or ref.shape != cells.shape:
            return None, 0.0
        a, b = self.fit(cells)
        fg = np.abs(cells - (a * ref + b)) > self.threshold
        if self.ignore is not None and self.ignore.shape == cells.shape:
            fg &= ~self.ignore
        share = share_set(fg)
        if share > self.STALE_SHARE:
            return None, share
        return close_cells(fg), share

    def relearn(
        self,
        cells: np.ndarray,
        keep: Blob | None,
        shift: tuple[float, float] = (0.0, 0.0),
        pixels: np.ndarray | None = None,
    ) -> None:
        """Re-take the reference after a global change (lights, IR switch, camera bump).

        Everywhere but ``keep`` (where a person is) the current picture is the
        empty room; under ``keep`` the old reference is mapped to the new
        brightness, so the person there still stands out against it.
        ``shift``: how far (x, y, in small-image pixels) the picture moved
        when the camera was bumped; the old reference is moved with it - on
        the small image when it is known (a shift by a fraction of a cell
        leaves no false difference along strong edges where the person stands,
        so the place reads as empty room again once they have gone), else on
        the cells. ``pixels``: the current small image (``cells`` are its means).
        """
        ref = self.cells
        px = _matching(pixels, cells)
        if ref is None or ref.shape != cells.shape:
            self.seed(cells, trusted=False, pixels=px)
            return
        ref_px = self.pixels if px is not None else None
        if ref_px is not None and px is not None and ref_px.shape != px.shape:
            ref_px = None
        if shift != (0.0, 0.0):
            if ref_px is not None:
                ref_px = shift_cells(ref_px, shift[0], shift[1])
                ref = pool_cells(ref_px)
            else:
                ref = shift_cells(ref, shift[0] / CELL, shift[1] / CELL)
            self.cells = ref
        a, b = self.fit(cells)
        new = cells.copy()
        new_px = None if px is None or ref_px is None else px.copy()
        if keep is not None:
            part = (slice(keep.y0, keep.y1), slice(keep.x0, keep.x1))
            new[part] = a * ref[part] + b
            if new_px is not None and ref_px is not None:
                part = (
                    slice(keep.y0 * CELL, keep.y1 * CELL),
                    slice(keep.x0 * CELL, keep.x1 * CELL),
                )
                new_px[part] = a * ref_px[part] + b
        self.cells = new
        self.pixels = new_px


def _matching(pixels: np.ndarray | None, cells: np.ndarray) -> np.ndarray | None:
    """``pixels`` (float32) when it is the small image behind ``cells``, else None."""
    if pixels is None or pixels.shape != (cells.shape[0] * CELL, cells.shape[1] * CELL):
        return None
    out: np.ndarray = pixels.astype(np.float32, copy=False)
    return out


class PersonTrack:
    """Memory of where the person was last seen moving (cell coordinates)."""

    WINDOW = 1.0  # seconds of motion merged into the person region

    def __init__(self) -> None:
        """Empty track."""
        self._recent: deque[tuple[float, Blob]] = deque()
        self.region: Blob | None = None  # union of motion over the last WINDOW
        self.last: Blob | None = None  # motion of the last moving frame
        self.last_motion: float | None = None

    def reset(self) -> None:
        """Forget the track."""
        self._recent.clear()
        self.region = None
        self.last = None
        self.last_motion = None

    def moved(self, t: float, blob: Blob) -> None:
        """Record motion ``blob`` at stream time ``t``."""
        self._recent.append((t, blob))
        while self._recent and self._recent[0][0] < t - self.WINDOW:
            self._recent.popleft()
        region = self._recent[0][1]
        for _, other in list(self._recent)[1:]:
            region = region.union(other)
        self.region = region
        self.last = blob
        self.last_motion = t

    def at_edge(self, grid_w: int, grid_h: int) -> bool:
        """Tell whether the last motion touched the frame border."""
        b = self.last
        if b is None:
            return False
        return b.x0 <= 0 or b.y0 <= 0 or b.x1 >= grid_w or b.y1 >= grid_h

    def heading(self) -> tuple[float, float]:
        """Centroid displacement (dx, dy) in cells over the last WINDOW of motion."""
        if len(self._recent) < 2:
            return 0.0, 0.0
        first = self._recent[0][1]
        last = self._recent[-1][1]
        dx = (last.x0 + last.x1 - first.x0 - first.x1) / 2.0
        dy = (last.y0 + last.y1 - first.y0 - first.y1) / 2.0
        return dx, dy

    def shift(self, delta: float) -> None:
        """Move stored times by ``delta``."""
        self._recent = deque((t + delta, b) for t, b in self._recent)
        if self.last_motion is not None:
            self.last_motion += delta


class MicroMotion:
    """Clustered small changes against the picture ``lag`` seconds ago."""

    MIN_AGE = 0.5  # s: youngest picture :meth:`changes_since` compares against at start-up

    def __init__(self, lag: float = 1.0) -> None:
        """Empty history."""
        self.lag = lag
        self.threshold = 5.0
        self.min_cells = 3
        self.ignore: np.ndarray | None = None  # cells never counted (exclusion zones)
        self._history: deque[tuple[float, np.ndarray]] = deque()

    def reset(self) -> None:
        """Forget the history."""
        self._history.clear()

    def push(self, t: float, cells: np.ndarray) -> None:
        """Add the cell means of the frame at stream time ``t`` (cheap)."""
        hist = self._history
        if hist and hist[-1][1].shape != cells.shape:
            hist.clear()
        hist.append((t, cells))
        while len(hist) > 1 and hist[1][0] <= t - self.lag:
            hist.popleft()

    def changes(self, t: float, cells: np.ndarray) -> list[Blob]:
        """Clusters of cells that changed since ``t - lag`` (after :meth:`push`)."""
        hist = self._history
        if not hist or hist[0][0] > t - self.lag:
            return []
        return self._clusters(hist[0][1], cells)

    def changes_since(self, t: float, cells: np.ndarray, min_age: float) -> list[Blob]:
        """Clusters of cells that changed against a kept picture at least ``min_age`` s old.

        The kept pictures are those of the last ``lag`` s and the newest one
        older than that (after :meth:`push`); the oldest is tried first and
        the first one that shows clustered changes decides.
        """
        for when, before in self._history:
            if when > t - min_age + 1e-6:
                break
            found = self._clusters(before, cells)
            if found:
                return found
        return []

    def _clusters(self, before: np.ndarray, cells: np.ndarray) -> list[Blob]:
        """Clusters of cells that differ between ``before`` and ``cells``."""
        if before.shape != cells.shape:
            return []
        changed = np.abs(cells - before) > self.threshold
        if self.ignore is not None and self.ignore.shape == changed.shape:
            changed &= ~self.ignore
        share = share_set(changed)
        if share == 0.0 or share > 0.3:  # nothing, or a global change (not a person)
            return []
        return [b for b in components(close_cells(changed)) if b.cells >= self.min_cells]


class FaceConfirmer:
    """OpenCV Haar frontal-face cascade as extra presence evidence.

    Runs at most every ``interval`` seconds of stream time on a ~320 px wide
    grayscale copy; the engine only calls it at low motion.
    """

    WIDTH = 320

    def __init__(self, cv2: Any, interval: float = 0.5) -> None:
        """Load the cascade bundled with opencv-python (no downloads)."""
        self._cv2 = cv2
        self.interval = interval
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError("Haar cascade not available")
        self._last_run: float | None = None
        self.last_faces: list[Box] = []

    def reset(self) -> None:
        """Forget the rate limiter and the last result."""
        self._last_run = None
        self.last_faces = []

    def due(self, t: float) -> bool:
        """Whether a run is allowed at stream time ``t``."""
        return self._last_run is None or t - self._last_run >= self.interval or t < self._last_run

    def detect(self, t: float, image: np.ndarray) -> list[Box]:
        """Faces in the grey (luma) or RGB ``image`` (full-frame pixel boxes)."""
        cv2 = self._cv2
        self._last_run = t
        height, width = image.shape[:2]
        scale = min(1.0, self.WIDTH / max(width, 1))
        small = cv2.resize(
            image,
            (max(1, int(width * scale)), max(1, int(height * scale))),
            interpolation=cv2.INTER_AREA,
        )
        gray = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        side = max(20, int(min(gray.shape) * 0.12))
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=1.15, minNeighbors=6, minSize=(side, side)
        )
        inv = 1.0 / scale
        self.last_faces = [
            (int(x * inv), int(y * inv), int(w * inv), int(h * inv))
            for (x, y, w, h) in np.asarray(found).reshape(-1, 4)
        ]
        return self.last_faces
