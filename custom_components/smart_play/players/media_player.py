"""Any Home Assistant ``media_player`` entity as a playback target.

State is read from the state machine (free: no request at all), commands are the
standard ``media_player.media_pause`` / ``media_player.media_play`` services. The
entity id is the "device"; ``media_content_id`` (or, lacking one, the title) is the item.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

from homeassistant.components.media_player import (
    ATTR_APP_NAME,
    ATTR_INPUT_SOURCE,
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_PLAYLIST,
    ATTR_MEDIA_POSITION,
    ATTR_MEDIA_POSITION_UPDATED_AT,
    ATTR_MEDIA_TITLE,
    MediaPlayerState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_FRIENDLY_NAME,
    SERVICE_MEDIA_NEXT_TRACK,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_PLAY,
    SERVICE_MEDIA_PLAY_PAUSE,
    SERVICE_MEDIA_PREVIOUS_TRACK,
    SERVICE_VOLUME_DOWN,
    SERVICE_VOLUME_UP,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.exceptions import HomeAssistantError, ServiceNotFound
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .base import (
    AlreadyPaused,
    DeviceGone,
    PauseMemo,
    Playback,
    PlaybackTarget,
    PlayerError,
    PlayerUnavailable,
)

MEDIA_PLAYER_DOMAIN: Final = "media_player"
SERVICE_PLAY_MEDIA: Final = "play_media"
DEFAULT_MEDIA_TYPE: Final = "music"
STATE_TIMEOUT: Final = 5.0  # seconds to wait for the entity to report the new state
_PLAYING_STATES: Final = frozenset({MediaPlayerState.PLAYING, MediaPlayerState.BUFFERING})
_PAUSED_STATES: Final = frozenset({MediaPlayerState.PAUSED})


def playback_from_state(state: State | None) -> Playback | None:
    """Convert a media_player state into a :class:`Playback` (None: nothing to control)."""
    if state is None or state.state not in _PLAYING_STATES | _PAUSED_STATES:
        return None
    attrs = state.attributes
    is_playing = state.state in _PLAYING_STATES
    content_id = attrs.get(ATTR_MEDIA_CONTENT_ID)
    title = attrs.get(ATTR_MEDIA_TITLE)
    item_uri = str(content_id) if content_id else (f"title:{title}" if title else None)
    progress_ms: int | None = None
    position = attrs.get(ATTR_MEDIA_POSITION)
    if isinstance(position, (int, float)):
        seconds = float(position)
        updated_at = attrs.get(ATTR_MEDIA_POSITION_UPDATED_AT)
        if is_playing and updated_at is not None:
            if isinstance(updated_at, str):
                updated_at = dt_util.parse_datetime(updated_at)
            if updated_at is not None:
                seconds += max(0.0, (dt_util.utcnow() - updated_at).total_seconds())
        progress_ms = int(seconds * 1000)
    device_name = attrs.get(ATTR_FRIENDLY_NAME) or state.entity_id
    source = attrs.get(ATTR_INPUT_SOURCE) or attrs.get(ATTR_APP_NAME)
    return Playback(
        is_playing=is_playing,
        device_id=state.entity_id,
        device_name=f"{device_name} ({source})" if source else str(device_name),
        context_uri=attrs.get(ATTR_MEDIA_PLAYLIST),
        item_uri=item_uri,
        item_name=str(title) if title else item_uri,
        progress_ms=progress_ms,
    )


class MediaPlayerTarget(PlaybackTarget):
    """Pause/resume a Home Assistant media_player entity."""

    kind = "media_player"

    def __init__(
        self, hass: HomeAssistant, entity_id: str, *, state_timeout: float = STATE_TIMEOUT
    ) -> None:
        """Create the target for ``entity_id``."""
        self.hass = hass
        self.entity_id = entity_id
        self._state_timeout = state_timeout
        self.service_calls = 0
        self.last_status: str | None = None

    async def async_current_state(self) -> State | None:
        """Return the entity's state once the state writes already under way have landed.

        What a user notices: pausing or switching the player off by hand just before
        Smart Play acts (resumed by hand, switched off, already paused) is seen, so Smart
        Play does not undo it. A player that updates from a worker thread
        (``schedule_update_ha_state``) queues its state write on the event loop; on
        Python 3.14 (Home Assistant 2026.3+) the service call that made the change can
        return before that write has run, because asyncio completes an executor job that
        already finished without another loop iteration. Yielding once lets the writes
        queued before now land before the state machine is read.
        """
        await asyncio.sleep(0)
        return self.hass.states.get(self.entity_id)

    async def async_get_playback(self) -> Playback | None:
        """Return the entity's playback (None when off, idle, unavailable or missing)."""
        return playback_from_state(await self.async_current_state())

    async def async_pause(self, playback: Playback) -> Playback | None:
        """Call ``media_player.media_pause`` and return the paused state."""
        current = await self.async_current_state()
        if current is not None and current.state in _PAUSED_STATES:
            raise AlreadyPaused(f"{self.entity_id} is already paused")
        await self._async_call_service(SERVICE_MEDIA_PAUSE)
        state = await self._async_wait_for(_PAUSED_STATES)
        if state is not None and state.state in _PLAYING_STATES:
            raise PlayerError(f"{self.entity_id} is still playing after media_pause")
        return playback_from_state(state)

    async def async_resume(self, memo: PauseMemo) -> Playback | None:
        """Call ``media_player.media_play`` and return the playing state."""
        await self._async_call_service(SERVICE_MEDIA_PLAY)
        state = await self._async_wait_for(_PLAYING_STATES)
        return playback_from_state(state)

    async def async_toggle(self) -> None:
        """Call ``media_player.media_play_pause``."""
        await self._async_call_service(SERVICE_MEDIA_PLAY_PAUSE)

    async def async_next(self) -> None:
        """Call ``media_player.media_next_track``."""
        await self._async_call_service(SERVICE_MEDIA_NEXT_TRACK)

    async def async_previous(self) -> None:
        """Call ``media_player.media_previous_track``."""
        await self._async_call_service(SERVICE_MEDIA_PREVIOUS_TRACK)

    async def async_volume_step(self, delta: int) -> None:
        """Call ``media_player.volume_up`` / ``volume_down`` (the player's own step)."""
        if delta:
            await self._async_call_service(SERVICE_VOLUME_UP if delta > 0 else SERVICE_VOLUME_DOWN)

    async def async_play_media(self, media_id: str, media_type: str | None = None) -> None:
        """Call ``media_player.play_media`` with ``media_id`` (type defaults to music)."""
        await self._async_call_service(
            SERVICE_PLAY_MEDIA,
            {
                "media_content_id": media_id,
                "media_content_type": media_type or DEFAULT_MEDIA_TYPE,
            },
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return target details for diagnostics."""
        state = self.hass.states.get(self.entity_id)
        return {
            "kind": self.kind,
            "entity_id": self.entity_id,
            "entity_state": state.state if state else None,
            "service_calls": self.service_calls,
            "last_status": self.last_status,
        }

    async def _async_call_service(self, service: str, data: dict[str, Any] | None = None) -> None:
        state = self.hass.states.get(self.entity_id)
        if state is None or state.state in ("unavailable", "unknown"):
            self.last_status = f"{service}: entity unavailable"
            raise DeviceGone(f"{self.entity_id} is not available")
        self.service_calls += 1
        try:
            await self.hass.services.async_call(
                MEDIA_PLAYER_DOMAIN,
                service,
                {ATTR_ENTITY_ID: self.entity_id, **(data or {})},
                blocking=True,
            )
        except ServiceNotFound as err:
            self.last_status = f"{service}: service not found"
            raise PlayerUnavailable(str(err)) from err
        except HomeAssistantError as err:
            self.last_status = f"{service}: {err}"
            raise PlayerError(f"{service} on {self.entity_id} failed: {err}") from err
        self.last_status = "ok"

    async def _async_wait_for(self, wanted: frozenset[str]) -> State | None:
        """Wait (bounded) until the entity reports one of ``wanted``; return its state.

        A state write still queued when this is called fires the listener below.
        """
        state = self.hass.states.get(self.entity_id)
        if state is not None and state.state in wanted:
            return state
        future: asyncio.Future[State] = self.hass.loop.create_future()

        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            new_state = event.data["new_state"]
            if new_state is not None and new_state.state in wanted and not future.done():
                future.set_result(new_state)

        unsub = async_track_state_change_event(self.hass, [self.entity_id], _changed)
        try:
            async with asyncio.timeout(self._state_timeout):
                return await future
        except TimeoutError:
            return self.hass.states.get(self.entity_id)
        finally:
            unsub()
