"""Hand gestures in a user-placed gesture zone (pure numpy, no Home Assistant).

The camera picture is brought down to about 160x90 grey pixels and normalised
by its mean (exactly like the occupancy engine does, so exposure changes do not
count). Inside the *gesture zone* (a normalised rectangle, by default the top
right quarter of the picture) two things are measured per frame:

* motion: the difference to the previous frame;
* foreground: the difference to a reference picture of the zone, learnt while
  the zone is quiet and empty.

A *stroke* starts when something enters a zone that was quiet for a moment
while the rest of the picture is calm. Its path is the centroid of the
foreground (the hand itself, not its moving edges). A stroke ends as

* a **swipe** when the hand leaves the zone again quickly (within
  ``max_swipe_time``), after travelling at least ``min_travel`` of the zone in
  one consistent direction: left/right → previous/next track, up/down →
  volume up/down;
* a **hold** when the hand stops inside the zone and stays still for
  ``hold_time`` → play/pause;
* nothing otherwise.

Ordinary activity never produces an action because it fails at least one of
these: the rest of the picture moves at the same time (walking past, leaning,
sitting down, camera shake), the zone was not quiet before, the moving thing is
too large for a hand, it is too slow, or it wanders. One gesture is one action:
after an action nothing fires for ``refractory`` seconds and a new stroke must
start from a quiet zone again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import itertools
import logging
import time

import numpy as np

from .compat import StrEnum
from .motion import downscale_factor, downscale_gray, normalise
from .types import Frame, FrameResult

_LOGGER = logging.getLogger(__name__)

Zone = tuple[float, float, float, float]  # x0, y0, x1, y1 as shares of width/height
DEFAULT_ZONE: Zone = (0.5, 0.0, 1.0, 0.5)  # top right quarter of the picture
MIN_ZONE_SIDE = 0.15  # a zone narrower/lower than this share of the picture is refused
ZONE_COLOUR = (80, 190, 255)  # light blue outline of the gesture zone on the tracking view
OVERLAY_SECONDS = 2.0  # a recognised gesture is shown this long on the tracking view


class Gesture(StrEnum):
    """Actions a gesture asks for (also the event types of the HA event entity)."""

    PLAY_PAUSE = "play_pause"
    NEXT_TRACK = "next_track"
    PREVIOUS_TRACK = "previous_track"
    VOLUME_UP = "volume_up"
    VOLUME_DOWN = "volume_down"


GESTURE_LABELS: dict[Gesture, str] = {
    Gesture.PLAY_PAUSE: "play/pause",
    Gesture.NEXT_TRACK: "next track",
    Gesture.PREVIOUS_TRACK: "previous track",
    Gesture.VOLUME_UP: "volume up",
    Gesture.VOLUME_DOWN: "volume down",
}


@dataclass(frozen=True, slots=True)
class GestureEvent:
    """A recognised gesture. ``t`` is the stream time of the frame that completed it."""

    gesture: Gesture
    t: float
    motion: str  # "swipe left" / "swipe right" / "swipe up" / "swipe down" / "hold"


def parse_zone(value: object, *, min_side: float = MIN_ZONE_SIDE) -> Zone:
    """Validate a zone given as four numbers (x0, y0, x1, y1 in 0..1).

    Accepts a sequence or a comma separated string; raises ValueError. Each side
    must be at least ``min_side`` of the picture.
    """
    if isinstance(value, str):
        parts: list[object] = [p for p in value.replace(";", ",").split(",") if p.strip()]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise TypeError("zone must be four numbers x0, y0, x1, y1")
    if len(parts) != 4:
        raise ValueError("zone must be four numbers x0, y0, x1, y1")
    try:
        x0, y0, x1, y1 = (float(p) for p in parts)  # type: ignore[arg-type]
    except (TypeError, ValueError) as err:
        raise ValueError("zone must be four numbers x0, y0, x1, y1") from err
    if not (0.0 <= x0 < x1 <= 1.0 and 0.0 <= y0 < y1 <= 1.0):
        raise ValueError("zone must satisfy 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
    if x1 - x0 < min_side or y1 - y0 < min_side:
        raise ValueError(f"zone sides must be at least {min_side:g} of the picture")
    return (x0, y0, x1, y1)


def format_zone(zone: Zone) -> str:
    """Zone as the comma separated text the options form shows."""
    return ", ".join(f"{v:g}" for v in zone)


@dataclass
class GestureConfig:
    """Tuning of :class:`GestureDetector` (defaults measured on the test clips)."""

    zone: Zone = DEFAULT_ZONE
    #: Directions as the person facing the camera sees them: their "right" is the
    #: picture's left. False: directions are those of the (unmirrored) picture.
    mirror: bool = True
    refractory: float = 1.5  # s without any action after an action
    hold_time: float = 1.0  # s a hand must stay still in the zone for play/pause
    max_swipe_time: float = 0.8  # s from entering to leaving the zone, at most
    max_entry_time: float = 1.2  # s from entering the zone to holding still, at most
    min_travel: float = 0.4  # share of the zone's width/height a swipe must cover
    min_points: int = 3  # frames with the hand in the zone, at least
    quiet_before: float = 0.5  # s the zone must be calm and empty before a stroke may start
    arm_time: float = 0.35  # s after motion begins for the hand to show up as foreground
    settle: float = 0.3  # s after which something standing still in a calm zone is background
    border: float = 0.12  # a hand enters through this outer band of the zone
    motion_threshold: float = 16.0  # normalised grey levels, frame to frame
    fg_threshold: float = 18.0  # normalised grey levels, against the zone reference
    fg_min: float = 0.02  # share of the zone a hand covers, at least
    fg_max: float = 0.45  # ... and at most (a head or a body is larger)
    min_solidity: float = 0.25  # share of its bounding box the hand fills, at least
    fg_exit: float = 0.008  # below this the hand has left the zone
    active_min: float = 0.01  # share of the zone moving to count as activity
    still_max: float = 0.012  # share of the zone moving while a hand "holds still"
    max_outside: float = 0.15  # share of the rest of the picture moving at the same time
    max_stroke: float = 4.0  # s; a stroke that decides nothing by then is dropped
    ref_tau: float = 2.0  # s time constant of the reference while the zone is calm


#: One position of the hand: t, centroid x, y, bounding box x0, y0, x1, y1 (zone shares).
Point = tuple[float, float, float, float, float, float, float]


@dataclass(slots=True)
class _Stroke:
    """A hand (candidate) inside the zone."""

    start: float
    points: list[Point] = field(default_factory=list)
    still_since: float | None = None


class GestureDetector:
    """Recognises swipes and holds in the gesture zone, frame by frame.

    Like the occupancy engine it is a pure function of the frames and their
    pts. Not thread-safe; call :meth:`process` from one thread.
    """

    def __init__(self, config: GestureConfig | None = None) -> None:
        """Create a detector; the first frame only initialises it."""
        self.config = config or GestureConfig()
        self.config.zone = parse_zone(self.config.zone)
        self.last_event: GestureEvent | None = None
        self.reset()

    # ------------------------------------------------------------------ API
    def set_zone(self, zone: Zone) -> None:
        """Move the gesture zone (the detector re-learns the zone)."""
        self.config.zone = parse_zone(zone)
        self.reset()

    def reset(self) -> None:
        """Forget everything learnt (next frame re-initialises)."""
        self._prev: np.ndarray | None = None
        self._ref: np.ndarray | None = None
        self._shape: tuple[int, int] | None = None
        self._factor = 1
        self._slices: tuple[slice, slice] = (slice(0), slice(0))
        self._empty_since: float | None = None  # zone calm and like the reference since
        self._calm_since: float | None = None  # zone without motion since
        self._armed_since: float | None = None  # motion began in an empty zone at
        self._stroke: _Stroke | None = None
        self._wait_exit = False  # after a hold: wait until the hand is gone
        self._blocked_until = float("-inf")
        self._last_t: float | None = None
        self._dt = 0.1

    @property
    def last_time(self) -> float | None:
        """Stream time of the last frame analysed (None before the first)."""
        return self._last_t

    @property
    def stroke_active(self) -> bool:
        """True while something is being followed in the zone."""
        return self._stroke is not None

    def process(self, image: np.ndarray, t: float, black: float = 0.0) -> GestureEvent | None:
        """Analyse one grey (luma, black level ``black``) or RGB frame taken at stream time ``t``.

        Returns a gesture or None.
        """
        last = self._last_t
        if last is not None and t < last:
            self.reset()  # stream time jumped back (file loop / new session)
            last = None
        self._dt = 0.1 if last is None or t == last else min(1.0, t - last)
        self._last_t = t
        small = self._small(image, black)
        prev = self._prev
        self._prev = small
        ys, xs = self._slices
        zone = small[ys, xs]
        if prev is None or self._ref is None:
            self._ref = zone.copy()
            self._empty_since = self._calm_since = t
            return None
        moving = np.abs(small - prev) > self.config.motion_threshold
        zone_moving = moving[ys, xs]
        zone_count = int(np.count_nonzero(zone_moving))
        zone_share = zone_count / zone_moving.size
        outside_pixels = moving.size - zone_moving.size
        outside_share = (
            (int(np.count_nonzero(moving)) - zone_count) / outside_pixels if outside_pixels else 0.0
        )
        fg = np.abs(zone - self._ref) > self.config.fg_threshold
        fg_share = float(fg.mean())
        event = self._step(
            t,
            zone=zone,
            fg=fg,
            fg_share=fg_share,
            zone_share=zone_share,
            outside_share=outside_share,
        )
        if event is not None:
            self.last_event = event
            self._blocked_until = t + self.config.refractory
        return event

    # -------------------------------------------------------------- internals
    def _small(self, image: np.ndarray, black: float = 0.0) -> np.ndarray:
        """Downscaled, normalised grey picture (about 160x90)."""
        height, width = image.shape[:2]
        if self._shape != (height, width):
            self._factor = downscale_factor(height, width)
            self._prev = None
            self._ref = None
            self._stroke = None
        small, _mean = normalise(downscale_gray(image, self._factor, black))
        if self._shape != (height, width):
            self._shape = (height, width)
            h, w = small.shape
            x0, y0, x1, y1 = self.config.zone
            self._slices = (
                slice(round(y0 * h), max(round(y0 * h) + 2, round(y1 * h))),
                slice(round(x0 * w), max(round(x0 * w) + 2, round(x1 * w))),
            )
        return small

    def _learn(self, zone: np.ndarray) -> None:
        """Blend the calm zone into the reference (time constant ``ref_tau``)."""
        assert self._ref is not None
        alpha = float(min(1.0, self._dt / max(self.config.ref_tau, 1e-3)))
        self._ref += alpha * (zone - self._ref)

    def _step(
        self,
        t: float,
        *,
        zone: np.ndarray,
        fg: np.ndarray,
        fg_share: float,
        zone_share: float,
        outside_share: float,
    ) -> GestureEvent | None:
        """Advance the stroke state machine by one frame."""
        cfg = self.config
        disturbed = outside_share > cfg.max_outside or fg_share > cfg.fg_max
        stroke = self._stroke

        if self._wait_exit:
            # After a hold: nothing until the hand is gone (or a long time passed).
            if fg_share < cfg.fg_exit or t >= self._blocked_until + cfg.max_stroke:
                self._wait_exit = False
                self._stroke = None
                self._empty_since = self._calm_since = None
            return None

        if stroke is not None:
            if fg_share < cfg.fg_exit and outside_share <= 2.0 * cfg.max_outside:
                # Gone: the arm leaving the zone may move a little more outside it.
                return self._finish_swipe(stroke, t)
            if disturbed or t - stroke.start > cfg.max_stroke:
                self._drop(t, "disturbed" if disturbed else "too long")
                return None
            if fg_share >= cfg.fg_min:
                stroke.points.append((t, *_geometry(fg)))
            if (
                zone_share <= cfg.still_max
                and fg_share >= cfg.fg_min
                and _touches_border(fg, cfg.border)  # a hand is attached to an arm
                and _solidity(fg) >= cfg.min_solidity  # a blob, not shifted outlines
            ):
                if stroke.still_since is None:
                    if t - stroke.start > cfg.max_entry_time:
                        # Wandered in slowly and stopped: sitting down, not a hand.
                        self._drop(t, "slow entry")
                        return None
                    stroke.still_since = t
                elif t - stroke.still_since >= cfg.hold_time - 1e-6:
                    self._stroke = None
                    self._wait_exit = True
                    if t < self._blocked_until:
                        return None
                    return GestureEvent(Gesture.PLAY_PAUSE, t, "hold")
            else:
                stroke.still_since = None
            return None

        # Idle: learn the calm, empty zone; wait for something to enter it.
        calm = zone_share < cfg.active_min and not disturbed
        if not calm:
            ready = (
                not disturbed
                and self._empty_since is not None
                and t - self._empty_since >= cfg.quiet_before
                and t >= self._blocked_until
            )
            if ready and self._armed_since is None:
                self._armed_since = t  # something starts moving in an empty, calm zone
            armed = (
                ready and self._armed_since is not None and t - self._armed_since <= cfg.arm_time
            )
            if (
                armed
                and fg_share >= cfg.fg_min
                and _touches_border(fg, cfg.border)
                and _solidity(fg) >= cfg.min_solidity
            ):
                self._stroke = _Stroke(start=self._armed_since or t, points=[(t, *_geometry(fg))])
                self._armed_since = None
                self._empty_since = self._calm_since = None
            elif not armed:
                self._armed_since = None
                self._empty_since = self._calm_since = None
            return None
        self._armed_since = None
        if self._calm_since is None:
            self._calm_since = t
        if fg_share < cfg.fg_min:
            self._learn(zone)  # the reference follows slow changes
            if self._empty_since is None:
                self._empty_since = t
        elif t - self._calm_since >= cfg.settle:
            # Something new stands still in a calm zone: it is part of the picture now.
            assert self._ref is not None
            self._ref[...] = zone
            self._empty_since = t
        return None

    def _drop(self, t: float, why: str) -> None:
        """Abandon the stroke; the zone must be calm again before the next one."""
        _LOGGER.debug("gesture stroke dropped at %.2f s: %s", t, why)
        self._stroke = None
        self._empty_since = self._calm_since = None

    def _finish_swipe(self, stroke: _Stroke, t: float) -> GestureEvent | None:
        """Decide, now that the hand left the zone, whether its path was a swipe."""
        self._stroke = None
        self._empty_since = self._calm_since = None
        motion = classify_swipe(stroke.points, self.config, duration=t - stroke.start)
        if motion is None or t < self._blocked_until:
            return None
        gesture = swipe_gesture(motion, mirror=self.config.mirror)
        return GestureEvent(gesture, t, f"swipe {motion}")


def _geometry(mask: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """Centroid and bounding box (x, y, x0, y0, x1, y1) of a mask, in shares of its size."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    if xs.size == 0:
        return 0.5, 0.5, 0.5, 0.5, 0.5, 0.5
    return (
        (float(xs.mean()) + 0.5) / w,
        (float(ys.mean()) + 0.5) / h,
        float(xs.min()) / w,
        float(ys.min()) / h,
        float(xs.max() + 1) / w,
        float(ys.max() + 1) / h,
    )


def _solidity(mask: np.ndarray) -> float:
    """Share of the mask's bounding box that is set (a hand is a solid blob)."""
    ys = np.flatnonzero(mask.any(axis=1))
    xs = np.flatnonzero(mask.any(axis=0))
    if ys.size == 0:
        return 0.0
    box = (ys[-1] - ys[0] + 1) * (xs[-1] - xs[0] + 1)
    return float(np.count_nonzero(mask)) / float(box)


def _touches_border(mask: np.ndarray, band: float) -> bool:
    """Tell whether ``mask`` has pixels in the outer ``band`` (share) of its rectangle."""
    h, w = mask.shape
    by, bx = max(1, round(h * band)), max(1, round(w * band))
    return bool(mask[:by].any() or mask[-by:].any() or mask[:, :bx].any() or mask[:, -bx:].any())


def classify_swipe(
    points: list[Point],
    config: GestureConfig,
    *,
    duration: float | None = None,
) -> str | None:
    """Return "left"/"right"/"up"/"down" (picture directions) or None.

    ``points`` are hand positions (see :data:`Point`), ``duration`` the time
    from the first motion in the zone until the hand left it (default: the span
    of ``points``). A swipe is quick (``max_swipe_time``), has ``min_points``
    points, its centroid moves at least twice as far along one axis as along
    the other, and it covers ``min_travel`` of the zone with three quarters of
    its steps going the same way: measured on the centroid or on the hand's
    edge (an arm below a hand moving up or down holds the centroid back, not
    the top of the hand).
    """
    if len(points) < config.min_points:
        return None
    first, last = points[0], points[-1]
    if (last[0] - first[0] if duration is None else duration) > config.max_swipe_time + 1e-6:
        return None
    dx, dy = last[1] - first[1], last[2] - first[2]
    if abs(dx) >= 2.0 * abs(dy):
        axis, travel = 1, dx
    elif abs(dy) >= 2.0 * abs(dx):
        axis, travel = 2, dy
    else:
        return None
    # The hand's own edge: a raised hand has its arm below it, so the top edge
    # (y0) follows the hand up and down; sideways the leading edge does.
    edge = 4 if axis == 2 else (3 if travel < 0 else 5)
    for index in (axis, edge):
        moved = last[index] - first[index]
        if (moved > 0) != (travel > 0) or abs(moved) < config.min_travel:
            continue
        steps = [b[index] - a[index] for a, b in itertools.pairwise(points)]
        moving = [s for s in steps if abs(s) > 0.01]
        if moving and sum(1 for s in moving if (s > 0) == (travel > 0)) >= 0.75 * len(moving):
            if axis == 1:
                return "right" if travel > 0 else "left"
            return "down" if travel > 0 else "up"
    return None


def swipe_gesture(direction: str, *, mirror: bool) -> Gesture:
    """Map a picture direction to an action.

    With ``mirror`` (the default) "right" means the right of the person facing
    the camera, which is the picture's left: a swipe to *their* right is next.
    """
    if direction == "up":
        return Gesture.VOLUME_UP
    if direction == "down":
        return Gesture.VOLUME_DOWN
    to_their_right = (direction == "left") if mirror else (direction == "right")
    return Gesture.NEXT_TRACK if to_their_right else Gesture.PREVIOUS_TRACK


# ----------------------------------------------------------------- pipeline glue
Analyzer = Callable[[Frame, FrameResult], None]


class GestureAnalyzer:
    """Runs a :class:`GestureDetector` on the pipeline's frames (pipeline thread).

    ``on_gesture(event)`` is called from the pipeline thread for each gesture.
    ``enabled`` can be flipped from any thread; while off nothing is analysed
    and the detector forgets its state.
    """

    def __init__(
        self,
        on_gesture: Callable[[GestureEvent], None],
        config: GestureConfig | None = None,
        *,
        enabled: bool = False,
    ) -> None:
        """Create the analyzer (off unless ``enabled``)."""
        self.detector = GestureDetector(config)
        self._on_gesture = on_gesture
        self._enabled = enabled
        self._pending_zone: Zone | None = None
        self.cost_s = 0.0  # last process() time, seconds

    @property
    def enabled(self) -> bool:
        """Whether frames are analysed."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        if value and not self._enabled:
            # Re-applying the zone resets the detector: nothing learnt before it
            # was switched off (an old reference picture) is used.
            self._pending_zone = self._pending_zone or self.detector.config.zone
        self._enabled = bool(value)

    def set_zone(self, zone: Zone) -> None:
        """Move the zone (applied in the pipeline thread on the next frame)."""
        self._pending_zone = parse_zone(zone)

    @property
    def zone(self) -> Zone:
        """The zone in use (or about to be)."""
        return self._pending_zone or self.detector.config.zone

    def draw(self, image: np.ndarray, result: FrameResult | None) -> None:
        """Tracking view: the zone outline and, for 2 s, the recognised gesture."""
        if not self._enabled:
            return
        from . import render  # drawing only happens while watched

        height, width = image.shape[:2]
        x0, y0, x1, y1 = self.zone
        box = (
            round(x0 * width),
            round(y0 * height),
            round((x1 - x0) * width),
            round((y1 - y0) * height),
        )
        render.draw_box(image, box, ZONE_COLOUR, max(2, round(min(width, height) / 240)))
        event = self.detector.last_event
        now = self.detector.last_time
        if event is None or now is None or not 0 <= now - event.t <= OVERLAY_SECONDS:
            return
        scale = max(1, min(width, height) // 180)
        text = f"gesture: {GESTURE_LABELS[event.gesture]}"
        render.draw_text(
            image, text, box[0] + 3 * scale, box[1] + 3 * scale, ZONE_COLOUR, scale=scale
        )

    def __call__(self, frame: Frame, result: FrameResult) -> None:
        """Analyse one frame (pipeline thread)."""
        if not self._enabled:
            return
        if (zone := self._pending_zone) is not None:
            self._pending_zone = None
            self.detector.set_zone(zone)
        started = time.perf_counter()
        event = self.detector.process(frame.gray, frame.pts, frame.black)
        self.cost_s = time.perf_counter() - started
        if event is not None:
            self._on_gesture(event)
