"""Application credentials platform for Smart Play (Spotify OAuth2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from homeassistant.components.application_credentials import AuthorizationServer
from homeassistant.core import HomeAssistant

from .const import SPOTIFY_ACCOUNTS_BASE

AUTHORIZE_URL: Final = f"{SPOTIFY_ACCOUNTS_BASE}/authorize"
TOKEN_URL: Final = f"{SPOTIFY_ACCOUNTS_BASE}/api/token"

#: OAuth scopes Smart Play asks for: read and control playback, and read the account
#: (``GET /me``: user id and whether it is Premium).
SCOPES: Final[list[str]] = [
    "user-read-playback-state",
    "user-modify-playback-state",
    "user-read-currently-playing",
    "user-read-private",
]


def missing_scopes(token: Mapping[str, Any]) -> set[str]:
    """Scopes Smart Play needs that the token was not granted (empty: all granted).

    What the user notices: a sign-in that lacks a permission Smart Play needs (an old
    token, or permissions narrowed at Spotify) asks to reauthenticate instead of failing
    later on a refused command. A token that does not report its scopes is trusted.
    """
    granted = token.get("scope")
    if not isinstance(granted, str):
        return set()
    return set(SCOPES) - set(granted.split())


async def async_get_authorization_server(hass: HomeAssistant) -> AuthorizationServer:
    """Return Spotify's authorization server."""
    return AuthorizationServer(authorize_url=AUTHORIZE_URL, token_url=TOKEN_URL)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Return placeholders for the credentials dialog (where to create the app)."""
    return {
        "developer_dashboard_url": "https://developer.spotify.com/dashboard",
        "redirect_url": "https://my.home-assistant.io/redirect/oauth",
    }
