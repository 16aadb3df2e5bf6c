"""Tracking view camera of Smart Play: the analysed frames with annotations."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from homeassistant.components.camera import Camera
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DEFAULT_FPS
from .entity import SmartPlayEntity

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0

# The first request is what starts the rendering (locally, or on the desk agent):
# the host says how long the first frame may take (runtime.first_frame_timeout).
FIRST_FRAME_POLL = 0.05


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the tracking view of a config entry."""
    async_add_entities([SmartPlayTrackingCamera(entry.runtime_data)])


class SmartPlayTrackingCamera(SmartPlayEntity, Camera):
    """Annotated camera frames: motion boxes, the person box and the occupancy bar.

    Disabled by default (privacy). Still images come from ``runtime.latest_jpeg()``;
    the dashboard's live view is the base class's MJPEG stream, which calls
    :meth:`async_camera_image` every ``frame_interval`` seconds.
    """

    _attr_translation_key = "tracking_view"
    _attr_entity_registry_enabled_default = False
    _attr_frame_interval = 1.0 / DEFAULT_FPS

    def __init__(self, runtime: SmartPlayRuntime) -> None:
        """Create the camera."""
        SmartPlayEntity.__init__(self, runtime, "tracking_view")
        Camera.__init__(self)

    @property
    def is_streaming(self) -> bool:
        """Return whether the camera delivers frames."""
        return self.runtime.available

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the newest annotated frame as JPEG (None if none is rendered in time)."""
        # The host offers no event to wait on; the first call is what makes it
        # render, so poll for that first frame as long as the host may need.
        for _ in range(round(self.runtime.first_frame_timeout / FIRST_FRAME_POLL)):
            if (jpeg := self.runtime.latest_jpeg()) is not None:
                return jpeg
            await asyncio.sleep(FIRST_FRAME_POLL)
        return self.runtime.latest_jpeg()

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Availability only; frames are pulled, not pushed."""
        return (self.available,)
