"""Config flow with a Home Assistant camera entity as the source, and a probe that hangs."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
import threading
from unittest.mock import AsyncMock, patch

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockPlatform, mock_platform

from custom_components.smart_play.config_flow import CONF_CAMERA_ENTITY
from custom_components.smart_play.const import CONF_MEDIA_PLAYER, CONF_SOURCE, DOMAIN
from tests.servers.mjpeg_server import MjpegServer

from .helpers_entities import clip
from .test_camera_entity_source import CAMERA, TokenCamera

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("socket_enabled")]
PLAYER = "media_player.desk_speaker"


@pytest.fixture(autouse=True)
def _no_setup() -> Generator[AsyncMock]:
    """Creating an entry must not start the camera in these tests."""
    with patch("custom_components.smart_play.async_setup_entry", return_value=True) as mock:
        yield mock


@pytest.fixture
def mjpeg() -> Iterator[MjpegServer]:
    with MjpegServer(clip(), fps=10.0) as srv:
        yield srv


@pytest.fixture
async def nvr(hass: HomeAssistant, mjpeg: MjpegServer) -> TokenCamera:
    """``camera.nvr_desk``: a camera entity whose stream is the MJPEG server."""
    entity = TokenCamera(mjpeg)

    async def setup_platform(
        hass: HomeAssistant, config: dict, add: Callable, discovery_info: object = None
    ) -> None:
        add([entity])

    mock_platform(hass, "test.camera", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "camera", {"camera": {"platform": "test"}})
    await hass.async_block_till_done()
    return entity


async def _camera_step(hass: HomeAssistant) -> str:
    hass.states.async_set(PLAYER, "playing", {"friendly_name": "Desk speaker"})
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "media_player"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_MEDIA_PLAYER: PLAYER}
    )
    assert result["step_id"] == "camera"
    return result["flow_id"]


async def test_camera_entity_names_the_entry_and_hides_its_url(
    hass: HomeAssistant, nvr: TokenCamera
) -> None:
    flow_id = await _camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CAMERA_ENTITY: CAMERA})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Desk speaker · NVR desk"
    assert result["data"][CONF_SOURCE] == CAMERA  # the entity, not its tokenised URL
    assert nvr.issued  # its stream was opened to check it


async def test_camera_entity_that_does_not_exist(hass: HomeAssistant, nvr: TokenCamera) -> None:
    flow_id = await _camera_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_CAMERA_ENTITY: "camera.gone"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CAMERA_ENTITY: "camera_entity_unavailable"}


async def test_camera_entity_without_a_stream(hass: HomeAssistant, nvr: TokenCamera) -> None:
    nvr.streaming = False
    flow_id = await _camera_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_CAMERA_ENTITY: CAMERA})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CAMERA_ENTITY: "camera_entity_no_stream"}


async def test_a_camera_probe_that_hangs_ends_with_timeout(hass: HomeAssistant) -> None:
    """Even if the camera library ignored its own timeout, the form answers."""
    release = threading.Event()

    def _hang(url: str, timeout: float) -> None:
        release.wait(30)

    flow_id = await _camera_step(hass)
    try:
        # The flow's own deadline is PROBE_TIMEOUT + 5 s; here 0.3 s.
        with (
            patch("custom_components.smart_play.config_flow.probe_source", _hang),
            patch("custom_components.smart_play.config_flow.PROBE_TIMEOUT", -4.7),
        ):
            result = await hass.config_entries.flow.async_configure(
                flow_id, {CONF_SOURCE: "rtsp://127.0.0.1:9/stream"}
            )
    finally:
        release.set()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SOURCE: "timeout"}
