"""The OpenCV check looks for the API the face stages use, not only for `import cv2`."""

from __future__ import annotations

from pathlib import Path
import types

import pytest

from custom_components.smart_play.vision import faces, optional


def fake_cv2(version: str, *, cascade: bool, cascade_dir: Path | None = None) -> types.ModuleType:
    """A cv2 module as another OpenCV build could look (e.g. OpenCV 5 without Haar)."""
    module = types.ModuleType("cv2")
    module.__version__ = version  # type: ignore[attr-defined]
    if cascade:
        module.CascadeClassifier = lambda path: None  # type: ignore[attr-defined]
    if cascade_dir is not None:
        module.data = types.SimpleNamespace(haarcascades=f"{cascade_dir}/")  # type: ignore[attr-defined]
    return module


def test_opencv_without_cascade_classifier_is_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faces, "opencv", lambda: fake_cv2("5.0.0", cascade=False))
    why = faces.face_support()
    assert why is not None
    assert "OpenCV 5.0.0 has no Haar cascade classifier" in why
    with pytest.raises(RuntimeError, match="no Haar cascade classifier"):
        faces.FaceDetector()  # a clear error, not AttributeError


def test_opencv_without_its_cascade_file_is_unusable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        faces, "opencv", lambda: fake_cv2("4.9.0", cascade=True, cascade_dir=tmp_path)
    )
    why = faces.face_support()
    assert why is not None
    assert optional.FACE_CASCADE in why


def test_installed_but_broken_opencv_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faces, "opencv", lambda: None)
    monkeypatch.setattr(faces, "installed_opencv", lambda: "opencv-python 4.9.0.80")
    assert faces.face_support() == (
        "opencv-python 4.9.0.80 is installed, but its cv2 module does not import"
    )


def test_the_installed_opencv_is_found() -> None:
    """This test environment has opencv-python-headless 4.x (requirements_test.txt)."""
    cv2 = optional.opencv()
    if cv2 is None:
        pytest.skip("OpenCV not installed")
    installed = optional.installed_opencv()
    assert installed is not None
    assert installed.startswith("opencv-")
    assert optional.face_cascade_path(cv2) is not None
    assert faces.face_support() is None


def test_no_opencv_distribution_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise optional.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(optional.metadata, "version", missing)
    assert optional.installed_opencv() is None
    assert optional.face_cascade_path(fake_cv2("4.9.0", cascade=True)) is None  # no cv2.data
