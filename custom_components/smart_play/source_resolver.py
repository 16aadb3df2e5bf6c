"""Turn what the user entered as camera source into something PyAV can open."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import concurrent.futures

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError

from .const import DOMAIN
from .vision.types import SourceError

CAMERA_ENTITY_PREFIX = "camera."
RESOLVE_TIMEOUT = 10.0  # s the reader thread waits for a camera entity's stream URL


def is_camera_entity(source: str) -> bool:
    """Whether the source names a Home Assistant camera entity."""
    return source.startswith(CAMERA_ENTITY_PREFIX) and "/" not in source


async def async_resolve_source(hass: HomeAssistant, source: str) -> str:
    """Return an openable source; a camera entity becomes its stream URL.

    Raises ConfigEntryNotReady when the camera entity does not exist (yet) or
    has no stream.
    """
    if not is_camera_entity(source):
        return source
    # Imported here: the camera integration is only needed for this source kind.
    from homeassistant.components.camera import async_get_stream_source

    try:
        url = await async_get_stream_source(hass, source)
    except HomeAssistantError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="camera_entity_unavailable",
            translation_placeholders={"entity_id": source},
        ) from err
    if not url:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="camera_entity_no_stream",
            translation_placeholders={"entity_id": source},
        )
    return url


def camera_stream_resolver(
    hass: HomeAssistant,
    entity_id: str,
    first_url: str | None = None,
    timeout: float = RESOLVE_TIMEOUT,
) -> Callable[[], str]:
    """Return a blocking callable that asks ``entity_id`` for its stream URL.

    The vision reader thread calls it before every (re)connect, so a camera
    that hands out expiring stream URLs (a token in the path or query) is asked
    for a fresh one instead of failing until a reload. ``first_url`` (the URL
    just probed at setup) is used for the first connect. Must not be called on
    the event loop. Raises :class:`SourceError` when the entity has no stream
    now (reported as a failed connection attempt and retried with backoff).
    """
    pending = [first_url] if first_url else []

    def resolve() -> str:
        if pending:
            return pending.pop()
        future = asyncio.run_coroutine_threadsafe(async_resolve_source(hass, entity_id), hass.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise SourceError(
                "timeout", f"{entity_id} did not hand out a stream URL in {timeout:g} s"
            ) from None
        except HomeAssistantError:
            raise SourceError("cannot_open", f"{entity_id} has no stream right now") from None

    return resolve
