"""Occupancy binary sensor."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_FRIENDLY_NAME, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.smart_play.const import DOMAIN
from custom_components.smart_play.vision.types import Occupancy, SourceStatus

from .helpers_entities import (
    FakePipeline,
    async_setup,
    async_setup_streaming,
    entity_id_of,
    fake_pipelines,
    make_entry,
)


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake."""
    with fake_pipelines() as created:
        yield created


async def test_occupancy_follows_the_engine(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Occupied → on, empty → off, with the reason of the last change."""
    entry = make_entry(hass)
    await async_setup(hass, entry)
    entity_id = entity_id_of(hass, entry, "binary_sensor", "occupancy")
    assert entity_id == "binary_sensor.desk_occupancy"
    # Camera still connecting: no claim about the room.
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE

    pipeline = pipelines[-1]
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state.state == "unknown"  # streaming, engine has not decided yet
    assert state.attributes[ATTR_DEVICE_CLASS] == "occupancy"
    assert state.attributes[ATTR_FRIENDLY_NAME] == "Desk Occupancy"

    pipeline.transition(Occupancy.OCCUPIED, "person moving")
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state.state == "on"
    assert state.attributes["reason"] == "person moving"

    pipeline.transition(Occupancy.EMPTY, "no presence for 2.0 s")
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state.state == "off"
    assert state.attributes["reason"] == "no presence for 2.0 s"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(SourceStatus.FAILED, "connection refused"), (SourceStatus.STOPPED, "end of file")],
)
async def test_lost_camera_is_unavailable_not_empty(
    hass: HomeAssistant, pipelines: list[FakePipeline], status: SourceStatus, reason: str
) -> None:
    """A camera that goes away never reads as an empty room."""
    entry, pipeline = await async_setup_streaming(hass, pipelines)
    entity_id = entity_id_of(hass, entry, "binary_sensor", "occupancy")
    pipeline.transition(Occupancy.OCCUPIED)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "on"

    pipeline.source_state(status, reason)
    pipeline.transition(Occupancy.UNKNOWN, "camera lost")  # what the engine reports next
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == STATE_UNAVAILABLE

    # Back: unknown until the engine decides again, then the new decision.
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "unknown"
    pipeline.transition(Occupancy.EMPTY)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "off"


async def test_device_and_unique_id_stable_across_reload(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """All entities hang off one device; ids survive a reload unchanged."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    registry = er.async_get(hass)
    before = {
        e.entity_id: (e.unique_id, e.device_id)
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert len(before) == 9  # 1 binary sensor, 2 switches, 2 numbers, 3 sensors, 1 camera
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert len(devices) == 1
    assert (DOMAIN, entry.entry_id) in devices[0].identifiers
    assert {device_id for _, device_id in before.values()} == {devices[0].id}
    assert all(unique_id.startswith(f"{entry.entry_id}_") for unique_id, _ in before.values())

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    after = {
        e.entity_id: (e.unique_id, e.device_id)
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert after == before
    assert len(pipelines) == 2
    assert pipelines[0].stopped


async def test_two_entries_do_not_collide(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Two rooms get two devices and separate occupancy sensors."""
    desk = make_entry(hass, title="Desk")
    sofa = make_entry(hass, title="Sofa")
    await async_setup(hass, desk)  # sets up every entry of the integration
    assert sofa.state is ConfigEntryState.LOADED
    desk_id = entity_id_of(hass, desk, "binary_sensor", "occupancy")
    sofa_id = entity_id_of(hass, sofa, "binary_sensor", "occupancy")
    assert desk_id != sofa_id
    assert len(pipelines) == 2
    sofa_pipeline = sofa.runtime_data.pipeline  # entries set up concurrently: any order
    assert sofa_pipeline in pipelines
    sofa_pipeline.source_state(SourceStatus.STREAMING)
    sofa_pipeline.transition(Occupancy.OCCUPIED)
    await hass.async_block_till_done()
    assert hass.states.get(sofa_id).state == "on"
    assert hass.states.get(desk_id).state == STATE_UNAVAILABLE
