"""End to end: a real `hass` and a real desk agent process on a looping clip.

The entry is added through the config flow's "A camera on another computer" choice,
and the agent is started with exactly the command Home Assistant shows. The agent
runs from the repository's own files, arranged as the package build arranges them
(``smart_play_agent`` with the integration's vision folder as ``.vision``), in a
process that never imports Home Assistant.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import os
from pathlib import Path
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest

from .conftest import DEMO_PLAYER
from .hass_process import REPO, HassClient, HassProcess, next_event
from .test_e2e_media_player import Recorder, entity_by_key, index_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

INTERVAL = 1.0  # the agent's heartbeat in these tests: offline after 3 s of silence
# The agent's interpreter: this one by default; any Python >= 3.10 with numpy and PyAV
# (e.g. a desk computer's 3.10) via SMART_PLAY_AGENT_PYTHON.
AGENT_PYTHON = os.environ.get("SMART_PLAY_AGENT_PYTHON") or sys.executable


@pytest.fixture(scope="module")
def agent_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``smart_play_agent`` as the package build lays it out (symlinks)."""
    root = tmp_path_factory.mktemp("agent")
    package = root / "smart_play_agent"
    package.mkdir()
    for source in (REPO / "agent" / "smart_play_agent").glob("*.py"):
        (package / source.name).symlink_to(source)
    (package / "vision").symlink_to(REPO / "custom_components" / "smart_play" / "vision")
    return root


class Agent:
    """A running ``python -m smart_play_agent`` process; collects what it says."""

    def __init__(self, command: str, agent_path: Path, clip: Path) -> None:
        argv = shlex.split(command)
        assert argv[0] == "smart-play-agent", command
        env = {**os.environ, "PYTHONPATH": str(agent_path)}
        self.proc = subprocess.Popen(
            [
                AGENT_PYTHON,
                "-m",
                "smart_play_agent",
                *argv[1:],
                str(clip),
                "--loop",
                "--interval",
                str(INTERVAL),
                "--no-opencv",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=agent_path,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    async def wait_for(self, text: str, within: float, start: int = 0) -> int:
        """Index of the first line after ``start`` containing ``text``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for index in range(start, len(self.lines)):
                if text in self.lines[index]:
                    return index
            await asyncio.sleep(0.1)
        raise AssertionError(f"agent never said {text!r}; it said:\n" + "\n".join(self.lines))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    started: list[Agent] = []
    yield started
    for agent in started:
        agent.stop()


async def add_agent_entry(client: HassClient) -> tuple[str, str]:
    """Add an agent entry through the config flow; return (entry id, command shown)."""
    flow = await client.flow_start("smart_play")
    flow = await client.flow_step(flow["flow_id"], {"next_step_id": "media_player"})
    flow = await client.flow_step(flow["flow_id"], {"media_player_entity_id": DEMO_PLAYER})
    assert flow.get("step_id") == "camera", flow
    result = await client.flow_step(flow["flow_id"], {"agent": True, "name": "Desk"})
    assert result["type"] == "create_entry", result
    command = result["description_placeholders"]["command"]
    # Home Assistant fills in its own address (get_url: here the machine's network
    # address and HA's port). This test instance listens on loopback only, so the
    # agent is started with the same command on the loopback address.
    url = re.search(r"--url (\S+) ", command)
    assert url is not None, command
    assert url.group(1).startswith("http://") and url.group(1).endswith(f":{hass_port(client)}")
    return result["result"]["entry_id"], command.replace(url.group(1), client.url)


def hass_port(client: HassClient) -> int:
    return int(client.url.rsplit(":", 1)[1])


async def test_agent_drives_occupancy_pause_resume_and_the_camera_switch(
    hass_proc: HassProcess, client: HassClient, clip: Path, agent_path: Path, agents: list[Agent]
) -> None:
    entry_id, command = await add_agent_entry(client)
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")
    camera = await entity_by_key(client, entry_id, "switch", "camera")
    status = await entity_by_key(client, entry_id, "sensor", "camera_status")
    assert (await client.state(sensor))["state"] == "unavailable"  # no agent yet

    resumed = await client.subscribe_events("smart_play_resumed")
    recorder = Recorder({sensor, DEMO_PLAYER})
    await recorder.start(client)
    agent = Agent(command, agent_path, clip)
    agents.append(agent)
    try:
        await agent.wait_for("reporting to Home Assistant", 20)
        # The clip: empty 6 s, visitor 1 until 19.9 s, visitor 2 from 22.7 s.
        await client.wait_state(sensor, "on", 30)
        await next_event(resumed, 45, lambda e: e["data"].get("entry_id") == entry_id)
    finally:
        await recorder.stop()
    seq = recorder.sequence()
    on = index_of(seq, (sensor, "on"))
    off = index_of(seq, (sensor, "off"), on)
    paused = index_of(seq, (DEMO_PLAYER, "paused"), off)
    back = index_of(seq, (sensor, "on"), off)
    playing = index_of(seq, (DEMO_PLAYER, "playing"), back)
    assert 0 <= on < off < paused < back < playing, recorder.show()
    assert (await client.state(status))["state"] == "streaming"

    # Camera switch off: the agent closes the source within a heartbeat or two.
    seen = len(agent.lines)
    await client.call_service("switch", "turn_off", {"entity_id": camera})
    await agent.wait_for("camera closed (camera switched off in Home Assistant)", 5, seen)
    await client.wait_state(sensor, "unavailable", 2)
    assert (await client.state(status))["state"] == "stopped"
    await asyncio.sleep(4 * INTERVAL)  # silence while off is not "offline"
    assert (await client.state(status))["state"] == "stopped"
    seen = len(agent.lines)
    await client.call_service("switch", "turn_on", {"entity_id": camera})
    await agent.wait_for("opened", 5, seen)
    await client.wait_state(status, "streaming", 10)

    # The agent dies while the room is occupied and music plays: unavailable within
    # three heartbeats, and nothing is paused.
    await client.wait_state(sensor, "on", 40)
    await client.wait_state(DEMO_PLAYER, "playing", 5)
    recorder = Recorder({sensor, DEMO_PLAYER})
    await recorder.start(client)
    killed = time.monotonic()
    agent.kill()
    try:
        await client.wait_state(sensor, "unavailable", 3 * INTERVAL + 2)
        took = time.monotonic() - killed
        await asyncio.sleep(2 * INTERVAL)
    finally:
        await recorder.stop()
    assert took <= 3 * INTERVAL + 2, took
    assert (await client.state(status))["state"] == "offline"
    assert (DEMO_PLAYER, "paused") not in recorder.sequence(), recorder.show()
    assert (await client.state(DEMO_PLAYER))["state"] == "playing"


async def test_agent_reconnects_after_a_restart_of_home_assistant(
    hass_proc: HassProcess, client: HassClient, clip: Path, agent_path: Path, agents: list[Agent]
) -> None:
    entry_id, command = await add_agent_entry(client)
    sensor = await entity_by_key(client, entry_id, "binary_sensor", "occupancy")
    agent = Agent(command, agent_path, clip)
    agents.append(agent)
    await agent.wait_for("reporting to Home Assistant", 20)
    await client.wait_state(sensor, ("on", "off"), 30)

    await client.reconnect()  # an open websocket would hold HA's shutdown for 10 s
    seen = len(agent.lines)
    hass_proc.restart(timeout=120)
    running = time.monotonic()
    async with hass_proc.client() as fresh:
        await fresh.wait_state(sensor, ("on", "off"), 10)
    took = time.monotonic() - running
    await agent.wait_for("cannot reach Home Assistant", 1, seen)  # it noticed the outage
    await agent.wait_for("reporting to Home Assistant", 1, seen)
    assert took <= 10, took
