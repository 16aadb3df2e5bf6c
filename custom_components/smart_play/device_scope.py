"""The Spotify device choice: which Spotify Connect devices are at this camera.

One form for the config flow (after signing in), the options flow and the repair of
entries made before the choice existed. The rule that uses the choice is
:func:`~.controller.playing_here`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.helpers import selector
import voluptuous as vol

from .players.base import DeviceScope, PlayerError, ScopedDevice
from .players.spotify import SpotifyTarget

CONF_DEVICES: Final = "devices"
CONF_ANY_DEVICE: Final = "any_device"


def _label(device: Mapping[str, Any]) -> str:
    label = f"{device.get('name') or device.get('id')} ({device.get('type') or 'device'})"
    return f"{label}, restricted" if device.get("is_restricted") else label


def devices_schema(
    listed: Sequence[Mapping[str, Any]], current: DeviceScope | None, *, any_default: bool
) -> vol.Schema:
    """Return the form: a multi-select of the listed devices (names can be typed).

    Devices chosen before that are not open right now stay offered and selected.
    "Any device" is a switch of its own, off unless ``any_default``.
    """
    options = [
        selector.SelectOptionDict(value=str(d["id"]), label=_label(d))
        for d in listed
        if d.get("id")
    ]
    offered = {option["value"] for option in options}
    chosen: list[str] = []
    for device in current.devices if current else ():
        value = device.device_id or device.name
        if value not in offered:
            options.append(selector.SelectOptionDict(value=value, label=device.name))
            offered.add(value)
        chosen.append(value)
    return vol.Schema(
        {
            vol.Optional(CONF_DEVICES, default=chosen): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=options,
                    multiple=True,
                    custom_value=True,
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Required(CONF_ANY_DEVICE, default=any_default): bool,
        }
    )


def scope_from_input(
    user_input: Mapping[str, Any],
    listed: Sequence[Mapping[str, Any]],
    current: DeviceScope | None,
) -> DeviceScope | None:
    """Turn the submitted form into a scope; None when nothing was chosen.

    A value is a listed device's id, a device chosen before, or a typed name (matched
    to a listed device of that name when there is one, else kept as a name only).
    """
    by_id = {str(d["id"]): d for d in listed if d.get("id")}
    by_name = {str(d.get("name") or "").casefold(): d for d in by_id.values()}
    before = {(d.device_id or d.name): d for d in (current.devices if current else ())}
    devices: list[ScopedDevice] = []
    for raw in user_input.get(CONF_DEVICES) or []:
        value = str(raw).strip()
        if not value:
            continue
        listed_device = by_id.get(value) or by_name.get(value.casefold())
        if listed_device is not None:
            device = ScopedDevice(str(listed_device["id"]), str(listed_device.get("name") or ""))
        else:
            device = before.get(value) or ScopedDevice(None, value[:64])
        if device not in devices:
            devices.append(device)
    any_device = bool(user_input.get(CONF_ANY_DEVICE))
    if not devices and not any_device:
        return None
    return DeviceScope(any_device, tuple(devices))


async def async_listed_devices(entry: ConfigEntry[Any]) -> list[dict[str, Any]]:
    """Return the devices Spotify lists for a running entry (empty when it cannot)."""
    loaded = entry.state is ConfigEntryState.LOADED
    target = entry.runtime_data.controller.target if loaded else None
    if isinstance(target, SpotifyTarget):
        with suppress(PlayerError):
            return await target.async_get_devices()
    return []
