"""Logbook descriptions of the controller's events."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import (
    DOMAIN,
    EVENT_PAUSED,
    EVENT_RESUME_SKIPPED,
    EVENT_RESUMED,
)
from custom_components.smart_play.logbook import async_describe_events


async def test_events_read_well_in_the_logbook(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, title="Desk")
    entry.add_to_hass(hass)
    described: dict[str, Any] = {}

    def _register(domain: str, event_type: str, describe: Any) -> None:
        assert domain == DOMAIN
        described[event_type] = describe

    async_describe_events(hass, _register)
    data = {
        "entry_id": entry.entry_id,
        "device_name": "Living Room",
        "item_name": "Angel",
        "position_ms": 95_500,
    }
    assert described[EVENT_PAUSED](SimpleNamespace(data=data)) == {
        "name": "Desk",
        "message": "paused Angel on Living Room at 1:35 (room empty)",
    }
    assert described[EVENT_RESUMED](SimpleNamespace(data=data))["message"] == (
        "resumed Angel on Living Room at 1:35 (someone is back)"
    )
    skipped = {**data, "reason": "device_changed", "message": "playback moved to another device"}
    assert described[EVENT_RESUME_SKIPPED](SimpleNamespace(data=skipped)) == {
        "name": "Desk",
        "message": "did not resume Angel on Living Room: playback moved to another device",
    }
    # An event of a removed entry still reads fine.
    orphan = {"entry_id": "gone", "item_name": None, "item_uri": "spotify:track:1"}
    assert described[EVENT_PAUSED](SimpleNamespace(data=orphan)) == {
        "name": "Smart Play",
        "message": "paused spotify:track:1 (room empty)",
    }
