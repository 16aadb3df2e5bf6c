"""Occupancy engine: frames in, OCCUPIED / EMPTY / UNKNOWN decisions out.

Pipeline per frame (all on a ~160x90 grey copy, numpy only; every time
constant is in seconds of stream time, so 1 fps and 15 fps decide alike):

1. downscale + normalise by the mean brightness outside the exclusion zones
   (``EngineConfig.exclude_zones``: a TV, a window, a pet bed - nothing inside
   them counts, anywhere below);
2. motion: running background (time constant MotionDetector.TAU), difference,
   threshold (higher in a dim picture), 5x5-pixel cells, closing, connected
   components -> motion boxes and score. Global changes are not people: a
   jump of the mean brightness, most of the picture changing at once after a
   calm frame, or the whole picture shifted by up to a few pixels, to a
   fraction of a pixel (camera bumped, :meth:`OccupancyEngine._camera_moved`;
   what still moves against the moved picture is motion). After one with
   someone present the empty-room reference is re-taken around them (moved
   with the picture, on the small image); a light change away from a person
   present is no motion and is learned into the reference while they stay;
3. who moves: where nobody is known to be, motion must span
   ``min_height`` of the picture (by sensitivity; a cat is not an arrival);
   in an EMPTY room it must have gone on for ENTRY_SPAN s (one more frame
   at 10 fps, none at 5 fps and below) as a solid region, and the
   confirming change must not be a lighting step (all brighter or all
   darker with the room's texture kept: a lamp, the sun, a screen waking);
4. still-person evidence when nothing moves (see :mod:`.presence`):
   foreground against the empty-room reference (compared through a robust
   brightness fit, so dimmed lights or an IR switch do not matter) where a
   person was seen moving or last stood still. A difference that no tracked
   person walked into is a scene change and is learned into the reference
   while the room is EMPTY; walking away from the still place forgets it.
   Memory of the last motion region holds when no trusted reference fits (a
   person whose motion ended at a frame border while heading out walked out);
   micro-motion at start-up; and, only when OpenCV imports, a Haar face check
   at <= 2 Hz and low motion that can hold (never create) presence. A "still
   person" that shows no movement at all - not even micro-motion of breathing
   - for ``still_timeout`` s (default 5 min) is taken for a thing left behind:
   the room goes EMPTY, but that place is not learned as empty room, so if it
   was a person they are seen again when they move and when they leave;
5. the state machine of :mod:`.occupancy`, driven by frame pts only, so
   offline processing and real time give identical decisions.

Start-up: the engine starts UNKNOWN. Motion, or clustered micro-motion (a
seated person breathing, blinking), makes it OCCUPIED at once. Without any
evidence it says EMPTY only after ``startup_quiet`` seconds (default 10 s, at
least ``delay``). The picture of the quiet start-up is a provisional
reference, kept current while nothing happens; it becomes the empty room when
someone arrives after at least QUIET_TRUST s of quiet (it is the room just
before them), or after the first EMPTY that followed a person leaving. An
uncertain EMPTY (start-up wait, still timeout) never teaches the reference a
person. The same start-up rules apply after :meth:`OccupancyEngine.set_unknown`,
except that a learned reference is kept: whatever stands out against it when
the camera returns is a person. An error inside the engine is logged once, the
models restart and the state the user sees is kept (see ``_recover``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import logging
import math

import numpy as np

from .motion import (
    CELL,
    Blob,
    MotionDetector,
    MotionResult,
    blob_to_box,
    bounding,
    cell_fraction,
    components,
    downscale_factor,
    downscale_gray,
    normalise,
    pool_cells,
)
from .occupancy import OccupancyStateMachine
from .optional import opencv
from .presence import (
    FaceConfirmer,
    MicroMotion,
    PersonTrack,
    SceneReference,
    blob_mask_share,
    cell_means,
    shift_cells,
    touching_blobs,
)
from .types import Box, Frame, FrameResult, Occupancy, Transition

_LOGGER = logging.getLogger(__name__)

MIN_DELAY = 0.5
MAX_DELAY = 60.0
FACE_MAX_MOTION = 2.0  # % of cells moving above which the face check is skipped
EDGE_BAND = 0.25  # the last motion's centre must lie in this outer share of the frame
VERIFY = 1.0  # s of calm a start-up reference cell needs before motion there
HEADING = 1.0  # cells the motion must have moved towards a border to count as leaving
ENTRY_WINDOW = 0.6  # s: frame intervals above this are "low rate" for _vacated
ENTRY_SPAN = 0.2  # s: an entry needs the picture changing this long since the last calm frame
REF_TAU = 0.95  # s: time constant of the empty-room reference while EMPTY and calm
STARTUP_TAU = 0.45  # s: same for the provisional start-up reference
QUIET_TRUST = 4.0  # s of start-up without any evidence after which an arrival trusts the reference
LIGHT_SIGN = 0.95  # share of changed pixels changing the same way that marks a lighting step
LIGHT_SIGN_AWAY = 0.8  # the same for light changing away from a person present
LIGHT_CORR = 0.8  # a lit area keeps at least this correlation with how it looked before
FLAT = 2.0  # grey levels of spread below which an area has no texture to compare
LIGHT_SPREAD = 0.45  # std of log(new/old) brightness over the changed pixels of a lighting step
BUMP_SHARE = 0.2  # share of cells in motion that makes the engine check for a camera shift
BUMP_MIN = 2.0  # % of cells in motion that make it check when spread all over the picture
BUMP_SPREAD = 0.5  # share of the picture width and height such motion must span
SHIFT = 2  # small-image pixels (about 4 camera pixels at 320 wide) a bump may shift the picture
BUMP_MIN_SHIFT = 0.2  # small-image pixels: a smaller shift is no bump (noise, a person moving)
MOVED_MARGIN = 2.0  # motion threshold factor in a frame where the camera moved
BUMP_GAIN = 0.6  # a shift that leaves less than this of the changed pixels is the camera moving
NEAR = 2  # cells: small motion this close to the person's place is the person (hands)

Zone = tuple[float, float, float, float]  # x, y, w, h as shares (0..1) of the picture


@dataclass
class EngineConfig:
    """Engine settings (all can be changed later through the engine's setters)."""

    delay: float = 2.0  # absence delay, seconds (0.5 .. 60)
    sensitivity: int = 5  # 1 (least) .. 10 (most sensitive)
    use_opencv: bool | None = None  # None: use OpenCV stages when cv2 imports
    startup_quiet: float = 10.0  # seconds without evidence before EMPTY while UNKNOWN
    # a "still person" that shows no movement at all this long is a thing:
    still_timeout: float = 300.0
    exclude_zones: tuple[Zone, ...] = ()  # parts of the picture to ignore (TV, window, pet bed)


def clean_zones(zones: object) -> tuple[Zone, ...]:
    """Return the valid exclusion zones of user input, clipped to the picture.

    Each zone is ``(x, y, w, h)`` in shares 0..1 of the picture width/height.
    Anything that is not four numbers is dropped (bad options never break analysis).
    """
    out: list[Zone] = []
    for zone in zones if isinstance(zones, (list, tuple)) else ():
        if not isinstance(zone, (list, tuple)):
            continue
        try:
            x, y, w, h = (float(v) for v in zone)
        except (TypeError, ValueError):
            continue
        if not all(math.isfinite(v) for v in (x, y, w, h)):
            continue
        x0, y0 = min(1.0, max(0.0, x)), min(1.0, max(0.0, y))
        x1, y1 = min(1.0, max(0.0, x + w)), min(1.0, max(0.0, y + h))
        if x1 > x0 and y1 > y0:
            # Inside the picture the numbers are kept as given (no rounding drift).
            out.append(
                (
                    x0,
                    y0,
                    w if x0 == x and x1 == x + w else x1 - x0,
                    h if y0 == y and y1 == y + h else y1 - y0,
                )
            )
    return tuple(out)


def zone_cells(
    zones: tuple[Zone, ...], grid_h: int, grid_w: int, cover_w: float, cover_h: float
) -> np.ndarray | None:
    """Cells (grid_h x grid_w) that touch an exclusion zone, or None without zones.

    A cell partly inside a zone is ignored as a whole (a zone drawn tightly
    around a TV still hides all of the screen). ``cover_w``/``cover_h``: share
    of the picture width/height the cell grid covers (the small image is
    cropped to whole cells at the right/bottom).
    """
    if not zones:
        return None
    step_x, step_y = cover_w / grid_w, cover_h / grid_h
    x0s = np.arange(grid_w, dtype=np.float64) * step_x
    y0s = np.arange(grid_h, dtype=np.float64) * step_y
    mask = np.zeros((grid_h, grid_w), dtype=bool)
    for x, y, w, h in zones:
        cols = (x0s + step_x > x) & (x0s < x + w)
        rows = (y0s + step_y > y) & (y0s < y + h)
        mask |= rows[:, None] & cols[None, :]
    return mask


def _blend(dt: float, tau: float) -> float:
    """Share of a new frame blended into a model with time constant ``tau`` s after ``dt`` s."""
    return 1.0 - math.exp(-max(0.0, dt) / tau)


def _sample(image: np.ndarray, m: int, sx: float, sy: float) -> np.ndarray:
    """``image`` at (x + sx, y + sy) on every other pixel ``m`` px in from the border (bilinear).

    The grid is the one of ``image[m:-m:2, m:-m:2]``; ``|sx|, |sy| <= m``
    (less than ``m`` unless whole pixels).
    """
    h, w = image.shape
    x0, y0 = math.floor(sx), math.floor(sy)
    fx, fy = sx - x0, sy - y0

    def at(dy: int, dx: int) -> np.ndarray:
        return image[m + y0 + dy : h - m + y0 + dy : 2, m + x0 + dx : w - m + x0 + dx : 2]

    top = at(0, 0)
    if fx:
        top = top + fx * (at(0, 1) - top)
    if not fy:
        return top
    bottom = at(1, 0)
    if fx:
        bottom = bottom + fx * (at(1, 1) - bottom)
    out: np.ndarray = top + fy * (bottom - top)
    return out


def _coarse_shift(before: np.ndarray, now: np.ndarray, m: int, reach: int) -> tuple[int, int]:
    """Whole-pixel shift (x, y), at most ``reach``, with ``now(p) ~ before(p + shift)`` (sparse grid)."""
    h, w = now.shape
    side = 2 * reach + 1
    windows = np.lib.stride_tricks.sliding_window_view(before, (side, side))
    moved = windows[m - reach : h - m - reach : 4, m - reach : w - m - reach : 4]
    core = now[m : h - m : 4, m : w - m : 4]
    errs = np.abs(moved - core[:, :, None, None]).sum(axis=(0, 1))
    iy, ix = np.unravel_index(int(np.argmin(errs)), errs.shape)
    return int(ix) - reach, int(iy) - reach


def _refine_shift(
    before: np.ndarray, now: np.ndarray, m: int, sx: float, sy: float, *, steps: int = 3
) -> tuple[float, float]:
    """Shift (x, y) with ``now(p) ~ before(p + shift)`` to a fraction of a pixel, from a start.

    Gauss-Newton (Lucas-Kanade) steps over the whole picture on every other
    pixel; the shift stays within ``m - 1`` pixels.
    """
    h, w = now.shape
    core = now[m : h - m : 2, m : w - m : 2]
    limit = float(m - 1)
    base: tuple[int, int] | None = None
    gx = gy = core
    sxx = syy = sxy = det = 0.0
    for _ in range(steps):
        k = (round(sx), round(sy))
        if k != base:
            base = k
            gx = _sample(before, m, k[0] + 1.0, k[1]) - _sample(before, m, k[0] - 1.0, k[1])
            gy = _sample(before, m, k[0], k[1] + 1.0) - _sample(before, m, k[0], k[1] - 1.0)
            sxx, syy, sxy = float(np.vdot(gx, gx)), float(np.vdot(gy, gy)), float(np.vdot(gx, gy))
            det = sxx * syy - sxy * sxy
        if det <= 1e-6 * max(sxx * syy, 1e-12):
            break
        diff = core - _sample(before, m, sx, sy)
        bx, by = 2.0 * float(np.vdot(gx, diff)), 2.0 * float(np.vdot(gy, diff))
        dx, dy = (syy * bx - sxy * by) / det, (sxx * by - sxy * bx) / det
        sx = min(limit, max(-limit, sx + dx))
        sy = min(limit, max(-limit, sy + dy))
        if abs(dx) < 0.02 and abs(dy) < 0.02:
            break
    return sx, sy


def _spread_change(motion: MotionResult) -> bool:
    """Whether the motion of a frame may be the whole picture moving (see ``_camera_moved``).

    Much of the picture changing (BUMP_SHARE), or a little (BUMP_MIN %) with
    the moving cells spanning BUMP_SPREAD of its width and height: a camera
    shifted by a fraction of a pixel only shows at strong edges, but at
    edges everywhere; a person moving is one compact region.
    """
    if motion.score >= 100.0 * BUMP_SHARE:
        return True
    cells = motion.cells
    if motion.score < BUMP_MIN or cells is None:
        return False
    cols = np.flatnonzero(cells.any(axis=0))
    rows = np.flatnonzero(cells.any(axis=1))
    if not cols.size:
        return False
    h, w = cells.shape
    return bool(
        cols[-1] - cols[0] + 1 >= BUMP_SPREAD * w and rows[-1] - rows[0] + 1 >= BUMP_SPREAD * h
    )


def _same_texture(now: np.ndarray, old: np.ndarray) -> bool:
    """Whether ``now`` shows the texture of ``old`` (light on the same things, not new things).

    Correlation of the two pictures at least LIGHT_CORR; on a flat area (no
    texture to compare) only a flat result counts as the same.
    """
    a = now - float(now.mean())
    b = old - float(old.mean())
    var_a, var_b = float(np.vdot(a, a)), float(np.vdot(b, b))
    flat = FLAT * FLAT * a.size
    if var_b <= flat:
        return var_a <= flat * 4.0
    return float(np.vdot(a, b)) >= LIGHT_CORR * math.sqrt(var_a * var_b)


def _near(blob: Blob, area: Blob, grow: int) -> bool:
    """Whether ``blob`` overlaps ``area`` grown by ``grow`` cells."""
    return (
        blob.x0 < area.x1 + grow
        and blob.x1 > area.x0 - grow
        and blob.y0 < area.y1 + grow
        and blob.y1 > area.y0 - grow
    )


def _shrink(box: Box, fx: int, fy: int) -> Box:
    """Map a box of an enlarged frame back to the original frame."""
    x, y, w, h = box
    return (x // fx, y // fy, max(1, w // fx), max(1, h // fy))


def clamp_delay(seconds: float) -> float:
    """Clamp an absence delay to the supported range."""
    return min(MAX_DELAY, max(MIN_DELAY, float(seconds)))


def clamp_sensitivity(value: int) -> int:
    """Clamp a sensitivity to 1..10."""
    return min(10, max(1, int(value)))


class OccupancyEngine:
    """Decides from frames whether someone is in the room.

    ``process`` is a pure function of the frames and their pts: processing a
    file as fast as possible gives the same decisions as watching it live.
    Not thread-safe except for the plain attribute writes of the setters.
    """

    def __init__(self, config: EngineConfig | None = None) -> None:
        """Create an engine in state UNKNOWN."""
        self.config = config or EngineConfig()
        self.config.delay = clamp_delay(self.config.delay)
        self.config.sensitivity = clamp_sensitivity(self.config.sensitivity)
        self._motion = MotionDetector()
        self._reference = SceneReference()
        self._track = PersonTrack()
        self._micro = MicroMotion()
        # OpenCV is imported and the cascade loaded on first use, in the thread
        # that calls process(): constructing the engine never blocks (HA loop).
        self._face: FaceConfirmer | None = None
        self._face_tried = self.config.use_opencv is False
        self._sm = OccupancyStateMachine(self.config.delay, self.config.startup_quiet)
        self._factor: int | None = None
        self._shape: tuple[int, int] | None = None
        self._last_t: float | None = None
        self._last_dt = 0.1
        self._face_until: float | None = None
        self._face_box: Box | None = None
        # Start-up reference: per cell, stream time of the first motion seen.
        # Cells that moved within VERIFY s of the start held something that
        # left (a hole in the reference), so they cannot testify for presence.
        self._first_motion: np.ndarray | None = None
        self._ref_t0 = 0.0
        self._still_box: Blob | None = None  # foreground where the person last stood still
        self._still_moved = False  # motion started at the still box since it was set
        self._doubt: Blob | None = None  # place of a "still person" dropped by the still timeout
        self._still_fg: np.ndarray | None = None  # foreground of this frame's still-person check
        self._lit: np.ndarray | None = None  # cells changed by light away from the person
        self._still_timed_out = False
        self._shift = (0.0, 0.0)  # picture shift (x, y, small pixels) of a camera bump this frame
        self._prev_cells: np.ndarray | None = None  # cell means of the previous frame
        self._last_alive: float | None = None  # stream time of the last motion/micro-motion
        self._prev_small: np.ndarray | None = None  # previous normalised small frame
        # last calm frame (time, small picture) before a possible entry (see _entry_confirmed):
        self._entry_calm: tuple[float, np.ndarray] | None = None
        self._gray: np.ndarray | None = None  # downscale buffer, reused every frame
        # recent motion where nobody is known to be:
        self._entry_seen: deque[tuple[float, Blob]] = deque()
        self._ignore: np.ndarray | None = None  # exclusion-zone cells of the current grid
        self._ignore_key: tuple[object, ...] | None = None
        self._error_logged = False
        self.min_height = 0.18  # share of the picture height an arriving person's motion must span
        self.set_sensitivity(self.config.sensitivity)
        self.set_exclude_zones(self.config.exclude_zones)

    # ------------------------------------------------------------------ API
    @property
    def state(self) -> Occupancy:
        """Current occupancy state (UNKNOWN until the first frame)."""
        return self._sm.state

    @property
    def uses_opencv(self) -> bool:
        """Whether the OpenCV confirmation stage is active (loads it if needed; blocking)."""
        return self._face_stage() is not None

    def _face_stage(self) -> FaceConfirmer | None:
        """Return the OpenCV face check, created on first use (None: numpy only)."""
        if not self._face_tried:
            self._face_tried = True
            cv2 = opencv()
            if cv2 is None:
                if self.config.use_opencv:
                    _LOGGER.warning("OpenCV requested but cv2 does not import; using numpy only")
            else:
                try:
                    self._face = FaceConfirmer(cv2)
                except (RuntimeError, AttributeError) as err:
                    _LOGGER.debug("OpenCV face check unavailable: %s", err)
        return self._face

    def set_delay(self, seconds: float) -> None:
        """Change the absence delay (takes effect on the next frame)."""
        self.config.delay = clamp_delay(seconds)
        self._sm.delay = self.config.delay

    def set_sensitivity(self, value: int) -> None:
        """Map sensitivity 1..10 to all thresholds (10 = most sensitive)."""
        s = clamp_sensitivity(value)
        self.config.sensitivity = s
        self._motion.configure(
            pixel_threshold=28.0 - 2.0 * s,  # 26 .. 8 normalised grey levels
            cell_share=0.25 - 0.01 * s,
            min_cells=4 if s <= 3 else (3 if s <= 7 else 2),
        )
        self._reference.threshold = 12.5 - 0.5 * s  # 12 .. 7.5 on cell means
        self._micro.threshold = 7.0 - 0.5 * s  # 6.5 .. 2 on cell means
        self.min_height = 0.28 - 0.02 * s  # 26 % .. 8 % of the picture height

    def set_exclude_zones(self, zones: object) -> None:
        """Ignore motion and evidence inside these zones from the next frame on.

        ``zones``: ``(x, y, w, h)`` rectangles in shares 0..1 of the picture
        (a TV, a window, an aquarium, a pet bed). Invalid entries are dropped.
        """
        self.config.exclude_zones = clean_zones(zones)

    def set_unknown(self, t: float, reason: str) -> Transition | None:
        """Mark the camera as not streaming: UNKNOWN (never read as empty)."""
        self._track.reset()
        self._still_box = None
        self._last_alive = None
        self._micro.reset()
        self._motion.reset()
        self._face_until = None
        self._last_t = None
        self._prev_small = None
        self._entry_calm = None
        self._entry_seen.clear()
        return self._sm.set_unknown(t, reason)

    def reset(self) -> None:
        """Forget background, reference and track; next frames re-learn (state UNKNOWN)."""
        self._motion.reset()
        self._reference.reset()
        self._lit = None
        self._track.reset()
        self._still_box = None
        self._last_alive = None
        self._micro.reset()
        if self._face is not None:
            self._face.reset()
        self._face_until = None
        self._factor = None
        self._shape = None
        self._last_t = None
        self._prev_small = None
        self._entry_calm = None
        self._entry_seen.clear()
        self._sm = OccupancyStateMachine(self.config.delay, self.config.startup_quiet)

    # -------------------------------------------------------------- process
    def _check_time(self, t: float) -> None:
        """Re-base stored times when stream time jumps back (file loop)."""
        last = self._last_t
        if last is not None:
            if t < last:
                delta = t - last - self._last_dt
                self._sm.shift(delta)
                self._track.shift(delta)
                self._micro.reset()
                if self._face is not None:
                    self._face.reset()
                self._face_until = None
                self._entry_calm = None
                self._entry_seen.clear()
            elif t > last:
                self._last_dt = min(t - last, 1.0)
        self._last_t = t

    def _geometry(self, image: np.ndarray) -> int:
        """Downscale factor for this frame size (models reset on size change)."""
        height, width = image.shape[:2]
        if self._shape != (height, width) or self._factor is None:
            self._shape = (height, width)
            self._factor = downscale_factor(height, width)
            self._motion.reset()
            self._reference.reset()
            self._track.reset()
            self._still_box = None
            self._last_alive = None
            self._micro.reset()
        return self._factor

    def process(self, frame: Frame) -> FrameResult:
        """Analyse one frame; returns what was seen and the (new) state.

        An unexpected error inside the engine never ends the analysis: it is
        logged (with its traceback the first time, then at debug level), the
        models are reset and the state is kept (see :meth:`_recover`).
        """
        try:
            return self._process(frame)
        except Exception:  # any bug here must not stop occupancy detection
            if not self._error_logged:
                self._error_logged = True
                _LOGGER.exception("Occupancy engine error; resetting the engine and continuing")
            else:
                _LOGGER.debug("Occupancy engine error again; resetting", exc_info=True)
            return self._recover(float(frame.pts))

    def _recover(self, t: float) -> FrameResult:
        """After an engine error: re-learn everything, keep the state the user sees.

        The models start from scratch (like start-up; a learned empty-room
        reference is kept), and so is the state machine: an OCCUPIED room stays occupied for ``startup_quiet`` s (at least
        the delay) unless evidence comes back, so a crash never pauses the
        music under someone's nose; an EMPTY room stays empty.
        """
        sm = self._sm
        state = sm.state
        reference = self._reference.cells if self._reference.trusted else None
        pixels = self._reference.pixels
        shape, factor = self._shape, self._factor
        self.reset()
        self._sm = sm
        if reference is not None and np.all(np.isfinite(reference)):
            # The empty room learned before the error is still the empty room.
            self._reference.seed(reference, trusted=True, pixels=pixels)
            self._shape, self._factor = shape, factor
        if state is Occupancy.OCCUPIED:
            sm.last_presence = t + max(0.0, sm.startup_quiet - sm.delay)
        return FrameResult(
            t=t,
            state=state,
            presence=state is Occupancy.OCCUPIED,
            motion_score=0.0,
            reason="engine reset",
        )

    def _zones_for(
        self, grid_h: int, grid_w: int, cover_w: float, cover_h: float
    ) -> np.ndarray | None:
        """Exclusion-zone cell mask for this grid, recomputed when zones or size change."""
        zones = self.config.exclude_zones
        key = (zones, grid_h, grid_w, cover_w, cover_h)
        if key != self._ignore_key:
            self._ignore_key = key
            self._ignore = zone_cells(zones, grid_h, grid_w, cover_w, cover_h)
            self._motion.ignore = self._reference.ignore = self._micro.ignore = self._ignore
        return self._ignore

    def _process(self, frame: Frame) -> FrameResult:
        """Analyse one frame (see :meth:`process`)."""
        t = float(frame.pts)
        image = frame.gray  # luma view of the decoded frame (no RGB)
        reps_y = reps_x = 1
        if image.shape[0] < 2 * CELL or image.shape[1] < 2 * CELL:
            # Too small to analyse (broken stream?): enlarge, so it is still handled.
            reps_y = -(-2 * CELL // image.shape[0])
            reps_x = -(-2 * CELL // image.shape[1])
            image = np.repeat(np.repeat(image, reps_y, axis=0), reps_x, axis=1)
        self._check_time(t)
        factor = self._geometry(image)
        height, width = image.shape[:2]
        scale = float(factor * CELL)

        gray = self._gray = downscale_gray(image, factor, frame.black, self._gray)
        grid_h, grid_w = gray.shape[0] // CELL, gray.shape[1] // CELL
        ignore = self._zones_for(
            grid_h, grid_w, gray.shape[1] * factor / width, gray.shape[0] * factor / height
        )
        if ignore is None:
            small, mean = normalise(gray)
            cells = cell_means(small)
        else:
            raw = cell_means(gray)
            keep = raw[~ignore]
            small, mean = normalise(gray, float(keep.mean()) if keep.size else None)
            cells = raw * np.float32(128.0 / max(mean, 4.0))
        background = self._motion.background
        background = None if background is None else background.copy()  # updated in place
        motion = self._motion.update(small, mean, self._last_dt)
        state = self._sm.state
        motion = self._global_change(state, motion, small, mean, cells)
        motion = self._light_elsewhere(state, motion, small, background)
        self._shift = (0.0, 0.0)
        if self._reference.cells is None:
            self._reference.seed(cells, trusted=False, pixels=small)
            self._first_motion = np.full(cells.shape, np.inf, dtype=np.float32)
            self._ref_t0 = t
        first = self._first_motion
        if not self._reference.trusted and first is not None:
            for blob in motion.blobs:  # whole boxes: uniform clothing hardly "moves"
                part = first[max(0, blob.y0 - 1) : blob.y1 + 1, max(0, blob.x0 - 1) : blob.x1 + 1]
                np.minimum(part, t, out=part)

        presence = False
        hold_only = False
        reason = ""
        person: Blob | None = None
        person_box: Box | None = None

        prev_small, self._prev_small = self._prev_small, small
        if not motion.blobs:
            self._entry_calm = (t, small)  # a calm frame (see _entry_confirmed)
        # In an empty room nobody is taken to have come in on the strength of one frame.
        confirmed = state is not Occupancy.EMPTY or (
            bool(motion.blobs) and self._entry_confirmed(t, prev_small, small)
        )
        blobs = self._person_motion(t, motion.blobs, state, grid_h)
        if blobs and confirmed:
            union = bounding(blobs)
            if state is not Occupancy.OCCUPIED:
                self._trust_quiet_reference(t, state)
            self._track.moved(t, union)
            self._walked_away(union)
            if not self._vacated(state, cells, union):
                presence, reason, person = True, "motion", union

        self._micro.push(t, cells)
        stale_reason: str | None = None
        if presence:
            self._last_alive = t
        elif state is not Occupancy.EMPTY:
            presence, reason, person = self._still_person(t, cells, grid_w, grid_h)
            if presence:
                presence, stale_reason = self._check_alive(t, cells)
                if not presence:
                    person = None

        if not presence and state is not Occupancy.EMPTY and self._face_stage() is not None:
            face_box = self._confirm_face(t, image, motion.score)
            if face_box is not None:
                presence, hold_only, reason, person_box = True, True, "face", face_box

        empty_reason = stale_reason
        if not presence and empty_reason is None and self._track.region is not None:
            empty_reason = "left through edge" if self._at_edge(grid_w, grid_h) else None

        if hold_only and state is not Occupancy.OCCUPIED:
            # A face may keep a room occupied, but never makes it occupied on
            # its own: while UNKNOWN it only postpones the start-up decision.
            transition, countdown = None, None
            if self._sm.unknown_since is not None:
                self._sm.unknown_since = t
        else:
            transition, countdown = self._sm.step(t, presence, reason, empty_reason)
        new_state = self._sm.state

        self._still_timed_out = stale_reason is not None
        if presence and reason == "motion":
            self._still_fg = None  # no reference comparison in this frame
        self._learn(
            before=state,
            state=new_state,
            transition=transition,
            global_change=motion.global_change,
            moving=bool(motion.blobs),
            cells=cells,
            small=small,
        )
        self._prev_cells = cells

        if person_box is None and person is not None:
            person_box = blob_to_box(person, scale, width, height)
        if new_state is Occupancy.EMPTY:
            person_box = None
        motion_boxes = [blob_to_box(b, scale, width, height) for b in motion.blobs]
        if reps_y > 1 or reps_x > 1:
            motion_boxes = [_shrink(b, reps_x, reps_y) for b in motion_boxes]
            person_box = _shrink(person_box, reps_x, reps_y) if person_box else None
        return FrameResult(
            t=t,
            state=new_state,
            presence=presence,
            motion_score=motion.score,
            motion_boxes=motion_boxes,
            person_box=person_box,
            countdown=countdown,
            transition=transition,
            reason=transition.reason if transition is not None else reason,
        )

    # -------------------------------------------------------------- helpers
    def _at_edge(self, grid_w: int, grid_h: int) -> bool:
        """Tell whether the last motion ended at the frame border, heading out.

        The last moving region must touch a border, have its centre in the
        outer EDGE_BAND on that side, and have moved towards that border over
        the last second (hands typing at the bottom edge do not "leave").
        """
        track = self._track
        last = track.last
        if last is None or not track.at_edge(grid_w, grid_h):
            return False
        cx = (last.x0 + last.x1) / 2.0
        cy = (last.y0 + last.y1) / 2.0
        dx, dy = track.heading()
        return (
            (last.x0 <= 0 and cx < grid_w * EDGE_BAND and dx <= -HEADING)
            or (last.x1 >= grid_w and cx > grid_w * (1 - EDGE_BAND) and dx >= HEADING)
            or (last.y0 <= 0 and cy < grid_h * EDGE_BAND and dy <= -HEADING)
            or (last.y1 >= grid_h and cy > grid_h * (1 - EDGE_BAND) and dy >= HEADING)
        )

    def _person_motion(
        self, t: float, blobs: list[Blob], state: Occupancy, grid_h: int
    ) -> list[Blob]:
        """Keep the moving regions that can be a person (a cat crossing the floor is not).

        Where nobody is known to be, motion counts only when it spans at least
        ``min_height`` of the picture height (8 % .. 26 % by sensitivity; the
        motion of the last PersonTrack.WINDOW s taken together): a pet or a
        small toy moving is not an arrival.
        Next to the person's place (within NEAR cells) any motion counts:
        hands typing, a head turning.
        """
        recent = self._entry_seen
        while recent and recent[0][0] < t - PersonTrack.WINDOW:
            recent.popleft()
        if not blobs:
            return blobs
        places = [a for a in (self._track.region, self._still_box) if a is not None]
        if state is Occupancy.EMPTY:
            places = []
        kept = [b for b in blobs if any(_near(b, a, NEAR) for a in places)]
        elsewhere = [b for b in blobs if not any(_near(b, a, NEAR) for a in places)]
        if elsewhere:
            recent.append((t, bounding(elsewhere)))
            seen = bounding([b for _t, b in recent])
            if seen.y1 - seen.y0 >= self.min_height * grid_h:
                kept.extend(elsewhere)
        return kept

    def _camera_moved(
        self, motion: MotionResult, before: np.ndarray | None, now: np.ndarray
    ) -> bool:
        """Tell whether the camera itself moved (bumped, a mount settling) since the last frame.

        Edges changing all over the picture (at least BUMP_SHARE of the cells,
        or at least BUMP_MIN % spread over BUMP_SPREAD of the picture's width
        and height) while the picture shifted by up to SHIFT small pixels as
        a whole explains the change: shifting the last frame by that much (to a
        fraction of a pixel: a 2 px bump of a 640 px camera is half a small
        pixel) leaves less than BUMP_GAIN of the changed pixels. That is a
        global change like a light switched, not a person arriving: no
        motion, and the empty room is re-taken around any person present,
        moved with the picture (so the place where they stand reads as empty
        room again once they leave). Someone moving, even large and close to
        the camera, is not explained by a shift of the whole picture.
        """
        if before is None or before.shape != now.shape or not _spread_change(motion):
            return False
        m = SHIFT + 1
        h, w = now.shape
        if h <= 2 * m + 2 or w <= 2 * m + 2:
            return False
        # The best whole-pixel shift on a sparse grid, refined to a fraction of a pixel, ...
        start = _coarse_shift(before, now, m, SHIFT)
        sx, sy = _refine_shift(before, now, m, float(start[0]), float(start[1]))
        if math.hypot(sx, sy) < BUMP_MIN_SHIFT or max(abs(sx), abs(sy)) > SHIFT + 0.5:
            return False
        core = now[m : h - m : 2, m : w - m : 2]
        thr = self._motion.threshold
        # ... must explain most of the change (checked on every other pixel).
        still = int(np.count_nonzero(np.abs(core - _sample(before, m, 0.0, 0.0)) > thr))
        left = int(np.count_nonzero(np.abs(core - _sample(before, m, sx, sy)) > thr))
        if not left < BUMP_GAIN * still:
            return False
        self._shift = (sx, sy)
        return True

    def _global_change(
        self,
        state: Occupancy,
        motion: MotionResult,
        small: np.ndarray,
        mean: float,
        cells: np.ndarray,
    ) -> MotionResult:
        """Re-take the empty-room reference after a global change; returns the frame's motion.

        Lights, exposure, an IR switch or a camera bump with someone present:
        the empty room is re-taken everywhere except where the person is (see
        :meth:`.SceneReference.relearn`). A camera bump in an empty room re-takes
        it at once (except where someone may be coming in that very frame), so
        an entry in the same frame never meets a reference of the old view.
        """
        camera_moved = self._camera_moved(motion, self._prev_small, small)
        if camera_moved:
            motion = self._moved_with_camera(small, mean, state)
        ref = self._reference
        if motion.global_change and ref.cells is not None:
            grid_h, grid_w = cells.shape
            if state is not Occupancy.EMPTY:
                ref.relearn(cells, self._person_area(grid_h, grid_w), self._shift, pixels=small)
            elif camera_moved:
                keep = bounding(motion.blobs) if motion.blobs else None
                ref.relearn(cells, keep, self._shift, pixels=small)
        return motion

    def _light_elsewhere(
        self,
        state: Occupancy,
        motion: MotionResult,
        small: np.ndarray,
        background: np.ndarray | None,
    ) -> MotionResult:
        """Drop motion away from the person that is only light changing (a lamp across the room).

        While someone is in the room, a lamp switched on (or off) elsewhere, a
        sunlight patch or a screen waking changes the picture like motion for
        a few frames. Where it changed, everything got brighter (or darker) by
        about the same ratio: at least LIGHT_SIGN_AWAY of the clearly changed
        pixels the same way (less than LIGHT_SIGN: the brighter lamp darkens the
        rest of the normalised picture a little), the spread of log(new/old) below LIGHT_SPREAD, and the
        room's texture still there (see ``_same_texture``), against the motion
        background. Such a region more than NEAR cells from the
        person's place is no person moving: it does not join the person's
        track, so it can never hold the room once they leave (the reference
        takes it in, see :meth:`_absorb_elsewhere`). Someone else walking in
        shows mixed changes and their own texture, and still counts.
        """
        if state is not Occupancy.OCCUPIED or not motion.blobs:
            return motion
        places = [a for a in (self._track.region, self._still_box) if a is not None]
        bg = background
        if not places or bg is None or bg.shape != small.shape or motion.global_change:
            return motion
        thr = 0.5 * self._motion.threshold
        kept: list[Blob] = []
        for blob in motion.blobs:
            if any(_near(blob, a, NEAR) for a in places):
                kept.append(blob)
                continue
            part = (slice(blob.y0 * CELL, blob.y1 * CELL), slice(blob.x0 * CELL, blob.x1 * CELL))
            now, old = small[part], bg[part]
            diff = now - old
            up, down = diff > thr, diff < -thr
            n_up, n_down = int(np.count_nonzero(up)), int(np.count_nonzero(down))
            changed = up | down
            if n_up + n_down and max(n_up, n_down) < LIGHT_SIGN_AWAY * (n_up + n_down):
                kept.append(blob)
                continue
            if n_up + n_down:
                ratio = np.log(np.maximum(now[changed], 4.0) / np.maximum(old[changed], 4.0))
                if float(ratio.std()) > LIGHT_SPREAD or not _same_texture(now, old):
                    kept.append(blob)
        if len(kept) == len(motion.blobs):
            return motion
        lit = self._lit
        if lit is None or lit.shape != (bg.shape[0] // CELL, bg.shape[1] // CELL):
            lit = np.zeros((bg.shape[0] // CELL, bg.shape[1] // CELL), dtype=bool)
        for blob in motion.blobs:
            if blob not in kept:
                lit[max(0, blob.y0 - 1) : blob.y1 + 1, max(0, blob.x0 - 1) : blob.x1 + 1] = True
        self._lit = lit
        return MotionResult(motion.score, kept, motion.global_change, motion.cells)

    def _unlit(self, fg: np.ndarray | None) -> np.ndarray | None:
        """Foreground without the cells a light change away from the person lit (see above).

        Those cells differ from the empty room only until it has taken the
        light in; they never join the person's still place meanwhile.
        """
        lit = self._lit
        if fg is None or lit is None:
            return fg
        if lit.shape != fg.shape:
            self._lit = None
            return fg
        if not (lit & fg).any():  # the empty room has taken all of the light in
            self._lit = None
            return fg
        out: np.ndarray = fg & ~lit
        return out

    def _absorb_elsewhere(self, cells: np.ndarray, small: np.ndarray) -> None:
        """Learn a change of the room away from the person while they are there.

        A lamp switched on across the room (or a curtain drawn, a chair pushed
        by someone else) while a person sits still is part of the empty room
        from then on: where it differs from the empty-room reference more than
        NEAR cells away from the person's place, with nothing else moving in
        the room, the calm cells outside that place are blended into the
        reference (time constant REF_TAU: gone within a few seconds), so when
        the person leaves it cannot keep the room occupied. The person's place
        (and a place dropped by the still timeout) is never learned here.
        """
        ref = self._reference
        fg = self._still_fg
        if not ref.trusted or fg is None or fg.shape != cells.shape or self._entry_seen:
            return
        places = [a for a in (self._track.region, self._still_box, self._doubt) if a is not None]
        if not places:
            return
        away = np.ones(cells.shape, dtype=bool)
        for area in places:
            away[
                max(0, area.y0 - NEAR) : area.y1 + NEAR, max(0, area.x0 - NEAR) : area.x1 + NEAR
            ] = False
        lit = self._lit
        if lit is not None and lit.shape == away.shape:
            away |= lit
        if not (fg & away).any():
            return
        calm = self._calm_cells(cells)
        if calm is None:
            return
        ref.learn(cells, _blend(self._last_dt, REF_TAU), calm & away, pixels=small)

    def _moved_with_camera(self, small: np.ndarray, mean: float, state: Occupancy) -> MotionResult:
        """Motion of a frame in which the camera moved: what moved against the moved picture.

        The last frame, shifted as the camera moved (see :meth:`_camera_moved`),
        becomes the motion background: the room's edges match again, so a bump
        is no motion, while a person moving at the same time (a hand-held
        camera filming someone) still is. Shifting by a fraction of a pixel
        blurs the strongest edges a little: in an empty room a pixel must
        change MOVED_MARGIN times as much as usual to count (a bump alone
        never lets anyone in, even at 1 fps where one frame confirms an entry). The frame counts as a global change
        (the empty-room reference is re-taken and moved with the picture).
        """
        prev = self._prev_small
        if prev is None:
            self._motion.background = small.copy()
            return MotionResult(0.0, [], True)
        detector = self._motion
        detector.background = shift_cells(prev, self._shift[0], self._shift[1])
        plain = detector.pixel_threshold
        if state is Occupancy.EMPTY:
            detector.pixel_threshold = plain * MOVED_MARGIN
        try:
            moved = detector.update(small, mean, self._last_dt)
        finally:
            detector.pixel_threshold = plain
        if moved.global_change:
            return MotionResult(moved.score, [], True)
        return MotionResult(moved.score, moved.blobs, True, moved.cells)

    def _trust_quiet_reference(self, t: float, state: Occupancy) -> None:
        """Take the provisional reference for the empty room when someone walks in.

        While nothing moves at start-up (or in an EMPTY room that was never
        seen empty for sure) the provisional reference is kept current. Motion
        (or micro-motion) that comes after at least QUIET_TRUST s without any
        evidence is a person arriving: the picture just before them is the room without
        them, so from now on a still person is whatever stands out against it
        where they were seen moving, and leaving works anywhere in the picture.
        """
        ref = self._reference
        if ref.trusted or ref.cells is None or self._track.region is not None:
            return
        since = self._sm.unknown_since
        if state is Occupancy.EMPTY or (since is not None and t - since >= QUIET_TRUST):
            ref.trusted = True

    def _vacated(self, state: Occupancy, cells: np.ndarray, union: Blob) -> bool:
        """Tell whether motion at a low frame rate is only the person having gone.

        Below 1 / ENTRY_WINDOW frames per second a person who walks out is
        often in one frame and gone in the next: the difference between the
        two is "motion", although the picture now shows the empty room there.
        When the empty room is known and nothing where the motion was stands
        out against it, that motion is the person leaving, not presence (at
        higher rates the few frames of someone vanishing do not matter).
        """
        if state is not Occupancy.OCCUPIED or self._last_dt <= ENTRY_WINDOW:
            return False
        ref = self._reference
        if not ref.trusted:
            return False
        fg, _share = ref.foreground(cells)
        return fg is not None and blob_mask_share(fg, union)[0] < 2

    def _walked_away(self, union: Blob) -> None:
        """Forget where the person stood still once they walked away from there.

        Motion that starts at the still person's place and moves on (the last
        PersonTrack.WINDOW s of motion no longer touch the place) is that
        person getting up: the place no longer holds anyone (what they leave
        behind, a moved chair, is a scene change, not a person). Motion that
        never touched the place (someone else walking in) does not forget it.
        """
        still = self._still_box
        if still is None:
            return
        region = self._track.region
        if _near(union, still, 1):
            self._still_moved = True
        elif self._still_moved and region is not None and not _near(region, still, 0):
            self._still_box = None
            self._still_moved = False

    def _entry_confirmed(self, t: float, before: np.ndarray | None, now: np.ndarray) -> bool:
        """Tell whether motion in an empty room is someone coming in.

        Someone walking in keeps changing the picture from frame to frame; a
        one-off step (something falling over, a monitor waking, a cut in the
        video, the end of a looping clip) changes it once and is then still,
        although the running background needs a few frames to catch up with
        it. So the motion must have gone on for ENTRY_SPAN s since the last
        calm frame (one without motion: the change began after it), and the
        picture must still be changing from the previous frame: at 10 fps
        that is one more frame of latency, at 5 fps and below the first
        changed frame already spans ENTRY_SPAN. Counted in seconds, not
        frames, the entry comes at the same time at every analysis rate
        (within one frame interval), and a camera that repeats frames (or a
        person who moves little between two frames at 30 fps) does not hold
        it back. Against the calm picture the change must be a solid region
        (:meth:`_solid_change`; thin lines along edges are the camera
        drifting) and not a lighting step (:meth:`_lighting_step`: a lamp
        switched on over a few frames changes the picture in consecutive
        frames too, but never confirms). Right after a reset or a jump back
        in stream time (when it is unknown whether the picture was calm) the
        first changed frame never confirms.
        """
        if before is None or self._motion.changed_cells(before, now) < self._motion.min_cells:
            return False
        calm = self._entry_calm
        if calm is None or t < calm[0]:
            self._entry_calm = (t, now)
            return False
        since, picture = calm
        if t - since < ENTRY_SPAN - 1e-6 or self._lighting_step(picture, now):
            return False
        return self._solid_change(picture, now)

    def _solid_change(self, before: np.ndarray, now: np.ndarray) -> bool:
        """Tell whether a change is a solid region, as a person coming into view makes.

        A person covers a whole patch of the picture (a head is at least 2x2
        cells); a camera that drifts or pans slowly changes thin lines along
        the edges of the room only (at a low analysis rate the drift of
        several native frames adds up to "motion" between two analysed
        frames). At least one cluster of changed cells must be MotionDetector
        ``min_cells`` large and 2 cells wide and tall.
        """
        mot = self._motion
        active = cell_fraction(np.abs(now - before) > mot.threshold) >= mot.cell_share
        ignore = self._ignore
        if ignore is not None and ignore.shape == active.shape:
            active &= ~ignore
        if (active[:-1, :-1] & active[1:, :-1] & active[:-1, 1:] & active[1:, 1:]).any():
            return True  # a full 2x2 block (the usual case, cheap)
        return any(
            b.cells >= mot.min_cells and b.x1 - b.x0 >= 2 and b.y1 - b.y0 >= 2
            for b in components(active)
        )

    def _lighting_step(self, before: np.ndarray, now: np.ndarray) -> bool:
        """Tell whether a change between two pictures is light, not someone moving.

        A lamp switched on (or off), a sunlight patch, a screen waking make the
        changed part of the picture brighter everywhere (or darker
        everywhere): at least LIGHT_SIGN of the clearly changed pixels change
        the same way. And light only scales what was there: the ratio of new
        to old brightness is about the same on every changed pixel (the
        spread of its logarithm stays below LIGHT_SPREAD), so the room's own
        texture shows through. Someone moving covers some background and
        uncovers other background, so the change is mixed within a frame or
        two of coming into view; and someone who appears between two analysed
        frames (at a low analysis rate), even in clothes darker than
        everything behind them, shows their own texture, not the room's: the
        ratio varies wildly. A lighting step never makes an entry, and a
        person coming into view is not delayed by it at any rate.
        """
        diff = now - before
        thr = self._motion.threshold
        changed_up = diff > thr
        changed_down = diff < -thr
        up = pool_cells(changed_up.astype(np.float32))
        down = pool_cells(changed_down.astype(np.float32))
        ignore = self._ignore
        if ignore is not None and ignore.shape == up.shape:
            up[ignore] = 0.0
            down[ignore] = 0.0
        n_up, n_down = float(up.sum()), float(down.sum())
        total = n_up + n_down
        if not (total > 0.0 and max(n_up, n_down) >= LIGHT_SIGN * total):
            return False
        changed = changed_up | changed_down
        if ignore is not None and ignore.shape == up.shape:
            h, w = ignore.shape
            changed[: h * CELL, : w * CELL] &= ~np.repeat(np.repeat(ignore, CELL, 0), CELL, 1)
        if not changed.any():
            return False
        ratio = np.log(np.maximum(now[changed], 4.0) / np.maximum(before[changed], 4.0))
        return float(ratio.std()) <= LIGHT_SPREAD

    def _still_person(
        self,
        t: float,
        cells: np.ndarray,
        grid_w: int,
        grid_h: int,
    ) -> tuple[bool, str, Blob | None]:
        """Evidence for a person who does not move right now."""
        fg, _share = self._reference.foreground(cells)
        self._still_fg = fg
        fg = self._unlit(fg)
        track = self._track
        region = track.region
        if region is not None:
            in_fg = False
            fg_box: Blob | None = None
            if fg is not None and not self._reference.trusted and self._first_motion is not None:
                fg = fg & (self._first_motion - self._ref_t0 >= VERIFY)
            if fg is not None:
                # Where motion was last seen, and where the person last stood still
                # (small motion elsewhere must not make us forget a still person).
                for area in (region, self._still_box):
                    if area is not None and blob_mask_share(fg, area)[0] >= 2:
                        in_fg = True
                        fg_box = touching_blobs(fg, area)
                        break
                if fg_box is not None:
                    self._still_box = fg_box
                    self._still_moved = False
            if fg is not None and self._reference.trusted:
                # The empty room is known: foreground where the person was decides.
                if in_fg:
                    return True, "still person", fg_box
                return False, "", None
            # Start-up reference (may contain a person) or none: memory decides,
            # foreground against the start-up picture can only add evidence.
            if in_fg:
                return True, "still person", fg_box
            if not self._at_edge(grid_w, grid_h):
                return True, "still person", region
            return False, "", None
        if fg is not None and self._reference.trusted:
            # Back from UNKNOWN with a known empty room: whatever stands out is a person.
            big = [b for b in components(fg) if b.cells >= 4 and not self._left_thing(b)]
            if big:
                union = bounding(big)
                track.region = union
                return True, "still person", union
        # Nobody was seen moving yet (start-up): micro-motion finds a seated person.
        micro_blobs = self._seated_at_startup(t, cells)
        if micro_blobs:
            union = bounding(micro_blobs)
            self._trust_quiet_reference(t, self._sm.state)
            track.region = union
            return True, "still person", union
        return False, "", None

    def _seated_at_startup(self, t: float, cells: np.ndarray) -> list[Blob]:
        """Small clustered changes that show a seated person nobody saw walk in.

        At start-up (or back from UNKNOWN) a person already sitting there is
        found by the small movements of breathing, blinking, a head turning:
        clustered changes against any picture of the last second that is at
        least half a second old (MicroMotion.MIN_AGE). Comparing against every
        such picture, not only the one a second old, makes the "still person"
        come at the same time at any analysis rate (within one frame
        interval): a head that turns and turns back between two analysed
        frames a second apart is still seen against the pictures in between.
        Within MicroMotion.lag s after motion the motion itself decides.
        """
        last = self._track.last_motion
        if last is not None and t - last <= self._micro.lag:
            return []
        return self._micro.changes_since(t, cells, self._micro.MIN_AGE)

    def _left_thing(self, blob: Blob) -> bool:
        """Whether ``blob`` lies on a place the still timeout dropped (a thing left behind).

        After "no movement for still_timeout s" that place is taken for a thing
        (a bag, a coat on the chair) until something moves there: when the
        camera comes back (or analysis restarts with the learned room), it is
        not a person sitting there, so it does not resume the music into an
        empty room and hold it for another still_timeout. A person who was
        that still shows when they move, as before.
        """
        doubt = self._doubt
        return doubt is not None and _near(blob, doubt, 0)

    def _check_alive(self, t: float, cells: np.ndarray) -> tuple[bool, str | None]:
        """Drop "still person" evidence that never moved for ``still_timeout`` s.

        A person, however still, shows some motion or micro-motion every few
        seconds (breathing, small shifts; at most 1.4 s apart on the clips).
        A bag or a moved chair left where the person stood never does: after
        ``still_timeout`` s it no longer keeps the room occupied.
        """
        if self._micro.changes(t, cells):
            self._last_alive = t
        if self._last_alive is None:
            self._last_alive = t
        if t - self._last_alive <= self.config.still_timeout:
            return True, None
        return False, f"no movement for {self.config.still_timeout:.0f} s"

    def _confirm_face(self, t: float, image: np.ndarray, motion_score: float) -> Box | None:
        """Run (rate-limited) the face check; returns a person box or None."""
        face = self._face
        if face is None:
            return None
        if face.due(t) and motion_score <= FACE_MAX_MOTION:
            faces = [f for f in face.detect(t, image) if not self._in_zone(f, image.shape)]
            if faces:
                x, y, w, h = max(faces, key=lambda b: b[2] * b[3])
                height, width = image.shape[:2]
                x0, y0 = max(0, x - w // 2), max(0, y - h // 2)
                x1, y1 = min(width, x + w + w // 2), min(height, y + 3 * h)
                self._face_box = (x0, y0, x1 - x0, y1 - y0)
                self._face_until = t + face.interval + 0.25
            else:
                self._face_until = None
        if self._face_until is not None and t <= self._face_until:
            return self._face_box
        return None

    def _in_zone(self, box: Box, shape: tuple[int, ...]) -> bool:
        """Whether the centre of a full-frame box lies in an exclusion zone (a face on the TV)."""
        height, width = shape[:2]
        cx = (box[0] + box[2] / 2) / max(width, 1)
        cy = (box[1] + box[3] / 2) / max(height, 1)
        return any(x <= cx < x + w and y <= cy < y + h for x, y, w, h in self.config.exclude_zones)

    def _person_area(self, grid_h: int, grid_w: int) -> Blob | None:
        """Where the person is believed to be (their still place, else recent motion; grown a cell)."""
        area = self._still_box or self._track.region
        if area is None:
            return None
        return Blob(
            max(0, area.x0 - 1),
            max(0, area.y0 - 1),
            min(grid_w, area.x1 + 1),
            min(grid_h, area.y1 + 1),
            area.cells,
        )

    def _calm_cells(self, cells: np.ndarray) -> np.ndarray | None:
        """Cells that did not change since the previous frame (those may be learned)."""
        prev = self._prev_cells
        if prev is None or prev.shape != cells.shape:
            return None
        calm: np.ndarray = np.abs(cells - prev) < self._micro.threshold
        return calm

    def _learn(
        self,
        *,
        before: Occupancy,
        state: Occupancy,
        transition: Transition | None,
        global_change: bool,
        moving: bool,
        cells: np.ndarray,
        small: np.ndarray,
    ) -> None:
        """Update the empty-room reference and forget the track when the room empties.

        The reference is learned only while EMPTY, and taken as the empty room
        only after a certain EMPTY (someone was seen and then was gone for the
        delay). An uncertain EMPTY never teaches it a person: after the start-up
        wait the reference stays provisional (see :meth:`_trust_quiet_reference`);
        after the still timeout the place of the dropped "still person" is not
        learned (if it was a person after all, they match the old reference
        when they leave, so one wrong EMPTY cannot hide the next leave).
        """
        ref = self._reference
        if state is Occupancy.EMPTY:
            if transition is not None:
                if before is Occupancy.UNKNOWN and not ref.trusted:
                    pass  # start-up: keep the provisional reference, still learning below
                elif self._still_timed_out:
                    self._doubt = self._still_box or self._track.region
                else:
                    ref.seed(cells, trusted=True, pixels=small)
                    self._doubt = None
                self._track.reset()
                self._still_box = None
                self._last_alive = None
                self._lit = None
            elif global_change:
                ref.seed(cells, trusted=ref.trusted, pixels=small)
            elif not moving:
                trusted = ref.trusted
                calm = self._calm_cells(cells)
                doubt = self._doubt
                if doubt is not None:
                    # The place of a dropped "still person" is not learned.
                    if calm is None:
                        calm = np.ones(cells.shape, dtype=bool)
                    calm[doubt.y0 : doubt.y1, doubt.x0 : doubt.x1] = False
                ref.learn(cells, _blend(self._last_dt, REF_TAU), calm, pixels=small)
                ref.trusted = trusted
        elif state is Occupancy.OCCUPIED and not moving and not global_change:
            self._absorb_elsewhere(cells, small)
        elif (
            state is Occupancy.UNKNOWN
            and not ref.trusted
            and not moving
            and self._track.region is None
        ):
            # Start-up: keep the provisional picture current while nothing happens.
            ref.learn(
                cells, _blend(self._last_dt, STARTUP_TAU), self._calm_cells(cells), pixels=small
            )
            ref.trusted = False
