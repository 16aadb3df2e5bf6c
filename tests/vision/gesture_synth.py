"""Synthetic hand gestures drawn over real background frames (tests and bench).

A "hand" is a skin-coloured ellipse (palm) with a forearm bar below it and a
little texture, about 10 % of the picture wide, moved over a frame of a real
clip with fresh sensor-like noise in every frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from custom_components.smart_play.vision.source import iter_file_frames

DATA = Path(__file__).resolve().parent.parent / "data"
SKIN = np.array([224, 172, 140], dtype=np.float32)


def background(name: str = "one-by-one-person-detection.mp4", t: float = 2.0) -> np.ndarray:
    """Return one real frame (RGB) of a bundled clip at about ``t`` seconds."""
    for frame in iter_file_frames(DATA / name, fps_cap=10.0):
        if frame.pts >= t:
            return frame.image.copy()
    raise ValueError(f"{name} is shorter than {t} s")


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize (enough for a background)."""
    ys = (np.arange(height) * image.shape[0] / height).astype(int)
    xs = (np.arange(width) * image.shape[1] / width).astype(int)
    return image[ys][:, xs].copy()


def draw_hand(image: np.ndarray, cx: float, cy: float, size: float, *, arm: bool = True) -> None:
    """Draw a hand centred at (cx, cy) (shares of the picture) into ``image`` in place."""
    h, w = image.shape[:2]
    rx = size * w / 2.0
    ry = rx * 1.25
    px, py = cx * w, cy * h
    yy, xx = np.ogrid[:h, :w]
    palm = ((xx - px) / rx) ** 2 + ((yy - py) / ry) ** 2 <= 1.0
    mask = palm
    if arm:
        forearm = (np.abs(xx - px) <= rx * 0.55) & (yy >= py) & (yy <= py + 4 * ry)
        mask = palm | forearm
    shade = 0.85 + 0.15 * np.cos((xx - px) / max(rx, 1.0) * 3.0)  # finger-like texture
    colour = (SKIN[None, None, :] * shade[..., None]).clip(0, 255)
    image[mask] = np.broadcast_to(colour, (h, w, 3))[mask].astype(np.uint8)


def noisy(image: np.ndarray, rng: np.random.Generator, sigma: float = 3.0) -> np.ndarray:
    """Add Gaussian noise like a webcam sensor."""
    noise = rng.normal(0.0, sigma, image.shape)
    return (image.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)


def sequence(
    base: np.ndarray,
    path: list[tuple[float, float] | None],
    *,
    fps: float = 10.0,
    t0: float = 0.0,
    size: float = 0.1,
    seed: int = 1,
    lead: int = 10,
    tail: int = 10,
) -> Iterator[tuple[np.ndarray, float]]:
    """Yield (image, t): ``lead`` calm frames, the hand along ``path``, ``tail`` calm frames.

    ``None`` in ``path`` is a frame without the hand.
    """
    rng = np.random.default_rng(seed)
    steps: list[tuple[float, float] | None] = [None] * lead + list(path) + [None] * tail
    for i, pos in enumerate(steps):
        img = base.copy()
        if pos is not None:
            draw_hand(img, pos[0], pos[1], size)
        yield noisy(img, rng), t0 + i / fps


def swipe_path(
    start: tuple[float, float], end: tuple[float, float], frames: int
) -> list[tuple[float, float] | None]:
    """Straight path from ``start`` to ``end`` in ``frames`` steps (shares of the picture)."""
    return [
        (
            start[0] + (end[0] - start[0]) * i / (frames - 1),
            start[1] + (end[1] - start[1]) * i / (frames - 1),
        )
        for i in range(frames)
    ]


# Swipes through the default zone (top right quarter), hand fully outside at both ends.
SWIPES: dict[str, list[tuple[float, float] | None]] = {
    "left": swipe_path((1.08, 0.22), (0.42, 0.22), 7),
    "right": swipe_path((0.42, 0.22), (1.08, 0.22), 7),
    "up": swipe_path((0.75, 0.62), (0.75, -0.12), 7),
    "down": swipe_path((0.75, -0.12), (0.75, 0.62), 7),
}


def hold_path(frames: int = 16) -> list[tuple[float, float] | None]:
    """Hand rises into the zone from below (3 frames), then holds still."""
    rise = swipe_path((0.78, 0.62), (0.78, 0.3), 3)
    return rise + [(0.78, 0.3)] * frames + swipe_path((0.78, 0.3), (0.78, 0.7), 3)
