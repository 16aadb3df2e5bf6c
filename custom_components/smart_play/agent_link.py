"""Desk agent link: an entry whose camera is analysed on another computer.

The desk agent (``smart-play-agent``, agent/ in this repository) runs the
integration's vision engine on the computer the user works at and POSTs JSON to
this entry's webhook (Home Assistant's ``webhook`` integration, local network
only). The webhook id is the entry's secret; it is never logged.

Every message carries the agent's whole current state, so a message that gets
through after an outage brings Home Assistant up to date by itself::

    {"v": 1, "kind": "heartbeat" | "transition" | "frame" | "gesture", "agent": "0.1.0",
     "state": "occupied" | "empty" | "unknown", "reason": "...", "t": 12.3,
     "seq": 4,            # transitions the agent's engine made since it started
     "camera": "streaming" | "connecting" | "failed" | "stopped",
     "camera_reason": null, "fps": 9.8, "motion": 1.2,
     "interval": 5,       # seconds until the next heartbeat
     "jpeg": "<base64>",  # "frame" only: the annotated picture, while watched
     "gesture": {"gesture": "next_track", "motion": "swipe left"}}  # "gesture" only

The answer carries the entry's settings, so a change in Home Assistant reaches the
agent within one heartbeat::

    {"v": 1, "camera": true, "watched": false,
     "settings": {"delay": 2.0, "sensitivity": 5, "fps": 10.0, "exclude_zones": [],
                  "gestures": {"enabled": false, "zone": [0.5, 0.0, 1.0, 0.5], "mirror": true}}}

The agent runs the gesture analyzer itself while the answer says gestures are on
and sends each gesture at once; Home Assistant handles it exactly like a gesture
seen by a local camera (event entity, ``smart_play_gesture``, player command).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from http import HTTPStatus
import json
import logging
import time
from typing import Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.network import NoURLAvailableError, get_url
import voluptuous as vol

from .const import CONF_SOURCE, DOMAIN, SOURCE_AGENT
from .vision.gestures import Gesture, GestureEvent
from .vision.pipeline import WATCH_SECONDS, PipelineStats
from .vision.types import Occupancy, SourceState, SourceStatus, Transition

_LOGGER = logging.getLogger(__name__)

PROTOCOL: Final = 1
INSTALL_COMMAND: Final = 'pip install "git+https://github.com/smart-play-dev/smart_play"'
FALLBACK_URL: Final = "http://homeassistant.local:8123"
MAX_BODY: Final = 512 * 1024  # bytes of one request (a small JPEG, base64)
MISSED_HEARTBEATS: Final = 3  # silent intervals before the agent counts as offline
DEFAULT_INTERVAL: Final = 5.0
FRAME_FRESH: Final = 5.0  # seconds an uploaded picture is shown
# After the tracking view is opened the agent learns it in its next answer (at most
# one heartbeat interval), then uploads. Home Assistant's camera proxy gives up at 10 s.
FIRST_FRAME_MARGIN: Final = 3.0
FIRST_FRAME_MAX: Final = 9.0
GESTURE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("gesture"): vol.In([str(gesture) for gesture in Gesture]),
        vol.Optional("motion", default=""): vol.All(str, vol.Length(max=40)),
        vol.Optional("t", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)
_TEXT = vol.All(str, vol.Length(max=300))

MESSAGE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("v"): PROTOCOL,
        vol.Required("kind"): vol.In(("heartbeat", "transition", "frame", "gesture")),
        vol.Required("state"): vol.In([str(state) for state in Occupancy]),
        vol.Optional("reason", default=""): _TEXT,
        vol.Optional("t", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Required("seq"): vol.All(int, vol.Range(min=0)),
        vol.Required("camera"): vol.In(
            [str(s) for s in SourceStatus if s is not SourceStatus.OFFLINE]
        ),
        vol.Optional("camera_reason", default=None): vol.Any(None, _TEXT),
        vol.Optional("fps", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=1000)),
        vol.Optional("motion", default=0.0): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
        vol.Optional("interval", default=DEFAULT_INTERVAL): vol.All(
            vol.Coerce(float), vol.Range(min=0.5, max=60)
        ),
        vol.Optional("jpeg"): str,
        vol.Optional("gesture"): GESTURE_SCHEMA,
        vol.Optional("agent"): _TEXT,
    },
    extra=vol.REMOVE_EXTRA,
)


def is_agent_entry(data: Mapping[str, Any]) -> bool:
    """Whether an entry's camera is on another computer (reported by the desk agent)."""
    return data.get(CONF_SOURCE) == SOURCE_AGENT and bool(data.get(CONF_WEBHOOK_ID))


def agent_command(hass: HomeAssistant, webhook_id: str) -> str:
    """Return the command to run on the desk computer, with this Home Assistant's URL."""
    try:
        url = get_url(hass, allow_cloud=False, prefer_external=False)
    except NoURLAvailableError:
        url = FALLBACK_URL
    return f"smart-play-agent --url {url} --key {webhook_id}"


def agent_placeholders(hass: HomeAssistant, webhook_id: str) -> dict[str, str]:
    """Placeholders of the texts that show how to install and start the agent."""
    return {"install": INSTALL_COMMAND, "command": agent_command(hass, webhook_id)}


class BadRequest(Exception):
    """A request the agent should not have sent (answered with a 4xx)."""

    def __init__(self, status: HTTPStatus, why: str) -> None:
        """Create the error; ``why`` is safe to log (no secret, no payload)."""
        super().__init__(why)
        self.status = status


class AgentLink:
    """The Home Assistant end of a desk agent (satisfies :class:`~.camera_host.CameraHost`).

    ``on_transition(transition, act)`` gets every occupancy change; ``act`` is
    False when the agent merely comes back with the state it had before it went
    offline (nothing is paused or resumed because of an outage).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        *,
        on_transition: Callable[[Transition, bool], None],
        on_source_state: Callable[[SourceState], None],
        on_stats: Callable[[PipelineStats], None],
        settings: Callable[[], dict[str, Any]],
        on_gesture: Callable[[GestureEvent], None],
    ) -> None:
        """Create the link (the webhook is registered by :meth:`async_start`)."""
        self.hass = hass
        self.entry = entry
        self._webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        self._on_transition = on_transition
        self._on_source_state = on_source_state
        self._on_stats = on_stats
        self._settings = settings
        self._on_gesture = on_gesture
        self._interval = DEFAULT_INTERVAL
        self._camera_enabled = True
        self._registered = False
        self._offline_unsub: CALLBACK_TYPE | None = None
        self._occupancy = Occupancy.UNKNOWN  # as last shown from the agent's reports
        self._source = SourceState(SourceStatus.CONNECTING, None, time.monotonic())
        self._seq: int | None = None
        self._before_offline: tuple[Occupancy, int] | None = None
        self._watch_until = 0.0
        self._jpeg: bytes | None = None
        self._jpeg_at = 0.0
        self._warned = False
        self.agent_version: str | None = None
        self.last_seen: float | None = None
        self.messages = 0
        self.rejected = 0

    # ------------------------------------------------------------ CameraHost
    async def async_start(self, camera_enabled: bool) -> None:
        """Register the webhook and wait for the agent (offline if it stays silent)."""
        self._camera_enabled = camera_enabled
        webhook.async_register(
            self.hass,
            DOMAIN,
            f"Smart Play agent ({self.entry.title})",
            self._webhook_id,
            self._async_handle_webhook,
            local_only=True,
            # Every method reaches this handler, so a wrong one is answered here
            # without Home Assistant logging the webhook id.
            allowed_methods=("GET", "HEAD", "POST", "PUT"),
        )
        self._registered = True
        self._schedule_offline(DEFAULT_INTERVAL)

    async def async_stop(self) -> None:
        """Unregister the webhook."""
        if self._offline_unsub is not None:
            self._offline_unsub()
            self._offline_unsub = None
        if self._registered:
            webhook.async_unregister(self.hass, self._webhook_id)
            self._registered = False

    async def async_set_camera_enabled(self, enabled: bool) -> None:
        """Tell the agent (in the next answer) to close or reopen the webcam."""
        self._camera_enabled = enabled
        self._occupancy = Occupancy.UNKNOWN
        self._before_offline = None
        self._jpeg = None
        if enabled:
            self._source = SourceState(SourceStatus.CONNECTING, None, time.monotonic())

    def latest_jpeg(self) -> bytes | None:
        """Return the newest picture the agent uploaded; asking makes it upload while watched."""
        now = time.monotonic()
        self._watch_until = now + WATCH_SECONDS
        if self._jpeg is None or now - self._jpeg_at > FRAME_FRESH:
            return None
        return self._jpeg

    @property
    def first_frame_timeout(self) -> float:
        """The agent learns that the view is watched in its next answer: one interval + margin."""
        return min(FIRST_FRAME_MAX, self._interval + FIRST_FRAME_MARGIN)

    # --------------------------------------------------------------- webhook
    async def _async_handle_webhook(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        """Take one message of the agent; answer with the entry's settings."""
        try:
            message = await self._async_read(request)
        except BadRequest as err:
            return self._reject(err)
        self._async_take(message)
        return web.json_response(self._answer())

    async def _async_read(self, request: web.Request) -> dict[str, Any]:
        """Read and validate a request; raise :class:`BadRequest` for anything else."""
        if request.method != "POST":
            raise BadRequest(HTTPStatus.METHOD_NOT_ALLOWED, f"method {request.method}")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        try:
            payload = json.loads(body)
        except ValueError as err:
            raise BadRequest(HTTPStatus.BAD_REQUEST, "not JSON") from err
        if isinstance(payload, dict) and payload.get("v") not in (None, PROTOCOL):
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"protocol {payload.get('v')!r}")
        try:
            message: dict[str, Any] = MESSAGE_SCHEMA(payload)
        except vol.Invalid as err:
            raise BadRequest(HTTPStatus.BAD_REQUEST, f"invalid message: {err}") from err
        if (message["kind"] == "gesture") != ("gesture" in message):
            raise BadRequest(HTTPStatus.BAD_REQUEST, "a gesture message carries one gesture")
        if "jpeg" in message:
            try:
                jpeg = base64.b64decode(message["jpeg"], validate=True)
            except (binascii.Error, ValueError) as err:
                raise BadRequest(HTTPStatus.BAD_REQUEST, "picture is not base64") from err
            if not jpeg.startswith(b"\xff\xd8"):
                raise BadRequest(HTTPStatus.BAD_REQUEST, "picture is not a JPEG")
            message["jpeg"] = jpeg
        return message

    def _reject(self, err: BadRequest) -> web.Response:
        """Answer a bad request; the first one per entry is logged (without the secret)."""
        self.rejected += 1
        if not self._warned:
            self._warned = True
            _LOGGER.warning(
                "%s: rejected a request to the Smart Play agent webhook (%s); "
                "further bad requests are not logged",
                self.entry.title,
                err,
            )
        return web.json_response({"error": str(err)}, status=err.status)

    def _answer(self) -> dict[str, Any]:
        """Return the entry's current settings, as the agent applies them."""
        return {
            "v": PROTOCOL,
            "camera": self._camera_enabled,
            "watched": self._camera_enabled and time.monotonic() < self._watch_until,
            "settings": self._settings(),
        }

    # ----------------------------------------------------------------- state
    @callback
    def _async_take(self, message: dict[str, Any]) -> None:
        """Bring the entry up to date with a valid message of the agent."""
        now = time.monotonic()
        self.messages += 1
        self.last_seen = now
        self.agent_version = message.get("agent")
        self._interval = float(message["interval"])
        self._schedule_offline(self._interval)
        if not self._camera_enabled:
            return  # switched off: what the agent still reports until it obeys is moot
        came_back = self._source.status is SourceStatus.OFFLINE
        source = SourceState(SourceStatus(message["camera"]), message["camera_reason"], now)
        if (source.status, source.reason) != (self._source.status, self._source.reason):
            self._source = source
            self._on_source_state(source)
        state = Occupancy(message["state"])
        seq = int(message["seq"])
        if state is not self._occupancy:
            # The same state and no transition in between: only the link was down.
            act = not (came_back and self._before_offline == (state, seq))
            self._occupancy = state
            self._on_transition(Transition(message["t"], state, message["reason"], now), act)
        self._seq = seq
        self._before_offline = None
        if isinstance(message.get("jpeg"), bytes):
            self._jpeg = message["jpeg"]
            self._jpeg_at = now
        if (gesture := message.get("gesture")) is not None:
            self._on_gesture(
                GestureEvent(Gesture(gesture["gesture"]), gesture["t"], gesture["motion"])
            )
        self._on_stats(
            PipelineStats(
                state=state,
                motion_score=float(message["motion"]),
                fps=float(message["fps"]),
                source_state=source,
            )
        )

    def _schedule_offline(self, interval: float) -> None:
        if self._offline_unsub is not None:
            self._offline_unsub()
        self._offline_unsub = async_call_later(
            self.hass, MISSED_HEARTBEATS * interval, self._async_offline
        )

    @callback
    def _async_offline(self, _now: Any) -> None:
        """No message for three heartbeats: camera offline, occupancy unknown (never empty)."""
        self._offline_unsub = None
        if not self._camera_enabled or self._source.status is SourceStatus.OFFLINE:
            return
        if self._seq is not None:
            self._before_offline = (self._occupancy, self._seq)
        self._source = SourceState(
            SourceStatus.OFFLINE, "the Smart Play agent stopped reporting", time.monotonic()
        )
        self._on_source_state(self._source)
        if self._occupancy is not Occupancy.UNKNOWN:
            self._occupancy = Occupancy.UNKNOWN
            self._on_transition(
                Transition(0.0, Occupancy.UNKNOWN, "agent offline", time.monotonic()), True
            )

    def diagnostics(self) -> dict[str, Any]:
        """Return what the link knows (no secret)."""
        return {
            "agent_version": self.agent_version,
            "seconds_since_last_message": None
            if self.last_seen is None
            else round(time.monotonic() - self.last_seen, 1),
            "messages": self.messages,
            "rejected": self.rejected,
            "camera_enabled": self._camera_enabled,
            "watched": time.monotonic() < self._watch_until,
        }
