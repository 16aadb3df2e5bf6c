"""Absence delay and sensitivity numbers: live settings, persisted in the entry options."""

from __future__ import annotations

from collections.abc import Iterator

from homeassistant.components.number import (
    ATTR_MAX,
    ATTR_MIN,
    ATTR_MODE,
    ATTR_STEP,
    ATTR_VALUE,
    DOMAIN as NUMBER_DOMAIN,
    SERVICE_SET_VALUE,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_UNIT_OF_MEASUREMENT, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.smart_play.const import OPT_DELAY, OPT_SENSITIVITY
from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import (
    FakePipeline,
    async_change_options,
    async_setup_streaming,
    entity_id_of,
    fake_pipelines,
)

DELAY = "number.desk_absence_delay"
SENSITIVITY = "number.desk_sensitivity"


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake."""
    with fake_pipelines() as created:
        yield created


async def _set(hass: HomeAssistant, entity_id: str, value: float) -> None:
    await hass.services.async_call(
        NUMBER_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )
    await hass.async_block_till_done()


async def test_defaults_and_ranges(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """Both settings show their defaults, limits and are configuration entities."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    assert entity_id_of(hass, entry, "number", "absence_delay") == DELAY
    assert entity_id_of(hass, entry, "number", "sensitivity") == SENSITIVITY

    delay = hass.states.get(DELAY)
    assert float(delay.state) == 2.0
    assert delay.attributes[ATTR_MIN] == 0.5
    assert delay.attributes[ATTR_MAX] == 60
    assert delay.attributes[ATTR_STEP] == 0.5
    assert delay.attributes[ATTR_UNIT_OF_MEASUREMENT] == "s"
    assert delay.attributes[ATTR_MODE] == "box"

    sensitivity = hass.states.get(SENSITIVITY)
    assert float(sensitivity.state) == 5
    assert (sensitivity.attributes[ATTR_MIN], sensitivity.attributes[ATTR_MAX]) == (1, 10)
    assert sensitivity.attributes[ATTR_STEP] == 1

    registry = er.async_get(hass)
    for entity_id in (DELAY, SENSITIVITY):
        assert registry.async_get(entity_id).entity_category is EntityCategory.CONFIG


async def test_values_from_options(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """Values saved in the entry options are what the entities (and engine) start with."""
    entry, _ = await async_setup_streaming(
        hass, pipelines, options={OPT_DELAY: 12.5, OPT_SENSITIVITY: 8}
    )
    assert float(hass.states.get(DELAY).state) == 12.5
    assert float(hass.states.get(SENSITIVITY).state) == 8
    assert entry.runtime_data.engine.config.delay == 12.5
    assert entry.runtime_data.engine.config.sensitivity == 8


async def test_set_applies_live_without_reload(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Setting a value changes the running engine and persists, with no reload."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    runtime = entry.runtime_data

    await _set(hass, DELAY, 7.5)
    assert float(hass.states.get(DELAY).state) == 7.5
    assert entry.options[OPT_DELAY] == 7.5
    assert runtime.engine.config.delay == 7.5

    await _set(hass, SENSITIVITY, 9)
    assert float(hass.states.get(SENSITIVITY).state) == 9
    assert entry.options[OPT_SENSITIVITY] == 9
    assert runtime.engine.config.sensitivity == 9

    # Same runtime, same (single) pipeline: nothing was reloaded.
    assert entry.runtime_data is runtime
    assert len(pipelines) == 1
    assert not pipelines[0].stopped


async def test_options_flow_change_updates_the_entities(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Options changed in the options flow apply live and show up on the numbers."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    runtime = entry.runtime_data
    await async_change_options(hass, entry, "settings", {OPT_DELAY: 30.0, OPT_SENSITIVITY: 2})
    assert entry.runtime_data is runtime  # no reload
    assert float(hass.states.get(DELAY).state) == 30.0
    assert float(hass.states.get(SENSITIVITY).state) == 2
    assert entry.runtime_data.engine.config.delay == 30.0


@pytest.mark.parametrize(("entity_id", "value"), [(DELAY, 0.2), (DELAY, 61), (SENSITIVITY, 11)])
async def test_out_of_range_is_rejected(
    hass: HomeAssistant, pipelines: list[FakePipeline], entity_id: str, value: float
) -> None:
    """Values outside the limits are refused and change nothing."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    before = hass.states.get(entity_id).state
    with pytest.raises(ServiceValidationError):
        await _set(hass, entity_id, value)
    assert hass.states.get(entity_id).state == before
    assert OPT_DELAY not in entry.options
    assert OPT_SENSITIVITY not in entry.options


async def test_settings_available_without_camera(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """The settings can be changed while the camera is down."""
    entry, pipeline = await async_setup_streaming(hass, pipelines)
    pipeline.source_state(SourceStatus.FAILED, "timeout")
    await hass.async_block_till_done()
    await _set(hass, DELAY, 4)
    assert float(hass.states.get(DELAY).state) == 4
    assert entry.runtime_data.engine.config.delay == 4
