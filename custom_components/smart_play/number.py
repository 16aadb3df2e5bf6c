"""Number entities of Smart Play: absence delay and sensitivity (live settings)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import MAX_DELAY, MAX_SENSITIVITY, MIN_DELAY, MIN_SENSITIVITY
from .entity import SmartPlayEntity

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class SmartPlayNumberEntityDescription(NumberEntityDescription):
    """Describes a Smart Play setting."""

    value_fn: Callable[[SmartPlayRuntime], float]
    set_fn: Callable[[SmartPlayRuntime, float], Awaitable[None]]


NUMBERS: tuple[SmartPlayNumberEntityDescription, ...] = (
    SmartPlayNumberEntityDescription(
        key="absence_delay",
        translation_key="absence_delay",
        entity_category=EntityCategory.CONFIG,
        device_class=NumberDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        native_min_value=MIN_DELAY,
        native_max_value=MAX_DELAY,
        native_step=0.5,
        mode=NumberMode.BOX,
        value_fn=lambda runtime: runtime.delay,
        set_fn=lambda runtime, value: runtime.async_set_delay(float(value)),
    ),
    SmartPlayNumberEntityDescription(
        key="sensitivity",
        translation_key="sensitivity",
        entity_category=EntityCategory.CONFIG,
        native_min_value=MIN_SENSITIVITY,
        native_max_value=MAX_SENSITIVITY,
        native_step=1,
        mode=NumberMode.SLIDER,
        value_fn=lambda runtime: runtime.sensitivity,
        set_fn=lambda runtime, value: runtime.async_set_sensitivity(round(value)),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the settings of a config entry."""
    runtime = entry.runtime_data
    async_add_entities(SmartPlayNumber(runtime, description) for description in NUMBERS)


class SmartPlayNumber(SmartPlayEntity, NumberEntity):
    """A live engine setting; changes apply at once and persist in the entry options."""

    entity_description: SmartPlayNumberEntityDescription

    def __init__(
        self, runtime: SmartPlayRuntime, description: SmartPlayNumberEntityDescription
    ) -> None:
        """Create the setting."""
        self.entity_description = description
        super().__init__(runtime, description.key)

    @property
    def available(self) -> bool:
        """A setting is always available, camera or not."""
        return True

    @property
    def native_value(self) -> float:
        """Return the current value."""
        return self.entity_description.value_fn(self.runtime)

    async def async_set_native_value(self, value: float) -> None:
        """Apply the value live (the runtime persists it in the entry options)."""
        await self.entity_description.set_fn(self.runtime, value)
        self._last_snapshot = self._state_snapshot()
        self.async_write_ha_state()

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return the value (it can also change through the options flow)."""
        return (self.available, self.native_value)
