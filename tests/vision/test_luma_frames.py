"""The analysis reads the decoder's luma plane; RGB is made only when someone asks for it.

* every pixel format real sources deliver (H.264/H.265 yuv420p, MJPEG webcams
  yuvj420p/yuvj422p, nv12, V4L2 yuyv422, grey cameras, rgb24/bgr24 files) is
  read through a view of its first plane (no copy) that matches the picture's
  luma; an unusual format (10-bit, planar RGB) is converted once, never an error;
* the decisions do not change: on every shared clip and every scenario the
  engine fed the luma view and the engine fed the RGB picture (green channel,
  as before) report the same transitions, at most one frame interval apart.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bench import scenarios
from custom_components.smart_play.vision.engine import EngineConfig, OccupancyEngine
from custom_components.smart_play.vision.gestures import GestureDetector
from custom_components.smart_play.vision.motion import downscale_factor, downscale_gray, normalise
from custom_components.smart_play.vision.source import iter_file_frames
from custom_components.smart_play.vision.types import Frame, Transition

DATA = Path(__file__).resolve().parent.parent / "data"
SHARED = Path("/work/shared/clips")
# Formats the decoder's own first plane is read from (no conversion).
DIRECT = ["yuv420p", "yuvj420p", "yuvj422p", "nv12", "yuyv422", "uyvy422", "gray", "rgb24", "bgr24"]
# Formats converted once to grey.
CONVERTED = ["yuv420p10le", "gbrp", "rgb48le"]
# Scenarios (bench/scenarios.py) but the 30-minute ones.
SCENARIOS = [n for n in scenarios.SCENARIOS if "30min" not in n]
# When the luma path landed (issue 12) every scenario decided identically on both inputs.
# Since then the engine (issue 11, lighting fit d29525b and later) is tuned on the luma
# view the sources deliver, and on these the green channel of RGB now decides differently
# (leave 0.3-0.4 s apart). Not a change of the luma path: the RGB input is no longer what
# any source hands to the engine. (The camera bump decided differently too, until the
# reference learned to follow a bump to a fraction of a pixel: it agrees again.)
CHANNEL_DEPENDENT = {"frozen-person-then-leave", "lights-down-then-leave"}


def scenario_cases() -> list[object]:
    return [
        pytest.param(
            n,
            id=n,
            marks=[pytest.mark.xfail(reason="engine now tuned on luma (see above)", strict=False)]
            if n in CHANNEL_DEPENDENT
            else [],
        )
        for n in SCENARIOS
    ]


def clips() -> list[Path]:
    """The bundled clips and the shared ones (when present)."""
    found = {p.name: p for p in sorted(DATA.glob("*.mp4"))}
    if SHARED.is_dir():
        found.update({p.name: p for p in sorted(SHARED.glob("*.mp4"))})
    return list(found.values())


def write_clip(path: Path, pix_fmt: str, frames: list[np.ndarray], fps: int = 10) -> Path:
    """Encode RGB ``frames`` as ``pix_fmt``: a format the decoder then really hands out.

    JPEG formats go through the MJPEG codec (what USB webcams send), the rest
    losslessly as rawvideo in NUT (V4L2 raw formats, grey cameras, RGB files).
    """
    codec = "mjpeg" if pix_fmt.startswith("yuvj") else "rawvideo"
    with av.open(str(path), "w", format="nut") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = pix_fmt
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format=pix_fmt)
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def real_frames() -> list[np.ndarray]:
    """Ten RGB frames of real footage (a person walking), at an odd size (padded lines)."""
    out = []
    with av.open(str(DATA / "one-by-one-person-detection.mp4")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= 100:
                out.append(frame.reformat(width=322, height=182, format="rgb24").to_ndarray())
            if len(out) == 10:
                break
    return out


def luma_reference(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB picture (what the grey view must show, up to gain)."""
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


@pytest.mark.parametrize("pix_fmt", DIRECT + CONVERTED)
def test_every_format_is_analysed_from_its_luma(
    tmp_path: Path, real_frames: list[np.ndarray], pix_fmt: str
) -> None:
    path = write_clip(tmp_path / f"clip-{pix_fmt}.nut", pix_fmt, real_frames)
    frames = list(iter_file_frames(path, fps_cap=None))
    assert len(frames) == len(real_frames)
    frame = frames[3]
    assert frame._decoded.format.name == pix_fmt  # the decoder handed out this format
    assert frame.gray.shape == (182, 322)
    assert frame.gray.dtype == np.uint8
    assert not frame.has_image  # nothing converted to RGB for the analysis
    if pix_fmt in DIRECT:
        assert not frame.gray.flags.owndata  # a view of the decoder's buffer
    rgb = frame.image
    assert rgb.shape == (182, 322, 3)
    assert frame.has_image
    if pix_fmt in ("rgb24", "bgr24"):
        # RGB files: the green channel, exactly what the analysis read before.
        assert np.array_equal(frame.gray, rgb[:, :, 1])
        assert frame.black == 0
    else:
        # The grey view is the picture's luma: after subtracting the black level
        # it is one gain away from the luma of the RGB conversion (no offset).
        reference = luma_reference(rgb.astype(np.float64))
        grey = frame.gray.astype(np.float64) - frame.black
        gain, offset = np.polyfit(grey.ravel(), reference.ravel(), 1)
        assert 0.95 <= gain <= 1.2
        assert abs(offset) < 3.0
        assert float(np.abs(grey * gain + offset - reference).mean()) < 1.5
    # What the engine sees after downscale + normalise: the same picture either way
    # (green and luma differ only by the colours' share, a few grey levels).
    factor = downscale_factor(*frame.gray.shape)
    luma_small, _ = normalise(downscale_gray(frame.gray, factor, frame.black))
    rgb_small, _ = normalise(downscale_gray(rgb, factor))
    assert float(np.abs(luma_small - rgb_small).mean()) < 10.0


def test_rgb_is_made_from_the_decoded_frame_only_once(tmp_path: Path, real_frames: list) -> None:
    path = write_clip(tmp_path / "clip.nut", "yuv420p", real_frames)
    frame = next(iter(iter_file_frames(path, fps_cap=None)))
    first = frame.image
    assert frame.image is first  # kept for the next consumer (renderer, faces)
    expected = frame._decoded.to_ndarray(format="rgb24")
    assert np.array_equal(first, expected)


def _both_paths(path: Path, use_opencv: bool) -> tuple[list[Transition], list[Transition], float]:
    """Transitions of the engine on the luma frames and on their RGB pictures."""
    luma = OccupancyEngine(EngineConfig(use_opencv=use_opencv))
    green = OccupancyEngine(EngineConfig(use_opencv=use_opencv))
    out_luma: list[Transition] = []
    out_green: list[Transition] = []
    last_pts = 0.0
    count = 0
    for frame in iter_file_frames(path, fps_cap=None):
        if (tr := luma.process(frame).transition) is not None:
            out_luma.append(tr)
        rgb = Frame(frame.image, frame.pts, frame.wall)  # the picture the old path analysed
        if (tr := green.process(rgb).transition) is not None:
            out_green.append(tr)
        last_pts = frame.pts
        count += 1
    interval = last_pts / max(1, count - 1)
    return out_luma, out_green, interval


def assert_same_decisions(luma: list[Transition], green: list[Transition], interval: float) -> None:
    assert [t.state for t in luma] == [t.state for t in green], (luma, green)
    for a, b in zip(luma, green, strict=True):
        assert abs(a.t - b.t) <= interval + 1e-6, (a, b)


@pytest.fixture(scope="module")
def scenario_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario clips (all but the 30-minute ones), written once."""
    folder = tmp_path_factory.mktemp("luma-scenarios")
    for name in SCENARIOS:
        scenarios.write(scenarios.build(name), folder)
    return folder


@pytest.mark.parametrize("use_opencv", [False, True], ids=["numpy", "opencv"])
@pytest.mark.parametrize("clip", clips(), ids=lambda p: p.stem)
def test_luma_path_decides_like_the_rgb_path_on_clips(clip: Path, use_opencv: bool) -> None:
    assert_same_decisions(*_both_paths(clip, use_opencv))


@pytest.mark.parametrize("name", scenario_cases())
def test_luma_path_decides_like_the_rgb_path_on_scenarios(scenario_dir: Path, name: str) -> None:
    luma, green, interval = _both_paths(scenario_dir / f"{name}.mp4", use_opencv=False)
    assert_same_decisions(luma, green, interval)


def test_gestures_read_the_luma_view_like_the_rgb_picture(
    tmp_path: Path, real_frames: list[np.ndarray]
) -> None:
    """The gesture detector's small picture is the same from the grey view as from RGB."""
    path = write_clip(tmp_path / "clip.nut", "yuv420p", real_frames)
    frame = next(iter(iter_file_frames(path, fps_cap=None)))
    luma, rgb = GestureDetector(), GestureDetector()
    luma.process(frame.gray, 0.0, frame.black)
    rgb.process(frame.image, 0.0)
    assert luma._prev is not None and rgb._prev is not None
    assert float(np.abs(luma._prev - rgb._prev).mean()) < 10.0
