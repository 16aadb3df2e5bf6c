"""Tracking view camera: annotated frames as stills and as an MJPEG stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from http import HTTPStatus
from unittest.mock import patch

from homeassistant.components.camera import async_get_image
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import (
    FakePipeline,
    all_entities_enabled,
    async_setup_streaming,
    entity_id_of,
    fake_pipelines,
)

CAMERA = "camera.desk_tracking_view"
JPEG = b"\xff\xd8\xff\xe0fake-annotated-frame\xff\xd9"


@pytest.fixture
def enabled_by_default() -> Iterator[None]:
    """Enable the entities that are disabled by default."""
    with all_entities_enabled():
        yield


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake."""
    with fake_pipelines() as created:
        yield created


async def test_disabled_by_default(hass: HomeAssistant, pipelines: list[FakePipeline]) -> None:
    """For privacy the camera has to be enabled by the user."""
    entry, _ = await async_setup_streaming(hass, pipelines)
    entity_id = entity_id_of(hass, entry, "camera", "tracking_view")
    assert entity_id == CAMERA
    registry_entry = er.async_get(hass).async_get(entity_id)
    assert registry_entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get(CAMERA) is None
    assert pipelines[-1].jpeg_calls == 0  # nothing asks for rendered frames


@pytest.mark.usefixtures("enabled_by_default")
async def test_still_image_waits_for_the_first_render(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """The first request starts rendering; the image arrives once rendered."""
    _, pipeline = await async_setup_streaming(hass, pipelines)
    assert hass.states.get(CAMERA).state == "streaming"
    pipeline.jpeg = JPEG
    pipeline.jpeg_after_calls = 3  # rendering kicks in after a few polls
    image = await async_get_image(hass, CAMERA)
    assert image.content == JPEG
    assert image.content_type == "image/jpeg"
    assert pipeline.jpeg_calls == 4


@pytest.mark.usefixtures("enabled_by_default")
async def test_still_image_gives_up_after_the_first_frame_timeout(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """Nothing rendered: an error after the first-frame timeout, not a hang."""
    _, pipeline = await async_setup_streaming(hass, pipelines)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with (
        patch("custom_components.smart_play.camera_host.LOCAL_FIRST_FRAME_TIMEOUT", 0.5),
        pytest.raises(HomeAssistantError),
    ):
        await async_get_image(hass, CAMERA)
    assert 0.45 <= loop.time() - started < 2
    assert pipeline.jpeg_calls > 1  # kept asking (which keeps rendering on)


@pytest.mark.usefixtures("enabled_by_default")
async def test_unavailable_without_camera(
    hass: HomeAssistant, pipelines: list[FakePipeline]
) -> None:
    """No camera, no tracking view."""
    _, pipeline = await async_setup_streaming(hass, pipelines)
    pipeline.source_state(SourceStatus.FAILED, "timeout")
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA).state == STATE_UNAVAILABLE
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA).state == "streaming"


@pytest.mark.usefixtures("enabled_by_default")
async def test_mjpeg_stream_for_the_dashboard(
    hass: HomeAssistant, pipelines: list[FakePipeline], hass_client: ClientSessionGenerator
) -> None:
    """The live view is an MJPEG stream of successive annotated frames."""
    assert await async_setup_component(hass, "http", {})
    _, pipeline = await async_setup_streaming(hass, pipelines)
    pipeline.jpeg = JPEG
    client = await hass_client()
    response = await client.get(f"/api/camera_proxy_stream/{CAMERA}")
    assert response.status == HTTPStatus.OK
    assert response.content_type == "multipart/x-mixed-replace"
    body = b""
    async with asyncio.timeout(5):
        while body.count(b"--frameboundary") < 2:
            body += await response.content.readany()
        pipeline.jpeg = JPEG.replace(b"fake", b"next")
        while b"next-annotated-frame" not in body:
            body += await response.content.readany()
    response.close()
    assert b"Content-Type: image/jpeg" in body
    assert JPEG in body
