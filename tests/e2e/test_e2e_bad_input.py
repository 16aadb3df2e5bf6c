"""End to end: bad camera input through the real config-flow REST API of a real `hass`.

Each bad source must come back as an error on the camera form: nothing is created,
Home Assistant keeps running, and no password from a URL ends up in its log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from typing import Any

from aiohttp import web
import pytest

from .conftest import DEMO_PLAYER
from .hass_process import HOST, HassClient, HassProcess, free_port, log_records

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

SECRET = "s3cretPass"


@contextlib.asynccontextmanager
async def html_server() -> AsyncIterator[str]:
    """An HTTP server on 127.0.0.1 answering every GET with an HTML page."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body><h1>Router login</h1></body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, HOST, port)
    await site.start()
    try:
        yield f"http://{HOST}:{port}/camera.mjpg"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(hold, HOST, 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def camera_step(client: HassClient) -> str:
    """Start a Smart Play flow and walk it to the camera form; return the flow id."""
    flow = await client.flow_start("smart_play")
    assert flow["type"] == "menu", flow
    assert "media_player" in flow["menu_options"]
    flow = await client.flow_step(flow["flow_id"], {"next_step_id": "media_player"})
    flow = await client.flow_step(flow["flow_id"], {"media_player_entity_id": DEMO_PLAYER})
    assert flow["type"] == "form", flow
    assert flow["step_id"] == "camera", flow
    return str(flow["flow_id"])


async def submit_source(client: HassClient, source: Any) -> dict[str, Any]:
    """Submit `source` on a fresh camera form; return the flow's answer (or HTTP error)."""
    flow_id = await camera_step(client)
    assert client.session is not None
    async with client.session.post(
        f"{client.url}/api/config/config_entries/flow/{flow_id}",
        json={"source": source, "loop": False},
    ) as resp:
        body = await resp.json(content_type=None)
    with contextlib.suppress(Exception):
        await client.flow_abort(flow_id)
    return {"status": resp.status, "body": body}


async def test_bad_sources_show_an_error_and_create_nothing(
    hass_proc: HassProcess, client: HassClient
) -> None:
    """Unreachable, not-video, missing device, garbage and huge inputs are all refused."""
    closed_port = free_port()
    async with html_server() as html_url, silent_server() as silent_port:
        cases: dict[str, Any] = {
            "password URL, nothing listening": f"rtsp://admin:{SECRET}@{HOST}:{closed_port}/x",
            "HTTP page that is not video": html_url,
            "server that never answers": f"rtsp://{HOST}:{silent_port}/stream",
            "missing device": "/dev/video99",
            "missing file": "/nonexistent/clip.mp4",
            "words": "my living room camera",
            "scheme only": "rtsp://",
            "colons": "::::",
            "injection": "'; DROP TABLE config_entries; --",
            "control chars": "rtsp://127.0.0.1/\u0000\u0007",
            "emoji": "\U0001f4f7\U0001f3a5",
            "5000 chars": "x" * 5000,
            "5000-char URL": f"http://{HOST}:{closed_port}/" + "a" * 5000,
        }
        answers = {name: await submit_source(client, source) for name, source in cases.items()}
        empty = await submit_source(client, "   ")
        wrong_type = await submit_source(client, 12345)

    for name, answer in answers.items():
        assert answer["status"] == 200, (name, answer)
        body = answer["body"]
        assert body["type"] == "form", (name, body)
        assert body["step_id"] == "camera", (name, body)
        assert body["errors"], (name, body)
    assert answers["password URL, nothing listening"]["body"]["errors"] == {"source": "cannot_open"}
    assert answers["missing device"]["body"]["errors"].get("source")
    # Nothing typed: the form asks for a source.
    assert empty["status"] == 200
    assert empty["body"]["type"] == "form"
    assert empty["body"]["errors"]
    # Not a string at all: rejected by the form's schema, not by a crash.
    assert wrong_type["status"] == 400, wrong_type

    assert await client.config_entries("smart_play") == []
    config = await client.rest("GET", "/api/config")
    assert config["state"] == "RUNNING"
    assert hass_proc.running

    log = hass_proc.log_text()
    assert SECRET not in log, [line for line in log.splitlines() if SECRET in line][:5]
    crashes = [rec for rec in log_records(log) if "Traceback" in rec and "smart_play" in rec]
    assert not crashes, crashes[0][:2000]


async def test_missing_media_player_is_refused(client: HassClient) -> None:
    """A media player that does not exist gets an error on the first form."""
    flow = await client.flow_start("smart_play")
    flow = await client.flow_step(flow["flow_id"], {"next_step_id": "media_player"})
    answer = await client.flow_step(
        flow["flow_id"], {"media_player_entity_id": "media_player.nope"}
    )
    assert answer["type"] == "form"
    assert answer["step_id"] == "media_player"
    assert answer["errors"] == {"media_player_entity_id": "entity_not_found"}
    await client.flow_abort(flow["flow_id"])
    assert await client.config_entries("smart_play") == []
