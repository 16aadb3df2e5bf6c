"""Repairs: choose the Spotify devices of an entry made before the device choice existed."""

from __future__ import annotations

from typing import Any

from homeassistant import data_entry_flow
from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN, ISSUE_CHOOSE_DEVICES
from .device_scope import async_listed_devices, devices_schema, scope_from_input
from .players.base import DeviceScope


def choose_devices_issue_id(entry_id: str) -> str:
    """Return the id of the "choose your Spotify devices" issue of an entry."""
    return f"{ISSUE_CHOOSE_DEVICES}_{entry_id}"


@callback
def async_create_choose_devices_issue(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """Invite the user to choose the Spotify devices at this camera (fixable)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        choose_devices_issue_id(entry.entry_id),
        is_fixable=True,
        is_persistent=True,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_CHOOSE_DEVICES,
        translation_placeholders={"title": entry.title},
        data={"entry_id": entry.entry_id},
    )


class ChooseDevicesRepairFlow(RepairsFlow):
    """The device choice of the options, reached from the repair issue."""

    def __init__(self, entry_id: str) -> None:
        """Fix the issue of ``entry_id``."""
        self._entry_id = entry_id

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Show the device choice."""
        return await self.async_step_devices()

    async def async_step_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> data_entry_flow.FlowResult:
        """Pick the devices at this camera (or any device); applied at once."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        listed = await async_listed_devices(entry)
        current = DeviceScope.from_options(entry.options)
        errors: dict[str, str] = {}
        if user_input is not None:
            scope = scope_from_input(user_input, listed, current)
            if scope is not None:
                self.hass.config_entries.async_update_entry(
                    entry, options={**entry.options, **scope.as_options()}
                )
                return self.async_create_entry(data={})
            errors["base"] = "no_device"
        return self.async_show_form(
            step_id="devices",
            data_schema=devices_schema(listed, current, any_default=False),
            errors=errors,
            description_placeholders={"title": entry.title},
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Create the fix flow of a fixable issue."""
    if issue_id.startswith(f"{ISSUE_CHOOSE_DEVICES}_") and data and data.get("entry_id"):
        return ChooseDevicesRepairFlow(str(data["entry_id"]))
    return ConfirmRepairFlow()
