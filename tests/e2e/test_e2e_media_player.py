"""End to end: a real `hass` with HA's demo media player and Smart Play on the bundled clip.

Everything goes through what a user (or the frontend) uses: the config-flow REST API,
states over REST, events over the websocket, and a real restart of the process.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import time
from typing import Any

import pytest

from .conftest import DEMO_PLAYER
from .hass_process import HassClient, HassProcess, add_media_player_entry, log_records, next_event

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


async def entity_by_key(client: HassClient, entry_id: str, domain: str, key: str) -> str:
    """Entity id of the entry's entity in `domain` whose translation key contains `key`."""
    deadline = time.monotonic() + 20
    while True:
        entities = await client.entities_of_entry(entry_id)
        for ent in entities:
            if ent["entity_id"].startswith(f"{domain}.") and key in (
                ent.get("translation_key") or ent["entity_id"]
            ):
                return str(ent["entity_id"])
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no {domain} '{key}' entity for the entry: {[e['entity_id'] for e in entities]}"
            )
        await asyncio.sleep(0.3)


class Recorder:
    """Collects state changes of some entities and Smart Play events, in arrival order."""

    def __init__(self, entity_ids: set[str]) -> None:
        self.entity_ids = entity_ids
        self.timeline: list[tuple[float, str, str]] = []  # (t, what, new state/event)
        self.events: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._t0 = time.monotonic()

    async def start(self, client: HassClient) -> None:
        queue = await client.subscribe_events()
        self._task = asyncio.create_task(self._run(queue))

    async def _run(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            event = await queue.get()
            kind = event["event_type"]
            now = time.monotonic() - self._t0
            if kind == "state_changed" and event["data"]["entity_id"] in self.entity_ids:
                old, new = event["data"]["old_state"], event["data"]["new_state"]
                if new is not None and (old is None or old["state"] != new["state"]):
                    self.timeline.append((now, event["data"]["entity_id"], new["state"]))
            elif kind.startswith("smart_play_") and kind != "smart_play_occupancy":
                self.events.append(event)
                self.timeline.append((now, kind, event["data"].get("entry_id", "")))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def sequence(self) -> list[tuple[str, str]]:
        return [(what, state) for _t, what, state in self.timeline]

    def show(self) -> str:
        return "\n".join(f"{t:7.2f}s {what} -> {state}" for t, what, state in self.timeline)


def index_of(seq: list[tuple[str, str]], item: tuple[str, str], start: int = 0) -> int:
    """Position of `item` in `seq` at or after `start`, or -1."""
    for pos in range(start, len(seq)):
        if seq[pos] == item:
            return pos
    return -1


async def test_pauses_when_the_person_leaves_and_resumes_when_they_return(
    client: HassClient, clip: Path
) -> None:
    """Set up via the config flow; the clip's first visitor leaves and the next arrives."""
    resumed = await client.subscribe_events("smart_play_resumed")
    assert (await client.state(DEMO_PLAYER))["state"] == "playing"

    result = await add_media_player_entry(client, DEMO_PLAYER, str(clip), loop=True)
    assert result["type"] == "create_entry", result
    entry_id = result["result"]["entry_id"]
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")
    recorder = Recorder({sensor, DEMO_PLAYER})
    await recorder.start(client)
    try:
        # Visitor 1 walks in 6 s into the clip, leaves at 19.9 s; visitor 2 comes at 22.7 s.
        await client.wait_state(sensor, "on", 30)
        event = await next_event(resumed, 45, lambda e: e["data"].get("entry_id") == entry_id)
    finally:
        await recorder.stop()

    seq = recorder.sequence()
    on = index_of(seq, (sensor, "on"))
    off = index_of(seq, (sensor, "off"), on)
    paused = index_of(seq, (DEMO_PLAYER, "paused"), off)
    paused_event = index_of(seq, ("smart_play_paused", entry_id), off)
    back = index_of(seq, (sensor, "on"), off)
    playing = index_of(seq, (DEMO_PLAYER, "playing"), back)
    timeline = recorder.show()
    assert on >= 0, f"occupancy never went on:\n{timeline}"
    assert off > on, f"occupancy never went off after on:\n{timeline}"
    assert (DEMO_PLAYER, "paused") not in seq[:off], f"paused while occupied:\n{timeline}"
    assert paused > off, f"player not paused after leaving:\n{timeline}"
    assert paused_event > off, f"no smart_play_paused event after leaving:\n{timeline}"
    assert back > paused, f"nobody came back after the pause:\n{timeline}"
    assert playing > back, f"not playing again after the return:\n{timeline}"

    paused_data = next(e["data"] for e in recorder.events if e["event_type"] == "smart_play_paused")
    assert paused_data["device_id"] == DEMO_PLAYER
    assert event["data"]["device_id"] == DEMO_PLAYER
    assert event["data"]["item_uri"] == paused_data["item_uri"]
    player = await client.state(DEMO_PLAYER)
    assert player["state"] == "playing"
    assert player["attributes"].get("media_content_id") == paused_data["item_uri"]


async def test_auto_pause_switch_off_keeps_playing(client: HassClient, clip: Path) -> None:
    """With the auto pause switch off the room empties but nothing is paused."""
    result = await add_media_player_entry(client, DEMO_PLAYER, str(clip), loop=True)
    entry_id = result["result"]["entry_id"]
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")
    switch = await entity_by_key(client, entry_id, "switch", "auto_pause")
    await client.call_service("switch", "turn_off", {"entity_id": switch})
    await client.wait_state(switch, "off", 5)
    recorder = Recorder({sensor, DEMO_PLAYER})
    await recorder.start(client)
    try:
        await client.wait_state(sensor, "on", 30)
        await client.wait_state(sensor, "off", 30)
        await asyncio.sleep(1.5)  # a pause would have been sent by now
    finally:
        await recorder.stop()
    assert (DEMO_PLAYER, "paused") not in recorder.sequence(), recorder.show()
    assert not any(e["event_type"] == "smart_play_paused" for e in recorder.events)
    assert (await client.state(DEMO_PLAYER))["state"] == "playing"


async def test_resumes_after_a_restart_in_between(
    hass_proc: HassProcess, client: HassClient, away_clip: Path
) -> None:
    """Paused, then Home Assistant restarts; the person's return still resumes playback."""
    paused_q = await client.subscribe_events("smart_play_paused")
    result = await add_media_player_entry(client, DEMO_PLAYER, str(away_clip), loop=True)
    entry_id = result["result"]["entry_id"]
    # The visit ends 19.9 s into the clip, then the room stays empty for ~20 s.
    paused = await next_event(paused_q, 45, lambda e: e["data"].get("entry_id") == entry_id)
    assert (await client.state(DEMO_PLAYER))["state"] == "paused"

    await client.reconnect()  # an open websocket would hold HA's shutdown for 10 s
    # The clip starts again with the new process, so how long the restart takes does not
    # matter (on a loaded machine it took 25-40 s).
    hass_proc.restart(timeout=120)
    async with hass_proc.client() as fresh:
        events = await fresh.subscribe_events()
        # HA's demo player forgets its state on restart; a real speaker stays paused.
        await fresh.call_service("media_player", "media_pause", {"entity_id": DEMO_PLAYER})
        # After the restart the clip starts again: empty for 6 s, then the visitor.
        seen: list[str] = []

        def smart_play(event: dict[str, Any]) -> bool:
            if event["event_type"].startswith("smart_play_") and event["event_type"] != (
                "smart_play_occupancy"
            ):
                seen.append(event["event_type"])
                return event["event_type"] == "smart_play_resumed"
            return False

        resumed = await next_event(events, 45, smart_play)
        assert seen == ["smart_play_resumed"], seen  # resumed the pre-restart pause
        assert resumed["data"]["entry_id"] == entry_id
        assert resumed["data"]["item_uri"] == paused["data"]["item_uri"]
        await fresh.wait_state(DEMO_PLAYER, "playing", 5)


def smart_play_problems(records: list[str], what: str) -> list[str]:
    """Log records about Smart Play that are errors or tracebacks, or blocking calls."""
    if what == "errors":
        return [
            rec
            for rec in records
            if "smart_play" in rec
            and (re.match(r"\S+ \S+ (ERROR|CRITICAL)", rec) or "Traceback" in rec)
            and "Detected blocking call" not in rec
        ]
    return [rec for rec in records if "Detected blocking call" in rec and "smart_play" in rec]


def first_lines(problems: list[str]) -> str:
    """Readable summary of log records for an assertion message."""
    return f"{len(problems)} problem(s), first lines:\n" + "\n".join(
        p.splitlines()[0][:400] for p in problems[:5]
    )


async def test_log_has_no_smart_play_errors(hass_proc: HassProcess) -> None:
    """Everything above ran without Smart Play errors or tracebacks in the log."""
    records = log_records(hass_proc.log_text())
    assert records, "no home-assistant.log"
    problems = smart_play_problems(records, "errors")
    assert not problems, first_lines(problems)


async def test_log_has_no_blocking_calls_on_the_event_loop(hass_proc: HassProcess) -> None:
    """HA's own detector found no blocking call from Smart Play on the event loop."""
    problems = smart_play_problems(log_records(hass_proc.log_text()), "blocking")
    assert not problems, first_lines(problems)
