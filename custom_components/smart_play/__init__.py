"""Smart Play: pause Spotify when you leave the room, resume when you are back."""

from __future__ import annotations

from functools import partial
import logging

import aiohttp
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.config_entry_oauth2_flow import (
    OAuth2Session,
    async_get_config_entry_implementation,
)

from .agent_link import is_agent_entry
from .application_credentials import missing_scopes
from .const import (
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_SPOTIFY_USER,
    CONF_TARGET_TYPE,
    DOMAIN,
    TARGET_MEDIA_PLAYER,
)
from .controller import PlaybackController, async_remove_controller_data
from .people import async_remove_people_data
from .players.base import DeviceScope, PlaybackTarget
from .players.media_player import MediaPlayerTarget
from .players.spotify import SpotifyTarget, async_acquire_account
from .repairs import async_create_choose_devices_issue, choose_devices_issue_id
from .runtime import SmartPlayConfigEntry, SmartPlayRuntime
from .source_resolver import async_resolve_source, is_camera_entity
from .vision.source import probe_source
from .vision.types import SourceError

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CAMERA,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup_entry(hass: HomeAssistant, entry: SmartPlayConfigEntry) -> bool:
    """Set up Smart Play from a config entry."""
    url = entry.data[CONF_SOURCE]
    if not is_agent_entry(entry.data):  # a desk agent's camera is not opened here
        url = await async_resolve_source(hass, url)
        # A camera entity's stream URL may hold a token in its path: never shown.
        hide_path = is_camera_entity(entry.data[CONF_SOURCE])
        try:
            await hass.async_add_executor_job(partial(probe_source, url, hide_path=hide_path))
        except SourceError as err:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key=f"camera_{err.code}",
                translation_placeholders={"error": str(err)},
            ) from err

    target = await _async_build_target(hass, entry)
    spotify = entry.data[CONF_TARGET_TYPE] != TARGET_MEDIA_PLAYER
    controller = PlaybackController(
        hass,
        entry.entry_id,
        target,
        on_auth_failed=lambda: entry.async_start_reauth(hass),
        # Read live: the options flow and the repair change it without a reload.
        scope=(lambda: DeviceScope.from_options(entry.options)) if spotify else None,
    )
    runtime = SmartPlayRuntime(hass, entry, url, controller)
    try:
        await runtime.async_start()
        entry.runtime_data = runtime
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    except BaseException:
        # Whatever already started (camera threads, timers, the Spotify client) stops:
        # a failed setup leaves nothing running behind.
        await runtime.async_stop()
        raise
    return True


async def _async_build_target(hass: HomeAssistant, entry: SmartPlayConfigEntry) -> PlaybackTarget:
    """Create the playback target the entry controls."""
    if entry.data[CONF_TARGET_TYPE] == TARGET_MEDIA_PLAYER:
        return MediaPlayerTarget(hass, entry.data[CONF_MEDIA_PLAYER])
    implementation = await async_get_config_entry_implementation(hass, entry)
    session = OAuth2Session(hass, entry, implementation)
    try:
        await session.async_ensure_token_valid()
    except aiohttp.ClientResponseError as err:
        if 400 <= err.status < 500:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="spotify_unavailable",
            translation_placeholders={"error": f"HTTP {err.status}"},
        ) from err
    except aiohttp.ClientError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="spotify_unavailable",
            translation_placeholders={"error": type(err).__name__},
        ) from err
    if missing := missing_scopes(session.token):
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key="missing_scopes",
            translation_placeholders={"scopes": ", ".join(sorted(missing))},
        )
    # Entries of one Spotify account share one client (one quota, one back-off).
    user_id = entry.data.get(CONF_SPOTIFY_USER)
    account = async_acquire_account(hass, user_id) if user_id else None
    return SpotifyTarget(hass, session, account=account)


async def async_migrate_entry(hass: HomeAssistant, entry: SmartPlayConfigEntry) -> bool:
    """Migrate old entries; 1.1 → 1.2 adds the Spotify device scope.

    Entries made before the device choice existed keep pausing any device (nothing
    changes for them), and a repair issue invites the user to choose the devices at
    this camera.
    """
    if entry.version > 1:
        return False  # made by a newer Smart Play
    if entry.minor_version < 2:
        options = dict(entry.options)
        if entry.data.get(CONF_TARGET_TYPE) != TARGET_MEDIA_PLAYER:
            options.update(DeviceScope(any_device=True).as_options())
            async_create_choose_devices_issue(hass, entry)
        hass.config_entries.async_update_entry(entry, options=options, minor_version=2)
        _LOGGER.debug("Migrated %s to version 1.2 (device scope)", entry.title)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: SmartPlayConfigEntry) -> bool:
    """Unload a config entry: entities first, then stop threads and camera."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: SmartPlayConfigEntry) -> None:
    """Delete everything stored for a removed entry: pause memory, face data, device repair."""
    await async_remove_controller_data(hass, entry.entry_id)
    await async_remove_people_data(hass, entry.entry_id)
    ir.async_delete_issue(hass, DOMAIN, choose_devices_issue_id(entry.entry_id))
