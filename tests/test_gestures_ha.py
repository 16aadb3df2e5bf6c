"""Gestures inside Home Assistant: option, event entity, player commands, tracking view."""

from __future__ import annotations

import asyncio
from fractions import Fraction
import io
from pathlib import Path
import threading
from typing import Any

import av
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.smart_play.const import CONF_LOOP, DOMAIN
from custom_components.smart_play.features import EVENT_GESTURE, OPT_GESTURE_ZONE, OPT_GESTURES
from custom_components.smart_play.vision.analysis import AnalyzingEngine
from custom_components.smart_play.vision.gestures import ZONE_COLOUR
from custom_components.smart_play.vision.types import Frame, SourceStatus

from .helpers_entities import (
    MEDIA_PLAYER,
    async_change_options,
    async_setup,
    fake_pipelines,
    make_entry,
)
from .vision import gesture_synth as gs

pytestmark = pytest.mark.timeout(60)
EVENT_ENTITY = "event.desk_gesture"


@pytest.fixture(scope="module")
def swipe_frames() -> list[tuple[np.ndarray, float]]:
    """A swipe to the picture's left (next track, mirrored) over a real room frame."""
    base = gs.resize(gs.background("one-by-one-person-detection.mp4", 2.0), 640, 360)
    path = [None] * 15 + gs.SWIPES["left"] + [None] * 15
    return list(gs.sequence(base, path, fps=10.0, lead=0, tail=0))


def write_clip(frames: list[tuple[np.ndarray, float]], path: Path) -> Path:
    """Encode frames at 10 fps (H.264, PyAV)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "16"}
        for index, (image, _t) in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def feed(engine: AnalyzingEngine, frames: list[tuple[np.ndarray, float]], t0: float = 0.0) -> None:
    """Run frames through the runtime's engine from another thread (like the pipeline)."""

    def _run() -> None:
        for image, t in frames:
            engine.process(Frame(image, t0 + t, t0 + t))

    worker = threading.Thread(target=_run)
    worker.start()
    worker.join()


def mock_player(hass: HomeAssistant) -> dict[str, list[Any]]:
    hass.states.async_set(MEDIA_PLAYER, "playing", {"media_title": "Song"})
    return {
        service: async_mock_service(hass, "media_player", service)
        for service in ("media_next_track", "media_previous_track", "media_play_pause")
    }


async def test_gestures_off_by_default(
    hass: HomeAssistant, swipe_frames: list[tuple[np.ndarray, float]]
) -> None:
    """No gesture entity, no analysis and no command unless the option is on."""
    calls = mock_player(hass)
    events = async_capture_events(hass, EVENT_GESTURE)
    with fake_pipelines() as pipelines:
        entry = make_entry(hass)
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        feed(pipeline.engine, swipe_frames)
        await hass.async_block_till_done(
            wait_background_tasks=True
        )  # the command is a background task
    assert hass.states.get(EVENT_ENTITY) is None
    assert events == []
    assert calls["media_next_track"] == []
    assert entry.runtime_data.features.gestures.detector._prev is None  # never analysed


async def test_swipe_fires_event_and_skips_track(
    hass: HomeAssistant, swipe_frames: list[tuple[np.ndarray, float]]
) -> None:
    """Option on: a swipe through the pipeline hook fires the entity and skips the track."""
    calls = mock_player(hass)
    events = async_capture_events(hass, EVENT_GESTURE)
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_GESTURES: True})
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        state = hass.states.get(EVENT_ENTITY)
        assert state is not None
        assert state.state == "unknown"
        assert state.attributes["event_types"] == [
            "play_pause",
            "next_track",
            "previous_track",
            "volume_up",
            "volume_down",
        ]
        feed(pipeline.engine, swipe_frames)
        await hass.async_block_till_done(
            wait_background_tasks=True
        )  # the command is a background task
    state = hass.states.get(EVENT_ENTITY)
    assert state.attributes["event_type"] == "next_track"
    assert state.attributes["motion"] == "swipe left"
    assert [e.data["gesture"] for e in events] == ["next_track"]
    assert [c.data["entity_id"] for c in calls["media_next_track"]] == [MEDIA_PLAYER]
    assert calls["media_previous_track"] == []
    diag = entry.runtime_data.diagnostics()["features"]["gestures"]
    assert diag["enabled"] is True
    assert diag["recognised"] == 1


async def test_option_switch_and_zone(
    hass: HomeAssistant, swipe_frames: list[tuple[np.ndarray, float]]
) -> None:
    """Switching gestures on adds the entity (reload); a moved zone ignores the top right."""
    calls = mock_player(hass)
    with fake_pipelines() as pipelines:
        entry = make_entry(hass)
        await async_setup(hass, entry)
        assert hass.states.get(EVENT_ENTITY) is None
        await async_change_options(hass, entry, "gestures", {OPT_GESTURES: True})
        assert len(pipelines) == 2  # reloaded
        assert er.async_get(hass).async_get_entity_id("event", DOMAIN, f"{entry.entry_id}_gesture")
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done(
            wait_background_tasks=True
        )  # the command is a background task
        assert hass.states.get(EVENT_ENTITY).state == "unknown"
        await async_change_options(
            hass, entry, "gestures", {OPT_GESTURES: True, OPT_GESTURE_ZONE: "0, 0.5, 0.5, 1"}
        )
        assert len(pipelines) == 2  # a zone change is live, no reload
        feed(pipeline.engine, swipe_frames)
        await hass.async_block_till_done(
            wait_background_tasks=True
        )  # the command is a background task
        assert calls["media_next_track"] == []
        await async_change_options(hass, entry, "gestures", {OPT_GESTURES: False})
        assert hass.states.get(EVENT_ENTITY) is None or (
            hass.states.get(EVENT_ENTITY).state == "unavailable"
        )


@pytest.mark.timeout(90)
async def test_real_pipeline_end_to_end(
    hass: HomeAssistant, swipe_frames: list[tuple[np.ndarray, float]], tmp_path: Path
) -> None:
    """Camera file → real pipeline → gesture → event entity, command, tracking view overlay."""
    clip = write_clip(swipe_frames, tmp_path / "swipe.mp4")
    calls = mock_player(hass)
    fired = asyncio.Event()

    @callback
    def _on(event: Event) -> None:
        fired.set()

    hass.bus.async_listen(EVENT_GESTURE, _on)
    entry = make_entry(hass, source=str(clip), options={OPT_GESTURES: True}, **{CONF_LOOP: False})
    await async_setup(hass, entry)
    runtime = entry.runtime_data
    runtime.latest_jpeg()  # someone watches the tracking view
    async with asyncio.timeout(30):
        await fired.wait()
    await hass.async_block_till_done(wait_background_tasks=True)  # the command is a background task
    assert hass.states.get(EVENT_ENTITY).attributes["event_type"] == "next_track"
    assert len(calls["media_next_track"]) == 1
    # The tracking view shows the zone and, on the frames after it, the recognised gesture.
    text_seen = False
    blue = np.zeros((1, 1), dtype=bool)
    async with asyncio.timeout(10):
        while not text_seen:
            await asyncio.sleep(0.1)
            if (jpeg := runtime.latest_jpeg()) is None:
                continue
            with av.open(io.BytesIO(jpeg)) as container:
                image = next(container.decode(video=0)).to_ndarray(format="rgb24")
            blue = np.abs(image.astype(int) - np.array(ZONE_COLOUR)).sum(axis=2) < 90
            text_seen = blue[6:20, 326:560].sum() > 200  # "gesture: next track" in the zone
    assert blue[0:2, 330:630].mean() > 0.5  # zone outline along the top right quarter
    assert blue[190:330].sum() < 50  # ... and nothing drawn below the zone
    assert await hass.config_entries.async_unload(entry.entry_id)
