"""The optional OpenCV extra: one place that imports it (or knows it is missing).

Smart Play uses OpenCV 4's Haar cascade classifier (``cv2.CascadeClassifier`` with the
cascade files in ``cv2.data.haarcascades``) for faces. Another integration may have
installed a different OpenCV build; :func:`opencv_face_problem` says whether the one
that imports can serve, and :func:`installed_opencv` finds an installed distribution
so that Smart Play never installs its own over it.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module, metadata
import os
from types import ModuleType
from typing import Final

#: What the integration installs on demand where wheels exist (and no OpenCV is
#: installed). OpenCV 5 dropped the Haar cascade classifier the face stages use,
#: hence the upper bound.
OPENCV_REQUIREMENT: Final = "opencv-python-headless>=4.8,<5"
#: Every pip distribution that provides the ``cv2`` module.
OPENCV_DISTRIBUTIONS: Final = (
    "opencv-python-headless",
    "opencv-python",
    "opencv-contrib-python-headless",
    "opencv-contrib-python",
)
FACE_CASCADE: Final = "haarcascade_frontalface_default.xml"


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


def installed_opencv() -> str | None:
    """Return ``"<distribution> <version>"`` of an installed OpenCV, or None (blocking I/O)."""
    for name in OPENCV_DISTRIBUTIONS:
        try:
            return f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            continue
    return None


def face_cascade_path(cv2: ModuleType) -> str | None:
    """Path of OpenCV's bundled frontal-face cascade, or None if this build has none."""
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if not isinstance(folder, str):
        return None
    path = os.path.join(folder, FACE_CASCADE)
    return path if os.path.isfile(path) else None


def opencv_face_problem(cv2: ModuleType) -> str | None:
    """Why the imported OpenCV cannot detect faces the way Smart Play does (None: it can)."""
    version = str(getattr(cv2, "__version__", "unknown version"))
    if not callable(getattr(cv2, "CascadeClassifier", None)):
        return (
            f"the installed OpenCV {version} has no Haar cascade classifier (OpenCV 5 "
            "removed it); people recognition needs OpenCV 4"
        )
    if face_cascade_path(cv2) is None:
        return (
            f"the installed OpenCV {version} comes without its face cascade file ({FACE_CASCADE})"
        )
    return None
