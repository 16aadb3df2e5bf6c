"""Optional camera features of an entry: hand gestures and people recognition.

Both features are off by default and run inside the entry's vision pipeline:
:class:`SmartPlayFeatures` wraps the occupancy engine in a
:class:`~.vision.analysis.AnalyzingEngine` whose analyzers see every analysed
frame in the pipeline thread. What they find is handed to the event loop
with ``call_soon_threadsafe``; from there gestures go to the event entity (via
the dispatcher) and to the playback controller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import DOMAIN
from .people import OPT_PEOPLE, PeopleManager
from .tasks import async_cancel_tasks
from .vision.analysis import AnalyzingEngine, Overlay, overlay_renderer
from .vision.gestures import (
    DEFAULT_ZONE,
    GestureAnalyzer,
    GestureConfig,
    GestureEvent,
    format_zone,
    parse_zone,
)
from .vision.types import Occupancy, Transition

if TYPE_CHECKING:
    from .controller import PlaybackController

_LOGGER = logging.getLogger(__name__)

# Options (entry.options), all live without a reload.
OPT_GESTURES: Final = "gestures"  # bool, default off
OPT_GESTURE_ZONE: Final = "gesture_zone"  # "x0, y0, x1, y1" shares of the picture
OPT_GESTURE_MIRROR: Final = "gesture_mirror"  # bool: directions as the person sees them
DEFAULT_GESTURE_ZONE: Final = format_zone(DEFAULT_ZONE)

#: Dispatcher signal with the :class:`GestureEvent` as argument (sent on the loop).
SIGNAL_GESTURE: Final = "smart_play_gesture_{}"
#: Bus event fired for every recognised gesture (automations without the entity).
EVENT_GESTURE: Final = f"{DOMAIN}_gesture"


def gesture_settings(options: Mapping[str, Any]) -> dict[str, Any]:
    """Gesture settings as a desk agent applies them (its heartbeat answer)."""
    return {
        "enabled": bool(options.get(OPT_GESTURES, False)),
        "zone": list(gesture_zone_option(dict(options))),
        "mirror": bool(options.get(OPT_GESTURE_MIRROR, True)),
    }


def gesture_zone_option(options: dict[str, Any]) -> tuple[float, float, float, float]:
    """Return the configured gesture zone (the default one when unset or invalid)."""
    try:
        return parse_zone(options.get(OPT_GESTURE_ZONE, DEFAULT_GESTURE_ZONE))
    except (TypeError, ValueError):
        _LOGGER.warning("Invalid gesture zone %r; using the default", options.get(OPT_GESTURE_ZONE))
        return DEFAULT_ZONE


class SmartPlayFeatures:
    """Gestures (and people) of one config entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        controller: PlaybackController,
        threadsafe: Callable[[Callable[[Any], None]], Callable[[Any], None]],
    ) -> None:
        """Create the analyzers (off unless the entry's options switch them on).

        ``threadsafe`` wraps a loop callback so the pipeline thread can call it
        (the runtime's bridge, which also drops calls once the entry stops).
        """
        self.hass = hass
        self._threadsafe = threadsafe
        self.entry = entry
        self.controller = controller
        self.gesture_signal = SIGNAL_GESTURE.format(entry.entry_id)
        self.last_gesture: GestureEvent | None = None
        self.gesture_count = 0
        self._stopped = False
        self._tasks: set[asyncio.Task[Any]] = set()
        options = entry.options
        self.gestures = GestureAnalyzer(
            self._threadsafe(self.async_handle_gesture),
            GestureConfig(
                zone=gesture_zone_option(dict(options)),
                mirror=bool(options.get(OPT_GESTURE_MIRROR, True)),
            ),
            enabled=bool(options.get(OPT_GESTURES, False)),
        )
        self._overlays: list[Overlay] = [self.gestures]
        self.people = PeopleManager(hass, entry, controller, self._threadsafe)
        self._overlays.append(self.people.analyzer)
        self._occupancy = Occupancy.UNKNOWN

    # ------------------------------------------------------------------ wiring
    def wrap(self, engine: Any) -> AnalyzingEngine:
        """Return the engine the pipeline should run (engine + analyzers)."""
        return AnalyzingEngine(engine, [self.gestures, self.people.analyzer])

    def add_overlay(self, overlay: Overlay) -> None:
        """Draw ``overlay`` on the tracking view too (first, under the features' own)."""
        self._overlays.insert(0, overlay)

    @property
    def renderer(self) -> Callable[..., bytes]:
        """Pipeline renderer: the usual annotations plus the features' overlays."""
        return overlay_renderer(self._overlays)

    @property
    def gestures_enabled(self) -> bool:
        """Whether gestures are analysed."""
        return self.gestures.enabled

    @callback
    def async_apply_options(self, options: Mapping[str, Any]) -> None:
        """Apply changed options live (a reload only to add/remove entities)."""
        self.gestures.detector.config.mirror = bool(options.get(OPT_GESTURE_MIRROR, True))
        zone = gesture_zone_option(dict(options))
        if zone != self.gestures.zone:
            self.gestures.set_zone(zone)
        enabled = bool(options.get(OPT_GESTURES, False))
        people = bool(options.get(OPT_PEOPLE, False)) and self.people.face_problem is None
        if enabled != self.gestures.enabled or people != self.people.enabled:
            # The gesture entity and the person sensor exist only while their feature
            # is on: reload to add/remove them.
            self.gestures.enabled = enabled
            self.people.analyzer.enabled = people
            # The options flow stores the options only after this returns, and a
            # reload starts at once (eager task): schedule it on the next loop turn
            # so the reloaded entry reads the new options.
            self.hass.loop.call_soon(self._async_reload)
            return
        async_dispatcher_send(self.hass, self.gesture_signal, None)
        async_dispatcher_send(self.hass, self.people.signal)

    @callback
    def _async_reload(self) -> None:
        """Reload the entry to add/remove the feature entities (unless it was unloaded)."""
        if not self._stopped:
            self.hass.config_entries.async_schedule_reload(self.entry.entry_id)

    async def async_load(self) -> None:
        """Load the enrolled people."""
        await self.people.async_load()

    @callback
    def async_on_transition(self, transition: Transition) -> None:
        """Occupancy changed: the people feature wants to know where from."""
        previous, self._occupancy = self._occupancy, transition.state
        self.people.async_on_transition(str(previous), str(transition.state))

    async def async_stop(self) -> None:
        """Stop reacting; cancel commands in flight."""
        self._stopped = True
        self.gestures.enabled = False
        await self.people.async_stop()
        await async_cancel_tasks(self._tasks)

    def diagnostics(self) -> dict[str, Any]:
        """Feature state for diagnostics."""
        last = self.last_gesture
        return {
            "gestures": {
                "enabled": self.gestures.enabled,
                "zone": list(self.gestures.zone),
                "mirror": self.gestures.detector.config.mirror,
                "recognised": self.gesture_count,
                "last": None
                if last is None
                else {"gesture": str(last.gesture), "motion": last.motion},
                "cost_ms": round(self.gestures.cost_s * 1000.0, 3),
            },
            "people": self.people.diagnostics(),
        }

    @callback
    def async_handle_gesture(self, event: GestureEvent) -> None:
        """Carry out a recognised hand gesture: the user sees the event, the player obeys.

        One path for both hosts (the local pipeline and the desk agent's webhook):
        the gesture event entity fires, ``smart_play_gesture`` goes on the bus and
        the controller carries the command out on the player. Ignored while the
        gestures option is off or the entry is stopping.
        """
        if self._stopped or not self.gestures.enabled:
            return
        self.last_gesture = event
        self.gesture_count += 1
        _LOGGER.debug("%s: gesture %s (%s)", self.entry.title, event.gesture, event.motion)
        async_dispatcher_send(self.hass, self.gesture_signal, event)
        self.hass.bus.async_fire(
            EVENT_GESTURE,
            {
                "entry_id": self.entry.entry_id,
                "gesture": str(event.gesture),
                "motion": event.motion,
            },
        )
        task = self.hass.async_create_background_task(
            self.controller.async_on_gesture(str(event.gesture)),
            f"{DOMAIN} {self.entry.entry_id} gesture {event.gesture}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
