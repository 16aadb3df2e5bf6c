"""Where an entry's frames are analysed: in Home Assistant, or on a desk computer.

:class:`CameraHost` is everything the runtime needs from that place. Both hosts
report through the same runtime handlers (transitions, camera state, statistics),
so entities, events and pause/resume do not know which one an entry uses:

* :class:`LocalCamera` - the camera is opened here; the entry's
  :class:`~.vision.pipeline.VisionPipeline` reads and analyses it in its threads;
* :class:`~.agent_link.AgentLink` - the desk agent analyses the webcam of the
  computer the user works at and reports through a webhook; frames stay there.
"""

from __future__ import annotations

from typing import Protocol

from homeassistant.core import HomeAssistant

from .vision.pipeline import VisionPipeline

# Stopping waits this long for the analysis thread (a frame in progress).
STOP_TIMEOUT = 5.0
# The pipeline renders annotated frames only while someone watches, and the first
# request is what starts it: wait this long for the first frame.
LOCAL_FIRST_FRAME_TIMEOUT = 4.0  # generous: a busy machine may take a while to start rendering


class CameraHost(Protocol):
    """What the runtime needs from the place that analyses the camera."""

    async def async_start(self, camera_enabled: bool) -> None:
        """Start reporting; open the camera only when ``camera_enabled``."""

    async def async_stop(self) -> None:
        """Stop reporting and release the camera."""

    async def async_set_camera_enabled(self, enabled: bool) -> None:
        """Release the camera (False) or open it again (True)."""

    def latest_jpeg(self) -> bytes | None:
        """Return the newest annotated frame; asking keeps the tracking view rendered."""

    @property
    def first_frame_timeout(self) -> float:
        """Seconds the tracking view waits for the first frame after it is opened."""


class LocalCamera:
    """The camera is opened by this Home Assistant; the pipeline runs in its threads."""

    def __init__(self, hass: HomeAssistant, pipeline: VisionPipeline) -> None:
        """Wrap the entry's pipeline (not started)."""
        self.hass = hass
        self.pipeline = pipeline

    async def async_start(self, camera_enabled: bool) -> None:
        """Start the camera threads, unless the Camera switch is off."""
        if camera_enabled:
            await self.hass.async_add_executor_job(self.pipeline.start)

    async def async_stop(self) -> None:
        """Stop the threads and release the camera."""
        await self.hass.async_add_executor_job(self.pipeline.stop)

    async def async_set_camera_enabled(self, enabled: bool) -> None:
        """Stop the reader (the device is released) or start it again."""
        if enabled:
            await self.hass.async_add_executor_job(self.pipeline.start)
        else:
            await self.hass.async_add_executor_job(self.pipeline.stop, STOP_TIMEOUT)

    def latest_jpeg(self) -> bytes | None:
        """Newest annotated frame of the pipeline."""
        return self.pipeline.latest_jpeg()

    @property
    def first_frame_timeout(self) -> float:
        """The pipeline starts rendering at the first request: a few seconds at most."""
        return LOCAL_FIRST_FRAME_TIMEOUT
