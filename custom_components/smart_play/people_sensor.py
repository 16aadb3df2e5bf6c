"""Person sensor: who is at the desk (a name, "unknown" or "none")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorEntity
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from .entity import SmartPlayEntity

if TYPE_CHECKING:
    from .runtime import SmartPlayRuntime


def people_sensors(runtime: SmartPlayRuntime) -> list[SensorEntity]:
    """Return the person sensor when people recognition is on (else nothing)."""
    if not runtime.features.people.enabled:
        return []
    return [SmartPlayPersonSensor(runtime)]


class SmartPlayPersonSensor(SmartPlayEntity, SensorEntity):
    """Who sits at the desk: an enrolled name, ``unknown`` or ``none``.

    Recognition runs once per arrival; the value holds until the desk is empty.
    """

    _attr_translation_key = "person"

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the sensor."""
        super().__init__(runtime, "person")

    @property
    def native_value(self) -> str:
        """Return the person at the desk."""
        return self.runtime.features.people.current

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the enrolled names and the figures of the last recognition."""
        people = self.runtime.features.people
        last = people.last
        return {
            "enrolled": sorted(people.people),
            "faces_seen": None if last is None else last.faces,
        }

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return availability, value and attributes (written when they change)."""
        return (self.available, self.native_value, self.extra_state_attributes)

    async def async_added_to_hass(self) -> None:
        """Also listen to the people signal."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.runtime.features.people.signal, self._handle_runtime_update
            )
        )
