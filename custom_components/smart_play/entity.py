"""Base entity of Smart Play: one device per config entry, state read from the runtime."""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.event import async_call_later

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
    # Writes caused only by a changed value are spaced at least this far apart
    # (seconds); availability changes are always written at once.
    _min_write_interval: float = 0.0

    def __init__(self, runtime: SmartPlayRuntime, key: str) -> None:
        """Create the entity; ``key`` is the unique id suffix."""
        self.runtime = runtime
        # entry_id is persisted with the config entry, so ids are stable across
        # restarts and reloads; it is unique even when several entries exist.
        self._attr_unique_id = f"{runtime.entry.entry_id}_{key}"
        self._attr_device_info = runtime.device_info
        self._last_snapshot: tuple[Any, ...] | None = None
        self._last_write = 0.0  # monotonic time of the last value-only write
        self._deferred_write: CALLBACK_TYPE | None = None

    @property
    def available(self) -> bool:
        """Measurements are available only while the camera is streaming."""
        return self.runtime.available

    def _state_snapshot(self) -> tuple[Any, ...]:
        """Return what this entity shows; the state is written when it changes.

        The first item is the availability (or anything else whose change must
        be shown at once, ignoring ``_min_write_interval``).
        """
        return (self.available,)

    async def async_added_to_hass(self) -> None:
        """Subscribe to runtime updates."""
        await super().async_added_to_hass()
        self._last_snapshot = self._state_snapshot()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, self.runtime.signal, self._handle_runtime_update)
        )
        self.async_on_remove(self._cancel_deferred)

    @callback
    def _handle_runtime_update(self) -> None:
        """Write the state if anything this entity shows changed.

        A change of the value alone is written at most once per
        ``_min_write_interval``; a newer value arriving sooner is written when
        the interval is over, so the last value is never lost.
        """
        snapshot = self._state_snapshot()
        if snapshot == self._last_snapshot:
            return
        if self._last_snapshot is None or snapshot[0] != self._last_snapshot[0]:
            self._write(snapshot)  # availability changed: show it at once
            return
        now = monotonic()
        wait = self._last_write + self._min_write_interval - now
        if wait > 0:
            if self._deferred_write is None:
                self._deferred_write = async_call_later(self.hass, wait, self._async_deferred)
            return
        self._last_write = now
        self._write(snapshot)

    @callback
    def _write(self, snapshot: tuple[Any, ...]) -> None:
        """Write ``snapshot`` (the current state) to the state machine."""
        self._cancel_deferred()
        self._last_snapshot = snapshot
        self.async_write_ha_state()

    @callback
    def _async_deferred(self, _now: Any) -> None:
        """Write a value held back by the write interval."""
        self._deferred_write = None
        self._handle_runtime_update()

    @callback
    def _cancel_deferred(self) -> None:
        if self._deferred_write is not None:
            self._deferred_write()
            self._deferred_write = None
