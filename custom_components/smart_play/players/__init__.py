"""Playback targets Smart Play can pause and resume."""

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

__all__ = [
    "AlreadyPaused",
    "AuthFailed",
    "DeviceGone",
    "NoActiveDevice",
    "OwnCommand",
    "PauseMemo",
    "Playback",
    "PlaybackTarget",
    "PlayerError",
    "PlayerUnavailable",
    "PremiumRequired",
    "RateLimited",
]
