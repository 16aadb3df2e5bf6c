"""Zones to ignore: entered in the options, applied live to the engine, drawn, in diagnostics.

The monitor scenario (bench/scenarios.py: real empty-room frames, a monitor on
the wall showing real people walking) is fed through the runtime's own engine:
with the zone from the options the room stays empty, without it the monitor's
people make it occupied.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import av
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import numpy as np
import pytest

from bench import scenarios
from custom_components.smart_play.const import CONF_EXCLUDE_ZONES
from custom_components.smart_play.options_flow import (
    MAX_EXCLUDE_ZONES,
    format_exclude_zones,
    parse_exclude_zones,
)
from custom_components.smart_play.vision.render import IGNORED_COLOUR
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy

from .helpers_entities import FakePipeline, async_setup, fake_pipelines, make_entry

MONITOR_ZONE = "0.16, 0.08, 0.53, 0.45"  # left, top, right, bottom around the monitor


async def _open_zones(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    assert "zones" in result["menu_options"]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "zones"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "zones"
    return result


def _default(result: dict[str, Any]) -> Any:
    schema = result["data_schema"].schema
    (key,) = [k for k in schema if k == CONF_EXCLUDE_ZONES]
    return key.default()


def _run_monitor(engine: Any) -> list[tuple[float, Occupancy]]:
    """The monitor scenario at 5 fps through ``engine`` on a worker thread (like the pipeline)."""
    changes: list[tuple[float, Occupancy]] = []

    def _run() -> None:
        for t, image in scenarios.build("monitor-playing").frames(5.0):
            result = engine.process(Frame(image, t, t))
            if result.transition is not None:
                changes.append((round(t, 1), result.transition.state))

    worker = threading.Thread(target=_run)
    worker.start()
    worker.join()
    return changes


@pytest.mark.timeout(120)
async def test_zone_from_the_options_keeps_a_playing_monitor_out(hass: HomeAssistant) -> None:
    """The user marks the monitor: applied at once (no reload), the monitor's people are ignored."""
    with fake_pipelines() as pipelines:
        entry = make_entry(hass)
        await async_setup(hass, entry)
        runtime = entry.runtime_data
        # Without a zone the people on the monitor make the empty room occupied.
        assert Occupancy.OCCUPIED in [s for _t, s in _run_monitor(runtime.engine)]

        result = await _open_zones(hass, entry.entry_id)
        assert _default(result) == []
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_EXCLUDE_ZONES: [MONITOR_ZONE, "  ", "0.9, 0.9, 1, 1"]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert entry.options[CONF_EXCLUDE_ZONES] == [
            [0.16, 0.08, 0.37, 0.37],
            [0.9, 0.9, 0.1, 0.1],
        ]
        assert len(pipelines) == 1  # live, no reload
        assert runtime.engine.config.exclude_zones == (
            (0.16, 0.08, 0.37, 0.37),
            (0.9, 0.9, 0.1, 0.1),
        )
        assert runtime.diagnostics()["exclude_zones"][0] == {
            "x": 0.16,
            "y": 0.08,
            "w": 0.37,
            "h": 0.37,
        }

        # A fresh engine (as after a restart) built from the stored options: the room stays empty.
        runtime.engine.reset()
        assert [s for _t, s in _run_monitor(runtime.engine)] == [Occupancy.EMPTY]

        # The form shows the stored zones the way they were typed.
        result = await _open_zones(hass, entry.entry_id)
        assert _default(result) == [MONITOR_ZONE, "0.9, 0.9, 1, 1"]
        # Emptying the list watches the whole picture again.
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_EXCLUDE_ZONES: []}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert entry.options[CONF_EXCLUDE_ZONES] == []
        assert runtime.engine.config.exclude_zones == ()
        assert runtime.diagnostics()["exclude_zones"] == []


@pytest.mark.parametrize(
    "zones",
    [
        ["0.5, 0.5, 0.4, 0.9"],  # right edge left of the left edge
        ["0.1, 0.1, 0.5"],  # three numbers
        ["left, top, right, bottom"],
        ["0.1, 0.1, 1.2, 0.5"],  # outside the picture
        ["0.1, 0.1, 0.11, 0.5"],  # 1 % wide: a typo
        ["0, 0, 0.5, 0.5"] * (MAX_EXCLUDE_ZONES + 1),
    ],
)
async def test_bad_zones_are_refused_and_nothing_is_lost(
    hass: HomeAssistant, zones: list[str]
) -> None:
    """A wrong rectangle shows an error; the stored zones and the engine stay as they were."""
    with fake_pipelines():
        entry = make_entry(hass, options={CONF_EXCLUDE_ZONES: [[0.6, 0.1, 0.3, 0.3]]})
        await async_setup(hass, entry)
        result = await _open_zones(hass, entry.entry_id)
        assert _default(result) == ["0.6, 0.1, 0.9, 0.4"]
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_EXCLUDE_ZONES: zones}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {CONF_EXCLUDE_ZONES: "invalid_exclude_zone"}
        assert _default(result) == zones  # what the user typed is kept for fixing
        assert entry.options[CONF_EXCLUDE_ZONES] == [[0.6, 0.1, 0.3, 0.3]]
        assert entry.runtime_data.engine.config.exclude_zones == ((0.6, 0.1, 0.3, 0.3),)
        # Fixing it saves.
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_EXCLUDE_ZONES: ["0.6, 0.1, 0.95, 0.5"]}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert entry.options[CONF_EXCLUDE_ZONES] == [[0.6, 0.1, 0.35, 0.4]]


def test_zone_text_forms() -> None:
    """One rectangle per line also works as a single text; anything else is refused."""
    assert parse_exclude_zones("0, 0, 0.5, 0.5\n\n0.5; 0.5; 1; 1") == [
        [0.0, 0.0, 0.5, 0.5],
        [0.5, 0.5, 0.5, 0.5],
    ]
    with pytest.raises(TypeError):
        parse_exclude_zones(5)
    # Stored zones that are broken (hand-edited storage) are left out of the form.
    assert format_exclude_zones([[0.1, 0.1, 0.2, 0.2], "junk", [0.5, 0.5, 0, 0]]) == [
        "0.1, 0.1, 0.3, 0.3"
    ]


async def test_tracking_view_hatches_the_ignored_zone(hass: HomeAssistant) -> None:
    """The tracking view covers the zone with violet stripes and says "ignored"; nothing outside."""
    frame = scenarios.footage(scenarios.OBO)[0]  # a real empty-room frame (320x180)
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={CONF_EXCLUDE_ZONES: [[0.5, 0.0, 0.5, 0.5]]})
        await async_setup(hass, entry)
        pipeline: FakePipeline = pipelines[-1]
        result = FrameResult(t=0.0, state=Occupancy.EMPTY, presence=False, motion_score=0.0)
        jpeg = pipeline.renderer(frame, result, 2.0)
    with av.open(io.BytesIO(jpeg)) as container:
        shown = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    violet = np.array(IGNORED_COLOUR)
    before = frame.astype(int)

    def violet_share(rows: slice, cols: slice) -> float:
        # pixels pulled towards violet (stripes are a 50 % blend, the outline solid)
        moved = (
            np.abs(shown[rows, cols] - violet).sum(axis=2)
            < np.abs(before[rows, cols] - violet).sum(axis=2) - 25
        )
        return float(moved.mean())

    h, w = frame.shape[:2]
    assert violet_share(slice(0, h // 2), slice(w // 2, w)) > 0.1  # hatched + outlined
    assert violet_share(slice(0, h // 2 - 20), slice(0, w // 2 - 4)) < 0.01  # outside: untouched
