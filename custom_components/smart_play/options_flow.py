"""Steps of the options flow for the optional features (gestures, people).

:class:`~.config_flow.SmartPlayOptionsFlow` is a menu; its feature steps
delegate here so the flow class stays small. Every function takes the flow.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir, selector
from homeassistant.requirements import RequirementsNotFound, async_process_requirements
import numpy as np
import voluptuous as vol

from .agent_link import agent_placeholders, is_agent_entry
from .const import CONF_EXCLUDE_ZONES, CONF_TARGET_TYPE, DOMAIN, TARGET_SPOTIFY
from .device_scope import async_listed_devices, devices_schema, scope_from_input
from .features import DEFAULT_GESTURE_ZONE, OPT_GESTURE_MIRROR, OPT_GESTURE_ZONE, OPT_GESTURES
from .people import (
    MIN_SAMPLES,
    OPT_PEOPLE,
    OPT_PERSON_PLAYLIST,
    PEOPLE_FOLDER,
    PeopleManager,
    valid_person_name,
)
from .players.base import DeviceScope
from .repairs import choose_devices_issue_id
from .vision.engine import clean_zones
from .vision.faces import face_support
from .vision.gestures import format_zone, parse_zone
from .vision.optional import OPENCV_REQUIREMENT, forget_opencv, installed_opencv

if TYPE_CHECKING:
    from .runtime import SmartPlayRuntime

_LOGGER = logging.getLogger(__name__)

MENU: Final = ["settings", "zones", "gestures", "people", "add_person", "remove_person"]
#: Spotify entries also choose their devices.
SPOTIFY_MENU: Final = ["devices"]
# Steps that need the frames (face crops) in Home Assistant: not offered for a desk
# agent's entry. Gestures are analysed by the agent itself, so they are offered.
FRAME_STEPS: Final = frozenset({"people", "add_person", "remove_person"})
MAX_EXCLUDE_ZONES: Final = 8
MIN_EXCLUDE_SIDE: Final = 0.02  # a zone thinner than 2 % of the picture is a typo
CONF_NAME: Final = "name"
CONF_MEDIA_ID: Final = "media_id"
CONF_SAMPLES_FROM: Final = "samples_from"
FROM_CAMERA: Final = "camera"
FROM_FOLDER: Final = "folder"


def menu(entry: ConfigEntry[Any]) -> list[str]:
    """Return the options menu of ``entry``.

    Spotify entries also choose their devices; a desk agent's entry shows the
    agent's command and has no people steps (they need the frames in Home
    Assistant); its gestures are analysed on the desk computer.
    """
    spotify = entry.data.get(CONF_TARGET_TYPE) == TARGET_SPOTIFY
    steps = [*MENU, *SPOTIFY_MENU] if spotify else list(MENU)
    if is_agent_entry(entry.data):
        steps = [step for step in steps if step not in FRAME_STEPS] + ["agent"]
    return steps


async def async_step_devices(
    flow: OptionsFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Choose the Spotify Connect devices at this camera, or any device (applied at once)."""
    entry = flow.config_entry
    listed = await async_listed_devices(entry)
    current = DeviceScope.from_options(entry.options)
    errors: dict[str, str] = {}
    if user_input is not None:
        scope = scope_from_input(user_input, listed, current)
        if scope is not None:
            ir.async_delete_issue(flow.hass, DOMAIN, choose_devices_issue_id(entry.entry_id))
            return save_options(flow, scope.as_options())
        errors["base"] = "no_device"
    return flow.async_show_form(
        step_id="devices",
        data_schema=devices_schema(listed, current, any_default=current.any_device),
        errors=errors,
    )


def _runtime(flow: OptionsFlow) -> SmartPlayRuntime | None:
    entry = flow.config_entry
    if entry.state is not ConfigEntryState.LOADED:
        return None
    return entry.runtime_data  # type: ignore[no-any-return]


def async_step_agent(flow: OptionsFlow, user_input: dict[str, Any] | None) -> ConfigFlowResult:
    """Show the command that starts the desk agent (with the entry's key) again."""
    entry = flow.config_entry  # the menu offers this step to agent entries only
    if user_input is not None:
        return flow.async_create_entry(data=dict(entry.options))
    return flow.async_show_form(
        step_id="agent",
        description_placeholders=agent_placeholders(flow.hass, entry.data[CONF_WEBHOOK_ID]),
    )


def save_options(flow: OptionsFlow, changes: dict[str, Any] | None = None) -> ConfigFlowResult:
    """Finish the options flow with ``changes`` and apply them to the running entry."""
    options = {**flow.config_entry.options, **(changes or {})}
    entry = flow.config_entry
    if entry.state is ConfigEntryState.LOADED:
        entry.runtime_data.async_apply_options(options)
    return flow.async_create_entry(data=options)


async def async_step_gestures(
    flow: OptionsFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Gestures on/off, the zone and the direction convention."""
    errors: dict[str, str] = {}
    options = flow.config_entry.options
    if user_input is not None:
        try:
            zone = parse_zone(user_input.get(OPT_GESTURE_ZONE, DEFAULT_GESTURE_ZONE))
        except (TypeError, ValueError):
            errors[OPT_GESTURE_ZONE] = "invalid_zone"
        else:
            return save_options(flow, {**user_input, OPT_GESTURE_ZONE: format_zone(zone)})
    values = user_input or options
    return flow.async_show_form(
        step_id="gestures",
        data_schema=vol.Schema(
            {
                vol.Required(OPT_GESTURES, default=bool(values.get(OPT_GESTURES, False))): bool,
                vol.Required(
                    OPT_GESTURE_ZONE,
                    default=str(values.get(OPT_GESTURE_ZONE, DEFAULT_GESTURE_ZONE)),
                ): str,
                vol.Required(
                    OPT_GESTURE_MIRROR, default=bool(values.get(OPT_GESTURE_MIRROR, True))
                ): bool,
            }
        ),
        errors=errors,
    )


def parse_exclude_zones(entries: object) -> list[list[float]]:
    """Zones to ignore from the form, stored as ``[x, y, w, h]`` shares of the picture.

    Each entry is written like the gesture zone: left, top, right, bottom as
    shares 0..1 (the same parser). Blank entries are skipped; raises
    ValueError/TypeError on anything else that is not a valid rectangle.
    """
    if isinstance(entries, str):
        entries = entries.splitlines()
    if not isinstance(entries, (list, tuple)):
        raise TypeError("zones must be a list of rectangles")
    texts = [str(entry).strip() for entry in entries if str(entry).strip()]
    if len(texts) > MAX_EXCLUDE_ZONES:
        raise ValueError(f"at most {MAX_EXCLUDE_ZONES} zones")
    zones = []
    for text in texts:
        x0, y0, x1, y1 = parse_zone(text, min_side=MIN_EXCLUDE_SIDE)
        zones.append([round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4)])
    return zones


def format_exclude_zones(zones: object) -> list[str]:
    """Show stored zones as the form takes them (left, top, right, bottom)."""
    return [
        format_zone((x, y, round(x + w, 4), round(y + h, 4))) for x, y, w, h in clean_zones(zones)
    ]


async def async_step_zones(
    flow: OptionsFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Parts of the picture to ignore (a TV, a window, an aquarium, a pet bed)."""
    errors: dict[str, str] = {}
    if user_input is not None:
        try:
            zones = parse_exclude_zones(user_input.get(CONF_EXCLUDE_ZONES, []))
        except (TypeError, ValueError):
            errors[CONF_EXCLUDE_ZONES] = "invalid_exclude_zone"
        else:
            return save_options(flow, {CONF_EXCLUDE_ZONES: zones})
        shown = list(user_input.get(CONF_EXCLUDE_ZONES, []))
    else:
        shown = format_exclude_zones(flow.config_entry.options.get(CONF_EXCLUDE_ZONES, []))
    return flow.async_show_form(
        step_id="zones",
        data_schema=vol.Schema(
            {
                vol.Optional(CONF_EXCLUDE_ZONES, default=shown): selector.TextSelector(
                    selector.TextSelectorConfig(multiple=True)
                )
            }
        ),
        errors=errors,
        description_placeholders={"max": str(MAX_EXCLUDE_ZONES)},
    )


async def async_step_people(
    flow: OptionsFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Recognition on/off and whether a recognised person's playlist is started."""
    errors: dict[str, str] = {}
    why = await flow.hass.async_add_executor_job(face_support)  # imports OpenCV
    if user_input is not None:
        if user_input.get(OPT_PEOPLE) and why is not None:
            why = await _async_install_opencv(flow.hass, why)
        if user_input.get(OPT_PEOPLE) and why is not None:
            errors[OPT_PEOPLE] = "opencv_missing"
        else:
            return save_options(flow, user_input)
    values = user_input or flow.config_entry.options
    return flow.async_show_form(
        step_id="people",
        data_schema=vol.Schema(
            {
                vol.Required(OPT_PEOPLE, default=bool(values.get(OPT_PEOPLE, False))): bool,
                vol.Required(
                    OPT_PERSON_PLAYLIST, default=bool(values.get(OPT_PERSON_PLAYLIST, False))
                ): bool,
            }
        ),
        errors=errors,
        description_placeholders={"opencv": why or "OpenCV is ready"},
    )


async def _async_install_opencv(hass: HomeAssistant, why: str) -> str | None:
    """Install the optional OpenCV extra with Home Assistant's installer.

    Returns None when faces can be detected afterwards, else why not. What the user
    notices: an OpenCV that is already installed (another integration's, e.g. 5.x)
    is never replaced or downgraded; the options say why it cannot serve (``why``).
    Where no wheel exists (Home Assistant OS and the container are Alpine/musl) the
    installer fails and the user is told so; nothing else changes.
    """
    if (installed := await hass.async_add_executor_job(installed_opencv)) is not None:
        _LOGGER.warning(
            "People recognition needs %s, but %s is installed and is not replaced: %s",
            OPENCV_REQUIREMENT,
            installed,
            why,
        )
        return why
    try:
        await async_process_requirements(hass, DOMAIN, [OPENCV_REQUIREMENT])
    except RequirementsNotFound:
        _LOGGER.warning(
            "The optional OpenCV extra (%s) cannot be installed on this system", OPENCV_REQUIREMENT
        )
        return (
            f"{OPENCV_REQUIREMENT} cannot be installed on this system (no wheel for this "
            "platform, e.g. Home Assistant OS / Alpine); people recognition is not available here"
        )
    forget_opencv()
    return await hass.async_add_executor_job(face_support)


async def async_step_add_person(
    flow: OptionsFlow, user_input: dict[str, Any] | None, state: dict[str, Any]
) -> ConfigFlowResult:
    """Name, playlist and where the face samples come from."""
    if (why := await flow.hass.async_add_executor_job(face_support)) is not None:
        return flow.async_abort(reason="opencv_missing", description_placeholders={"why": why})
    runtime = _runtime(flow)
    if runtime is None:
        return flow.async_abort(reason="not_running")
    people = runtime.features.people
    errors: dict[str, str] = {}
    folder = flow.hass.config.path(PEOPLE_FOLDER)
    if user_input is not None:
        name = str(user_input[CONF_NAME]).strip()
        media_id = str(user_input.get(CONF_MEDIA_ID) or "").strip() or None
        if not valid_person_name(name):
            errors[CONF_NAME] = "invalid_name"
        elif user_input[CONF_SAMPLES_FROM] == FROM_FOLDER:
            samples = await people.async_samples_from_folder(name)
            if len(samples) >= MIN_SAMPLES:
                await people.async_add_person(name, media_id, samples)
                return save_options(flow)
            errors["base"] = "no_faces_in_folder"
        elif not runtime.available:
            errors["base"] = "camera_unavailable"
        else:
            state.clear()
            state.update({CONF_NAME: name, CONF_MEDIA_ID: media_id})
            return await flow.async_step_capture()  # type: ignore[attr-defined,no-any-return]
    return flow.async_show_form(
        step_id="add_person",
        data_schema=vol.Schema(
            {
                vol.Required(CONF_NAME, default=(user_input or {}).get(CONF_NAME, "")): str,
                vol.Optional(CONF_MEDIA_ID, default=(user_input or {}).get(CONF_MEDIA_ID, "")): str,
                vol.Required(CONF_SAMPLES_FROM, default=FROM_CAMERA): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[FROM_CAMERA, FROM_FOLDER],
                        translation_key=CONF_SAMPLES_FROM,
                        mode=selector.SelectSelectorMode.LIST,
                    )
                ),
            }
        ),
        errors=errors,
        description_placeholders={"folder": folder, "min": str(MIN_SAMPLES)},
    )


async def async_step_capture(flow: OptionsFlow, state: dict[str, Any]) -> ConfigFlowResult:
    """Take face samples from the live camera while showing progress."""
    runtime = _runtime(flow)
    task: asyncio.Task[list[np.ndarray]] | None = state.get("task")
    if runtime is None:
        # Unloaded during the capture: a progress step may only end in "progress done";
        # capture_done then says that Smart Play is not running.
        if task is not None:
            task.cancel()
        return flow.async_show_progress_done(next_step_id="capture_done")
    if task is None:
        task = flow.hass.async_create_task(runtime.features.people.async_capture())
        state["task"] = task
    if not task.done():
        return flow.async_show_progress(
            step_id="capture", progress_action="capture", progress_task=task
        )
    return flow.async_show_progress_done(next_step_id="capture_done")


async def async_step_capture_done(flow: OptionsFlow, state: dict[str, Any]) -> ConfigFlowResult:
    """Store the captured samples (descriptors only) or say that no face was seen."""
    runtime = _runtime(flow)
    task: asyncio.Task[list[np.ndarray]] | None = state.get("task")
    if runtime is None or task is None:
        return flow.async_abort(reason="not_running")
    samples = task.result()
    if len(samples) < MIN_SAMPLES:
        return flow.async_abort(reason="no_face")
    people: PeopleManager = runtime.features.people
    await people.async_add_person(state[CONF_NAME], state[CONF_MEDIA_ID], samples)
    return save_options(flow)


async def async_step_remove_person(
    flow: OptionsFlow, user_input: dict[str, Any] | None
) -> ConfigFlowResult:
    """Forget a person: their face data is deleted."""
    runtime = _runtime(flow)
    if runtime is None:
        return flow.async_abort(reason="not_running")
    people = runtime.features.people
    if not people.people:
        return flow.async_abort(reason="no_people")
    if user_input is not None:
        await people.async_remove_person(user_input[CONF_NAME])
        return save_options(flow)
    return flow.async_show_form(
        step_id="remove_person",
        data_schema=vol.Schema(
            {
                vol.Required(CONF_NAME): selector.SelectSelector(
                    selector.SelectSelectorConfig(options=sorted(people.people))
                )
            }
        ),
    )
