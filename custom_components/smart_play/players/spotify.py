"""Spotify Web API target (spotipy, token managed by Home Assistant's OAuth2 session).

Request budget: reading the state is one ``GET /me/player``; a pause is ``PUT
/me/player/pause`` plus one ``GET`` to read back the exact paused position; a resume is a
single ``PUT /me/player/play``. The controller adds the one ``GET`` it needs to decide, so a
leave costs at most 3 requests and a return 2 (3 when Spotify answers "Restriction
violated" and the state is re-checked). A resume through a device that dropped its
session costs 3 (``GET /me/player``, ``GET /me/player/devices``, ``PUT /me/player/play``
with context, offset and position). A read that contradicts our own command of the last
3 s adds one ``GET``. Nothing is polled.

Every spotipy call runs in the executor. spotipy/urllib3 retries are disabled: this module
owns retries so that a 429's ``Retry-After`` is honoured (never a request before it passes)
and 5xx/timeouts get a small bounded backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
import logging
import re
import time
from typing import Any, Final, TypeVar

from aiohttp import ClientError, ClientResponseError
from homeassistant import exceptions as ha_exceptions
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import OAuth2Session
import requests
import spotipy

from ..const import DOMAIN, SPOTIFY_API_BASE
from .base import (
    AlreadyPaused,
    AuthFailed,
    DeviceGone,
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


class _NeverRaised(Exception):
    """Placeholder for an exception this Home Assistant version does not have."""


# Home Assistant >= 2026.3 raises dedicated token-request errors; older cores let
# aiohttp.ClientResponseError through.
OAuth2TokenRequestError: type[Exception] = getattr(
    ha_exceptions, "OAuth2TokenRequestError", _NeverRaised
)
OAuth2TokenRequestReauthError: type[Exception] = getattr(
    ha_exceptions, "OAuth2TokenRequestReauthError", _NeverRaised
)


_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

API_BASE: Final = SPOTIFY_API_BASE
REQUEST_TIMEOUT: Final = 10.0  # seconds, per HTTP request
RETRY_DELAYS: Final = (1.0, 2.0)  # backoff before each retry of a 5xx / timeout
DEFAULT_RETRY_AFTER: Final = 5.0  # seconds, when a 429 carries no Retry-After
DATA_ACCOUNTS: Final = "spotify_accounts"  # hass.data[DOMAIN] key of the shared clients

_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+")


class _SpotipyLogFilter(logging.Filter):
    """Keep spotipy's logger quiet and free of secrets.

    spotipy logs every HTTP error at ERROR level (a 404 "no active device" is routine for
    Smart Play) and, at DEBUG, the request headers including the bearer token. This
    module logs the mapped errors itself, so spotipy's copies are dropped and tokens are
    redacted from whatever remains.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop duplicate error records; redact bearer tokens."""
        message = record.getMessage()
        if record.levelno >= logging.WARNING and (
            message.startswith(("HTTP Error for", "Max Retries"))
        ):
            return False
        if "Bearer" in message:
            record.msg = _BEARER_RE.sub(r"\1***", message)
            record.args = None
        return True


def _install_log_filter() -> None:
    spotipy_logger = logging.getLogger("spotipy.client")
    if not any(isinstance(f, _SpotipyLogFilter) for f in spotipy_logger.filters):
        spotipy_logger.addFilter(_SpotipyLogFilter())


_install_log_filter()


class _RestrictionViolated(PlayerError):
    """403 that is not PREMIUM_REQUIRED, e.g. pausing an already paused player.

    ``after_retry`` is set when it answered a retried command: the first attempt
    (a 5xx or a timeout) may well have gone through.
    """

    after_retry = False


@dataclass(frozen=True, slots=True)
class SpotifyUser:
    """The account behind a token (``GET /me``)."""

    user_id: str
    display_name: str | None
    product: str | None  # "premium", "free", "open", ...

    @property
    def is_premium(self) -> bool:
        """Return True when the account may control playback."""
        return self.product == "premium"


def build_client(
    access_token: str,
    http: requests.Session,
    *,
    api_base: str | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
) -> spotipy.Spotify:
    """Return a spotipy client that never refreshes or retries by itself.

    The caller owns ``http`` and closes it. A plain session has no urllib3 retry
    adapter, so a 429 or 5xx reaches us with its real status and ``Retry-After``
    (spotipy's own session retries them and turns them into a generic error).
    """
    client = spotipy.Spotify(
        auth=access_token,
        requests_session=http,
        requests_timeout=request_timeout,
        retries=0,
        status_retries=0,
    )
    api_base = api_base or API_BASE
    client.prefix = api_base if api_base.endswith("/") else f"{api_base}/"
    return client


def parse_playback(data: dict[str, Any] | None) -> Playback | None:
    """Convert a ``GET /me/player`` body into a :class:`Playback` (None: nothing active)."""
    if not data:
        return None
    device = data.get("device") or {}
    item = data.get("item") or {}
    context = data.get("context") or {}
    return Playback(
        is_playing=bool(data.get("is_playing")),
        device_id=device.get("id"),
        device_name=device.get("name"),
        context_uri=context.get("uri"),
        item_uri=item.get("uri"),
        item_name=item.get("name"),
        progress_ms=data.get("progress_ms"),
        device_restricted=bool(device.get("is_restricted")),
        changed_at=(
            float(data["timestamp"]) / 1000.0
            if isinstance(data.get("timestamp"), int | float) and data["timestamp"] > 0
            else None
        ),
    )


def _retry_after(err: spotipy.SpotifyException, default: float) -> float:
    headers = err.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else default
    except (TypeError, ValueError):
        return default


class SpotifyAccount:
    """The one client of a Spotify account, shared by every entry signed in to it.

    Requests of all entries are serialised through one lock, there is one rate-limit
    back-off (a 429's ``Retry-After``, e.g. ``QUOTA_EXCEEDED``, holds every entry back) and
    one token refresh at a time. The token comes from the first entry still using the
    account (each entry keeps its own OAuth2 session for when it becomes the first).
    Get it with :func:`async_acquire_account`; each :class:`SpotifyTarget` releases it.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        key: str | None = None,
        *,
        api_base: str | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        default_retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        """Create the client (no session yet: :meth:`add_session`)."""
        self.hass = hass
        self.key = key  # Spotify user id in the shared registry, None when private
        self._sessions: dict[str, OAuth2Session] = {}  # entry id -> session, in order
        self._failed: dict[str, OAuth2Session] = {}  # refused logins (reauth started)
        self._api_base = api_base or API_BASE
        self._retry_delays = retry_delays
        self._default_retry_after = default_retry_after
        self._http = requests.Session()
        self._client = build_client(
            "", self._http, api_base=self._api_base, request_timeout=request_timeout
        )
        self._lock = asyncio.Lock()
        self._blocked_until = 0.0  # time.monotonic(); no request before this
        self.request_count = 0  # HTTP requests sent to the Web API (not the token endpoint)
        self.last_status: str | None = None  # "ok" or the last error, for diagnostics
        self.recent: OwnCommand | None = None  # last pause/resume any entry sent

    @property
    def api_base(self) -> str:
        """Return the Web API base this client talks to."""
        return self._api_base

    @property
    def entry_ids(self) -> list[str]:
        """Return the entries using this account."""
        return [*self._sessions, *self._failed]

    @property
    def rate_limited_for(self) -> float:
        """Seconds left before a request may be sent (0 when not rate limited)."""
        return max(0.0, self._blocked_until - time.monotonic())

    def add_session(self, entry_id: str, session: OAuth2Session) -> None:
        """Let ``entry_id`` use the account (its session signs requests once it is first)."""
        self._sessions[entry_id] = session

    def remove_session(self, entry_id: str) -> bool:
        """Stop using the account for ``entry_id``; return True when no entry is left."""
        self._sessions.pop(entry_id, None)
        self._failed.pop(entry_id, None)
        return not self._sessions and not self._failed

    async def async_close(self) -> None:
        """Close the HTTP connection pool."""
        await self.hass.async_add_executor_job(self._http.close)

    @property
    def _session(self) -> OAuth2Session:
        return next(iter(self._sessions.values()))

    async def _async_token(self) -> str:
        """Return a valid access token, refreshing through Home Assistant when expired.

        When the signing entry's login is refused and other entries use the account,
        that entry is asked to sign in again and the next entry's login is used: one
        broken entry does not stop the others.
        """
        while True:
            try:
                return await self._async_session_token()
            except AuthFailed:
                if len(self._sessions) < 2:
                    raise
                entry_id, session = next(iter(self._sessions.items()))
                _LOGGER.warning(
                    "Spotify refused the login of %s; the account's other entries go on",
                    session.config_entry.title,
                )
                session.config_entry.async_start_reauth(self.hass)
                self._failed[entry_id] = self._sessions.pop(entry_id)

    async def _async_session_token(self) -> str:
        try:
            await self._session.async_ensure_token_valid()
        except OAuth2TokenRequestReauthError as err:
            raise AuthFailed("Spotify refused the refresh token") from err
        except ClientResponseError as err:
            if 400 <= err.status < 500 and err.status != 429:
                raise AuthFailed(f"Spotify refused the refresh token ({err.status})") from err
            raise PlayerUnavailable(f"Token refresh failed ({err.status})") from err
        except (OAuth2TokenRequestError, ClientError, TimeoutError) as err:
            raise PlayerUnavailable(f"Token refresh failed: {type(err).__name__}") from err
        return str(self._session.token["access_token"])

    async def _async_force_refresh(self) -> str:
        """Mark the stored token expired and refresh it (after a 401)."""
        entry = self._session.config_entry
        token = dict(entry.data["token"])
        token["expires_at"] = 0
        self.hass.config_entries.async_update_entry(entry, data={**entry.data, "token": token})
        return await self._async_token()

    async def async_call(self, what: str, func: Callable[[spotipy.Spotify], _T]) -> _T:
        """Run one API call: one at a time per account, auth refresh, 429 bookkeeping.

        5xx answers and timeouts get a bounded backoff.
        """
        async with self._lock:
            return await self._async_call(what, func)

    async def _async_call(self, what: str, func: Callable[[spotipy.Spotify], _T]) -> _T:
        token = await self._async_token()
        refreshed: set[str] = set()  # entries whose token was refreshed after a 401
        attempt = 0
        while True:
            if (wait := self.rate_limited_for) > 0:
                raise RateLimited(wait)
            self._client.set_auth(token)
            self.request_count += 1
            try:
                result = await self.hass.async_add_executor_job(func, self._client)
            except spotipy.SpotifyException as err:
                status = err.http_status
                self.last_status = f"{what}: HTTP {status} {err.reason or ''}".strip()
                signer = self._session.config_entry.entry_id
                if status == 401 and signer not in refreshed:
                    _LOGGER.debug("%s: access token rejected, refreshing once", what)
                    refreshed.add(signer)
                    token = await self._async_force_refresh()
                    continue
                if status >= 500 and attempt < len(self._retry_delays):
                    await self._async_backoff(what, f"HTTP {status}", attempt)
                    attempt += 1
                    continue
                mapped = self._map_error(what, err)
                if isinstance(mapped, _RestrictionViolated):
                    mapped.after_retry = attempt > 0
                raise mapped from err
            except requests.RequestException as err:
                self.last_status = f"{what}: {type(err).__name__}"
                if attempt < len(self._retry_delays):
                    await self._async_backoff(what, type(err).__name__, attempt)
                    attempt += 1
                    continue
                raise PlayerUnavailable(
                    f"{what}: no answer from Spotify ({type(err).__name__})"
                ) from err
            self.last_status = "ok"
            return result

    async def _async_backoff(self, what: str, problem: str, attempt: int) -> None:
        delay = self._retry_delays[attempt]
        _LOGGER.debug("%s failed (%s); retry %d in %.1f s", what, problem, attempt + 1, delay)
        await asyncio.sleep(delay)

    def _map_error(self, what: str, err: spotipy.SpotifyException) -> PlayerError:
        """Translate a Spotify error response into a :class:`PlayerError`."""
        status = err.http_status
        reason = err.reason or ""
        message = str(err.msg or "").split("\n")[-1].strip()
        if status == 401:
            return AuthFailed(f"{what}: access token rejected after refresh")
        if status == 429:
            retry_after = _retry_after(err, self._default_retry_after)
            self._blocked_until = time.monotonic() + retry_after
            return RateLimited(retry_after, reason or None)
        if status == 403:
            if reason == "PREMIUM_REQUIRED" or "premium" in message.lower():
                return PremiumRequired(f"{what}: Spotify Premium required")
            return _RestrictionViolated(f"{what}: {message or 'forbidden'}")
        if status == 404:
            if reason == "NO_ACTIVE_DEVICE" or "no active device" in message.lower():
                return NoActiveDevice(f"{what}: no active device")
            return DeviceGone(f"{what}: {message or 'not found'}")
        if status >= 500:
            return PlayerUnavailable(f"{what}: Spotify answered HTTP {status}")
        return PlayerError(f"{what}: HTTP {status} {message}".strip())


class SpotifyTarget(PlaybackTarget):
    """Pause/resume the Spotify account of an OAuth2 config entry.

    The HTTP client is the account's (:class:`SpotifyAccount`), shared with the other
    entries of the same account; without ``account`` the target gets a client of its own.
    """

    kind = "spotify"

    def __init__(
        self,
        hass: HomeAssistant,
        session: OAuth2Session,
        *,
        account: SpotifyAccount | None = None,
        api_base: str | None = None,
        request_timeout: float = REQUEST_TIMEOUT,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        default_retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        """Create the target; ``api_base`` is overridable for tests."""
        self.hass = hass
        self._entry_id = session.config_entry.entry_id
        if account is None:
            account = SpotifyAccount(
                hass,
                api_base=api_base,
                request_timeout=request_timeout,
                retry_delays=retry_delays,
                default_retry_after=default_retry_after,
            )
        account.add_session(self._entry_id, session)
        self.account = account
        self._api_base = account.api_base
        self.last_device_id: str | None = None  # device of the last playback seen
        self._closed = False

    @property
    def request_count(self) -> int:
        """Web API requests the account's client sent (all entries of the account)."""
        return self.account.request_count

    @property
    def last_status(self) -> str | None:
        """Outcome of the account's last request, for diagnostics."""
        return self.account.last_status

    def _async_call(self, what: str, func: Callable[[spotipy.Spotify], _T]) -> Awaitable[_T]:
        return self.account.async_call(what, func)

    # -- public API -------------------------------------------------------------------

    @property
    def rate_limited_for(self) -> float:
        """Seconds left before a request may be sent (0 when not rate limited)."""
        return self.account.rate_limited_for

    @property
    def recent_command(self) -> OwnCommand | None:
        """Return the last pause/resume sent (Spotify shows it only a moment later)."""
        return self.account.recent

    async def async_get_user(self) -> SpotifyUser:
        """Return the account behind the token (``GET /me``)."""
        data = await self._async_call("GET /me", lambda sp: sp.me())
        return SpotifyUser(
            user_id=str(data.get("id")),
            display_name=data.get("display_name"),
            product=data.get("product"),
        )

    async def async_get_playback(self) -> Playback | None:
        """Return the current playback (``GET /me/player``); None when no device is active."""
        return parse_playback(await self._async_player_state())

    async def _async_player_state(self) -> dict[str, Any] | None:
        """Return the raw ``GET /me/player`` body (None: nothing active)."""
        data = await self._async_call(
            "GET /me/player",
            lambda sp: sp.current_playback(additional_types="episode"),
        )
        if data and (device_id := (data.get("device") or {}).get("id")):
            self.last_device_id = device_id
        return data or None

    # -- remote control (gestures, personal playlists) --------------------------------

    async def async_toggle(self) -> None:
        """Pause when playing, resume when paused (one ``GET`` plus one command)."""
        playback = await self.async_get_playback()
        if playback is None:
            raise NoActiveDevice("nothing is active on Spotify")
        device_id = playback.device_id
        try:
            if playback.is_playing:
                await self._async_call(
                    "PUT /me/player/pause", lambda sp: sp.pause_playback(device_id=device_id)
                )
            else:
                await self._async_call(
                    "PUT /me/player/play", lambda sp: sp.start_playback(device_id=device_id)
                )
        except _RestrictionViolated as err:
            raise PlayerError(f"Spotify refused play/pause: {err}") from None

    async def async_next(self) -> None:
        """Skip to the next track (``POST /me/player/next``)."""
        await self._async_skip("next", lambda sp: sp.next_track())

    async def async_previous(self) -> None:
        """Go back to the previous track (``POST /me/player/previous``)."""
        await self._async_skip("previous", lambda sp: sp.previous_track())

    async def _async_skip(self, which: str, func: Callable[[spotipy.Spotify], Any]) -> None:
        try:
            await self._async_call(f"POST /me/player/{which}", func)
        except _RestrictionViolated as err:
            raise PlayerError(f"Spotify refused {which}: {err}") from None

    async def async_volume_step(self, delta: int) -> None:
        """Change the volume by ``delta`` points (``GET /me/player`` + ``PUT .../volume``)."""
        data = await self._async_player_state()
        if not data:
            raise NoActiveDevice("nothing is active on Spotify")
        device = data.get("device") or {}
        if device.get("volume_percent") is None:
            raise PlayerError(f"{device.get('name') or 'the device'} has no volume control")
        volume = min(100, max(0, int(device["volume_percent"]) + int(delta)))
        device_id = device.get("id")
        try:
            await self._async_call(
                "PUT /me/player/volume", lambda sp: sp.volume(volume, device_id=device_id)
            )
        except _RestrictionViolated as err:
            raise PlayerError(f"Spotify refused the volume change: {err}") from None

    async def async_get_devices(self) -> list[dict[str, Any]]:
        """Return the account's Spotify Connect devices (``GET /me/player/devices``).

        Paused devices that dropped their session are still listed (``is_active`` false).
        """
        data = await self._async_call("GET /me/player/devices", lambda sp: sp.devices())
        return [d for d in (data or {}).get("devices") or [] if isinstance(d, dict)]

    async def async_play_media(self, media_id: str, media_type: str | None = None) -> None:
        """Start a context (playlist/album/artist URI) or a track URI.

        Plays on the active device, else on the last device Smart Play saw playing,
        else on the first device Spotify lists.
        """
        playback = await self.async_get_playback()
        device_id = playback.device_id if playback is not None else self.last_device_id
        if device_id is None:
            devices = await self.async_get_devices()
            if not devices:
                raise NoActiveDevice("Spotify lists no device to play on")
            device_id = devices[0].get("id")
        if media_id.startswith(("spotify:track:", "spotify:episode:")):
            uris, context = [media_id], None
        else:
            uris, context = None, media_id
        try:
            await self._async_call(
                "PUT /me/player/play",
                lambda sp: sp.start_playback(device_id=device_id, context_uri=context, uris=uris),
            )
        except _RestrictionViolated as err:
            raise PlayerError(f"Spotify refused to play {media_id}: {err}") from None

    async def async_pause(self, playback: Playback) -> Playback | None:
        """Pause on the playing device, then read back the exact paused position."""
        device_id = playback.device_id
        sent = time.monotonic()
        try:
            await self._async_call(
                "PUT /me/player/pause", lambda sp: sp.pause_playback(device_id=device_id)
            )
        except _RestrictionViolated as err:
            # Spotify refuses to pause a paused player; check once what it is doing.
            state = await self.async_get_playback()
            if state is not None and state.is_playing:
                raise PlayerError("Spotify refused to pause (restriction violated)") from None
            if not err.after_retry:
                # Paused by someone else between our read and our command.
                raise AlreadyPaused("playback was already paused") from None
            _LOGGER.debug("A retried pause was refused: the first attempt went through")
            self.account.recent = OwnCommand(
                "pause", device_id, playback.item_uri, time.monotonic()
            )
            if state is None or state.item_uri != playback.item_uri:
                return None
            return state
        self.account.recent = OwnCommand("pause", device_id, playback.item_uri, time.monotonic())
        try:
            state = await self.async_get_playback()
        except PlayerError as err:
            _LOGGER.debug("Could not read back the paused state: %s", err)
            state = None
        if (
            state is not None
            and state.item_uri == playback.item_uri
            and state.device_id == playback.device_id
        ):
            # Spotify may still report is_playing for a moment after the command.
            return replace(state, is_playing=False)
        progress = playback.progress_ms
        if progress is not None:  # estimate: position when read + time until the pause
            progress += int((time.monotonic() - sent) * 1000)
        return replace(playback, is_playing=False, progress_ms=progress)

    async def async_resume(self, memo: PauseMemo) -> Playback | None:
        """Resume on the remembered device.

        The controller has verified that this device still holds the remembered item,
        paused at the remembered position, so a plain ``PUT /me/player/play?device_id=``
        resumes exactly there while keeping the user's queue, shuffle and context
        position. Re-starting ``context_uri`` with an offset and ``position_ms`` would
        also work but rebuilds the queue and fails for items without a context.
        """
        device_id = memo.device_id
        try:
            await self._async_call(
                "PUT /me/player/play", lambda sp: sp.start_playback(device_id=device_id)
            )
        except NoActiveDevice as err:
            raise DeviceGone(str(err)) from err
        except _RestrictionViolated:
            state = await self.async_get_playback()
            if state is not None and state.is_playing and state.device_id == device_id:
                _LOGGER.debug("Play refused because playback is already playing")
                return state
            raise PlayerError("Spotify refused to resume (restriction violated)") from None
        self.account.recent = OwnCommand("play", device_id, memo.item_uri, time.monotonic())
        return None

    async def async_resume_idle(self, memo: PauseMemo) -> None:
        """Start the remembered item again on a device that dropped its session.

        ``PUT /me/player/play?device_id=`` with the remembered context, the item as
        ``offset`` and ``position_ms`` (a lone track or episode, or an artist context,
        which takes no offset, is started as ``uris``). The queue is rebuilt from the
        context: the next tracks are the context's, not a queue the user built by hand.
        """
        device_id = memo.device_id
        context = memo.context_uri
        position = max(0, memo.position_ms or 0)
        if context and not context.startswith("spotify:artist:") and memo.item_uri:
            offset: dict[str, Any] | None = {"uri": memo.item_uri}
            uris = None
        else:
            context, offset = None, None
            uris = [memo.item_uri] if memo.item_uri else None
        try:
            await self._async_call(
                "PUT /me/player/play",
                lambda sp: sp.start_playback(
                    device_id=device_id,
                    context_uri=context,
                    uris=uris,
                    offset=offset,
                    position_ms=position,
                ),
            )
        except NoActiveDevice as err:
            raise DeviceGone(str(err)) from err
        except _RestrictionViolated:
            raise PlayerError("Spotify refused to start the device again") from None
        self.account.recent = OwnCommand("play", device_id, memo.item_uri, time.monotonic())

    async def async_close(self) -> None:
        """Stop using the account; its client is closed when no entry uses it any more."""
        if self._closed:
            return
        self._closed = True
        if self.account.remove_session(self._entry_id):
            if (key := self.account.key) is not None:
                accounts = self.hass.data.get(DOMAIN, {}).get(DATA_ACCOUNTS, {})
                if accounts.get(key) is self.account:
                    del accounts[key]
            await self.account.async_close()

    def diagnostics(self) -> dict[str, Any]:
        """Return target details for diagnostics (no token)."""
        return {
            "kind": self.kind,
            "api_base_overridden": self._api_base != API_BASE,
            "requests_sent": self.request_count,
            "shared_by_entries": len(self.account.entry_ids),
            "rate_limited_for_s": round(self.rate_limited_for, 1),
            "last_status": self.last_status,
        }

    # -- internals --------------------------------------------------------------------


def async_acquire_account(hass: HomeAssistant, user_id: str, **kwargs: Any) -> SpotifyAccount:
    """Return the shared client of Spotify account ``user_id`` (created on first use).

    Kept in ``hass.data[DOMAIN]["spotify_accounts"]`` keyed by the Spotify user id; the
    last :class:`SpotifyTarget` of the account to close removes it.
    """
    accounts: dict[str, SpotifyAccount] = hass.data.setdefault(DOMAIN, {}).setdefault(
        DATA_ACCOUNTS, {}
    )
    if (account := accounts.get(user_id)) is None:
        account = accounts[user_id] = SpotifyAccount(hass, user_id, **kwargs)
    return account


async def _async_one_call[R](
    hass: HomeAssistant,
    access_token: str,
    what: str,
    func: Callable[[spotipy.Spotify], R],
    *,
    api_base: str | None,
    request_timeout: float,
) -> R:
    """Run one call with a fresh token outside any entry (config flow)."""
    http = requests.Session()
    client = build_client(access_token, http, api_base=api_base, request_timeout=request_timeout)
    try:
        return await hass.async_add_executor_job(func, client)
    except spotipy.SpotifyException as err:
        if err.http_status == 401:
            raise AuthFailed("access token rejected") from err
        if err.http_status >= 500 or err.http_status == 429:
            raise PlayerUnavailable(f"Spotify answered HTTP {err.http_status}") from err
        raise PlayerError(f"{what}: HTTP {err.http_status}") from err
    except requests.RequestException as err:
        raise PlayerUnavailable(f"no answer from Spotify ({type(err).__name__})") from err
    finally:
        await hass.async_add_executor_job(http.close)


async def async_get_spotify_user(
    hass: HomeAssistant,
    access_token: str,
    *,
    api_base: str | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
) -> SpotifyUser:
    """Look up the account of a fresh token (config flow: unique id, title, Premium).

    Raises :class:`AuthFailed` for a rejected token, :class:`PlayerUnavailable` when
    Spotify cannot be reached, :class:`PlayerError` otherwise.
    """
    data = await _async_one_call(
        hass,
        access_token,
        "GET /me",
        lambda sp: sp.me(),
        api_base=api_base,
        request_timeout=request_timeout,
    )
    return SpotifyUser(
        user_id=str(data.get("id")),
        display_name=data.get("display_name"),
        product=data.get("product"),
    )


async def async_get_spotify_devices(
    hass: HomeAssistant,
    access_token: str,
    *,
    api_base: str | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
) -> list[dict[str, Any]]:
    """List the Spotify Connect devices of a fresh token (config flow device step)."""
    data = await _async_one_call(
        hass,
        access_token,
        "GET /me/player/devices",
        lambda sp: sp.devices(),
        api_base=api_base,
        request_timeout=request_timeout,
    )
    return [d for d in (data or {}).get("devices") or [] if isinstance(d, dict)]
