"""Quality scale log-when-unavailable: an outage is logged once, and its end once."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import async_setup, fake_pipelines, make_entry


async def test_camera_outage_is_logged_once_and_its_end_once(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    with fake_pipelines() as pipelines:
        entry = make_entry(hass)
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        caplog.clear()
        # The camera drops and the reader retries a few times before it is back.
        pipeline.source_state(SourceStatus.FAILED, "connection refused")
        for _ in range(3):
            pipeline.source_state(SourceStatus.CONNECTING)
            pipeline.source_state(SourceStatus.FAILED, "connection refused")
        await hass.async_block_till_done()
        pipeline.source_state(SourceStatus.STREAMING)
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
    ours = [r for r in caplog.records if r.name.startswith("custom_components.smart_play")]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    back = [
        r.getMessage() for r in ours if r.levelno == logging.INFO and "is streaming" in r.message
    ]
    assert len(warnings) == 1
    assert "stopped streaming (connection refused)" in warnings[0]
    assert len(back) == 1
