"""Spotify OAuth through Home Assistant's application credentials, against the fake Spotify."""

from __future__ import annotations

from collections.abc import Generator
from http import HTTPStatus
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_play.const import (
    CONF_SOURCE,
    CONF_SPOTIFY_USER,
    CONF_TARGET_TYPE,
    DOMAIN,
    TARGET_SPOTIFY,
)

from .conftest import DATA
from .fake_spotify.server import FakeSpotify

pytest_plugins = ["tests.fake_spotify.fixtures"]

CLIP = str(DATA / "head-pose-male-preview.mp4")
REDIRECT = "https://example.com/auth/external/callback"


@pytest.fixture(autouse=True)
def _no_setup() -> Generator[AsyncMock]:
    with patch("custom_components.smart_play.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
async def credentials(hass: HomeAssistant, fake_spotify: FakeSpotify) -> Generator[None]:
    """Application credentials whose Spotify endpoints are the fake's."""
    assert await async_setup_component(hass, "application_credentials", {})
    with (
        patch(
            "custom_components.smart_play.application_credentials.AUTHORIZE_URL",
            f"{fake_spotify.url}/authorize",
        ),
        patch(
            "custom_components.smart_play.application_credentials.TOKEN_URL",
            fake_spotify.token_url,
        ),
        patch(
            "custom_components.smart_play.players.spotify.API_BASE",
            fake_spotify.api_base,
        ),
    ):
        await async_import_client_credential(
            hass,
            DOMAIN,
            ClientCredential(fake_spotify.client_id, fake_spotify.client_secret),
            "imported",
        )
        yield


async def _authorize(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator, flow_id: str
) -> dict:
    """Follow the external step like the browser does after the user approved."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "pick_implementation"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert "user-modify-playback-state" in result["url"]
    state = config_entry_oauth2_flow._encode_jwt(
        hass, {"flow_id": flow_id, "redirect_uri": REDIRECT}
    )
    client = await hass_client_no_auth()
    resp = await client.get(f"/auth/external/callback?code=fake-auth-code&state={state}")
    assert resp.status == HTTPStatus.OK
    return await hass.config_entries.flow.async_configure(flow_id)


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_spotify_sign_in_then_camera(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    fake_spotify: FakeSpotify,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _authorize(hass, hass_client_no_auth, result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "spotify_devices"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"devices": ["dev-speaker"], "any_device": False}
    )
    assert result["step_id"] == "camera"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SOURCE: CLIP})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Smart Player · head-pose-male-preview.mp4"
    data = result["data"]
    assert data[CONF_TARGET_TYPE] == TARGET_SPOTIFY
    assert data[CONF_SPOTIFY_USER] == "smartplayer"
    assert data["token"]["refresh_token"] == fake_spotify.refresh_token
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert entry.unique_id.startswith("spotify:smartplayer:")

    # Same account, same camera: refused with a clear reason.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _authorize(hass, hass_client_no_auth, result["flow_id"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"devices": [], "any_device": True}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SOURCE: CLIP})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_spotify_unreachable_after_sign_in(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    fake_spotify: FakeSpotify,
) -> None:
    fake_spotify.fail_next(503, count=5)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _authorize(hass, hass_client_no_auth, result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "connection_error"
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.usefixtures("current_request_with_host", "credentials")
@pytest.mark.parametrize(
    ("user", "reason"),
    [("smartplayer", "reauth_successful"), ("someone_else", "reauth_account_mismatch")],
)
async def test_reauth(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    fake_spotify: FakeSpotify,
    user: str,
    reason: str,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Smart Player · desk",
        unique_id="spotify:smartplayer:abc",
        data={
            "auth_implementation": "imported",
            "token": {"access_token": "old", "refresh_token": "revoked", "expires_at": 0},
            CONF_TARGET_TYPE: TARGET_SPOTIFY,
            CONF_SPOTIFY_USER: user,
            CONF_SOURCE: CLIP,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    state = config_entry_oauth2_flow._encode_jwt(
        hass, {"flow_id": result["flow_id"], "redirect_uri": REDIRECT}
    )
    client = await hass_client_no_auth()
    await client.get(f"/auth/external/callback?code=fake-auth-code&state={state}")
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    if reason == "reauth_successful":
        assert entry.data["token"]["refresh_token"] == fake_spotify.refresh_token
        assert entry.data[CONF_SOURCE] == CLIP  # the camera is kept
    else:
        assert entry.data["token"]["access_token"] == "old"


def _offered(result: dict) -> dict[str, str]:
    """Return value -> label of the devices the form offers."""
    schema = result["data_schema"].schema
    (devices,) = (v for k, v in schema.items() if k == "devices")
    return {o["value"]: o["label"] for o in devices.config["options"]}


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_spotify_device_step_lists_devices_and_takes_typed_names(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    fake_spotify: FakeSpotify,
) -> None:
    """After sign-in: pick devices at this camera; "any device" is not the default."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _authorize(hass, hass_client_no_auth, result["flow_id"])
    assert result["step_id"] == "spotify_devices"
    assert _offered(result) == {
        "dev-desktop": "Work Laptop (Computer)",
        "dev-speaker": "Living Room (Speaker)",
        "dev-phone": "Pixel (Smartphone)",
        "dev-restricted": "Kitchen Sonos (Speaker), restricted",
    }
    assert result["description_placeholders"] == {"count": "4"}
    any_default = next(k for k in result["data_schema"].schema if k == "any_device").default()
    assert any_default is False

    # Nothing chosen: a clear error, the form again.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"devices": [], "any_device": False}
    )
    assert result["step_id"] == "spotify_devices"
    assert result["errors"] == {"base": "no_device"}

    # A listed device, a typed name of a listed device, a device that is not open now.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"devices": ["dev-desktop", "pixel", " Office Echo ", ""], "any_device": False},
    )
    assert result["step_id"] == "camera"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SOURCE: CLIP})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.options["spotify_any_device"] is False
    assert entry.options["spotify_devices"] == [
        {"device_id": "dev-desktop", "name": "Work Laptop"},
        {"device_id": "dev-phone", "name": "Pixel"},
        {"device_id": None, "name": "Office Echo"},
    ]


@pytest.mark.usefixtures("current_request_with_host", "credentials")
async def test_spotify_device_step_when_spotify_cannot_list_them(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    fake_spotify: FakeSpotify,
) -> None:
    """Listing fails: the step still lets you type names or choose any device."""
    fake_spotify.fail_next(503, count=1, path_prefix="/v1/me/player/devices")
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await _authorize(hass, hass_client_no_auth, result["flow_id"])
    assert result["step_id"] == "spotify_devices"
    assert _offered(result) == {}
    assert result["description_placeholders"] == {"count": "0"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"any_device": True})
    assert result["step_id"] == "camera"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_SOURCE: CLIP})
    assert result["result"].options["spotify_any_device"] is True
