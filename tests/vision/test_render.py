"""Annotated preview frames and JPEG encoding."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from custom_components.smart_play.vision.render import (
    MOTION_COLOUR,
    PERSON_COLOUR,
    STATE_COLOURS,
    annotate,
    encode_jpeg,
    status_text,
    text_mask,
)
from custom_components.smart_play.vision.types import FrameResult, Occupancy

W, H = 640, 360


def result(state: Occupancy = Occupancy.OCCUPIED, **kwargs: object) -> FrameResult:
    base: dict[str, object] = {"t": 3.0, "state": state, "presence": True, "motion_score": 4.0}
    base.update(kwargs)
    return FrameResult(**base)  # type: ignore[arg-type]


def grey() -> np.ndarray:
    return np.full((H, W, 3), 128, dtype=np.uint8)


def has_colour(region: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.all(region == np.array(colour, dtype=np.uint8), axis=-1).any())


def test_boxes_are_drawn_in_their_colours_where_they_are() -> None:
    image = grey()
    out = annotate(
        image,
        result(motion_boxes=[(10, 20, 100, 50)], person_box=(300, 100, 80, 150)),
        delay=2.0,
    )
    assert np.array_equal(image, grey()), "the input frame is not modified"
    assert tuple(out[20, 50]) == MOTION_COLOUR  # top edge of the motion box
    assert tuple(out[45, 10]) == MOTION_COLOUR  # left edge
    assert tuple(out[45, 60]) == (128, 128, 128)  # inside stays untouched
    assert tuple(out[100, 340]) == PERSON_COLOUR
    assert tuple(out[249, 340]) == PERSON_COLOUR  # bottom edge
    outside = out.copy()
    outside[100:250, 300:380] = 0
    assert not has_colour(outside[: H - 30], PERSON_COLOUR)  # only around the person
    # No boxes: nothing coloured above the status bar.
    plain = annotate(image, result(), delay=2.0)
    assert not has_colour(plain[: H - 30], MOTION_COLOUR)
    assert not has_colour(plain[: H - 30], PERSON_COLOUR)


def test_boxes_outside_the_frame_are_clipped() -> None:
    out = annotate(grey(), result(motion_boxes=[(-50, -50, 2000, 2000)]), delay=2.0)
    assert out.shape == (H, W, 3)
    assert tuple(out[0, W // 2]) == MOTION_COLOUR


@pytest.mark.parametrize("state", list(Occupancy))
def test_status_bar_shows_state_in_its_colour(state: Occupancy) -> None:
    out = annotate(grey(), result(state=state), delay=2.0)
    bar = out[H - 20 :]
    assert has_colour(bar, STATE_COLOURS[state])
    for other in set(Occupancy) - {state}:
        assert not has_colour(bar, STATE_COLOURS[other])
    assert (out[: H - 30] == 128).all()


def test_status_text() -> None:
    assert status_text(result(countdown=1.44), 2.0) == ("Occupied", "pausing in 1.4 s")
    assert status_text(result(reason="still person"), 2.0) == ("Occupied", "still person")
    assert status_text(result(state=Occupancy.EMPTY), 5.0) == ("Empty", "delay 5.0 s")
    assert status_text(result(state=Occupancy.UNKNOWN), 2.0)[0] == "Unknown"


def test_countdown_changes_the_bar() -> None:
    a = annotate(grey(), result(countdown=1.4), delay=2.0)
    b = annotate(grey(), result(countdown=0.6), delay=2.0)
    c = annotate(grey(), result(), delay=2.0)
    assert not np.array_equal(a[H - 20 :], b[H - 20 :])
    assert not np.array_equal(a[H - 20 :], c[H - 20 :])


def test_font_covers_all_status_characters() -> None:
    blank = text_mask(" ", 1)
    assert not blank.any()
    for char in "OccupiedEmptyUnknownpausingdelaymotionstillpersonfaceleftthroughedge0123456789.%":
        assert text_mask(char, 1).any(), f"missing glyph {char!r}"
    assert text_mask("ab", 3).shape == (21, 33)


def test_small_frames_still_render() -> None:
    out = annotate(np.zeros((20, 30, 3), dtype=np.uint8), result(countdown=1.0), delay=2.0)
    assert out.shape == (20, 30, 3)


def decode_jpeg(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data), format="mjpeg") as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="rgb24")


@pytest.mark.parametrize("use_opencv", [False, True], ids=["pyav", "opencv"])
def test_encode_jpeg_roundtrip(use_opencv: bool) -> None:
    image = annotate(grey(), result(person_box=(100, 100, 200, 100), countdown=1.0), delay=2.0)
    image[:60, :60] = (255, 0, 0)
    data = encode_jpeg(image, 85, use_opencv=use_opencv)
    assert data[:2] == b"\xff\xd8"
    assert data[-2:] == b"\xff\xd9"
    back = decode_jpeg(data)
    assert back.shape == image.shape
    assert np.abs(back.astype(int) - image.astype(int)).mean() < 6
    red = back[10:50, 10:50].mean(axis=(0, 1))
    assert red[0] > 200
    assert red[1] < 60


@pytest.mark.parametrize("use_opencv", [False, True], ids=["pyav", "opencv"])
def test_jpeg_quality_changes_size(use_opencv: bool) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, size=(H, W, 3), dtype=np.uint8)
    low = encode_jpeg(image, 10, use_opencv=use_opencv)
    high = encode_jpeg(image, 95, use_opencv=use_opencv)
    assert len(low) < len(high)


def test_odd_sized_frame_encodes_with_pyav() -> None:
    data = encode_jpeg(np.full((91, 161, 3), 60, dtype=np.uint8), use_opencv=False)
    assert decode_jpeg(data).shape[:2] == (90, 160)
