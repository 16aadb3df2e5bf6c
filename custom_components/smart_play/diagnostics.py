"""Diagnostics download of a Smart Play config entry (secrets redacted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_SPOTIFY_USER
from .vision.urls import redact_text

if TYPE_CHECKING:
    from .runtime import SmartPlayConfigEntry


TO_REDACT = {
    "access_token",
    "refresh_token",
    "token",
    "id_token",
    "client_id",
    "client_secret",
    "password",
    "username",
    "user",
    "api_key",
    CONF_SPOTIFY_USER,
    "unique_id",
    "device_id",  # Spotify Connect device ids of the device choice
    CONF_WEBHOOK_ID,  # the desk agent's key
}

REDACTED = "**REDACTED**"


def redact_url(text: str) -> str:
    """Remove credentials (user names included) from every URL inside ``text``.

    ``rtsp://user:pass@host/x`` becomes ``rtsp://**REDACTED**@host/x``; secret
    query parameters lose their values. The rules are those of
    :mod:`.vision.urls`, the one place where URLs are redacted.
    """
    return redact_text(text, keep_user=False, mask=REDACTED)


def _redact_urls(value: Any) -> Any:
    """Apply :func:`redact_url` to every string in a nested structure."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, Mapping):
        return {key: _redact_urls(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_redact_urls(item) for item in value]
    return value


def _engine_diagnostics(entry: SmartPlayConfigEntry) -> dict[str, Any]:
    """Return the engine's decision state and effective settings."""
    engine = entry.runtime_data.engine
    config = engine.config
    return {
        "state": str(engine.state),
        "config": asdict(config) if is_dataclass(config) else repr(config),
        "uses_opencv": getattr(engine, "uses_opencv", None),
    }


def _controller_diagnostics(entry: SmartPlayConfigEntry) -> Any:
    """Return the playback controller's own diagnostics, when it offers them."""
    diagnostics = getattr(entry.runtime_data.controller, "diagnostics", None)
    if not callable(diagnostics):
        return None
    return diagnostics()


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: SmartPlayConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for a config entry."""
    runtime = entry.runtime_data
    data: dict[str, Any] = {
        "entry": {
            "title": entry.title,
            "version": entry.version,
            "minor_version": entry.minor_version,
            "data": dict(entry.data),
            "options": dict(entry.options),
        },
        "runtime": runtime.diagnostics(),
        "engine": _engine_diagnostics(entry),
        "camera_available": runtime.available,
        "controller": _controller_diagnostics(entry),
    }
    redacted: dict[str, Any] = _redact_urls(async_redact_data(data, TO_REDACT))
    return redacted
