"""Diagnostics download: useful state, no secrets."""

from __future__ import annotations

from collections.abc import Iterator
import json
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.smart_play.const import OPT_DELAY
from custom_components.smart_play.diagnostics import redact_url
from custom_components.smart_play.vision.types import Occupancy, SourceStatus

from .helpers_entities import FakePipeline, async_setup, fake_pipelines, make_entry

PASSWORD = "s3cr3t-Pa55"
USER = "alice-cam"
ACCESS_TOKEN = "BQD-access-token-value"
REFRESH_TOKEN = "AQC-refresh-token-value"
CLIENT_SECRET = "client-secret-value"
SOURCE = f"rtsp://{USER}:{PASSWORD}@127.0.0.1:8554/room?token=querysecret1"
SECRETS = (PASSWORD, USER, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET, "querysecret1")


@pytest.fixture
def pipelines() -> Iterator[list[FakePipeline]]:
    """Replace the vision pipeline by a scriptable fake; no real camera is opened."""
    with (
        fake_pipelines() as created,
        patch("custom_components.smart_play.probe_source", return_value=(640, 480)),
    ):
        yield created


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://user:pass@host:554/x", "rtsp://**REDACTED**@host:554/x"),
        ("rtsp://u:p@ss/w@host/s", "rtsp://**REDACTED**@host/s"),
        ("http://cam.local/mjpg?user=bob&pwd=hunter2&x=1", None),
        ("camera.front_door", "camera.front_door"),
        ("/dev/video0", "/dev/video0"),
        ("failed: rtsp://a:bb@h1/x then http://c:dd@h2", None),
    ],
)
def test_redact_url(url: str, expected: str | None) -> None:
    """Credentials inside URLs disappear; other sources stay readable."""
    redacted = redact_url(url)
    if expected is not None:
        assert redacted == expected
    for secret in ("pass", "p@ss", "hunter2", "bob", ":bb@", ":dd@"):
        if secret in url:
            assert secret not in redacted
    assert "cam.local" in redacted or "cam.local" not in url


async def test_diagnostics_content_without_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    pipelines: list[FakePipeline],
) -> None:
    """The download explains what happened and never leaks tokens or passwords."""
    assert await async_setup_component(hass, "http", {})
    entry = make_entry(
        hass,
        source=SOURCE,
        options={OPT_DELAY: 4.5},
        token={
            "access_token": ACCESS_TOKEN,
            "refresh_token": REFRESH_TOKEN,
            "expires_at": 1.0,
        },
        client_secret=CLIENT_SECRET,
    )
    await async_setup(hass, entry)
    pipeline = pipelines[-1]
    pipeline.source_state(SourceStatus.STREAMING)
    pipeline.transition(Occupancy.OCCUPIED, "person moving")
    pipeline.transition(Occupancy.EMPTY, "no presence for 4.5 s")
    pipeline.stats(motion_score=3.25, fps=9.5, frame_cost_ms=4.0)
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diagnostics)
    for secret in SECRETS:
        assert secret not in dumped, secret

    assert diagnostics["entry"]["data"]["source"].startswith("rtsp://**REDACTED**@127.0.0.1:8554/")
    assert diagnostics["entry"]["data"]["token"] == "**REDACTED**"
    assert diagnostics["entry"]["options"] == {OPT_DELAY: 4.5}
    runtime = diagnostics["runtime"]
    assert runtime["source_state"]["status"] == "streaming"
    assert runtime["occupancy"] == "empty"
    assert runtime["delay"] == 4.5
    assert [t["reason"] for t in runtime["transitions"]] == [
        "person moving",
        "no presence for 4.5 s",
    ]
    assert runtime["stats"]["fps"] == 9.5
    assert diagnostics["camera_available"] is True
    assert diagnostics["engine"]["config"]["delay"] == 4.5
    assert diagnostics["engine"]["config"]["sensitivity"] == 5
    assert isinstance(diagnostics["engine"]["uses_opencv"], bool)
    assert diagnostics["controller"]["auto_pause"] is True


async def test_diagnostics_with_failed_camera(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    pipelines: list[FakePipeline],
) -> None:
    """A failing camera shows up with its reason; still no password."""
    assert await async_setup_component(hass, "http", {})
    entry = make_entry(hass, source=SOURCE)
    await async_setup(hass, entry)
    pipelines[-1].source_state(SourceStatus.FAILED, f"cannot open {SOURCE}: refused")
    await hass.async_block_till_done()

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    dumped = json.dumps(diagnostics)
    assert PASSWORD not in dumped
    assert diagnostics["camera_available"] is False
    assert diagnostics["runtime"]["source_state"]["status"] == "failed"
    assert "refused" in diagnostics["runtime"]["source_state"]["reason"]
    assert diagnostics["runtime"]["stats"] is None
