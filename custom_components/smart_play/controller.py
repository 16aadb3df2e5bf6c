"""Pause/resume policy: pause what plays when the room empties, resume it on return.

Rules (what a user notices), each one named function below:

* :func:`is_leave` — only a leave pauses: OCCUPIED → EMPTY, with camera outages (UNKNOWN)
  bridged by the last known state, which survives a restart. An empty room at start-up
  with nobody seen before pauses nothing. Only when auto pause is on and something plays.
* :func:`playing_here` — the scope rule: only the Spotify devices chosen for this camera
  are paused; music elsewhere plays on (``smart_play_pause_skipped`` says why).
* :func:`session_dropped` — a paused device that went idle (dropped its session but is
  still listed) is started again with the remembered item and position.
* :func:`contradicts_own_command` — Spotify shows our own pause/resume only a moment
  later; a read that contradicts a command we sent seconds ago is read once more.
* What was paused is remembered in a :class:`~homeassistant.helpers.storage.Store`, so a
  restart in between loses nothing.
* OCCUPIED resumes only what Smart Play paused, and only when the player still shows
  that item, paused, at that position, on that device. Anything else means the user
  took over: the memo is forgotten and ``smart_play_resume_skipped`` says why.
* Transitions are handled one at a time. A newer transition cancels a pending wait (a
  rate limit), and the generation is checked before every command, so a pause is never
  sent after the user came back.
* Failures are reported once (a warning, a repair issue for a missing Premium, a reauth
  for rejected credentials), never retried in a loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
import logging
import time
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .const import (
    DOMAIN,
    EVENT_PAUSE_SKIPPED,
    EVENT_PAUSED,
    EVENT_RESUME_SKIPPED,
    EVENT_RESUMED,
    ISSUE_DEVICE_RESTRICTED,
    ISSUE_PREMIUM_REQUIRED,
    SIGNAL_UPDATE,
)
from .players.base import (
    AlreadyPaused,
    AuthFailed,
    DeviceGone,
    DeviceScope,
    NoActiveDevice,
    OwnCommand,
    PauseMemo,
    Playback,
    PlaybackTarget,
    PlayerError,
    PlayerUnavailable,
    PremiumRequired,
    RateLimited,
)
from .tasks import async_cancel_tasks
from .vision.types import Occupancy, Transition

_LOGGER = logging.getLogger(__name__)

STORE_VERSION: Final = 1
#: A paused player still at the remembered position (±) has not been touched.
POSITION_TOLERANCE_MS: Final = 5000
#: Longer rate limits are not waited out (the moment has passed); the action is dropped.
MAX_RATE_LIMIT_WAIT: Final = 900.0
#: A pause older than this is not resumed: coming back the next morning should not
#: start last night's music.
MAX_MEMO_AGE: Final = 4 * 3600.0
#: Volume change of one volume gesture, in percentage points (Spotify).
GESTURE_VOLUME_STEP: Final = 10
#: A read this soon (s) after our own pause/resume may still show the state before it.
OWN_COMMAND_WINDOW: Final = 3.0
#: The contradicting read is repeated this long (s) after our command (Spotify lags ~1-2 s).
OWN_COMMAND_SETTLE: Final = 1.5
#: ... but never sooner than this after the first read.
MIN_REREAD_WAIT: Final = 0.3
#: Spotify's clock and ours may differ: "untouched since before our pause" needs this margin (s).
CLOCK_MARGIN: Final = 60.0


def is_leave(last_known: Occupancy | None, state: Occupancy) -> bool:
    """Return True when ``state`` means someone left the desk: the only thing that pauses.

    What a user notices: the music pauses only when the camera saw someone at the desk
    and then sees it empty (OCCUPIED → EMPTY). A camera outage in between (UNKNOWN) is
    bridged by the last known state, which survives a restart, so OCCUPIED → UNKNOWN →
    EMPTY still pauses. An empty desk right after Home Assistant starts, with nobody seen
    before, and EMPTY → UNKNOWN → EMPTY (the camera reconnects to an empty room) pause
    nothing: music you listen to elsewhere (your phone in the car) is left alone.
    """
    return state is Occupancy.EMPTY and last_known is Occupancy.OCCUPIED


def _norm(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def playing_here(scope: DeviceScope | None, playback: Playback) -> bool:
    """Return True when ``playback`` plays on a device at this camera (the scope rule).

    What a user notices: Smart Play pauses only the Spotify devices chosen for this
    camera. Music moved to the living-room speaker plays on when you leave the desk, and
    the logbook says "not paused: playing on Living Room (not at this camera)". A device
    matches by its Spotify Connect id, or by its name (case and spaces ignored) for
    clients whose id changes between launches (the Web Player in a browser gets a new id
    per session; some Connect speakers after a reset). "Any device" (and a media player
    target, which is scoped by its entity) pauses wherever it plays.
    """
    if scope is None or scope.any_device:
        return True
    name = _norm(playback.device_name)
    return any(
        (device.device_id is not None and device.device_id == playback.device_id)
        or (bool(name) and _norm(device.name) == name)
        for device in scope.devices
    )


def session_dropped(memo: PauseMemo, playback: Playback | None) -> bool:
    """Return True when the paused device may have dropped its session (idle).

    What a user notices: after a long pause the music still resumes. Many Spotify
    Connect clients drop a paused session after a while; ``GET /me/player`` then answers
    nothing (204), or shows another device that is paused and untouched since before
    Smart Play paused (Spotify's ``timestamp``). If the remembered device is still
    listed, Smart Play starts the remembered item again there, at the remembered
    position. Whenever anything plays, or the player shows something the user did after
    the pause (moved our paused music to the phone, started something else), this is not
    used and the usual checks decide: music the user chose is never overridden.
    """
    if memo.device_id is None:
        return False
    if playback is None:
        return True
    return (
        not playback.is_playing
        and playback.device_id != memo.device_id
        and playback.changed_at is not None
        and playback.changed_at < memo.paused_at - CLOCK_MARGIN
    )


def contradicts_own_command(
    playback: Playback | None, command: OwnCommand | None, now: float
) -> bool:
    """Return True when ``playback`` may be the player lagging behind our own command.

    What a user notices: leaving and coming straight back still ends with the music
    playing. Spotify's player state lags our commands by up to a second or two, so a
    read taken within :data:`OWN_COMMAND_WINDOW` seconds of our own pause that still shows
    that device playing that item (or of our own resume that still shows it paused) is
    read once more before it is believed, instead of being taken for "resumed by hand"
    (which would forget the pause and leave the music off). Anything else (another item,
    another device) is not lag and is believed at once.
    """
    if command is None or playback is None or now - command.at > OWN_COMMAND_WINDOW:
        return False
    if (playback.device_id, playback.item_uri) != (command.device_id, command.item_uri):
        return False
    return playback.is_playing is (command.action == "pause")


class SkipReason(StrEnum):
    """Why a resume did not happen (``reason`` of ``smart_play_resume_skipped``)."""

    NOTHING_ACTIVE = "nothing_active"  # no active device / player off
    DEVICE_CHANGED = "device_changed"  # playback moved to another device
    ITEM_CHANGED = "item_changed"  # another track/episode/context
    RESUMED_BY_USER = "resumed_by_user"  # already playing again
    POSITION_CHANGED = "position_changed"  # user seeked while paused
    DEVICE_GONE = "device_gone"  # remembered device no longer reachable
    PREMIUM_REQUIRED = "premium_required"
    AUTH_FAILED = "auth_failed"
    RATE_LIMITED = "rate_limited"  # Retry-After longer than worth waiting
    UNAVAILABLE = "player_unavailable"  # 5xx / timeouts after retries
    ERROR = "error"
    EXPIRED = "expired"  # paused too long ago
    DEVICE_RESTRICTED = "device_restricted"  # Spotify lets nobody control the device


_SKIP_MESSAGES: Final[dict[SkipReason, str]] = {
    SkipReason.NOTHING_ACTIVE: "nothing is active on the player any more",
    SkipReason.DEVICE_CHANGED: "playback moved to another device",
    SkipReason.ITEM_CHANGED: "something else is loaded now",
    SkipReason.RESUMED_BY_USER: "it was already resumed by hand",
    SkipReason.POSITION_CHANGED: "the position was changed by hand",
    SkipReason.DEVICE_GONE: "the device is gone",
    SkipReason.PREMIUM_REQUIRED: "the account has no Spotify Premium",
    SkipReason.AUTH_FAILED: "the Spotify login must be renewed",
    SkipReason.RATE_LIMITED: "Spotify asked to wait too long",
    SkipReason.UNAVAILABLE: "the player did not answer",
    SkipReason.ERROR: "the player refused",
    SkipReason.EXPIRED: "it was paused more than 4 hours ago",
    SkipReason.DEVICE_RESTRICTED: "Spotify lets nobody control that device remotely",
}


async def async_remove_controller_data(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the pause memory of a removed entry (it holds track and device names)."""
    await Store[dict[str, Any]](hass, STORE_VERSION, f"{DOMAIN}.{entry_id}").async_remove()


class PauseSkip(StrEnum):
    """Why a leave paused nothing (``reason`` of ``smart_play_pause_skipped``)."""

    NOT_HERE = "not_at_this_camera"  # plays on a device outside the scope
    RESTRICTED = "device_restricted"  # the device accepts no Web API commands


class PlaybackController:
    """Pause/resume one playback target following occupancy transitions."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        target: PlaybackTarget,
        *,
        store_key: str | None = None,
        on_auth_failed: Callable[[], None] | None = None,
        scope: Callable[[], DeviceScope | None] | None = None,
        position_tolerance_ms: int = POSITION_TOLERANCE_MS,
        max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
    ) -> None:
        """Create the controller; call :meth:`async_load` before use."""
        self.hass = hass
        self.entry_id = entry_id
        self.target = target
        self.on_auth_failed = on_auth_failed
        self._scope = scope
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, store_key or f"{DOMAIN}.{entry_id}"
        )
        self._position_tolerance_ms = position_tolerance_ms
        self._max_rate_limit_wait = max_rate_limit_wait
        self._auto_pause = True
        self._memo: PauseMemo | None = None
        self._lock = asyncio.Lock()
        self._generation = 0
        self._occupancy = Occupancy.UNKNOWN
        self._known: Occupancy | None = None  # last OCCUPIED/EMPTY seen (persisted)
        self._wake = asyncio.Event()  # set (and replaced) on every new transition
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._problem: str | None = None  # last reported problem kind (warn once)
        self._premium_issue = False
        self._restricted_warned: set[str] = set()  # device names warned about (once each)
        self.last_action: dict[str, Any] | None = None
        self.waiting_until: float | None = None  # time.time() a rate-limit wait ends

    # -- state ------------------------------------------------------------------------

    @property
    def auto_pause(self) -> bool:
        """Return whether leaving the room pauses playback."""
        return self._auto_pause

    @auto_pause.setter
    def auto_pause(self, value: bool) -> None:
        """Turn auto pause on/off (persisted; resuming a memo still works when off)."""
        if value == self._auto_pause:
            return
        self._auto_pause = value
        self._async_schedule_save()
        self._async_notify()

    @property
    def scope(self) -> DeviceScope | None:
        """Return the devices at this camera (None: the target is scoped by itself)."""
        return self._scope() if self._scope is not None else None

    @property
    def memo(self) -> PauseMemo | None:
        """Return what Smart Play paused and will resume, if anything."""
        return self._memo

    @property
    def occupancy(self) -> Occupancy:
        """Return the occupancy of the latest transition handled."""
        return self._occupancy

    async def async_load(self) -> None:
        """Load the memo and the auto pause flag from the store."""
        data = await self._store.async_load() or {}
        if isinstance(memo := data.get("memo"), dict):
            self._memo = PauseMemo.from_dict(memo)
            _LOGGER.debug("Restored pause memo: %s", self._describe(self._memo))
        self._auto_pause = bool(data.get("auto_pause", True))
        known = data.get("last_known")
        if known in (Occupancy.OCCUPIED.value, Occupancy.EMPTY.value):
            self._known = Occupancy(known)
        elif self._memo is not None:  # stored before last_known existed: paused on a leave
            self._known = Occupancy.EMPTY

    # -- transitions ------------------------------------------------------------------

    @callback
    def async_handle_transition(self, transition: Transition) -> asyncio.Task[None]:
        """Handle ``transition`` in a background task (call from the event loop)."""
        task = self.hass.async_create_background_task(
            self.async_on_transition(transition),
            f"{DOMAIN} {self.entry_id} {transition.state}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def async_on_transition(self, transition: Transition) -> None:
        """Act on an occupancy transition; returns when done (or superseded)."""
        if self._closed:
            return
        state = transition.state
        self._occupancy = state
        if state is Occupancy.UNKNOWN or state is self._known:
            # Camera lost, or back showing what it showed before: bridged, nothing to do
            # (a leave or return in flight carries on).
            return
        leave = is_leave(self._known, state)
        self._known = state
        self._async_schedule_save()
        self._generation += 1
        generation = self._generation
        self._wake.set()  # a pending wait gives up
        self._wake = asyncio.Event()
        async with self._lock:
            if generation != self._generation:
                return  # a newer transition arrived while waiting for the lock
            if leave:
                await self._async_leave(generation)
            elif state is Occupancy.EMPTY:
                _LOGGER.info(
                    "Room empty, but nobody was seen here before: nothing paused "
                    "(only leaving the desk pauses)"
                )
            else:
                await self._async_return(generation)

    async def async_shutdown(self) -> None:
        """Cancel pending work (a rate-limit wait or a command in flight)."""
        self._closed = True
        self._generation += 1
        self._wake.set()
        await async_cancel_tasks(self._tasks)
        # Write a pending delayed save now: a reload right after a change must see it.
        await self._async_save()
        close = getattr(self.target, "async_close", None)
        if close is not None:
            await close()

    async def _async_leave(self, generation: int) -> None:
        """Pause what is playing (the room became empty)."""
        if not self._auto_pause:
            _LOGGER.debug("Room empty, auto pause is off: nothing sent")
            return
        after: Playback | None = None
        while True:
            try:
                playback = await self._async_read_playback()
                if playback is None or not playback.is_playing:
                    _LOGGER.debug("Room empty, nothing is playing")
                    self._async_recovered()
                    return
                if not playing_here(self.scope, playback):
                    self._async_pause_skipped(PauseSkip.NOT_HERE, playback)
                    return
                if playback.device_restricted:
                    self._async_restricted(playback.device_id, playback.device_name, "pause")
                    self._async_pause_skipped(PauseSkip.RESTRICTED, playback)
                    return
                if generation != self._generation:
                    _LOGGER.debug("Back before the pause was sent: nothing paused")
                    return
                after = await self.target.async_pause(playback)
            except RateLimited as err:
                if await self._async_wait_rate_limit(err, generation, "pause"):
                    continue
                return
            except NoActiveDevice:
                _LOGGER.debug("Room empty, no active device: nothing to pause")
                return
            except AlreadyPaused:
                _LOGGER.debug("Room empty, paused by hand meanwhile: nothing remembered")
                return
            except PlayerError as err:
                self._async_report(err, "pause")
                return
            break
        if after is None or after.item_uri != playback.item_uri:
            after = replace(playback, is_playing=False)
        self._memo = PauseMemo.from_playback(after, time.time())
        await self._async_save()
        self._async_recovered()
        self._async_clear_restricted()
        _LOGGER.info("Room empty: paused %s", self._describe(self._memo))
        self._async_record("paused", self._memo)
        self.hass.bus.async_fire(EVENT_PAUSED, self._event_data(self._memo))

    async def _async_return(self, generation: int) -> None:
        """Someone is back: resume what Smart Play paused, if still untouched."""
        memo = self._memo
        if memo is None:
            _LOGGER.debug("Room occupied, nothing paused by Smart Play")
            return
        if time.time() - memo.paused_at > MAX_MEMO_AGE:
            await self._async_skip(SkipReason.EXPIRED, memo, None)
            return
        while True:
            try:
                playback = await self._async_read_playback()
                if generation != self._generation:
                    _LOGGER.debug("Gone again before the resume was sent: still paused")
                    return
                if session_dropped(memo, playback):
                    if not await self._async_resume_idle(memo, playback, generation):
                        return
                    break
                if reason := self._why_not_resume(memo, playback):
                    await self._async_skip(reason, memo, playback)
                    return
                await self.target.async_resume(memo)
            except RateLimited as err:
                if await self._async_wait_rate_limit(err, generation, "resume"):
                    continue
                if generation == self._generation and err.retry_after > 0:
                    await self._async_skip(SkipReason.RATE_LIMITED, memo, None)
                return  # occupancy changed while waiting: keep the memo
            except (DeviceGone, NoActiveDevice):
                await self._async_skip(SkipReason.DEVICE_GONE, memo, None)
                return
            except PlayerError as err:
                self._async_report(err, "resume")
                await self._async_skip(self._reason_for(err), memo, None)
                return
            break
        self._memo = None
        await self._async_save()
        self._async_recovered()
        self._async_clear_restricted()
        _LOGGER.info("Room occupied: resumed %s", self._describe(memo))
        self._async_record("resumed", memo)
        self.hass.bus.async_fire(EVENT_RESUMED, self._event_data(memo))

    async def _async_resume_idle(
        self, memo: PauseMemo, playback: Playback | None, generation: int
    ) -> bool:
        """Start ``memo`` again on its device if still listed (see :func:`session_dropped`).

        Costs one ``GET /me/player/devices`` and one ``PUT /me/player/play``. Returns True
        when it was started; otherwise the skip was reported (or the user left again).
        """
        devices = await self.target.async_get_devices()
        device = next((d for d in devices or () if d.get("id") == memo.device_id), None)
        if device is None:
            reason = SkipReason.NOTHING_ACTIVE if devices is None else SkipReason.DEVICE_GONE
            await self._async_skip(reason, memo, playback)
            return False
        if device.get("is_restricted"):
            self._async_restricted(memo.device_id, memo.device_name, "resume")
            await self._async_skip(SkipReason.DEVICE_RESTRICTED, memo, playback)
            return False
        if generation != self._generation:
            _LOGGER.debug("Gone again before the resume was sent: still paused")
            return False
        _LOGGER.debug("%s dropped its Spotify session: starting it again", memo.device_name)
        await self.target.async_resume_idle(memo)
        return True

    async def _async_read_playback(self) -> Playback | None:
        """Read the playback, once more when it contradicts our own fresh command.

        See :func:`contradicts_own_command`; costs one extra ``GET`` only in that case.
        """
        playback = await self.target.async_get_playback()
        command = self.target.recent_command
        if not contradicts_own_command(playback, command, time.monotonic()):
            return playback
        assert command is not None
        wait = max(MIN_REREAD_WAIT, command.at + OWN_COMMAND_SETTLE - time.monotonic())
        _LOGGER.debug(
            "The player does not show our %s of %.1f s ago yet: reading again in %.1f s",
            command.action,
            time.monotonic() - command.at,
            wait,
        )
        wake = self._wake
        try:
            async with asyncio.timeout(wait):
                await wake.wait()
        except TimeoutError:
            pass
        return await self.target.async_get_playback()

    def _why_not_resume(self, memo: PauseMemo, playback: Playback | None) -> SkipReason | None:
        """Return why resuming ``memo`` would be wrong now, or None when it is safe."""
        if playback is None:
            return SkipReason.NOTHING_ACTIVE
        if playback.device_id != memo.device_id:
            return SkipReason.DEVICE_CHANGED
        if (
            playback.item_uri != memo.item_uri
            # media players often keep one content id for a whole album/queue
            or (memo.item_name is not None and playback.item_name != memo.item_name)
            or (memo.context_uri is not None and playback.context_uri != memo.context_uri)
        ):
            return SkipReason.ITEM_CHANGED
        if playback.is_playing:
            return SkipReason.RESUMED_BY_USER
        if (
            memo.position_ms is not None
            and playback.progress_ms is not None
            and abs(playback.progress_ms - memo.position_ms) > self._position_tolerance_ms
        ):
            return SkipReason.POSITION_CHANGED
        return None

    @callback
    def _async_pause_skipped(self, reason: PauseSkip, playback: Playback) -> None:
        """Say why a leave paused nothing (event, logbook, last action)."""
        device = playback.device_name or "another device"
        message = (
            f"playing on {device} (not at this camera)"
            if reason is PauseSkip.NOT_HERE
            else f"{device} accepts no remote control through Spotify"
        )
        _LOGGER.info("Room empty: not paused, %s", message)
        self._async_record("pause_skipped", None, reason=reason, device_name=device)
        self.hass.bus.async_fire(
            EVENT_PAUSE_SKIPPED,
            {
                "entry_id": self.entry_id,
                "reason": str(reason),
                "message": message,
                "device_id": playback.device_id,
                "device_name": playback.device_name,
                "item_uri": playback.item_uri,
                "item_name": playback.item_name,
            },
        )

    @callback
    def _async_restricted(self, device_id: str | None, name: str | None, action: str) -> None:
        """Report a restricted device: one log line and a repair issue; nothing is sent."""
        device = name or device_id or "the device"
        if device not in self._restricted_warned:
            self._restricted_warned.add(device)
            _LOGGER.warning(
                "Cannot %s on %s: Spotify marks it restricted (it accepts no Web API "
                "commands; control it in its own app)",
                action,
                device,
            )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_DEVICE_RESTRICTED}_{self.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DEVICE_RESTRICTED,
            translation_placeholders={"device": device},
        )

    @callback
    def _async_clear_restricted(self) -> None:
        ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_DEVICE_RESTRICTED}_{self.entry_id}")

    async def _async_skip(
        self, reason: SkipReason, memo: PauseMemo, playback: Playback | None
    ) -> None:
        """Forget the memo and say why it is not resumed."""
        self._memo = None
        await self._async_save()
        _LOGGER.info(
            "Room occupied: not resuming %s because %s",
            self._describe(memo),
            _SKIP_MESSAGES[reason],
        )
        self._async_record("resume_skipped", memo, reason=reason)
        data = self._event_data(memo)
        data["reason"] = str(reason)
        data["message"] = _SKIP_MESSAGES[reason]
        if playback is not None:
            data["now_device_name"] = playback.device_name
            data["now_item_name"] = playback.item_name
            data["now_playing"] = playback.is_playing
        self.hass.bus.async_fire(EVENT_RESUME_SKIPPED, data)

    async def _async_wait_rate_limit(self, err: RateLimited, generation: int, action: str) -> bool:
        """Wait out a rate limit; return True to retry (still the latest transition)."""
        if generation != self._generation:
            _LOGGER.info("Occupancy changed meanwhile: %s dropped", action)
            return False
        if err.retry_after > self._max_rate_limit_wait:
            self._async_warn_once(
                "rate_limited",
                "Spotify rate limit (%s): asked to wait %.0f s, giving up on this %s",
                err.reason or "too many requests",
                err.retry_after,
                action,
            )
            return False
        self._async_warn_once(
            "rate_limited",
            "Spotify rate limit (%s): waiting %.1f s before the %s",
            err.reason or "too many requests",
            err.retry_after,
            action,
        )
        wake = self._wake
        self.waiting_until = time.time() + err.retry_after
        self._async_notify()
        try:
            async with asyncio.timeout(err.retry_after):
                await wake.wait()
        except TimeoutError:
            pass
        finally:
            self.waiting_until = None
            self._async_notify()
        if generation != self._generation:
            _LOGGER.info("Occupancy changed during the rate-limit wait: %s dropped", action)
            return False
        return True

    # -- gestures and personal playlists ----------------------------------------------

    async def async_on_gesture(self, gesture: str) -> bool:
        """Carry out a gesture; returns True when the player accepted it.

        ``gesture`` is one of ``play_pause``, ``next_track``, ``previous_track``,
        ``volume_up``, ``volume_down``. Gestures are immediate: a rate limit drops the gesture instead of waiting,
        and failures are logged once per streak, like pause/resume failures.
        """
        if self._closed:
            return False
        commands: dict[str, Callable[[], Awaitable[None]]] = {
            "play_pause": self.target.async_toggle,
            "next_track": self.target.async_next,
            "previous_track": self.target.async_previous,
            "volume_up": lambda: self.target.async_volume_step(GESTURE_VOLUME_STEP),
            "volume_down": lambda: self.target.async_volume_step(-GESTURE_VOLUME_STEP),
        }
        command = commands.get(str(gesture))
        if command is None:
            raise ValueError(f"unknown gesture {gesture!r}")
        try:
            await command()
        except RateLimited as err:
            _LOGGER.info("Gesture %s dropped: rate limited for %.0f s", gesture, err.retry_after)
            return False
        except NoActiveDevice:
            _LOGGER.info("Gesture %s ignored: nothing is active on the player", gesture)
            return False
        except PlayerError as err:
            self._async_report(err, f"carry out gesture {gesture}")
            return False
        self._async_recovered()
        self._async_record("gesture", None, gesture=gesture)
        return True

    async def async_play_for_person(self, name: str, media_id: str) -> bool:
        """Start ``media_id`` for ``name`` who sat down, unless something is playing.

        Never interrupts playing music; returns True when playback was started.
        """
        if self._closed:
            return False
        async with self._lock:
            try:
                playback = await self.target.async_get_playback()
                if playback is not None and playback.is_playing:
                    _LOGGER.debug("%s sat down, music is already playing: left alone", name)
                    return False
                await self.target.async_play_media(media_id)
            except (RateLimited, NoActiveDevice) as err:
                _LOGGER.info("Could not start %s's playlist: %s", name, err)
                return False
            except PlayerError as err:
                self._async_report(err, f"start {name}'s playlist")
                return False
            # What was paused before is superseded by the new playback.
            if self._memo is not None:
                self._memo = None
                await self._async_save()
        self._async_recovered()
        self._async_record("person_playlist", None, person=name, media_id=media_id)
        return True

    # -- reporting --------------------------------------------------------------------

    @staticmethod
    def _reason_for(err: PlayerError) -> SkipReason:
        if isinstance(err, PremiumRequired):
            return SkipReason.PREMIUM_REQUIRED
        if isinstance(err, AuthFailed):
            return SkipReason.AUTH_FAILED
        if isinstance(err, PlayerUnavailable):
            return SkipReason.UNAVAILABLE
        return SkipReason.ERROR

    @callback
    def _async_report(self, err: PlayerError, action: str) -> None:
        """Report a failed command once: warning, repair issue or reauth."""
        if isinstance(err, PremiumRequired):
            if not self._premium_issue:
                self._premium_issue = True
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    f"{ISSUE_PREMIUM_REQUIRED}_{self.entry_id}",
                    is_fixable=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key=ISSUE_PREMIUM_REQUIRED,
                )
            self._async_warn_once("premium", "Cannot %s: Spotify Premium is required", action)
        elif isinstance(err, AuthFailed):
            self._async_warn_once(
                "auth", "Cannot %s: Spotify login must be renewed (%s)", action, err
            )
            if self.on_auth_failed is not None:
                self.on_auth_failed()
        else:
            self._async_warn_once(
                type(err).__name__, "Cannot %s: %s", action, err or type(err).__name__
            )
        self._async_record("error", self._memo, error=f"{action}: {err}")

    @callback
    def _async_warn_once(self, kind: str, msg: str, *args: Any) -> None:
        """Log a warning unless the same problem was already reported in this streak."""
        if self._problem == kind:
            _LOGGER.debug(msg, *args)
            return
        self._problem = kind
        _LOGGER.warning(msg, *args)

    @callback
    def _async_recovered(self) -> None:
        """End the problem streak and drop the Premium issue (a command worked)."""
        if self._problem is not None:
            _LOGGER.info("Playback control works again")
            self._problem = None
        if self._premium_issue:
            self._premium_issue = False
            ir.async_delete_issue(self.hass, DOMAIN, f"{ISSUE_PREMIUM_REQUIRED}_{self.entry_id}")

    @callback
    def _async_record(self, action: str, memo: PauseMemo | None, **extra: Any) -> None:
        self.last_action = {
            "action": action,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "item_name": memo.item_name if memo else None,
            "device_name": memo.device_name if memo else None,
            **{key: str(value) for key, value in extra.items()},
        }
        self._async_notify()

    @callback
    def _async_notify(self) -> None:
        async_dispatcher_send(self.hass, SIGNAL_UPDATE.format(self.entry_id))

    def _event_data(self, memo: PauseMemo) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "device_id": memo.device_id,
            "device_name": memo.device_name,
            "context_uri": memo.context_uri,
            "item_uri": memo.item_uri,
            "item_name": memo.item_name,
            "position_ms": memo.position_ms,
        }

    @staticmethod
    def _describe(memo: PauseMemo) -> str:
        position = (
            f" at {memo.position_ms // 60000}:{memo.position_ms // 1000 % 60:02d}"
            if memo.position_ms is not None
            else ""
        )
        return f"'{memo.item_name or memo.item_uri}' on {memo.device_name}{position}"

    # -- persistence ------------------------------------------------------------------

    def _store_data(self) -> dict[str, Any]:
        return {
            "memo": self._memo.as_dict() if self._memo else None,
            "auto_pause": self._auto_pause,
            "last_known": self._known.value if self._known else None,
        }

    async def _async_save(self) -> None:
        """Write the memo now (a restart right after a pause must not lose it)."""
        await self._store.async_save(self._store_data())
        self._async_notify()

    @callback
    def _async_schedule_save(self) -> None:
        self._store.async_delay_save(self._store_data, 1.0)

    def diagnostics(self) -> dict[str, Any]:
        """Return the controller state for diagnostics (no secrets, no device ids)."""
        memo = self._memo
        return {
            "auto_pause": self._auto_pause,
            "occupancy": str(self._occupancy),
            "last_known": self._known.value if self._known else None,
            "memo": (
                {
                    "device_name": memo.device_name,
                    "item_name": memo.item_name,
                    "item_uri": memo.item_uri,
                    "context_uri": memo.context_uri,
                    "position_ms": memo.position_ms,
                    "paused_at": datetime.fromtimestamp(memo.paused_at, UTC).isoformat(
                        timespec="seconds"
                    ),
                }
                if memo
                else None
            ),
            "last_action": self.last_action,
            "problem": self._problem,
            "premium_issue": self._premium_issue,
            "rate_limit_wait_s": (
                round(max(0.0, self.waiting_until - time.time()), 1) if self.waiting_until else None
            ),
            "scope": (
                None
                if (scope := self.scope) is None
                else {
                    "any_device": scope.any_device,
                    "device_names": [device.name for device in scope.devices],
                }
            ),
            "target": self.target.diagnostics(),
        }
