"""Playback targets: what Smart Play pauses and resumes.

A target is a thin, stateless-ish adapter over one player (a Spotify account or a Home
Assistant ``media_player`` entity). The pause/resume *policy* (when to act, what to
remember, when a resume would be wrong) lives in :mod:`..controller`; targets only read the
current playback and send commands, translating every failure into a :class:`PlayerError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..const import OPT_ANY_DEVICE, OPT_SPOTIFY_DEVICES


@dataclass(frozen=True, slots=True)
class Playback:
    """What a player is doing right now."""

    is_playing: bool
    device_id: str | None
    device_name: str | None
    context_uri: str | None
    item_uri: str | None
    item_name: str | None
    progress_ms: int | None
    #: The device accepts no remote commands (Spotify ``is_restricted``).
    device_restricted: bool = False
    #: When the state last changed (play, pause, seek, new item), POSIX seconds, if known.
    changed_at: float | None = None


@dataclass(frozen=True, slots=True)
class ScopedDevice:
    """A Spotify Connect device at this camera: its id when known, and its name."""

    device_id: str | None
    name: str


@dataclass(frozen=True, slots=True)
class DeviceScope:
    """Which Spotify Connect devices are at this camera (what Smart Play may pause).

    Stored in the entry options as ``spotify_any_device`` (bool) and
    ``spotify_devices`` (a list of ``{"device_id": ..., "name": ...}``).
    """

    any_device: bool
    devices: tuple[ScopedDevice, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DeviceScope:
        """Read the scope from entry options (no choice stored: any device)."""
        devices = tuple(
            ScopedDevice(d.get("device_id") or None, str(d.get("name") or ""))
            for d in options.get(OPT_SPOTIFY_DEVICES) or ()
            if isinstance(d, Mapping)
        )
        return cls(bool(options.get(OPT_ANY_DEVICE, not devices)), devices)

    def as_options(self) -> dict[str, Any]:
        """Return the options that store this scope."""
        return {
            OPT_ANY_DEVICE: self.any_device,
            OPT_SPOTIFY_DEVICES: [{"device_id": d.device_id, "name": d.name} for d in self.devices],
        }


@dataclass(frozen=True, slots=True)
class OwnCommand:
    """A pause or resume Smart Play sent (the player may show it only a moment later)."""

    action: str  # "pause" or "play"
    device_id: str | None
    item_uri: str | None
    at: float  # time.monotonic() the command was answered


@dataclass(frozen=True, slots=True)
class PauseMemo:
    """What Smart Play paused, persisted so that a restart loses nothing.

    ``paused_at`` is a UTC POSIX timestamp (``time.time()``).
    """

    device_id: str | None
    device_name: str | None
    context_uri: str | None
    item_uri: str | None
    item_name: str | None
    position_ms: int | None
    paused_at: float

    @classmethod
    def from_playback(cls, playback: Playback, paused_at: float) -> PauseMemo:
        """Remember ``playback`` (the state right after pausing)."""
        return cls(
            device_id=playback.device_id,
            device_name=playback.device_name,
            context_uri=playback.context_uri,
            item_uri=playback.item_uri,
            item_name=playback.item_name,
            position_ms=playback.progress_ms,
            paused_at=paused_at,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (the Store format)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PauseMemo:
        """Rebuild a memo from :meth:`as_dict` output (unknown keys are ignored)."""
        return cls(
            device_id=data.get("device_id"),
            device_name=data.get("device_name"),
            context_uri=data.get("context_uri"),
            item_uri=data.get("item_uri"),
            item_name=data.get("item_name"),
            position_ms=data.get("position_ms"),
            paused_at=float(data.get("paused_at") or 0.0),
        )


class PlayerError(Exception):
    """Base class of every error a target raises."""


class AuthFailed(PlayerError):
    """The credentials are no longer accepted (even after a token refresh): reauth needed."""


class PremiumRequired(PlayerError):
    """The account may not control playback (Spotify Free)."""


class NoActiveDevice(PlayerError):
    """There is no active device to send the command to."""


class AlreadyPaused(PlayerError):
    """The pause was refused because playback was already paused (not by Smart Play)."""


class DeviceGone(PlayerError):
    """The remembered device no longer exists / is unavailable."""


class RateLimited(PlayerError):
    """Too many requests; nothing may be sent for ``retry_after`` seconds."""

    def __init__(self, retry_after: float, reason: str | None = None) -> None:
        """Create the error; ``reason`` is e.g. Spotify's ``QUOTA_EXCEEDED``."""
        super().__init__(f"rate limited for {retry_after:g} s" + (f" ({reason})" if reason else ""))
        self.retry_after = retry_after
        self.reason = reason


class PlayerUnavailable(PlayerError):
    """Server errors or timeouts persisted through the bounded retries."""


class PlaybackTarget(ABC):
    """A player Smart Play can pause and resume."""

    #: Short kind for diagnostics/logs, e.g. ``"spotify"``.
    kind: str = "player"

    @abstractmethod
    async def async_get_playback(self) -> Playback | None:
        """Return the current playback, or None when nothing is active."""

    @abstractmethod
    async def async_pause(self, playback: Playback) -> Playback | None:
        """Pause ``playback`` on its device.

        Returns the playback state after pausing when the target could read it back
        (used to remember the exact position), else None. Raises :class:`AlreadyPaused`
        when the player turned out to be paused already (by someone else): then nothing
        was paused by Smart Play and nothing must be resumed later.
        """

    @abstractmethod
    async def async_resume(self, memo: PauseMemo) -> Playback | None:
        """Resume what ``memo`` describes: same device, same item, same position.

        The caller has already verified that the player still shows the remembered item,
        paused, on the remembered device. Returns the state after resuming when known.
        """

    @property
    def recent_command(self) -> OwnCommand | None:
        """Return the last pause/resume this target sent, if it keeps track."""
        return None

    async def async_get_devices(self) -> list[dict[str, Any]] | None:
        """Return the devices the player account lists (None: the target has no such list)."""
        return None

    async def async_resume_idle(self, memo: PauseMemo) -> None:
        """Start ``memo`` again on its device, which dropped its session (Spotify)."""
        raise PlayerError("not supported")

    # Optional remote-control commands (gestures, personal playlists). Targets that
    # cannot do one raise PlayerError("not supported").

    async def async_toggle(self) -> None:
        """Pause when playing, play when paused (play/pause gesture)."""
        raise PlayerError("not supported")

    async def async_next(self) -> None:
        """Skip to the next track."""
        raise PlayerError("not supported")

    async def async_previous(self) -> None:
        """Go back to the previous track."""
        raise PlayerError("not supported")

    async def async_volume_step(self, delta: int) -> None:
        """Change the volume by ``delta`` percentage points (negative: quieter)."""
        raise PlayerError("not supported")

    async def async_play_media(self, media_id: str, media_type: str | None = None) -> None:
        """Start playing ``media_id`` (a Spotify context URI or a media content id).

        Plays on the active device, else on the last used one.
        """
        raise PlayerError("not supported")

    def diagnostics(self) -> dict[str, Any]:
        """Return target details for diagnostics (no secrets)."""
        return {"kind": self.kind}
