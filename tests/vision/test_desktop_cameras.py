"""Camera sources of desk computers (the desk agent): macOS AVFoundation, Windows DirectShow."""

from __future__ import annotations

import pytest

from custom_components.smart_play.vision.types import SourceError
from custom_components.smart_play.vision.urls import desktop_camera, kind_of, parse_source


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("avfoundation:0", ("avfoundation", "0")),
        ("dshow:video=Integrated Camera", ("dshow", "video=Integrated Camera")),
    ],
)
def test_desktop_cameras_are_devices(text: str, expected: tuple[str, str]) -> None:
    assert parse_source(text) == text
    assert desktop_camera(text) == expected
    assert kind_of(text) == "device"


@pytest.mark.parametrize("text", ["avfoundation:", "dshow:", "dshow://host/x", "webcam:0"])
def test_malformed_desktop_cameras_are_refused(text: str) -> None:
    with pytest.raises(SourceError) as err:
        parse_source(text)
    assert err.value.code == "invalid_url"
