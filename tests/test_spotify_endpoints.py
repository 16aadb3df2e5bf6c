"""Smart Play's Spotify endpoints cannot be redirected in production; only tests move them."""

from __future__ import annotations

import json
import os
from pathlib import Path
import subprocess
import sys

from custom_components.smart_play.application_credentials import SCOPES, missing_scopes
from tests.e2e.hass_process import fake_spotify_env

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import json\n"
    "from custom_components.smart_play import application_credentials as ac\n"
    "from custom_components.smart_play.players import spotify\n"
    "print(json.dumps([spotify.API_BASE, ac.AUTHORIZE_URL, ac.TOKEN_URL]))\n"
)


def _endpoints(env: dict[str, str]) -> list[str]:
    """The endpoints a fresh interpreter's Smart Play would use with ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMART_PLAY")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_environment_does_not_redirect_spotify() -> None:
    """The variables that used to move the endpoints (and with them the token) do nothing."""
    endpoints = _endpoints(
        {
            "SMART_PLAY_SPOTIFY_API_BASE": "http://127.0.0.1:1/v1/",
            "SMART_PLAY_SPOTIFY_ACCOUNTS_BASE": "http://127.0.0.1:1",
            "SMART_PLAY_TEST_FAKE_SPOTIFY": "http://127.0.0.1:1",  # hook not on the path
        }
    )
    assert endpoints == [
        "https://api.spotify.com/v1/",
        "https://accounts.spotify.com/authorize",
        "https://accounts.spotify.com/api/token",
    ]


def test_e2e_hook_points_a_process_at_the_fake() -> None:
    """The test-only hook the e2e hass processes get moves every endpoint."""
    assert _endpoints(fake_spotify_env("http://127.0.0.1:4321/")) == [
        "http://127.0.0.1:4321/v1/",
        "http://127.0.0.1:4321/authorize",
        "http://127.0.0.1:4321/api/token",
    ]


def test_scope_check_names_what_is_missing() -> None:
    full = " ".join(SCOPES)
    assert missing_scopes({"scope": full}) == set()
    assert missing_scopes({"scope": "user-read-private"}) == set(SCOPES) - {"user-read-private"}
    assert missing_scopes({}) == set()  # a token that does not report scopes is trusted
