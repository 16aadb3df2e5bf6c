"""Gesture event entity: fires play_pause / next_track / previous_track / volume_up / volume_down."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SmartPlayEntity
from .vision.gestures import Gesture, GestureEvent

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the gesture event entity (only when the gestures option is on).

    Switching the option reloads the entry, which adds or removes the entity.
    """
    runtime = entry.runtime_data
    if runtime.features.gestures_enabled:
        async_add_entities([SmartPlayGestureEvent(runtime)])


class SmartPlayGestureEvent(SmartPlayEntity, EventEntity):
    """Fires when a hand gesture is recognised in the gesture zone.

    Available while the camera streams and the gestures option is on.
    """

    _attr_translation_key = "gesture"
    _attr_event_types = [str(gesture) for gesture in Gesture]

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the entity."""
        super().__init__(runtime, "gesture")

    @property
    def available(self) -> bool:
        """Gestures need a streaming camera and the option switched on."""
        return self.runtime.available and self.runtime.features.gestures_enabled

    async def async_added_to_hass(self) -> None:
        """Listen for gestures (and option changes) of this entry."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, self.runtime.features.gesture_signal, self._async_gesture
            )
        )

    @callback
    def _async_gesture(self, event: GestureEvent | None) -> None:
        """Fire the event (``None``: only the options changed)."""
        if event is not None and self.available:
            self._trigger_event(str(event.gesture), {"motion": event.motion})
        self.async_write_ha_state()
