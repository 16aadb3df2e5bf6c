"""Describe Smart Play's pause/resume events for the logbook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
    LazyEventPartialState,
)
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_PAUSE_SKIPPED, EVENT_PAUSED, EVENT_RESUME_SKIPPED, EVENT_RESUMED


def _position(data: Mapping[str, Any]) -> str:
    position_ms = data.get("position_ms")
    if not isinstance(position_ms, int):
        return ""
    seconds = position_ms // 1000
    return f" at {seconds // 60}:{seconds % 60:02d}"


def _what(data: Mapping[str, Any]) -> str:
    item = data.get("item_name") or data.get("item_uri") or "playback"
    device = data.get("device_name")
    return f"{item} on {device}" if device else str(item)


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe the paused / pause-skipped / resumed / resume-skipped events."""

    def _name(data: Mapping[str, Any]) -> str:
        entry = hass.config_entries.async_get_entry(str(data.get("entry_id")))
        return entry.title if entry is not None else "Smart Play"

    @callback
    def describe_paused(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: _name(data),
            LOGBOOK_ENTRY_MESSAGE: f"paused {_what(data)}{_position(data)} (room empty)",
        }

    @callback
    def describe_resumed(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: _name(data),
            LOGBOOK_ENTRY_MESSAGE: f"resumed {_what(data)}{_position(data)} (someone is back)",
        }

    @callback
    def describe_skipped(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        why = data.get("message") or data.get("reason") or "it changed"
        return {
            LOGBOOK_ENTRY_NAME: _name(data),
            LOGBOOK_ENTRY_MESSAGE: f"did not resume {_what(data)}: {why}",
        }

    @callback
    def describe_pause_skipped(event: LazyEventPartialState) -> dict[str, Any]:
        data = event.data
        why = data.get("message") or data.get("reason") or "not at this camera"
        return {LOGBOOK_ENTRY_NAME: _name(data), LOGBOOK_ENTRY_MESSAGE: f"not paused: {why}"}

    async_describe_event(DOMAIN, EVENT_PAUSED, describe_paused)
    async_describe_event(DOMAIN, EVENT_PAUSE_SKIPPED, describe_pause_skipped)
    async_describe_event(DOMAIN, EVENT_RESUMED, describe_resumed)
    async_describe_event(DOMAIN, EVENT_RESUME_SKIPPED, describe_skipped)
