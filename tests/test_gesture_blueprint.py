"""The gesture blueprint runs the user's actions on Smart Play's real gesture entity."""

from __future__ import annotations

import asyncio

from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.smart_play.features import OPT_GESTURES
from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import async_setup, fake_pipelines, make_entry
from .test_binary_sensor_blueprints import _async_setup_automation, _load
from .test_gestures_ha import EVENT_ENTITY, feed, mock_player, swipe_frames  # noqa: F401

pytestmark = pytest.mark.timeout(60)


async def _settle(hass: HomeAssistant) -> None:
    """Let the gesture travel: pipeline thread -> loop -> entity state -> automation run."""
    for _ in range(3):
        await hass.async_block_till_done()
        await asyncio.sleep(0)


async def test_gesture_runs_only_its_own_actions(
    hass: HomeAssistant,
    swipe_frames: list[tuple[np.ndarray, float]],  # noqa: F811
) -> None:
    """A swipe runs the actions chosen for it; the other gestures' actions do not run,
    and the entity appearing or the camera dropping runs nothing."""
    mock_player(hass)
    toggles = async_mock_service(hass, "light", "toggle")
    scenes = async_mock_service(hass, "scene", "turn_on")
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_GESTURES: True})
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        await _async_setup_automation(
            hass,
            _load("gesture_actions.yaml"),
            {
                "gesture_entity": EVENT_ENTITY,
                "next_track": [{"action": "light.toggle", "target": {"entity_id": "light.desk"}}],
                "play_pause": [{"action": "scene.turn_on", "target": {"entity_id": "scene.x"}}],
            },
        )
        # Camera drops and comes back: the entity goes unavailable and back, no gesture.
        pipeline.source_state(SourceStatus.FAILED)
        await hass.async_block_till_done()
        assert hass.states.get(EVENT_ENTITY).state == "unavailable"
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        assert toggles == []

        feed(pipeline.engine, swipe_frames)  # first gesture: state unknown -> timestamp
        await _settle(hass)
        assert hass.states.get(EVENT_ENTITY).attributes["event_type"] == "next_track"
        assert len(toggles) == 1
        assert toggles[0].data["entity_id"] == ["light.desk"]

        feed(pipeline.engine, swipe_frames, t0=10.0)  # a second swipe later on
        await _settle(hass)
        assert len(toggles) == 2
        # After a gesture, the camera dropping and coming back runs nothing either.
        pipeline.source_state(SourceStatus.FAILED)
        await hass.async_block_till_done()
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
    assert len(toggles) == 2
    assert scenes == []
