"""Occupancy binary sensor of Smart Play."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass, BinarySensorEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SmartPlayEntity
from .vision.types import Occupancy

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the occupancy sensor of a config entry."""
    async_add_entities([SmartPlayOccupancySensor(entry.runtime_data)])


class SmartPlayOccupancySensor(SmartPlayEntity, BinarySensorEntity):
    """On while someone is in the room, off once it has been empty for the delay.

    Unavailable while the camera is not streaming: a lost camera never reads
    as an empty room.
    """

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "occupancy"

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the sensor."""
        super().__init__(runtime, "occupancy")

    @property
    def is_on(self) -> bool | None:
        """Return True when occupied, None while the engine has not decided yet."""
        occupancy = self.runtime.occupancy
        if occupancy is Occupancy.UNKNOWN:
            return None
        return occupancy is Occupancy.OCCUPIED

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return why the state last changed."""
        transitions = self.runtime.transitions
        return {"reason": transitions[-1].reason if transitions else None}

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return availability, occupancy and the last reason."""
        return (self.available, self.is_on, self.extra_state_attributes["reason"])
