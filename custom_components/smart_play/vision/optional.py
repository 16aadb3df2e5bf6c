"""The optional OpenCV extra: one place that imports it (or knows it is missing)."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from types import ModuleType
from typing import Final

#: What the integration installs on demand where wheels exist. OpenCV 5 dropped the
#: bundled Haar cascades that the face stages use, hence the upper bound.
OPENCV_REQUIREMENT: Final = "opencv-python-headless>=4.8,<5"


@cache
def opencv() -> ModuleType | None:
    """Return the cv2 module when OpenCV imports, else None (cached; see forget_opencv)."""
    try:
        return import_module("cv2")
    except ImportError:
        return None


def forget_opencv() -> None:
    """Forget a failed import, e.g. after the extra was installed at run time."""
    opencv.cache_clear()
