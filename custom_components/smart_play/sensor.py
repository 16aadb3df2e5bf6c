"""Diagnostic sensors of Smart Play: motion level, camera status, analysis rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import SmartPlayEntity
from .people_sensor import people_sensors
from .vision.types import SourceStatus

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry, SmartPlayRuntime

PARALLEL_UPDATES = 0


def _motion_level(runtime: SmartPlayRuntime) -> float | None:
    """Return the share of the frame in motion, in %."""
    stats = runtime.stats
    return None if stats is None else round(float(stats.motion_score), 1)


def _analysis_rate(runtime: SmartPlayRuntime) -> float | None:
    """Return frames analysed per second (0 while the camera delivers nothing)."""
    stats = runtime.stats
    if stats is None:
        return None
    return round(float(stats.fps), 1) if runtime.available else 0.0


def _camera_status(runtime: SmartPlayRuntime) -> str:
    """Return the connection state of the camera."""
    return str(runtime.source_state.status)


def _camera_status_attributes(runtime: SmartPlayRuntime) -> dict[str, Any]:
    """Return why the camera failed (never contains credentials)."""
    return {"reason": runtime.source_state.reason}


@dataclass(frozen=True, kw_only=True)
class SmartPlaySensorEntityDescription(SensorEntityDescription):
    """Describes a Smart Play sensor."""

    value_fn: Callable[[SmartPlayRuntime], float | str | None]
    min_write_interval: float = 0.0  # seconds between value-only state writes
    attributes_fn: Callable[[SmartPlayRuntime], dict[str, Any]] | None = None
    needs_camera: bool = True  # unavailable while the camera is not streaming


SENSORS: tuple[SmartPlaySensorEntityDescription, ...] = (
    SmartPlaySensorEntityDescription(
        key="motion_level",
        translation_key="motion_level",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        # Changes about every second while someone moves: every change would be a
        # row in the recorder database, so it is off until a user wants it.
        entity_registry_enabled_default=False,
        min_write_interval=0.9,
        value_fn=_motion_level,
    ),
    SmartPlaySensorEntityDescription(
        key="camera_status",
        translation_key="camera_status",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.ENUM,
        options=[str(status) for status in SourceStatus],
        value_fn=_camera_status,
        attributes_fn=_camera_status_attributes,
        needs_camera=False,
    ),
    SmartPlaySensorEntityDescription(
        key="analysis_rate",
        translation_key="analysis_rate",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        entity_registry_enabled_default=False,
        min_write_interval=0.9,
        value_fn=_analysis_rate,
        needs_camera=False,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: SmartPlayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the diagnostic sensors of a config entry."""
    runtime = entry.runtime_data
    async_add_entities(SmartPlaySensor(runtime, description) for description in SENSORS)
    async_add_entities(people_sensors(runtime))  # only when people recognition is on


class SmartPlaySensor(SmartPlayEntity, SensorEntity):
    """A diagnostic sensor; the runtime refreshes its statistics about once per second."""

    entity_description: SmartPlaySensorEntityDescription

    def __init__(
        self, runtime: SmartPlayRuntime, description: SmartPlaySensorEntityDescription
    ) -> None:
        """Create the sensor."""
        self.entity_description = description
        self._min_write_interval = description.min_write_interval
        super().__init__(runtime, description.key)

    @property
    def available(self) -> bool:
        """Camera measurements need a streaming camera; status and rate do not."""
        return self.runtime.available or not self.entity_description.needs_camera

    @property
    def native_value(self) -> float | str | None:
        """Return the current value."""
        return self.entity_description.value_fn(self.runtime)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Return the extra attributes of the sensor, if it has any."""
        if self.entity_description.attributes_fn is None:
            return None
        return self.entity_description.attributes_fn(self.runtime)

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return availability, value and attributes.

        A camera coming or going is written at once, also for the sensors that
        stay available (the analysis rate drops to 0).
        """
        return (
            (self.available, self.runtime.available),
            self.native_value,
            self.extra_state_attributes,
        )
