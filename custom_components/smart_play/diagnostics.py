"""Diagnostics download of a Smart Play config entry (secrets redacted)."""

from __future__ import annotations

from collections.abc import Mapping
import contextlib
from dataclasses import asdict, is_dataclass
import re
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .const import CONF_SPOTIFY_USER
from .vision.source import redact_url as source_redact_url

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
}

REDACTED = "**REDACTED**"

# scheme://userinfo@host...: everything up to the last '@' before a query,
# fragment or whitespace (passwords may contain '@' or '/'; redacting a path
# that happens to hold an '@' is harmless here). Also catches URLs embedded in
# longer strings (error messages, reasons).
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^?#\s]+)@")
# Credentials passed as query parameters (e.g. ...?user=x&password=y).
_URL_QUERY_SECRET = re.compile(
    r"(?P<key>[?&](?:user(?:name)?|pass(?:word|wd)?|pwd|token|access_token|auth|key|api_key)=)"
    r"(?P<value>[^&#\s]*)",
    re.IGNORECASE,
)


def redact_url(text: str) -> str:
    """Remove credentials from every URL inside ``text``.

    ``rtsp://user:pass@host/x`` becomes ``rtsp://**REDACTED**@host/x``; secret
    query parameters lose their values. A single URL goes through the source
    module's redaction first; the patterns here then scrub what is left,
    including URLs embedded in messages.
    """
    if "://" not in text:
        return text
    if not any(c.isspace() for c in text):  # a single URL: the source module's rules
        with contextlib.suppress(Exception):  # diagnostics must never fail on odd input
            text = source_redact_url(text)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    return _URL_QUERY_SECRET.sub(lambda m: f"{m['key']}{REDACTED}", text)


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
