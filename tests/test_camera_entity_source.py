"""A camera entity as the source: a fresh stream URL at every reconnect, and its token never shown.

Real parts: a Home Assistant camera entity (test platform) whose stream source
is a tokenised URL of a real MJPEG server on 127.0.0.1, the real vision
pipeline and reader thread. The server expires a URL like an NVR that hands
out short-lived stream URLs (token in the path and in the query).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import timedelta
import json
import logging
import threading
import time

from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockPlatform,
    async_fire_time_changed,
    mock_platform,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_play.const import CAMERA_FAILING_AFTER, DOMAIN, ISSUE_CAMERA_FAILING
from custom_components.smart_play.vision.types import SourceStatus
from tests.servers.mjpeg_server import MjpegServer

from .helpers_entities import clip, make_entry

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("socket_enabled")]

CAMERA = "camera.nvr_desk"


class TokenCamera(Camera):
    """A camera whose every stream URL carries a new token (path and query)."""

    _attr_name = "NVR desk"
    _attr_unique_id = "nvr-desk"
    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, server: MjpegServer) -> None:
        """Hand out URLs of ``server``."""
        super().__init__()
        self.server = server
        self.issued: list[str] = []  # tokens, oldest first
        self.streaming = True

    async def stream_source(self) -> str | None:
        """A new tokenised URL each time (None while the NVR has no stream)."""
        if not self.streaming:
            return None
        token = f"tok{len(self.issued):02d}Zq8Xv3Lm"
        self.issued.append(token)
        path = f"/live/{token}/stream.mjpg?auth={token}"
        self.server.tokens.add(path)
        return self.server.url_for(path)

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Snapshot (not used by Smart Play)."""
        return self.server.jpegs[0]


@pytest.fixture
def server() -> Iterator[MjpegServer]:
    """MJPEG camera on loopback."""
    with MjpegServer(clip(), fps=10.0) as srv:
        yield srv


@pytest.fixture
async def camera(hass: HomeAssistant, server: MjpegServer) -> TokenCamera:
    """The camera entity ``camera.nvr_desk`` (test platform)."""
    entity = TokenCamera(server)

    async def setup_platform(
        hass: HomeAssistant,
        config: dict,
        async_add_entities: Callable,
        discovery_info: object = None,
    ) -> None:
        async_add_entities([entity])

    mock_platform(hass, "test.camera", MockPlatform(async_setup_platform=setup_platform))
    assert await async_setup_component(hass, "http", {})
    assert await async_setup_component(hass, "camera", {"camera": {"platform": "test"}})
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA) is not None
    return entity


async def _wait_for(predicate: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_expired_stream_url_is_fetched_again_on_reconnect(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    camera: TokenCamera,
    server: MjpegServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The NVR's URL expires: Smart Play reconnects with a new one, no reload needed.

    Neither token shows in the log, the diagnostics, the repair issue or the
    names of the threads.
    """
    caplog.set_level(logging.DEBUG, logger="custom_components.smart_play")
    entry = make_entry(hass, source=CAMERA, loop=False)
    assert await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.LOADED
    runtime = entry.runtime_data
    assert runtime.source_label == CAMERA
    await _wait_for(lambda: runtime.source_state.status is SourceStatus.STREAMING, 30)
    issued = len(camera.issued)  # 1: setup's URL served the first connection (more if it failed)
    frames_before = server.frames_sent

    # The URL in use expires (its stream ends, it is refused from now on).
    current = camera.issued[-1]
    server.revoke(f"/live/{current}/stream.mjpg?auth={current}")
    await _wait_for(lambda: runtime.source_state.status is not SourceStatus.STREAMING, 15)
    await _wait_for(lambda: runtime.source_state.status is SourceStatus.STREAMING, 30)
    assert len(camera.issued) > issued  # asked the camera again for the reconnect
    assert server.frames_sent > frames_before
    assert entry.state is ConfigEntryState.LOADED  # no reload

    thread_names = [t.name for t in threading.enumerate()]
    assert any(CAMERA in name for name in thread_names)

    # The camera has no stream for minutes: a repair issue names the entity only.
    camera.streaming = False
    current = camera.issued[-1]
    server.revoke(f"/live/{current}/stream.mjpg?auth={current}")
    await _wait_for(lambda: runtime.source_state.status is SourceStatus.FAILED, 15)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=CAMERA_FAILING_AFTER + 1))
    await hass.async_block_till_done()
    issues = [
        issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue_id.startswith(ISSUE_CAMERA_FAILING)
    ]
    assert len(issues) == 1
    placeholders = json.dumps(issues[0].translation_placeholders)
    assert CAMERA in placeholders

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diagnostics)
    assert diagnostics["runtime"]["source"] == CAMERA

    shown = [caplog.text, dumped, placeholders, *thread_names]
    for token in camera.issued:
        for text in shown:
            assert token not in text

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
