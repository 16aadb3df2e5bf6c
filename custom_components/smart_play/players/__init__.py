"""Playback targets Smart Play can pause and resume."""

from .base import (
    AuthFailed,
    DeviceGone,
    NoActiveDevice,
    PauseMemo,
    Playback,
    PlaybackTarget,
    PlayerError,
    PlayerUnavailable,
    PremiumRequired,
    RateLimited,
)

__all__ = [
    "AuthFailed",
    "DeviceGone",
    "NoActiveDevice",
    "PauseMemo",
    "Playback",
    "PlaybackTarget",
    "PlayerError",
    "PlayerUnavailable",
    "PremiumRequired",
    "RateLimited",
]
