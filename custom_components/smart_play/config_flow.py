"""Config flow for Smart Play.

user (menu) ─┬─ pick_implementation → Spotify OAuth (HA application credentials)
             │    → spotify_devices (the Spotify Connect devices at this camera) ─┐
             └─ media_player (pick an HA media player) ──────────────────────────┴─ camera → entry
Also: reauth (Spotify), reconfigure (camera), options (delay, sensitivity).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import hashlib
import logging
from typing import Any

from homeassistant.components.webhook import async_generate_id
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_ACCESS_TOKEN, CONF_NAME, CONF_TOKEN, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_entry_oauth2_flow, selector
import voluptuous as vol

from . import options_flow
from .agent_link import agent_placeholders, is_agent_entry
from .application_credentials import SCOPES
from .const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_SPOTIFY_USER,
    CONF_TARGET_TYPE,
    DEFAULT_DELAY,
    DEFAULT_SENSITIVITY,
    DOMAIN,
    MAX_DELAY,
    MAX_SENSITIVITY,
    MIN_DELAY,
    MIN_SENSITIVITY,
    OPT_DELAY,
    OPT_SENSITIVITY,
    SOURCE_AGENT,
    TARGET_MEDIA_PLAYER,
    TARGET_SPOTIFY,
)
from .device_scope import devices_schema, scope_from_input
from .players.base import PlayerError
from .players.spotify import async_get_spotify_devices, async_get_spotify_user
from .runtime import SmartPlayConfigEntry
from .source_resolver import is_camera_entity
from .vision.source import probe_source, redact_url
from .vision.types import SourceError

_LOGGER = logging.getLogger(__name__)

CONF_CAMERA_ENTITY = "camera_entity"
CONF_AGENT = "agent"  # the camera is on another computer (the Smart Play desk agent)
MAX_SOURCE_LENGTH = 2048
PROBE_TIMEOUT = 10.0


def _camera_key(camera: Mapping[str, Any]) -> str:
    """Unique-id part of a camera: its source, or the agent's key (each agent is its own)."""
    if is_agent_entry(camera):
        return _source_key(f"{SOURCE_AGENT}:{camera[CONF_WEBHOOK_ID]}")
    return _source_key(camera[CONF_SOURCE])


def _source_key(source: str) -> str:
    """Short stable id of a camera source (the source may hold a password)."""
    return hashlib.sha256(source.strip().encode()).hexdigest()[:12]


def _short_source(hass: HomeAssistant, source: str) -> str:
    """Return a human label for a source, safe to show (no credentials)."""
    if is_camera_entity(source):
        state = hass.states.get(source)
        return state.name if state else source
    if source == SOURCE_AGENT:
        return "Smart Play agent"
    label = redact_url(source)
    return label.rsplit("/", 1)[-1] if label.startswith("/") else label


async def async_validate_source(hass: HomeAssistant, source: str) -> str | None:
    """Open the camera and read a frame off the loop; return an error key or None."""
    source = source.strip()
    if not source or len(source) > MAX_SOURCE_LENGTH or "\x00" in source:
        return "invalid_url"
    url = source
    if is_camera_entity(source):
        from homeassistant.components.camera import async_get_stream_source

        try:
            url = await async_get_stream_source(hass, source) or ""
        except HomeAssistantError:
            return "camera_entity_unavailable"
        if not url:
            return "camera_entity_no_stream"
    try:
        async with asyncio.timeout(PROBE_TIMEOUT + 5):
            await hass.async_add_executor_job(probe_source, url, PROBE_TIMEOUT)
    except SourceError as err:
        shown = redact_url(url, hide_path=is_camera_entity(source))
        _LOGGER.debug("Camera %s failed validation: %s", shown, err.code)
        return err.code if err.code in SourceError.CODES else "cannot_open"
    except TimeoutError:
        return "timeout"
    return None


def _camera_schema(defaults: Mapping[str, Any]) -> vol.Schema:
    agent = is_agent_entry(defaults) or bool(defaults.get(CONF_AGENT))
    source = "" if is_agent_entry(defaults) else defaults.get(CONF_SOURCE, "")
    return vol.Schema(
        {
            vol.Optional(
                CONF_SOURCE,
                description={"suggested_value": "" if is_camera_entity(source) else source},
            ): selector.TextSelector(),
            vol.Optional(
                CONF_CAMERA_ENTITY,
                description={"suggested_value": source if is_camera_entity(source) else None},
            ): selector.EntitySelector(selector.EntitySelectorConfig(domain="camera")),
            vol.Optional(CONF_LOOP, default=bool(defaults.get(CONF_LOOP, False))): bool,
            vol.Optional(CONF_AGENT, default=agent): bool,
        }
    )


def _camera_schema_with_name(defaults: Mapping[str, Any]) -> vol.Schema:
    """Return the camera form of a new entry, which also asks for a name."""
    return _camera_schema(defaults).extend(
        {
            vol.Optional(
                CONF_NAME, description={"suggested_value": defaults.get(CONF_NAME)}
            ): selector.TextSelector()
        }
    )


class SmartPlayConfigFlow(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Set up Smart Play: a playback target, then a camera."""

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 2  # 1.2: Spotify device scope in the options

    def __init__(self) -> None:
        """Start with no choices made."""
        super().__init__()
        self._target: dict[str, Any] = {}
        self._options: dict[str, Any] = {}  # the Spotify device choice
        self._devices: list[dict[str, Any]] = []  # devices Spotify listed after sign-in
        self._owner_name = ""

    @property
    def logger(self) -> logging.Logger:
        """Logger used by the OAuth2 flow."""
        return _LOGGER

    @property
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask Spotify for the scopes Smart Play needs."""
        return {"scope": " ".join(SCOPES)}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: SmartPlayConfigEntry) -> SmartPlayOptionsFlow:
        """Options: absence delay and sensitivity."""
        return SmartPlayOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what Smart Play pauses: Spotify or an HA media player."""
        return self.async_show_menu(
            step_id="user", menu_options=["pick_implementation", "media_player"]
        )

    # ------------------------------------------------------------- Spotify
    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """OAuth finished: identify the Spotify account, then ask for the camera."""
        try:
            user = await async_get_spotify_user(self.hass, data[CONF_TOKEN][CONF_ACCESS_TOKEN])
        except PlayerError as err:
            _LOGGER.warning("Could not read the Spotify account after sign-in: %s", err)
            return self.async_abort(reason="connection_error")
        user_id = user.user_id
        if self.source == SOURCE_REAUTH:
            entry = self._get_reauth_entry()
            if entry.data.get(CONF_SPOTIFY_USER) != user_id:
                return self.async_abort(reason="reauth_account_mismatch")
            return self.async_update_reload_and_abort(entry, data_updates=data)
        self._owner_name = user.display_name or user_id
        self._target = {
            **data,
            CONF_TARGET_TYPE: TARGET_SPOTIFY,
            CONF_SPOTIFY_USER: user_id,
        }
        try:
            self._devices = await async_get_spotify_devices(
                self.hass, data[CONF_TOKEN][CONF_ACCESS_TOKEN]
            )
        except PlayerError as err:  # the user can still type names or choose any device
            _LOGGER.debug("Could not list the Spotify devices: %s", err)
        return await self.async_step_spotify_devices()

    async def async_step_spotify_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the Spotify Connect devices at this camera (the only ones paused)."""
        errors: dict[str, str] = {}
        if user_input is not None:
            scope = scope_from_input(user_input, self._devices, None)
            if scope is not None:
                self._options = scope.as_options()
                return await self.async_step_camera()
            errors["base"] = "no_device"
        return self.async_show_form(
            step_id="spotify_devices",
            data_schema=devices_schema(self._devices, None, any_default=False),
            errors=errors,
            description_placeholders={"count": str(len(self._devices))},
        )

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """Spotify stopped accepting the refresh token."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask before sending the user to Spotify again."""
        entry = self._get_reauth_entry()
        if user_input is None:
            return self.async_show_form(
                step_id="reauth_confirm",
                description_placeholders={"account": entry.title},
            )
        return await self.async_step_pick_implementation(
            user_input={"implementation": entry.data["auth_implementation"]}
        )

    # -------------------------------------------------------- media player
    async def async_step_media_player(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick a Home Assistant media player to pause and resume."""
        errors: dict[str, str] = {}
        if user_input is not None:
            entity_id = user_input[CONF_MEDIA_PLAYER]
            if (state := self.hass.states.get(entity_id)) is None:
                errors[CONF_MEDIA_PLAYER] = "entity_not_found"
            else:
                self._owner_name = state.name
                self._target = {
                    CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
                    CONF_MEDIA_PLAYER: entity_id,
                }
                return await self.async_step_camera()
        return self.async_show_form(
            step_id="media_player",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_MEDIA_PLAYER): selector.EntitySelector(
                        selector.EntitySelectorConfig(domain="media_player")
                    )
                }
            ),
            errors=errors,
        )

    # -------------------------------------------------------------- camera
    async def _async_camera_input(
        self, user_input: dict[str, Any], current: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any] | None, dict[str, str]]:
        """Validate the camera form; return (data, errors).

        The desk agent keeps the key it has (``current``: the entry being
        reconfigured), so a running agent goes on reporting; a new one gets a new key.
        """
        text = (user_input.get(CONF_SOURCE) or "").strip()
        entity = user_input.get(CONF_CAMERA_ENTITY) or ""
        if user_input.get(CONF_AGENT):
            if text or entity:
                return None, {"base": "agent_or_source"}
            if current is not None and is_agent_entry(current):
                webhook_id = current[CONF_WEBHOOK_ID]
            else:
                webhook_id = async_generate_id()
            return {CONF_SOURCE: SOURCE_AGENT, CONF_WEBHOOK_ID: webhook_id, CONF_LOOP: False}, {}
        if bool(text) == bool(entity):
            return None, {"base": "source_required"}
        source = entity or text
        if error := await async_validate_source(self.hass, source):
            return None, {CONF_CAMERA_ENTITY if entity else CONF_SOURCE: error}
        return {CONF_SOURCE: source, CONF_LOOP: bool(user_input.get(CONF_LOOP))}, {}

    def _owner_key(self, data: Mapping[str, Any]) -> str:
        if data[CONF_TARGET_TYPE] == TARGET_SPOTIFY:
            return f"spotify:{data[CONF_SPOTIFY_USER]}"
        return f"media_player:{data[CONF_MEDIA_PLAYER]}"

    async def async_step_camera(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the camera and check that it delivers frames."""
        errors: dict[str, str] = {}
        if user_input is not None:
            camera, errors = await self._async_camera_input(user_input)
            if camera is not None:
                await self.async_set_unique_id(
                    f"{self._owner_key(self._target)}:{_camera_key(camera)}"
                )
                self._abort_if_unique_id_configured()
                title = (user_input.get(CONF_NAME) or "").strip()[:64] or (
                    f"{self._owner_name} · {_short_source(self.hass, camera[CONF_SOURCE])}"
                )
                agent = is_agent_entry(camera)
                return self.async_create_entry(
                    title=title,
                    data={**self._target, **camera},
                    options={
                        OPT_DELAY: DEFAULT_DELAY,
                        OPT_SENSITIVITY: DEFAULT_SENSITIVITY,
                        **self._options,
                    },
                    # A desk agent: show the command to run on that computer.
                    description=CONF_AGENT if agent else None,
                    description_placeholders=agent_placeholders(self.hass, camera[CONF_WEBHOOK_ID])
                    if agent
                    else None,
                )
        return self.async_show_form(
            step_id="camera",
            data_schema=_camera_schema_with_name(user_input or {}),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the camera of an existing entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            camera, errors = await self._async_camera_input(user_input, entry.data)
            if camera is not None:
                unique_id = f"{self._owner_key(entry.data)}:{_camera_key(camera)}"
                if unique_id != entry.unique_id:
                    await self.async_set_unique_id(unique_id)
                    self._abort_if_unique_id_configured()
                data = {k: v for k, v in entry.data.items() if k != CONF_WEBHOOK_ID} | camera
                if not is_agent_entry(camera):
                    return self.async_update_reload_and_abort(entry, unique_id=unique_id, data=data)
                result = self.async_update_reload_and_abort(
                    entry, unique_id=unique_id, data=data, reason="reconfigure_agent"
                )
                result["description_placeholders"] = agent_placeholders(
                    self.hass, camera[CONF_WEBHOOK_ID]
                )
                return result
        assert self.source == SOURCE_RECONFIGURE
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_camera_schema(user_input or entry.data),
            errors=errors,
        )


class SmartPlayOptionsFlow(OptionsFlow):
    """Options menu: settings, hand gestures, people (feature steps in options_flow.py)."""

    def __init__(self) -> None:
        """Create the flow."""
        self._person: dict[str, Any] = {}  # the person being added (name, playlist, task)

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options menu."""
        return self.async_show_menu(
            step_id="init", menu_options=options_flow.menu(self.config_entry)
        )

    async def async_step_zones(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Parts of the picture to ignore."""
        return await options_flow.async_step_zones(self, user_input)

    async def async_step_gestures(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Hand gestures: on/off, zone, directions."""
        return await options_flow.async_step_gestures(self, user_input)

    async def async_step_people(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """People recognition and personal playlists."""
        return await options_flow.async_step_people(self, user_input)

    async def async_step_add_person(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Enrol a person (live camera or a folder of images)."""
        return await options_flow.async_step_add_person(self, user_input, self._person)

    async def async_step_capture(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Take face samples from the camera (progress)."""
        return await options_flow.async_step_capture(self, self._person)

    async def async_step_capture_done(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Store the captured face samples."""
        return await options_flow.async_step_capture_done(self, self._person)

    async def async_step_remove_person(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Forget a person and their face data."""
        return await options_flow.async_step_remove_person(self, user_input)

    async def async_step_devices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the Spotify Connect devices at this camera."""
        return await options_flow.async_step_devices(self, user_input)

    async def async_step_agent(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the desk agent's command again."""
        return options_flow.async_step_agent(self, user_input)

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Absence delay and sensitivity (also available as number entities)."""
        if user_input is not None:
            return options_flow.save_options(self, user_input)
        options = self.config_entry.options
        return self.async_show_form(
            step_id="settings",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        OPT_DELAY, default=float(options.get(OPT_DELAY, DEFAULT_DELAY))
                    ): selector.NumberSelector(
                        selector.NumberSelectorConfig(
                            min=MIN_DELAY,
                            max=MAX_DELAY,
                            step=0.5,
                            unit_of_measurement="s",
                            mode=selector.NumberSelectorMode.BOX,
                        )
                    ),
                    vol.Required(
                        OPT_SENSITIVITY,
                        default=int(options.get(OPT_SENSITIVITY, DEFAULT_SENSITIVITY)),
                    ): vol.All(
                        selector.NumberSelector(
                            selector.NumberSelectorConfig(
                                min=MIN_SENSITIVITY,
                                max=MAX_SENSITIVITY,
                                step=1,
                                mode=selector.NumberSelectorMode.SLIDER,
                            )
                        ),
                        vol.Coerce(int),
                    ),
                }
            ),
        )
