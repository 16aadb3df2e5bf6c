"""Diagnostic sensors: motion level, camera status, analysis rate."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from homeassistant.components.sensor import ATTR_OPTIONS, ATTR_STATE_CLASS
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.smart_play import entity as entity_module
from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import (
    FakePipeline,
    all_entities_enabled,
    async_setup,
    async_setup_streaming,
    entity_id_of,
    fake_pipelines,
    make_entry,
)

MOTION = "sensor.desk_motion_level"
STATUS = "sensor.desk_camera_status"
RATE = "sensor.desk_analysis_rate"


@pytest.fixture
def enabled_by_default() -> Iterator[None]:
    """Enable the entities that are disabled by default."""
    with all_entities_enabled():
        yield


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake."""
    with fake_pipelines() as created:
        yield created


async def test_camera_status_follows_the_source(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Connecting → streaming → failed (with reason) → streaming; always available."""
    entry = make_entry(hass)
    await async_setup(hass, entry)
    assert entity_id_of(hass, entry, "sensor", "camera_status") == STATUS
    state = hass.states.get(STATUS)
    assert state.state == "connecting"
    assert state.attributes[ATTR_DEVICE_CLASS] == "enum"
    assert state.attributes[ATTR_OPTIONS] == [
        "connecting",
        "streaming",
        "failed",
        "stopped",
        "offline",  # a desk agent stopped reporting
    ]

    pipeline = pipelines[-1]
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "streaming"
    assert hass.states.get(STATUS).attributes["reason"] is None

    pipeline.source_state(SourceStatus.FAILED, "connection refused")
    await hass.async_block_till_done()
    state = hass.states.get(STATUS)
    assert state.state == "failed"
    assert state.attributes["reason"] == "connection refused"

    pipeline.source_state(SourceStatus.STOPPED, "end of file")
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "stopped"


@pytest.mark.usefixtures("enabled_by_default")
async def test_motion_level(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """Motion level in %, measured only while the camera streams."""
    entry = make_entry(hass)
    await async_setup(hass, entry)
    assert entity_id_of(hass, entry, "sensor", "motion_level") == MOTION
    assert hass.states.get(MOTION).state == STATE_UNAVAILABLE

    pipeline = pipelines[-1]
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    assert hass.states.get(MOTION).state == STATE_UNKNOWN  # no statistics yet

    pipeline.stats(motion_score=12.345, fps=9.8)
    await hass.async_block_till_done()
    state = hass.states.get(MOTION)
    assert float(state.state) == pytest.approx(12.3)
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "%"
    assert state.attributes[ATTR_STATE_CLASS] == "measurement"

    pipeline.source_state(SourceStatus.FAILED, "stalled")
    await hass.async_block_till_done()
    assert hass.states.get(MOTION).state == STATE_UNAVAILABLE


async def test_sensors_are_diagnostic_and_busy_ones_disabled_by_default(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """All three are diagnostic; motion level and analysis rate are off until enabled
    (they change every second: each change would be a recorder row)."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    registry = er.async_get(hass)
    for key in ("motion_level", "camera_status", "analysis_rate"):
        registry_entry = registry.async_get(entity_id_of(hass, entry, "sensor", key))
        assert registry_entry.entity_category is EntityCategory.DIAGNOSTIC
    for entity_id in (RATE, MOTION):
        assert registry.async_get(entity_id).disabled_by is er.RegistryEntryDisabler.INTEGRATION
        assert hass.states.get(entity_id) is None
    assert hass.states.get(STATUS) is not None


@pytest.mark.usefixtures("enabled_by_default")
async def test_analysis_rate(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """Frames analysed per second; 0 while the camera delivers nothing."""
    _, pipeline = await async_setup_streaming(hass, pipelines)
    pipeline.stats(motion_score=1.0, fps=9.87)
    await hass.async_block_till_done()
    state = hass.states.get(RATE)
    assert float(state.state) == pytest.approx(9.9)
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "fps"
    assert state.attributes[ATTR_STATE_CLASS] == "measurement"

    pipeline.source_state(SourceStatus.FAILED, "timeout")
    await hass.async_block_till_done()
    assert float(hass.states.get(RATE).state) == 0


@pytest.mark.usefixtures("enabled_by_default")
async def test_motion_level_written_at_most_once_per_second(
    hass: HomeAssistant, pipelines: list[FakePipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bursts of statistics do not flood the state machine."""
    now = [1000.0]
    monkeypatch.setattr(entity_module, "monotonic", lambda: now[0])
    _, pipeline = await async_setup_streaming(hass, pipelines)
    writes: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            writes.append(event.data["new_state"].state)
            if event.data["entity_id"] == MOTION
            else None
        ),
    )
    now[0] += 5
    for score in (10.0, 20.0, 30.0):
        pipeline.stats(motion_score=score)
        await hass.async_block_till_done()
        now[0] += 0.2
    assert writes == ["10.0"]

    now[0] += 1.0
    pipeline.stats(motion_score=40.0)
    await hass.async_block_till_done()
    assert writes == ["10.0", "40.0"]

    # A value held back is written once the interval is over, not lost.
    pipeline.stats(motion_score=50.0)
    await hass.async_block_till_done()
    assert writes == ["10.0", "40.0"]
    now[0] += 1.0
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()
    assert writes == ["10.0", "40.0", "50.0"]

    # Losing the camera is shown at once, however recent the last write.
    pipeline.source_state(SourceStatus.FAILED, "timeout")
    await hass.async_block_till_done()
    assert writes[-1] == STATE_UNAVAILABLE
