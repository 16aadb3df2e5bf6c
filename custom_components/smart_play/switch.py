"""Switches of Smart Play: auto-pause and camera."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SmartPlayEntity

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the auto-pause and camera switches of a config entry."""
    async_add_entities(
        [SmartPlayAutoPauseSwitch(entry.runtime_data), SmartPlayCameraSwitch(entry.runtime_data)]
    )


class SmartPlayAutoPauseSwitch(SmartPlayEntity, SwitchEntity):
    """Turns automatic pause/resume on or off; occupancy keeps being reported.

    The setting survives restarts: the controller saves it in its Store the
    moment it changes (one source of truth; HA's restore cache is only written
    every 15 minutes and could bring back an older value). Defaults to on.
    """

    # A primary control (not a config entity): it is what users flip, e.g.
    # "don't pause while I'm on a call", so it belongs on dashboards.
    _attr_translation_key = "auto_pause"

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the switch."""
        super().__init__(runtime, "auto_pause")

    @property
    def available(self) -> bool:
        """A setting is always available, camera or not."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether pause/resume is automatic."""
        return self.runtime.auto_pause

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause and resume playback automatically."""
        self.runtime.auto_pause = True
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop pausing and resuming playback (occupancy is still reported)."""
        self.runtime.auto_pause = False
        self.async_write_ha_state()

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return availability and the setting."""
        return (self.available, self.is_on)


class SmartPlayCameraSwitch(SmartPlayEntity, SwitchEntity):
    """Camera on/off: off releases the camera, e.g. for a video call (privacy).

    Off stops the reader of a local camera, or tells the desk agent to close the
    webcam; occupancy is unavailable meanwhile. Kept across restarts (options).
    """

    _attr_translation_key = "camera"

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the switch."""
        super().__init__(runtime, "camera")

    @property
    def available(self) -> bool:
        """The switch works whether the camera streams or not."""
        return True

    @property
    def is_on(self) -> bool:
        """Return whether the camera is in use."""
        return self.runtime.camera_enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Open the camera again."""
        await self.runtime.async_set_camera_enabled(True)
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Release the camera; occupancy becomes unavailable."""
        await self.runtime.async_set_camera_enabled(False)
        self.async_write_ha_state()

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return availability and the setting."""
        return (self.available, self.is_on)
