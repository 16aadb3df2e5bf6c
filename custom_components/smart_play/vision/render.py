"""Annotated preview frames and JPEG encoding (numpy + PyAV; OpenCV optional).

Only called while someone watches the camera entity: never from
``OccupancyEngine.process``. Text is drawn with a tiny built-in 5x7 bitmap
font so no OpenCV is needed (Home Assistant OS has no OpenCV wheels).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from functools import cache

import av
import numpy as np

from .optional import opencv
from .types import Box, FrameResult, Occupancy

MOTION_COLOUR = (255, 196, 0)  # amber
IGNORED_COLOUR = (190, 120, 255)  # violet hatching of the exclusion zones
PERSON_COLOUR = (0, 220, 90)  # green
BAR_COLOUR = (20, 20, 20)
TEXT_COLOUR = (240, 240, 240)
STATE_COLOURS = {
    Occupancy.OCCUPIED: (0, 220, 90),
    Occupancy.EMPTY: (255, 90, 70),
    Occupancy.UNKNOWN: (170, 170, 170),
}
STATE_LABELS = {
    Occupancy.OCCUPIED: "Occupied",
    Occupancy.EMPTY: "Empty",
    Occupancy.UNKNOWN: "Unknown",
}

# 5x7 glyphs, one string per row, "#" = ink. Lower case, digits, a few capitals.
_GLYPHS: dict[str, tuple[str, ...]] = {
    " ": (".....",) * 7,
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    ",": (".....", ".....", ".....", ".....", ".##..", "..#..", ".#..."),
    ":": (".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."),
    "-": (".....", ".....", ".....", "#####", ".....", ".....", "....."),
    "%": ("##...", "##..#", "...#.", "..#..", ".#...", "#..##", "...##"),
    "(": ("...#.", "..#..", ".#...", ".#...", ".#...", "..#..", "...#."),
    ")": (".#...", "..#..", "...#.", "...#.", "...#.", "..#..", ".#..."),
    "/": (".....", "....#", "...#.", "..#..", ".#...", "#....", "....."),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": ("..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."),
    "E": ("#####", "#....", "#....", "####.", "#....", "#....", "#####"),
    "F": ("#####", "#....", "#....", "####.", "#....", "#....", "#...."),
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "U": ("#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."),
    "a": (".....", ".....", ".###.", "....#", ".####", "#...#", ".####"),
    "b": ("#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."),
    "c": (".....", ".....", ".###.", "#....", "#....", "#...#", ".###."),
    "d": ("....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"),
    "e": (".....", ".....", ".###.", "#...#", "#####", "#....", ".###."),
    "f": ("..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."),
    "g": (".....", ".####", "#...#", "#...#", ".####", "....#", ".###."),
    "h": ("#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"),
    "i": ("..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."),
    "j": ("...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."),
    "k": ("#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."),
    "l": (".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "m": (".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"),
    "n": (".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"),
    "o": (".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."),
    "p": (".....", ".....", "####.", "#...#", "####.", "#....", "#...."),
    "q": (".....", ".....", ".##.#", "#..##", ".####", "....#", "....#"),
    "r": (".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."),
    "s": (".....", ".....", ".###.", "#....", ".###.", "....#", "####."),
    "t": (".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."),
    "u": (".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"),
    "v": (".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."),
    "w": (".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."),
    "x": (".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"),
    "y": (".....", ".....", "#...#", "#...#", ".####", "....#", ".###."),
    "z": (".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"),
}
GLYPH_W, GLYPH_H = 5, 7


@cache
def _glyph(char: str) -> np.ndarray:
    """Boolean 7x5 bitmap for ``char`` (unknown characters fall back to lower case or blank)."""
    rows = _GLYPHS.get(char) or _GLYPHS.get(char.lower()) or _GLYPHS[" "]
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


def text_mask(text: str, scale: int) -> np.ndarray:
    """Boolean mask of ``text`` in the bitmap font, ``scale`` pixels per font pixel."""
    if not text:
        return np.zeros((GLYPH_H * scale, 0), dtype=bool)
    spaced = [np.pad(_glyph(c), ((0, 0), (0, 1))) for c in text]
    mask = np.concatenate(spaced, axis=1)[:, :-1]
    scaled: np.ndarray = mask.repeat(scale, axis=0).repeat(scale, axis=1)
    return scaled


def draw_text(
    image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int], *, scale: int = 2
) -> int:
    """Draw ``text`` with its top-left corner at (x, y); returns the x after the text."""
    mask = text_mask(text, scale)
    height, width = image.shape[:2]
    mh, mw = (int(n) for n in mask.shape)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + mw), min(height, y + mh)
    if x1 <= x0 or y1 <= y0:
        return x + mw
    sub = mask[y0 - y : y1 - y, x0 - x : x1 - x]
    image[y0:y1, x0:x1][sub] = colour
    return x + mw


def draw_box(image: np.ndarray, box: Box, colour: tuple[int, int, int], thickness: int = 2) -> None:
    """Draw the outline of ``box`` (x, y, w, h), clipped to the image."""
    height, width = image.shape[:2]
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    t = max(1, thickness)
    image[y0 : min(y1, y0 + t), x0:x1] = colour
    image[max(y0, y1 - t) : y1, x0:x1] = colour
    image[y0:y1, x0 : min(x1, x0 + t)] = colour
    image[y0:y1, max(x0, x1 - t) : x1] = colour


def status_text(result: FrameResult, delay: float) -> tuple[str, str]:
    """(state label, detail) shown in the status bar."""
    label = STATE_LABELS[result.state]
    if result.countdown is not None:
        detail = f"pausing in {max(0.0, result.countdown):.1f} s"
    elif result.state is Occupancy.OCCUPIED and result.reason:
        detail = result.reason
    elif result.state is Occupancy.EMPTY:
        detail = f"delay {delay:.1f} s"
    else:
        detail = ""
    return label, detail


def annotate(image: np.ndarray, result: FrameResult, *, delay: float) -> np.ndarray:
    """Return a copy of ``image`` with motion boxes, person box and a status bar.

    Motion boxes are amber, the person box green. The status bar at the
    bottom reads "Occupied", "Empty" or "Unknown", followed by the countdown
    ("pausing in 1.4 s") while the absence delay runs, and the motion score.
    """
    out = np.array(image, dtype=np.uint8, copy=True)
    height, width = out.shape[:2]
    thickness = max(1, round(min(width, height) / 240))
    for box in result.motion_boxes:
        draw_box(out, box, MOTION_COLOUR, thickness)
    if result.person_box is not None:
        draw_box(out, result.person_box, PERSON_COLOUR, thickness + 1)
    scale = max(1, min(width, height) // 180)
    bar_h = min(height, GLYPH_H * scale + 4 * scale)
    out[height - bar_h :, :] = BAR_COLOUR
    y = height - bar_h + 2 * scale
    label, detail = status_text(result, delay)
    x = draw_text(out, label, 3 * scale, y, STATE_COLOURS[result.state], scale=scale)
    if detail:
        x = draw_text(out, "  " + detail, x, y, TEXT_COLOUR, scale=scale)
    motion = f"motion {result.motion_score:.0f}%"
    mx = width - 3 * scale - text_mask(motion, scale).shape[1]
    if mx > x + 4 * scale:
        draw_text(out, motion, mx, y, TEXT_COLOUR, scale=scale)
    return out


def draw_zones(image: np.ndarray, zones: Sequence[tuple[float, float, float, float]]) -> None:
    """Hatch and outline each exclusion zone (x, y, w, h shares) in place, labelled "ignored".

    What the user sees: the parts of the picture the occupancy engine does not
    look at (a TV, a window, a pet bed) are covered by violet diagonal stripes.
    """
    height, width = image.shape[:2]
    thickness = max(1, round(min(width, height) / 240))
    scale = max(1, min(width, height) // 180)  # as the status bar
    step = 8 * thickness
    for zx, zy, zw, zh in zones:
        x0, y0 = round(zx * width), round(zy * height)
        x1, y1 = min(width, round((zx + zw) * width)), min(height, round((zy + zh) * height))
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.ogrid[y0:y1, x0:x1]
        stripes = (xs + ys) % step < 2 * thickness
        region = image[y0:y1, x0:x1]
        region[stripes] = (region[stripes] // 2 + np.array(IGNORED_COLOUR, np.uint8) // 2).astype(
            np.uint8
        )
        draw_box(image, (x0, y0, x1 - x0, y1 - y0), IGNORED_COLOUR, thickness)
        label_w = text_mask("ignored", scale).shape[1]
        if label_w + 4 * scale <= x1 - x0 and GLYPH_H * scale + 4 * scale <= y1 - y0:
            tx, ty = x0 + 2 * scale + thickness, y0 + 2 * scale + thickness
            image[ty - scale : ty + GLYPH_H * scale + scale, tx - scale : tx + label_w + scale] = (
                BAR_COLOUR
            )
            draw_text(image, "ignored", tx, ty, IGNORED_COLOUR, scale=scale)


class ZoneOverlay:
    """Tracking-view overlay of the exclusion zones (``zones`` may be replaced live)."""

    def __init__(self, zones: Sequence[tuple[float, float, float, float]] = ()) -> None:
        """Draw ``zones`` (x, y, w, h shares of the picture)."""
        self.zones = tuple(zones)

    def draw(self, image: np.ndarray, result: FrameResult | None) -> None:
        """Draw the zones in place on the annotated frame."""
        if self.zones:
            draw_zones(image, self.zones)


def encode_jpeg(image: np.ndarray, quality: int = 80, *, use_opencv: bool | None = None) -> bytes:
    """Encode an RGB uint8 image as JPEG bytes.

    Uses ``cv2.imencode`` when OpenCV imports (and ``use_opencv`` is not
    False), else PyAV's mjpeg encoder. ``quality`` is 1..100.
    """
    quality = min(100, max(1, int(quality)))
    rgb = np.ascontiguousarray(image, dtype=np.uint8)
    cv2 = opencv() if use_opencv is not False else None
    if cv2 is not None:
        ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            return bytes(buf.tobytes())
    return _encode_jpeg_av(rgb, quality)


def _encode_jpeg_av(rgb: np.ndarray, quality: int) -> bytes:
    """JPEG via PyAV/FFmpeg mjpeg (full-range yuvj420p)."""
    height, width = rgb.shape[:2]
    even = rgb[: height - height % 2, : width - width % 2]
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width = even.shape[1]
    codec.height = even.shape[0]
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    # FFmpeg's qscale 2 (best) .. 31 (worst) from a 1..100 quality.
    qscale = round(2 + (100 - quality) * 29 / 99)
    codec.options = {"qmin": str(qscale), "qmax": str(qscale)}
    codec.qmin = qscale
    codec.qmax = qscale
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(even), format="rgb24")
    frame = frame.reformat(format="yuvj420p")
    frame.pts = 0
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return b"".join(bytes(p) for p in packets)
