"""Base entity of Smart Play: one device per config entry, state read from the runtime."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity

if TYPE_CHECKING:
    from .runtime import SmartPlayRuntime


class SmartPlayEntity(Entity):
    """An entity of a Smart Play config entry.

    Entities never poll: the runtime sends ``runtime.signal`` on the event loop
    whenever occupancy, the camera state or the pipeline statistics change
    (statistics about once per second). An entity writes its state only when
    what it shows actually changed (see :meth:`_state_snapshot`).
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    # Writes caused only by a changed value are skipped when the last write is
    # more recent than this (seconds); availability changes are always written.
    _min_write_interval: float = 0.0

    def __init__(self, runtime: SmartPlayRuntime, key: str) -> None:
        """Create the entity; ``key`` is the unique id suffix."""
        self.runtime = runtime
        # entry_id is persisted with the config entry, so ids are stable across
        # restarts and reloads; it is unique even when several entries exist.
        self._attr_unique_id = f"{runtime.entry.entry_id}_{key}"
        self._attr_device_info = runtime.device_info
        self._last_snapshot: tuple[Any, ...] | None = None
        self._last_write = 0.0

    @property
    def available(self) -> bool:
        """Measurements are available only while the camera is streaming."""
        return self.runtime.available

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return what this entity shows; the state is written when it changes.

        The first item must be the availability.
        """
        return (self.available,)

    async def async_added_to_hass(self) -> None:
        """Subscribe to runtime updates."""
        await super().async_added_to_hass()
        self._last_snapshot = self._state_snapshot()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.runtime.signal, self._handle_runtime_update)
        )

    @callback
    def _handle_runtime_update(self) -> None:
        """Write the state if anything this entity shows changed."""
        snapshot = self._state_snapshot()
        if snapshot == self._last_snapshot:
            return
        now = time.monotonic()
        if (
            self._last_snapshot is not None
            and snapshot[0] == self._last_snapshot[0]  # same availability
            and now - self._last_write < self._min_write_interval
        ):
            return
        self._last_snapshot = snapshot
        self._last_write = now
        self.async_write_ha_state()
