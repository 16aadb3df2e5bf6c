"""Constants for Smart Play."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "smart_play"
LOGGER = logging.getLogger(__package__)

# Config entry data
CONF_TARGET_TYPE: Final = "target_type"
TARGET_SPOTIFY: Final = "spotify"
TARGET_MEDIA_PLAYER: Final = "media_player"
CONF_MEDIA_PLAYER: Final = "media_player_entity_id"
CONF_SOURCE: Final = "source"  # device number/path, file, rtsp/http URL, or camera.xxx entity id
CONF_LOOP: Final = "loop"  # loop a file source (demo)
CONF_SPOTIFY_USER: Final = "spotify_user_id"
# Spotify Connect devices at this camera (entry options, see players.base.DeviceScope)
OPT_SPOTIFY_DEVICES: Final = "spotify_devices"
OPT_ANY_DEVICE: Final = "spotify_any_device"
# A camera on another computer: the desk agent reports through this entry's webhook.
SOURCE_AGENT: Final = "agent"  # CONF_SOURCE of an agent entry (its key is CONF_WEBHOOK_ID)

# Config entry options (live, no reload)
OPT_DELAY: Final = "delay"
OPT_SENSITIVITY: Final = "sensitivity"
OPT_FPS: Final = "fps"
OPT_CAMERA: Final = "camera_enabled"  # the Camera switch (default on)
# Parts of the picture the engine ignores: [[x, y, w, h], ...] shares 0..1 (a TV, a window)
CONF_EXCLUDE_ZONES: Final = "exclude_zones"

DEFAULT_DELAY: Final = 2.0
MIN_DELAY: Final = 0.5
MAX_DELAY: Final = 60.0
DEFAULT_SENSITIVITY: Final = 5
MIN_SENSITIVITY: Final = 1
MAX_SENSITIVITY: Final = 10
DEFAULT_FPS: Final = 10.0

# Events
EVENT_PAUSED: Final = "smart_play_paused"
EVENT_RESUMED: Final = "smart_play_resumed"
EVENT_RESUME_SKIPPED: Final = "smart_play_resume_skipped"
EVENT_PAUSE_SKIPPED: Final = "smart_play_pause_skipped"
EVENT_OCCUPANCY: Final = "smart_play_occupancy"

# Repairs
ISSUE_PREMIUM_REQUIRED: Final = "premium_required"
ISSUE_CAMERA_FAILING: Final = "camera_failing"
ISSUE_CHOOSE_DEVICES: Final = "choose_devices"  # fixable: pick the Spotify devices
ISSUE_DEVICE_RESTRICTED: Final = "device_restricted"
CAMERA_FAILING_AFTER: Final = 180.0  # seconds of a failing camera before a repair issue

SIGNAL_UPDATE: Final = "smart_play_update_{}"

# Spotify endpoints: fixed (the refresh token and client secret go there). Other
# modules derive their URLs from these at import time; tests patch them (the e2e
# tests through tests/e2e/spotify_hook), production has no switch.
SPOTIFY_API_BASE: Final = "https://api.spotify.com/v1/"
SPOTIFY_ACCOUNTS_BASE: Final = "https://accounts.spotify.com"
