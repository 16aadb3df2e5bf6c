"""Whole chain inside Home Assistant: real clip → real pipeline → controller → demo player.

A 20 s cut of a real clip (a person at a table walks out, the room stays empty
for 2.8 s, the next person walks in) is played at real-time pace as the camera.
The occupancy sensor must follow, and the demo media player must be paused once
after the absence delay and resumed once on return.
"""

from __future__ import annotations

import asyncio
from fractions import Fraction
from pathlib import Path
import time
from typing import Any
from unittest.mock import patch

import av
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_CALL_SERVICE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_TARGET_TYPE,
    DOMAIN,
    EVENT_PAUSED,
    EVENT_RESUMED,
    OPT_DELAY,
    OPT_SENSITIVITY,
    TARGET_MEDIA_PLAYER,
)

from .conftest import DATA

PLAYER = "media_player.walkman"
SENSOR = "binary_sensor.walkman_leave_return_occupancy"

pytestmark = pytest.mark.timeout(120)


def cut_clip(src: Path, dst: Path, start: float, end: float) -> Path:
    """Re-encode [start, end) of ``src`` into ``dst`` (PyAV only)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or Fraction(10)
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = vin.width, vin.height, "yuv420p"
        vout.options = {"preset": "veryfast", "crf": "23"}
        index = 0
        for frame in inp.decode(vin):
            t = float(frame.pts * vin.time_base)
            if t < start:
                continue
            if t >= end:
                break
            new = av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24")
            new.pts = index
            new.time_base = Fraction(1, 1) / rate
            index += 1
            out.mux(vout.encode(new.reformat(format="yuv420p")))
        out.mux(vout.encode(None))
    return dst


@pytest.fixture(scope="module")
def leave_return_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one-by-one: person present until 19.9 s, nobody 19.9-22.7 s, next person from 22.7 s.
    out = tmp_path_factory.mktemp("clips") / "leave-return.mp4"
    return cut_clip(DATA / "one-by-one-person-detection.mp4", out, 4.0, 24.0)


async def _wait_for(predicate: Any, within: float) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > within:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_leave_pauses_and_return_resumes_demo_player(
    hass: HomeAssistant, leave_return_clip: Path
) -> None:
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.MEDIA_PLAYER],
    ):
        assert await async_setup_component(hass, "homeassistant", {})
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()
    assert hass.states.get(PLAYER).state == "playing"

    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Walkman leave-return",
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: PLAYER,
            CONF_SOURCE: str(leave_return_clip),
            CONF_LOOP: False,
        },
        options={OPT_DELAY: 1.0, OPT_SENSITIVITY: 5},
    )
    entry.add_to_hass(hass)
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    paused = async_capture_events(hass, EVENT_PAUSED)
    resumed = async_capture_events(hass, EVENT_RESUMED)

    start = time.monotonic()
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED

    # Person at the table: occupied, music keeps playing.
    await _wait_for(lambda: hass.states.get(SENSOR).state == "on", 6)
    # They walk out at 15.9 s of the cut; 1 s delay → off and paused.
    await _wait_for(lambda: hass.states.get(SENSOR).state == "off", 25)
    left_after = time.monotonic() - start
    assert 15.9 + 1.0 - 0.5 <= left_after <= 15.9 + 1.0 + 2.0
    await _wait_for(lambda: hass.states.get(PLAYER).state == "paused", 3)
    # Next person walks in at 18.7 s → on and playing again.
    await _wait_for(lambda: hass.states.get(SENSOR).state == "on", 6)
    await _wait_for(lambda: hass.states.get(PLAYER).state == "playing", 3)
    # The event follows the player command: under load it can come a moment after the state.
    await _wait_for(lambda: len(resumed) >= 1, 3)

    media = [c.data["service"] for c in calls if c.data["domain"] == "media_player"]
    assert media == ["media_pause", "media_play"]
    assert len(paused) == 1
    assert len(resumed) == 1
    assert paused[0].data["entry_id"] == entry.entry_id

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
