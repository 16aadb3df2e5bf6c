"""End to end: Spotify faults (429, 5xx, timeouts) against a real `hass`, no crash, no spam.

Same setup as test_e2e_spotify.py (its fixtures are reused): HA's real OAuth2 flow
against tests/fake_spotify running in this process, whose fault injection
(`fail_next`, `slow_next`) and request log (arrival times in `time.monotonic()`, the
same clock the tests read) show exactly what Smart Play sent and when.

Faults are injected once the camera saw the visitor (occupancy on), so they hit the
pause that follows their leave. `away_clip` keeps the room empty for ~26 s after the
leave (time for retries); `clip` brings the next visitor back ~3 s after the leave.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
import re
import time
from typing import Any

import pytest

from custom_components.smart_play.players.spotify import REQUEST_TIMEOUT, RETRY_DELAYS
from tests.fake_spotify import FakeSpotify
from tests.fake_spotify.server import LoggedRequest

from . import test_e2e_spotify as spotify_e2e
from .hass_process import HassClient, HassProcess, log_records, next_event
from .test_e2e_media_player import entity_by_key

# The Spotify fixtures of test_e2e_spotify.py: a module-scoped hass with the fake's URLs in
# its environment (a separate instance for this module) and the fake on that port.
spotify_port = spotify_e2e.spotify_port
hass_proc = spotify_e2e.hass_proc
fake_spotify = spotify_e2e.fake_spotify

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PAUSE = "/v1/me/player/pause"
PLAYER = "/v1/me/player"
#: One attempt plus one per backoff delay: what a 5xx or a timeout may cost per request.
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
SMART_PLAY_LOGGER = re.compile(r"\S+ \S+ (\w+) \([^)]*\) \[custom_components\.smart_play")


# --------------------------------------------------------------------------- helpers
async def add_spotify_entry(
    client: HassClient,
    fake: FakeSpotify,
    source: Path,
    *,
    devices: list[str] | None = None,
    name: str | None = None,
) -> tuple[str, str]:
    """Add Smart Play with the Spotify target; return (entry id, occupancy sensor).

    ``devices``: the Spotify devices at this camera (ids or typed names); None chooses
    "any device".

    Like `authorize_spotify` in test_e2e_spotify.py, but the application credentials
    (which outlive the entries the `client` fixture deletes) are created only once per
    hass process: a second copy would make the flow ask which one to use.
    """
    credentials = await client.ws_command({"type": "application_credentials/list"})
    if not any(c.get("client_id") == fake.client_id for c in credentials):
        await client.ws_command(
            {
                "type": "application_credentials/create",
                "domain": "smart_play",
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "name": "Fake Spotify",
            }
        )
    flow = await client.flow_start("smart_play")
    assert flow["type"] == "menu", flow
    flow = await client.flow_step(flow["flow_id"], {"next_step_id": "pick_implementation"})
    assert flow["type"] == "external", flow
    assert client.session is not None
    async with client.session.get(flow["url"], allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
        callback = resp.headers["Location"]
    async with client.session.get(callback) as resp:
        assert resp.status == 200, await resp.text()
    choice = await client.flow_step(flow["flow_id"], {})
    assert choice.get("step_id") == "spotify_devices", choice
    camera = await client.flow_step(
        choice["flow_id"], {"devices": devices or [], "any_device": devices is None}
    )
    assert camera.get("step_id") == "camera", camera
    form: dict[str, object] = {"source": str(source), "loop": True}
    if name is not None:
        form["name"] = name
    result = await client.flow_step(camera["flow_id"], form)
    assert result["type"] == "create_entry", result
    entry_id = str(result["result"]["entry_id"])
    return entry_id, await entity_by_key(client, entry_id, "binary_sensor", "occupancy")


class LogWindow:
    """Smart Play's home-assistant.log records written after the window was opened."""

    def __init__(self, hass: HassProcess) -> None:
        self.hass = hass
        self.start = len(hass.log_text())

    def records(self) -> list[str]:
        """Records (line + traceback) logged since `start`."""
        return log_records(self.hass.log_text()[self.start :])

    def smart_play(self, level: str) -> list[str]:
        """Smart Play's records of `level` (WARNING, ERROR, ...) since `start`."""
        return [
            rec
            for rec in self.records()
            if (m := SMART_PLAY_LOGGER.match(rec)) is not None and m.group(1) == level
        ]

    def tracebacks(self) -> list[str]:
        """Records with a traceback through Smart Play or the Spotify client since `start`."""
        return [
            rec
            for rec in self.records()
            if "Traceback" in rec and re.search(r"smart_play|spotipy|spotify", rec, re.IGNORECASE)
        ]

    async def wait_for(self, pattern: str, within: float) -> str:
        """The first record since `start` matching `pattern` (waits up to `within` s)."""
        deadline = time.monotonic() + within
        while True:
            for rec in self.records():
                if re.search(pattern, rec):
                    return rec
            if time.monotonic() > deadline:
                raise AssertionError(f"no log record matching {pattern!r} in {within:.0f} s")
            await asyncio.sleep(0.2)


def assert_no_errors(log: LogWindow) -> None:
    """No Smart Play error and no Smart Play/Spotify traceback in the log window."""
    errors = log.smart_play("ERROR")
    assert not errors, errors
    tracebacks = log.tracebacks()
    assert not tracebacks, tracebacks


def for_entry(entry_id: str) -> Callable[[dict[str, Any]], bool]:
    """Event filter: Smart Play events of one entry."""
    return lambda event: event["data"].get("entry_id") == entry_id


def show(requests: list[LoggedRequest]) -> str:
    """Readable request log for assertion messages (times relative to the first)."""
    t0 = requests[0].time if requests else 0.0
    return "\n".join(f"+{r.time - t0:6.2f}s {r.method} {r.path} -> {r.status}" for r in requests)


async def api_answers_promptly(client: HassClient, within: float = 2.0) -> float:
    """Time a REST round trip to hass (GET /api/): its event loop must not be blocked."""
    started = time.monotonic()
    async with asyncio.timeout(within):
        assert await client.rest("GET", "/api/") == {"message": "API running."}
    return time.monotonic() - started


async def assert_alive(hass: HassProcess, client: HassClient, sensor: str) -> None:
    """hass still runs, answers REST and still has the occupancy sensor."""
    assert hass.running, f"hass exited:\n{hass.tail()}"
    await api_answers_promptly(client)
    state = await client.state(sensor)
    assert state is not None
    assert state["state"] in ("on", "off"), state


# ----------------------------------------------------------------------------- tests
@pytest.mark.timeout(150)
async def test_rate_limited_pause_waits_for_retry_after_then_pauses_once(
    hass_proc: HassProcess, client: HassClient, fake_spotify: FakeSpotify, away_clip: Path
) -> None:
    """A 429 `Retry-After: 2` on the pause: silence for 2 s, then exactly one pause."""
    fake_spotify.user_play(device_id="dev-speaker", context_uri="spotify:album:mezzanine")
    paused_q = await client.subscribe_events("smart_play_paused")
    entry_id, sensor = await add_spotify_entry(client, fake_spotify, away_clip)
    await client.wait_state(sensor, "on", 30)
    log = LogWindow(hass_proc)
    fake_spotify.clear_log()
    fake_spotify.fail_next(429, 1, retry_after=2, path_prefix=PAUSE, method="PUT")

    paused = await next_event(paused_q, 45, for_entry(entry_id))
    await asyncio.sleep(1.0)  # a second pause or stray request would show up by now

    requests = fake_spotify.api_requests()
    pauses = [r for r in requests if r.method == "PUT" and r.path == PAUSE]
    assert [r.status for r in pauses] == [429, 204], show(requests)
    limited = pauses[0]
    after = [r for r in requests if r.time > limited.time]
    assert after, show(requests)
    gap = after[0].time - limited.time
    assert gap >= 1.99, f"request {gap:.2f} s after the 429 (Retry-After: 2)\n{show(requests)}"
    assert gap < 6.0, f"waited {gap:.2f} s for a 2 s Retry-After\n{show(requests)}"
    # Per attempt: GET (decide) + PUT pause (+ GET to read the paused position back).
    assert len(requests) <= 5, show(requests)

    assert paused["data"]["item_uri"] == "spotify:track:1"
    assert paused_q.empty(), "more than one smart_play_paused event"
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is False

    warnings = log.smart_play("WARNING")
    assert len(warnings) == 1, warnings
    assert "rate limit" in warnings[0], warnings
    assert "waiting 2.0 s" in warnings[0], warnings
    assert_no_errors(log)
    await assert_alive(hass_proc, client, sensor)
    print(f"\n429: {len(requests)} requests, silent {gap:.2f} s after the 429\n{show(requests)}")


@pytest.mark.timeout(120)
async def test_rate_limit_wait_dropped_when_the_person_comes_back(
    hass_proc: HassProcess, client: HassClient, fake_spotify: FakeSpotify, clip: Path
) -> None:
    """The next visitor comes back during a 429 wait: the pause is dropped, not sent late."""
    fake_spotify.user_play(device_id="dev-speaker", context_uri="spotify:album:mezzanine")
    paused_q = await client.subscribe_events("smart_play_paused")
    _entry_id, sensor = await add_spotify_entry(client, fake_spotify, clip)
    await client.wait_state(sensor, "on", 30)
    log = LogWindow(hass_proc)
    fake_spotify.clear_log()
    retry_after = 8.0  # the next visitor walks in ~3 s after the leave
    fake_spotify.fail_next(429, 1, retry_after=retry_after, path_prefix=PAUSE, method="PUT")

    await client.wait_state(sensor, "off", 30)
    await client.wait_state(sensor, "on", 15)
    await log.wait_for(r"rate-limit wait: pause dropped", 10)
    pauses = fake_spotify.api_requests("PUT", PAUSE)
    assert [r.status for r in pauses] == [429], show(fake_spotify.api_requests())
    # Past the Retry-After: a late pause would have been sent by now.
    await asyncio.sleep(max(0.0, pauses[0].time + retry_after + 1.5 - time.monotonic()))

    requests = fake_spotify.api_requests()
    assert [r for r in requests if r.time > pauses[0].time] == [], show(requests)
    assert paused_q.empty(), "paused although the person came back"
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is True
    assert_no_errors(log)
    assert len(log.smart_play("WARNING")) <= 1, log.smart_play("WARNING")
    await assert_alive(hass_proc, client, sensor)
    print(f"\n429 then return: {len(requests)} requests\n{show(requests)}")


@pytest.mark.timeout(120)
async def test_spotify_down_bounded_retries_one_warning(
    hass_proc: HassProcess, client: HassClient, fake_spotify: FakeSpotify, clip: Path
) -> None:
    """503 on every request: a few spaced retries, one warning, nothing resumed later."""
    fake_spotify.user_play(device_id="dev-speaker", context_uri="spotify:album:mezzanine")
    events = await client.subscribe_events()
    entry_id, sensor = await add_spotify_entry(client, fake_spotify, clip)
    await client.wait_state(sensor, "on", 30)
    log = LogWindow(hass_proc)
    fake_spotify.clear_log()
    fake_spotify.fail_next(503, 10)

    await client.wait_state(sensor, "off", 30)
    warning = await log.wait_for(r"WARNING .*custom_components\.smart_play.*Cannot pause", 20)
    # The next visitor comes back (~3 s after the leave): the sensor keeps working and
    # nothing is resumed, since nothing was paused.
    await client.wait_state(sensor, "on", 15)
    await asyncio.sleep(2.0)

    requests = fake_spotify.api_requests()
    assert len(requests) == MAX_ATTEMPTS, show(requests)
    assert all(r.status == 503 for r in requests), show(requests)
    # Only the state read that decides, retried; no command was sent.
    assert all((r.method, r.path) == ("GET", PLAYER) for r in requests), show(requests)
    gaps = [b.time - a.time for a, b in pairwise(requests)]
    for gap, delay in zip(gaps, RETRY_DELAYS, strict=True):
        assert gap >= delay - 0.05, f"retried after {gap:.2f} s (backoff {delay} s)"

    assert "503" in warning, warning
    warnings = log.smart_play("WARNING")
    assert warnings == [warning], warnings
    assert_no_errors(log)
    kinds: list[str] = []
    while not events.empty():
        event = events.get_nowait()
        if event["event_type"].startswith("smart_play_") and for_entry(entry_id)(event):
            kinds.append(event["event_type"])
    assert "smart_play_paused" not in kinds, kinds
    assert "smart_play_resumed" not in kinds, kinds
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is True  # never paused, still playing
    await assert_alive(hass_proc, client, sensor)
    print(f"\n503: {len(requests)} requests, gaps {[round(g, 2) for g in gaps]}\n{show(requests)}")


@pytest.mark.timeout(150)
async def test_spotify_timeouts_retried_like_5xx_loop_not_blocked(
    hass_proc: HassProcess, client: HassClient, fake_spotify: FakeSpotify, away_clip: Path
) -> None:
    """Answers slower than the request timeout: retried, one warning; hass stays responsive.

    The timeout is 10 s (not configurable), so only the first attempts are slow:
    two timeouts, then a 503 ends the retry budget (~23 s of faults instead of ~33 s).
    """
    slow = len(RETRY_DELAYS)  # every attempt but the last times out
    fake_spotify.user_play(device_id="dev-speaker", context_uri="spotify:album:mezzanine")
    paused_q = await client.subscribe_events("smart_play_paused")
    _entry_id, sensor = await add_spotify_entry(client, fake_spotify, away_clip)
    await client.wait_state(sensor, "on", 30)
    log = LogWindow(hass_proc)
    fake_spotify.clear_log()
    # Held long enough that a slow request gets its fault (checked after the delay)
    # only after the last attempt took the 503.
    hold = REQUEST_TIMEOUT * (slow + 1) + sum(RETRY_DELAYS) + 10
    fake_spotify.slow_next(hold, slow)
    fake_spotify.fail_next(503, 1)

    await client.wait_state(sensor, "off", 30)
    await fake_spotify.wait_for_requests(1)
    latencies: list[float] = []
    while len(fake_spotify.api_requests()) < slow + 1:  # during the slow requests
        latencies.append(await api_answers_promptly(client))
        await asyncio.sleep(1.0)
        if len(latencies) > 4 * REQUEST_TIMEOUT:
            raise AssertionError(f"retries stopped:\n{show(fake_spotify.api_requests())}")
    warning = await log.wait_for(r"WARNING .*custom_components\.smart_play.*Cannot pause", 15)
    await asyncio.sleep(1.0)

    requests = fake_spotify.api_requests()
    assert len(requests) == MAX_ATTEMPTS, show(requests)
    assert all((r.method, r.path) == ("GET", PLAYER) for r in requests), show(requests)
    gaps = [b.time - a.time for a, b in pairwise(requests)]
    for gap, delay in zip(gaps[:slow], RETRY_DELAYS, strict=False):
        # The client gave up after its timeout, then backed off.
        assert gap >= REQUEST_TIMEOUT + delay - 0.1, f"gaps {gaps}\n{show(requests)}"
        assert gap < REQUEST_TIMEOUT + delay + 3.0, f"gaps {gaps}\n{show(requests)}"
    assert max(latencies) < 1.0, f"REST latencies while Spotify hung: {latencies}"
    # The client's own account of the first attempts: timeouts, retried like a 5xx.
    retried = [
        rec
        for rec in log.records()
        if re.search(r"GET /me/player failed \(\w*Timeout\w*\); retry \d", rec)
    ]
    assert len(retried) == slow, retried

    assert log.smart_play("WARNING") == [warning], log.smart_play("WARNING")
    assert_no_errors(log)
    assert paused_q.empty()
    state = fake_spotify.state()
    assert state is not None
    assert state["is_playing"] is True
    await assert_alive(hass_proc, client, sensor)
    print(
        f"\ntimeouts: {len(requests)} requests, gaps {[round(g, 2) for g in gaps]}, "
        f"REST latency max {max(latencies) * 1000:.0f} ms over {len(latencies)} calls\n"
        f"{show(requests)}"
    )
