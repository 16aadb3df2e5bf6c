"""Who is at the desk: face detection (OpenCV Haar, optional) + LBP-histogram recognition.

No Home Assistant imports. Detection needs OpenCV (``opencv-python-headless``,
an optional extra: Home Assistant OS has no OpenCV wheels); without it
:func:`face_support` says so and the people feature stays off. Recognition is
pure numpy: a face crop is brought to 66x66 grey pixels, turned into local
binary patterns (8 neighbours, the 58 "uniform" patterns + 1 bin for all
others) and described by one 59-bin histogram per cell of an 8x8 grid
(3776 counts, each 0..64, stored as bytes). Two faces are compared with the
chi-square distance of their histograms; a person is recognised when the
nearest enrolled template is close enough and clearly nearer than any other
person's.

Why LBPH: it needs only a handful of samples per person (enrolment takes
seconds), is insensitive to brightness and exposure changes (the patterns
only compare neighbouring pixels), costs about a millisecond per face in
numpy, and the stored descriptor cannot be turned back into a photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
import logging
import threading
import time
from typing import Any

import numpy as np

from .optional import face_cascade_path, installed_opencv, opencv, opencv_face_problem
from .types import Box, Frame, FrameResult, Occupancy

_LOGGER = logging.getLogger(__name__)

CROP = 66  # crop edge in pixels; LBP codes are 64x64
GRID = 8  # cells per side
BINS = 59  # uniform LBP patterns + 1
DESCRIPTOR_SIZE = GRID * GRID * BINS
DETECT_WIDTH = 320  # frames are downscaled to this width for detection
MATCH_THRESHOLD = 3000.0  # chi-square distance above which a face is "unknown"
MATCH_MARGIN = 1.1  # the best person must be this much nearer than the next best
MAX_TEMPLATES = 20  # templates kept per person
SHOW_SECONDS = 5.0  # the recognised name is shown this long on the tracking view
PERSON_TEXT_COLOUR = (0, 220, 90)


def face_support() -> str | None:
    """Return None when faces can be detected, else why not (shown in the options).

    Checks the API the face stages use, not only that ``cv2`` imports: an OpenCV
    another integration installed (e.g. 5.x, without the cascade classifier) is
    reported as unusable instead of failing when a person is added. Blocking.
    """
    cv2 = opencv()
    if cv2 is None:
        if (installed := installed_opencv()) is not None:
            return f"{installed} is installed, but its cv2 module does not import"
        return (
            "recognising people needs the optional OpenCV extra "
            "(pip package opencv-python-headless), which is not installed"
        )
    return opencv_face_problem(cv2)


@cache
def _uniform_table() -> np.ndarray:
    """Map the 256 LBP codes to 59 bins (58 uniform patterns, then the rest)."""
    table = np.full(256, BINS - 1, dtype=np.uint8)
    index = 0
    for code in range(256):
        bits = [(code >> i) & 1 for i in range(8)]
        transitions = sum(bits[i] != bits[(i + 1) % 8] for i in range(8))
        if transitions <= 2:
            table[code] = index
            index += 1
    return table


def lbp_descriptor(crop: np.ndarray) -> np.ndarray:
    """Return the uint8 LBP-histogram descriptor of a CROPxCROP grey face crop."""
    g = crop.astype(np.int16)
    centre = g[1:-1, 1:-1]
    code = np.zeros(centre.shape, dtype=np.uint8)
    offsets = ((-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1))
    h, w = g.shape
    for bit, (dy, dx) in enumerate(offsets):
        neighbour = g[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx]
        code |= ((neighbour >= centre).astype(np.uint8) << bit).astype(np.uint8)
    bins = _uniform_table()[code]
    side = bins.shape[0] // GRID
    blocks = bins[: side * GRID, : side * GRID].reshape(GRID, side, GRID, side)
    cells = blocks.transpose(0, 2, 1, 3).reshape(GRID * GRID, side * side)
    offsets_ = (np.arange(GRID * GRID) * BINS)[:, None]
    counts = np.bincount((cells + offsets_).ravel(), minlength=DESCRIPTOR_SIZE)
    return np.minimum(counts, 255).astype(np.uint8)


def chi_square(descriptor: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """Chi-square distances between one descriptor and N templates (N x DESCRIPTOR_SIZE)."""
    a = descriptor.astype(np.float32)[None, :]
    b = templates.astype(np.float32)
    total = a + b
    diff = a - b
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(total > 0, diff * diff / total, 0.0)
    distances: np.ndarray = terms.sum(axis=1)
    return distances


class FaceDetector:
    """Frontal faces with OpenCV's bundled Haar cascade (raises RuntimeError without it)."""

    def __init__(self) -> None:
        """Load the cascade."""
        cv2 = opencv()
        if cv2 is None:
            raise RuntimeError(face_support() or "OpenCV missing")
        if (problem := opencv_face_problem(cv2)) is not None:
            raise RuntimeError(problem)
        path = face_cascade_path(cv2)
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"could not load {path}")
        self._cv2 = cv2

    def gray(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Grey copy at most DETECT_WIDTH wide; returns it and the scale to full size."""
        cv2 = self._cv2
        gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        height, width = gray.shape
        if width <= DETECT_WIDTH:
            return gray, 1.0
        scale = width / DETECT_WIDTH
        small = cv2.resize(
            gray, (DETECT_WIDTH, round(height / scale)), interpolation=cv2.INTER_AREA
        )
        return small, scale

    def detect(self, gray: np.ndarray) -> list[Box]:
        """Faces in a grey image (from :meth:`gray`), largest first."""
        side = max(24, min(gray.shape) // 8)
        found = self._cascade.detectMultiScale(
            self._cv2.equalizeHist(gray), scaleFactor=1.1, minNeighbors=5, minSize=(side, side)
        )
        boxes: list[Box] = [
            (int(x), int(y), int(w), int(h)) for x, y, w, h in (found if len(found) else [])
        ]
        return sorted(boxes, key=lambda b: -b[2] * b[3])

    def crop(self, gray: np.ndarray, box: Box) -> np.ndarray:
        """Return the CROPxCROP grey crop of a detected face (the inner face)."""
        x, y, w, h = box
        inset = round(w * 0.1)  # the Haar box includes hair/ears
        x0, y0 = max(0, x + inset), max(0, y + inset)
        x1, y1 = min(gray.shape[1], x + w - inset), min(gray.shape[0], y + h - inset // 2)
        face = gray[y0:y1, x0:x1]
        crop: np.ndarray = self._cv2.resize(face, (CROP, CROP), interpolation=self._cv2.INTER_AREA)
        return crop

    def descriptors(self, image: np.ndarray) -> list[tuple[Box, np.ndarray]]:
        """(box in full-frame pixels, descriptor) of every face in an RGB image."""
        gray, scale = self.gray(image)
        out: list[tuple[Box, np.ndarray]] = []
        for box in self.detect(gray):
            full = tuple(round(v * scale) for v in box)
            out.append((full, lbp_descriptor(self.crop(gray, box))))  # type: ignore[arg-type]
        return out


@dataclass
class Match:
    """Result of matching one face."""

    name: str | None  # None: unknown
    distance: float  # to the nearest template of ``name`` (or of anyone, when unknown)


@dataclass
class FaceGallery:
    """Enrolled people: name -> templates (uint8 descriptors)."""

    people: dict[str, np.ndarray] = field(default_factory=dict)
    threshold: float = MATCH_THRESHOLD
    margin: float = MATCH_MARGIN

    def enrol(self, name: str, descriptors: list[np.ndarray]) -> None:
        """Add templates for ``name`` (keeps the newest MAX_TEMPLATES)."""
        if not descriptors:
            return
        new = np.stack(descriptors).astype(np.uint8)
        old = self.people.get(name)
        merged = new if old is None else np.concatenate([old, new])
        self.people[name] = merged[-MAX_TEMPLATES:]

    def remove(self, name: str) -> None:
        """Forget ``name`` and all their templates."""
        self.people.pop(name, None)

    def match(self, descriptor: np.ndarray) -> Match:
        """Who this face is (None when nobody enrolled is close enough)."""
        best: list[tuple[float, str]] = sorted(
            (float(chi_square(descriptor, templates).min()), name)
            for name, templates in list(self.people.items())  # enrolment may run meanwhile
        )
        if not best:
            return Match(None, float("inf"))
        distance, name = best[0]
        if distance > self.threshold:
            return Match(None, distance)
        if len(best) > 1 and best[1][0] < distance * self.margin:
            return Match(None, distance)  # too close to call
        return Match(name, distance)


@dataclass
class Recognition:
    """What the analyzer concluded for one arrival."""

    name: str | None  # None: someone unknown (or no face seen)
    faces: int  # faces seen during the arrival window
    distance: float | None
    runs: int  # detection runs
    cost_ms: float  # total time spent on them


class PeopleAnalyzer:
    """Recognises who arrives; pipeline-thread analyzer (see :mod:`.analysis`).

    Recognition runs only after an arrival (a transition to OCCUPIED), on every
    ``stride``-th frame for ``window`` seconds, and stops as soon as
    ``votes`` runs agree. ``on_result(recognition)`` is called once per arrival,
    ``on_left()`` when the room becomes EMPTY again. Enrolment captures use the
    same thread: :meth:`start_capture`.
    """

    def __init__(
        self,
        on_result: Callable[[Recognition], None],
        on_left: Callable[[None], None],
        *,
        enabled: bool = False,
        window: float = 4.0,
        stride: int = 2,
        votes: int = 2,
    ) -> None:
        """Create the analyzer; the detector is created on first use (OpenCV)."""
        self.gallery = FaceGallery()
        self.enabled = enabled
        self.window = window
        self.stride = stride
        self.votes = votes
        self._on_result = on_result
        self._on_left = on_left
        self._detector: FaceDetector | None = None
        self._state = Occupancy.UNKNOWN
        self._until: float | None = None
        self._frames = 0
        self._seen: list[Match] = []
        self._runs = 0
        self._cost = 0.0
        self._capture: _Capture | None = None
        self._lock = threading.Lock()
        self.last_run_ms = 0.0
        self._last_pts = 0.0
        self._shown: tuple[str | None, float] | None = None  # (name, pts) for the overlay

    @property
    def detector(self) -> FaceDetector:
        """The face detector (RuntimeError without OpenCV)."""
        if self._detector is None:
            self._detector = FaceDetector()
        return self._detector

    def start_capture(
        self, count: int, done: Callable[[list[np.ndarray]], None], interval: float = 0.3
    ) -> None:
        """Collect ``count`` face descriptors (one per ``interval`` s) from the next frames."""
        with self._lock:
            self._capture = _Capture(count, interval, done)

    def cancel_capture(self) -> list[np.ndarray]:
        """Stop a capture; returns what was collected so far."""
        with self._lock:
            capture, self._capture = self._capture, None
        return [] if capture is None else capture.collected

    def __call__(self, frame: Frame, result: FrameResult) -> None:
        """Analyse one frame (pipeline thread)."""
        self._last_pts = frame.pts
        with self._lock:
            capture = self._capture
        if capture is not None:
            self._capture_step(capture, frame)
        if not self.enabled:
            self._state = result.state
            return
        previous, self._state = self._state, result.state
        if result.state is Occupancy.EMPTY and previous is not Occupancy.EMPTY:
            self._until = None
            if previous is Occupancy.OCCUPIED:
                self._on_left(None)
            return
        if result.state is Occupancy.OCCUPIED and previous is not Occupancy.OCCUPIED:
            self._until = frame.pts + self.window
            self._frames = 0
            self._seen = []
            self._runs = 0
            self._cost = 0.0
        if self._until is None:
            return
        if frame.pts > self._until:
            self._finish()
            return
        self._frames += 1
        if (self._frames - 1) % self.stride:
            return
        started = time.perf_counter()
        faces = self.detector.descriptors(frame.image)
        if faces:
            self._seen.append(self.gallery.match(faces[0][1]))
        self.last_run_ms = (time.perf_counter() - started) * 1000.0
        self._cost += self.last_run_ms
        self._runs += 1
        names = [m.name for m in self._seen]
        for name in set(names):
            if names.count(name) >= self.votes:
                self._finish(name)
                return

    def draw(self, image: np.ndarray, result: FrameResult | None) -> None:
        """Tracking view: who was recognised, for a few seconds after an arrival."""
        shown = self._shown
        if not self.enabled or shown is None or not 0 <= self._last_pts - shown[1] <= SHOW_SECONDS:
            return
        from . import render  # drawing only happens while watched

        scale = max(1, min(image.shape[:2]) // 180)
        text = f"person: {shown[0] or 'unknown'}"
        render.draw_text(image, text, 3 * scale, 3 * scale, PERSON_TEXT_COLOUR, scale=scale)

    def _finish(self, decided: str | None = None) -> None:
        """Report the arrival's result once."""
        self._until = None
        names = [m.name for m in self._seen]
        name = decided
        if name is None and names:
            top = max(set(names), key=names.count)
            name = top if names.count(top) >= self.votes else None
        self._shown = (name, self._last_pts)
        distances = [m.distance for m in self._seen if m.name == name]
        self._on_result(
            Recognition(
                name=name,
                faces=len(self._seen),
                distance=min(distances) if distances else None,
                runs=self._runs,
                cost_ms=self._cost,
            )
        )

    def _capture_step(self, capture: _Capture, frame: Frame) -> None:
        if frame.pts < capture.next_at:
            return
        try:
            faces = self.detector.descriptors(frame.image)
        except RuntimeError as err:
            _LOGGER.warning("Cannot capture faces: %s", err)
            faces = []
            capture.count = 0
        if faces:
            capture.collected.append(faces[0][1])
            capture.next_at = frame.pts + capture.interval
        if len(capture.collected) >= capture.count:
            with self._lock:
                if self._capture is capture:
                    self._capture = None
            capture.done(capture.collected)


@dataclass
class _Capture:
    count: int
    interval: float
    done: Callable[[list[np.ndarray]], None]
    collected: list[np.ndarray] = field(default_factory=list)
    next_at: float = float("-inf")


def descriptors_from_images(paths: list[Any]) -> list[np.ndarray]:
    """Face descriptors of image files (largest face of each), decoded with PyAV. Blocking."""
    import av  # only needed for enrolment from a folder

    detector = FaceDetector()
    out: list[np.ndarray] = []
    for path in paths:
        try:
            with av.open(str(path)) as container:
                image = next(container.decode(video=0)).to_ndarray(format="rgb24")
        except (av.FFmpegError, StopIteration, OSError) as err:
            _LOGGER.warning("Skipping %s: %s", path, err)
            continue
        faces = detector.descriptors(image)
        if faces:
            out.append(faces[0][1])
    return out
