"""Per-entry runtime: owns the vision pipeline and the playback controller.

The pipeline runs in its own threads. Everything it reports is handed to the
event loop with ``call_soon_threadsafe``; from there the runtime updates its
state, tells the controller about occupancy changes and notifies entities
through the dispatcher.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
import logging
import time
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later

from .agent_link import AgentLink, is_agent_entry
from .camera_host import CameraHost, LocalCamera
from .const import (
    CAMERA_FAILING_AFTER,
    CONF_EXCLUDE_ZONES,
    CONF_LOOP,
    CONF_SOURCE,
    DEFAULT_DELAY,
    DEFAULT_FPS,
    DEFAULT_SENSITIVITY,
    DOMAIN,
    EVENT_OCCUPANCY,
    ISSUE_CAMERA_FAILING,
    OPT_CAMERA,
    OPT_DELAY,
    OPT_FPS,
    OPT_SENSITIVITY,
    SIGNAL_UPDATE,
)
from .controller import PlaybackController
from .features import SmartPlayFeatures, gesture_settings
from .source_resolver import camera_stream_resolver, is_camera_entity
from .vision.engine import EngineConfig, OccupancyEngine, clean_zones
from .vision.pipeline import PipelineStats, VisionPipeline
from .vision.render import ZoneOverlay
from .vision.source import FrameSource, SourceSpec, redact_url
from .vision.types import Occupancy, SourceState, SourceStatus, Transition

_LOGGER = logging.getLogger(__name__)

type SmartPlayConfigEntry = ConfigEntry[SmartPlayRuntime]


class SmartPlayRuntime:
    """Everything one config entry runs: camera → engine → controller → entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: SmartPlayConfigEntry,
        source_url: str,
        controller: PlaybackController,
    ) -> None:
        """Build the pipeline for ``source_url`` (not started yet)."""
        self.hass = hass
        self.entry = entry
        self.controller = controller
        self.signal = SIGNAL_UPDATE.format(entry.entry_id)
        self.occupancy = Occupancy.UNKNOWN
        self.source_state = SourceState(SourceStatus.CONNECTING, None, time.monotonic())
        self.stats: PipelineStats | None = None
        self.transitions: deque[Transition] = deque(maxlen=50)
        configured = str(entry.data.get(CONF_SOURCE, source_url))
        spec: SourceSpec = source_url
        camera_entity = is_camera_entity(configured)
        if camera_entity:
            # A camera entity's URL may carry a token (path or query) and may
            # expire: shown as the entity id, asked for afresh at every reconnect.
            self._source_label = configured
            spec = camera_stream_resolver(hass, configured, first_url=source_url)
        else:
            self._source_label = redact_url(source_url)
        self._failing_unsub: CALLBACK_TYPE | None = None
        self._was_streaming = False
        self._stopped = False
        zones = clean_zones(entry.options.get(CONF_EXCLUDE_ZONES, []))
        self.engine = OccupancyEngine(
            EngineConfig(
                delay=float(entry.options.get(OPT_DELAY, DEFAULT_DELAY)),
                sensitivity=int(entry.options.get(OPT_SENSITIVITY, DEFAULT_SENSITIVITY)),
                exclude_zones=zones,
            )
        )
        self.zone_overlay = ZoneOverlay(zones)  # the ignored zones on the tracking view
        # Optional camera features (gestures, people) run as analyzers next to the engine.
        self.features = SmartPlayFeatures(hass, entry, controller, self._threadsafe)
        self.features.add_overlay(self.zone_overlay)
        self.pipeline: VisionPipeline | None = None  # None: a desk agent analyses the frames
        self.host: CameraHost
        if is_agent_entry(entry.data):
            # The engine here only holds the entry's settings; the agent's engine decides.
            self._source_label = "Smart Play agent"
            self.host = AgentLink(
                hass,
                entry,
                on_transition=self._async_handle_agent_transition,
                on_source_state=self._async_handle_source_state,
                on_stats=self._async_handle_stats,
                settings=self._agent_settings,
                on_gesture=self.features.async_handle_gesture,
            )
            return
        source = FrameSource(
            spec,
            fps_cap=float(entry.options.get(OPT_FPS, DEFAULT_FPS)),
            loop=bool(entry.data.get(CONF_LOOP, False)),
            realtime=True,
            label=self._source_label,
            hide_path=camera_entity,
        )
        self.pipeline = VisionPipeline(
            source,
            self.features.wrap(self.engine),
            on_transition=self._threadsafe(self._async_handle_transition),
            on_source_state=self._threadsafe(self._async_handle_source_state),
            on_stats=self._threadsafe(self._async_handle_stats),
            renderer=self.features.renderer,
        )
        self.host = LocalCamera(hass, self.pipeline)

    # ----------------------------------------------------------------- settings
    @property
    def delay(self) -> float:
        """Absence delay in seconds (as the engine applies it)."""
        return self.engine.config.delay

    @property
    def sensitivity(self) -> int:
        """Sensitivity, 1 (least) .. 10 (most) (as the engine applies it)."""
        return self.engine.config.sensitivity

    @property
    def auto_pause(self) -> bool:
        """Whether leaving pauses playback (and returning resumes it)."""
        return self.controller.auto_pause

    @auto_pause.setter
    def auto_pause(self, value: bool) -> None:
        self.controller.auto_pause = value
        self._notify()

    @property
    def available(self) -> bool:
        """True while the camera is streaming."""
        return self.source_state.status is SourceStatus.STREAMING

    @property
    def source_label(self) -> str:
        """The camera source with any credentials removed (safe to show)."""
        return self._source_label

    @property
    def device_info(self) -> DeviceInfo:
        """The device all of this entry's entities belong to."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.entry.entry_id)},
            name=self.entry.title,
            manufacturer="Smart Play",
            model="Camera occupancy",
        )

    async def async_set_delay(self, seconds: float) -> None:
        """Change the absence delay live and persist it."""
        self._update_options({OPT_DELAY: float(seconds)})

    async def async_set_sensitivity(self, value: int) -> None:
        """Change the sensitivity live and persist it."""
        self._update_options({OPT_SENSITIVITY: int(value)})

    @callback
    def _update_options(self, changes: dict[str, Any]) -> None:
        options = {**self.entry.options, **changes}
        self.hass.config_entries.async_update_entry(self.entry, options=options)
        self.async_apply_options(options)

    @callback
    def async_apply_options(self, options: Mapping[str, Any] | None = None) -> None:
        """Apply options (default: the entry's) to the running engine, without a reload.

        There is deliberately no config entry update listener: the options flow and
        the number entities call this directly (an update listener next to the
        reauth/reconfigure flows' reloads is an error from Home Assistant 2026.12).
        """
        if options is None:
            options = self.entry.options
        self.engine.set_delay(float(options.get(OPT_DELAY, DEFAULT_DELAY)))
        self.engine.set_sensitivity(int(options.get(OPT_SENSITIVITY, DEFAULT_SENSITIVITY)))
        zones = clean_zones(options.get(CONF_EXCLUDE_ZONES, []))
        self.engine.set_exclude_zones(zones)
        self.zone_overlay.zones = zones
        self.features.async_apply_options(options)
        self._notify()

    def latest_jpeg(self) -> bytes | None:
        """Newest annotated frame; asking for it keeps annotation running."""
        return self.host.latest_jpeg()

    @property
    def first_frame_timeout(self) -> float:
        """Seconds the tracking view waits for its first frame (longer for a desk agent)."""
        return self.host.first_frame_timeout

    @property
    def camera_enabled(self) -> bool:
        """Whether the Camera switch is on (the default)."""
        return bool(self.entry.options.get(OPT_CAMERA, True))

    async def async_set_camera_enabled(self, enabled: bool) -> None:
        """Camera switch: off releases the camera and makes occupancy unavailable.

        What the user notices: with the switch off the webcam is free for other
        programs (a local entry stops its reader, a desk agent closes the webcam
        after its next heartbeat), occupancy is unavailable - never "empty", so
        nothing is paused - and the camera repair issue is not raised. On opens
        the camera again. The setting is kept across restarts (entry options).
        """
        if enabled == self.camera_enabled:
            return
        self._update_options({OPT_CAMERA: enabled})
        await self.host.async_set_camera_enabled(enabled)
        if enabled:
            self._async_handle_source_state(
                SourceState(SourceStatus.CONNECTING, None, time.monotonic())
            )
        else:
            self._async_camera_off()

    @callback
    def _async_camera_off(self) -> None:
        """Show the camera as stopped and occupancy as unknown (switch off)."""
        reason = "camera switched off"
        self._async_handle_source_state(SourceState(SourceStatus.STOPPED, reason, time.monotonic()))
        t = self.transitions[-1].t if self.transitions else 0.0
        # A stopped local pipeline's engine forgets what it saw (as on a lost camera).
        transition = self.engine.set_unknown(t, reason)
        if self.occupancy is not Occupancy.UNKNOWN:
            self._async_handle_transition(
                transition or Transition(t, Occupancy.UNKNOWN, reason, time.monotonic())
            )

    def _agent_settings(self) -> dict[str, Any]:
        """Return the settings a desk agent applies (sent in every heartbeat answer)."""
        options = self.entry.options
        settings: dict[str, Any] = {
            "delay": self.delay,
            "sensitivity": self.sensitivity,
            "fps": float(options.get(OPT_FPS, DEFAULT_FPS)),
            "exclude_zones": [list(zone) for zone in self.engine.config.exclude_zones],
            "gestures": gesture_settings(options),
        }
        return settings

    # ---------------------------------------------------------------- lifecycle
    async def async_start(self) -> None:
        """Load the controller's memory and start the camera threads."""
        await self.controller.async_load()
        await self.features.async_load()
        await self.host.async_start(self.camera_enabled)
        if not self.camera_enabled:
            self._async_camera_off()

    async def async_stop(self) -> None:
        """Stop threads, release the camera, cancel pending work."""
        self._stopped = True
        if self._failing_unsub:
            self._failing_unsub()
            self._failing_unsub = None
        ir.async_delete_issue(self.hass, DOMAIN, self._camera_issue_id)
        await self.host.async_stop()
        await self.features.async_stop()
        await self.controller.async_shutdown()

    def diagnostics(self) -> dict[str, Any]:
        """State for the diagnostics download (no secrets)."""
        stats = self.stats
        return {
            "source": self._source_label,
            "source_state": {
                "status": self.source_state.status.value,
                "reason": self.source_state.reason,
            },
            "occupancy": self.occupancy.value,
            "auto_pause": self.auto_pause,
            "delay": self.delay,
            "sensitivity": self.sensitivity,
            "exclude_zones": [
                dict(zip(("x", "y", "w", "h"), zone, strict=True))
                for zone in self.engine.config.exclude_zones
            ],
            "stats": None
            if stats is None
            else {
                "fps": round(stats.fps, 2),
                "motion_score": round(stats.motion_score, 2),
                "frame_cost_ms": round(stats.frame_cost_ms, 3),
            },
            "transitions": [
                {"t": round(t.t, 2), "state": t.state.value, "reason": t.reason}
                for t in self.transitions
            ],
            "features": self.features.diagnostics(),
            "camera_enabled": self.camera_enabled,
            "agent": self.host.diagnostics() if isinstance(self.host, AgentLink) else None,
        }

    # ------------------------------------------------------ thread → loop bridge
    def _threadsafe[T](self, handler: Callable[[T], None]) -> Callable[[T], None]:
        """Wrap a loop callback so the pipeline threads can call it."""
        loop = self.hass.loop

        def _call(value: T) -> None:
            if self._stopped or loop.is_closed():
                return
            loop.call_soon_threadsafe(handler, value)

        return _call

    @callback
    def _notify(self) -> None:
        async_dispatcher_send(self.hass, self.signal)

    @callback
    def _async_handle_agent_transition(self, transition: Transition, act: bool) -> None:
        """Handle a desk agent's transition; ``act`` False: back from an outage, unchanged."""
        self._async_handle_transition(transition, act=act)

    @callback
    def _async_handle_transition(self, transition: Transition, *, act: bool = True) -> None:
        if self._stopped:
            return
        previous = self.occupancy
        self.occupancy = transition.state
        self.transitions.append(transition)
        _LOGGER.debug(
            "%s: %s -> %s (%s)",
            self.entry.title,
            previous,
            transition.state,
            transition.reason,
        )
        self.hass.bus.async_fire(
            EVENT_OCCUPANCY,
            {
                "entry_id": self.entry.entry_id,
                "state": transition.state.value,
                "previous": previous.value,
                "reason": transition.reason,
            },
        )
        if act:
            self.controller.async_handle_transition(transition)
        self.features.async_on_transition(transition)
        self._notify()

    @callback
    def _async_handle_source_state(self, state: SourceState) -> None:
        if self._stopped:
            return
        self.source_state = state
        if state.status is SourceStatus.STREAMING:
            if self._failing_unsub:
                self._failing_unsub()
                self._failing_unsub = None
            ir.async_delete_issue(self.hass, DOMAIN, self._camera_issue_id)
            if not self._was_streaming:
                _LOGGER.info("%s: camera %s is streaming", self.entry.title, self._source_label)
            self._was_streaming = True
        else:
            if self._was_streaming:
                _LOGGER.warning(
                    "%s: camera %s stopped streaming (%s); occupancy is unknown until it is back",
                    self.entry.title,
                    self._source_label,
                    state.reason or state.status.value,
                )
            self._was_streaming = False
            if self._failing_unsub is None and self.camera_enabled:
                self._failing_unsub = async_call_later(
                    self.hass, CAMERA_FAILING_AFTER, self._async_camera_failing
                )
        self._notify()

    @property
    def _camera_issue_id(self) -> str:
        return f"{ISSUE_CAMERA_FAILING}_{self.entry.entry_id}"

    @callback
    def _async_camera_failing(self, _now: Any) -> None:
        self._failing_unsub = None
        if self.available or self._stopped or not self.camera_enabled:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self._camera_issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_CAMERA_FAILING,
            translation_placeholders={
                "title": self.entry.title,
                "source": self._source_label,
                "reason": self.source_state.reason or self.source_state.status.value,
            },
        )

    @callback
    def _async_handle_stats(self, stats: PipelineStats) -> None:
        if self._stopped:
            return
        self.stats = stats
        self._notify()
