"""Turn what the user entered as camera source into something PyAV can open."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError

from .const import DOMAIN

CAMERA_ENTITY_PREFIX = "camera."


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
