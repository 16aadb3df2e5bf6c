"""Repair issue for a camera that keeps failing (raised by the runtime, shown to the user)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.smart_play.const import CAMERA_FAILING_AFTER, DOMAIN, ISSUE_CAMERA_FAILING
from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import FakePipeline, async_setup_streaming, fake_pipelines

PASSWORD = "pa55word"


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake; no real camera is opened."""
    with fake_pipelines() as created:
        yield created


def _camera_issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(ISSUE_CAMERA_FAILING)
    ]


async def _fire_timers_due_within(hass: HomeAssistant, seconds: float) -> None:
    """Run the timers that would have fired ``seconds`` from now."""
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done()


async def test_issue_after_minutes_of_failure_and_gone_when_back(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """A short outage raises nothing; a long one raises an issue that clears itself."""
    _, pipeline = await async_setup_streaming(hass, pipelines)

    pipeline.source_state(SourceStatus.FAILED, "connection refused")
    await hass.async_block_till_done()
    await _fire_timers_due_within(hass, CAMERA_FAILING_AFTER / 2)
    assert _camera_issues(hass) == []
    pipeline.source_state(SourceStatus.STREAMING)  # short outage: back in time
    await _fire_timers_due_within(hass, CAMERA_FAILING_AFTER)
    assert _camera_issues(hass) == []

    pipeline.source_state(SourceStatus.FAILED, "connection refused")
    await _fire_timers_due_within(hass, CAMERA_FAILING_AFTER + 1)
    (issue,) = _camera_issues(hass)
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == ISSUE_CAMERA_FAILING
    assert issue.translation_placeholders["reason"] == "connection refused"

    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    assert _camera_issues(hass) == []


async def test_issue_never_shows_the_camera_password(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """The issue names the camera without its credentials, and goes away on unload."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("custom_components.smart_play.probe_source", lambda *_a, **_k: (640, 480))
        entry, pipeline = await async_setup_streaming(
            hass, pipelines, source=f"rtsp://admin:{PASSWORD}@127.0.0.1:8554/room"
        )
    pipeline.source_state(SourceStatus.FAILED, "timeout")
    await _fire_timers_due_within(hass, CAMERA_FAILING_AFTER + 1)
    (issue,) = _camera_issues(hass)
    assert PASSWORD not in str(issue.translation_placeholders)
    assert "127.0.0.1:8554/room" in issue.translation_placeholders["source"]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert _camera_issues(hass) == []
