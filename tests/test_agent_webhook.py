"""Desk agent entries in a real Home Assistant: the webhook, the timeout, the settings.

Requests go over real HTTP (aiohttp test client on Home Assistant's http app) to
the webhook the entry registers; the target is Home Assistant's demo media player.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import timedelta
from fractions import Fraction
import io
import json
import logging
from pathlib import Path
import threading
from typing import Any
from unittest.mock import patch

import av
from homeassistant.components.camera import async_get_image
from homeassistant.const import CONF_WEBHOOK_ID, EVENT_CALL_SERVICE, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import numpy as np
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.smart_play.agent_link import MAX_BODY
from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_TARGET_TYPE,
    DOMAIN,
    OPT_CAMERA,
    SOURCE_AGENT,
    TARGET_MEDIA_PLAYER,
)
from custom_components.smart_play.diagnostics import async_get_config_entry_diagnostics

from .helpers_entities import all_entities_enabled
from .test_agent_reporter import _args, link_module  # noqa: F401 (fixture)

KEY = "a1b2c3d4" * 8
PLAYER = "media_player.bedroom"  # demo player, playing
OCCUPANCY = "binary_sensor.desk_occupancy"
STATUS = "sensor.desk_camera_status"
CAMERA_SWITCH = "switch.desk_camera"
TRACKING_VIEW = "camera.desk_tracking_view"


def _message(state: str = "occupied", seq: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "heartbeat",
        "agent": "0.1.0",
        "state": state,
        "reason": "motion" if state == "occupied" else "no motion",
        "t": 3.0,
        "seq": seq,
        "camera": "streaming",
        "camera_reason": None,
        "fps": 9.5,
        "motion": 2.0,
        "interval": 2,
        **extra,
    }


async def _async_setup_agent_entry(hass: HomeAssistant) -> MockConfigEntry:
    """Set up an agent entry pausing the demo bedroom player."""
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.MEDIA_PLAYER],
    ):
        assert await async_setup_component(hass, "homeassistant", {})
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Desk",
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: PLAYER,
            CONF_SOURCE: SOURCE_AGENT,
            CONF_WEBHOOK_ID: KEY,
            CONF_LOOP: False,
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest_asyncio.fixture
async def agent_entry(hass: HomeAssistant) -> AsyncGenerator[MockConfigEntry]:
    """An agent entry pausing the demo bedroom player, set up."""
    entry = await _async_setup_agent_entry(hass)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def media_calls(hass: HomeAssistant) -> list[Event[dict[str, Any]]]:
    return async_capture_events(hass, EVENT_CALL_SERVICE)


def _pauses(calls: list[Event[dict[str, Any]]]) -> list[str]:
    return [c.data["service"] for c in calls if c.data["domain"] == "media_player"]


def _log_everything_we_log(caplog: pytest.LogCaptureFixture) -> None:
    """Our loggers at DEBUG, Home Assistant's at INFO.

    (Home Assistant's own webhook and http loggers print webhook ids at DEBUG, for
    every webhook integration; nothing an integration can change.)
    """
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="custom_components.smart_play")


def _key_logged(caplog: pytest.LogCaptureFixture) -> bool:
    """Whether the key is in any of our log lines, or in Home Assistant's INFO and up.

    aiohttp's access log is left out: Home Assistant sets it to WARNING at start
    (bootstrap); only the test client's server logs requests.
    """
    return any(
        KEY in record.getMessage()
        for record in caplog.records
        if record.name != "aiohttp.access"
        and (
            record.levelno >= logging.INFO or record.name.startswith("custom_components.smart_play")
        )
    )


async def _post(client: Any, body: Any, key: str = KEY, **kwargs: Any) -> Any:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return await client.post(f"/api/webhook/{key}", data=data, **kwargs)


async def test_transitions_drive_occupancy_and_pause(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    client = await hass_client_no_auth()
    assert hass.states.get(OCCUPANCY).state == "unavailable"  # no agent yet

    response = await _post(client, _message("occupied", seq=1))
    assert response.status == 200
    answer = await response.json()
    assert answer["v"] == 1
    assert answer["camera"] is True
    assert answer["watched"] is False
    assert answer["settings"]["delay"] == 2.0
    assert answer["settings"]["sensitivity"] == 5
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"
    assert hass.states.get(STATUS).state == "streaming"

    response = await _post(client, _message("empty", seq=2, kind="transition"))
    assert response.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "off"
    assert hass.states.get(PLAYER).state == "paused"
    assert _pauses(media_calls) == ["media_pause"]

    await _post(client, _message("occupied", seq=3, kind="transition"))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"
    assert hass.states.get(PLAYER).state == "playing"


async def test_settings_changed_in_home_assistant_are_in_the_next_answer(
    hass: HomeAssistant, agent_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    await _post(client, _message())
    await agent_entry.runtime_data.async_set_delay(7.5)
    await agent_entry.runtime_data.async_set_sensitivity(9)
    # As the options flow's zones step saves them: stored, then applied live.
    options = {**agent_entry.options, "exclude_zones": [[0.0, 0.0, 0.2, 0.3]]}
    hass.config_entries.async_update_entry(agent_entry, options=options)
    agent_entry.runtime_data.async_apply_options(options)
    answer = await (await _post(client, _message())).json()
    assert answer["settings"]["delay"] == 7.5
    assert answer["settings"]["sensitivity"] == 9
    assert answer["settings"]["exclude_zones"] == [[0.0, 0.0, 0.2, 0.3]]

    # Watching the tracking view asks for pictures; a picture sent is shown.
    assert agent_entry.runtime_data.latest_jpeg() is None
    answer = await (await _post(client, _message())).json()
    assert answer["watched"] is True
    jpeg = b"\xff\xd8\xff\xe0fake-jpeg"
    import base64

    await _post(client, _message(kind="frame", jpeg=base64.b64encode(jpeg).decode()))
    assert agent_entry.runtime_data.latest_jpeg() == jpeg


async def test_silent_agent_goes_offline_never_empty_and_nothing_paused(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    client = await hass_client_no_auth()
    await _post(client, _message("occupied", seq=1))  # interval 2 s
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"  # 2.5 heartbeats: not yet

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6.5))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    assert hass.states.get(STATUS).state == "offline"
    assert _pauses(media_calls) == []

    # Back with the state it had: shown again, and still nothing paused or resumed.
    await _post(client, _message("occupied", seq=1))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"
    assert hass.states.get(STATUS).state == "streaming"
    assert _pauses(media_calls) == []


async def test_back_from_an_outage_empty_after_a_transition_pauses(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    """The room emptied during the outage (the agent counted a transition): that pauses."""
    client = await hass_client_no_auth()
    await _post(client, _message("occupied", seq=1))
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=7))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    await _post(client, _message("empty", seq=2))
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "off"
    assert _pauses(media_calls) == ["media_pause"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        ({"v": 1, "kind": "heartbeat"}, 400),  # fields missing
        ({**_message(), "state": "asleep"}, 400),
        ({**_message(), "v": 2}, 400),
        ({**_message(), "kind": "frame", "jpeg": "%%%"}, 400),
        ({**_message(), "kind": "frame", "jpeg": "bm90IGEganBlZw=="}, 400),  # not a JPEG
        (b"x" * (MAX_BODY + 1), 413),
    ],
)
async def test_bad_requests_get_4xx_change_nothing_and_log_once_without_the_key(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    caplog: pytest.LogCaptureFixture,
    body: Any,
    status: int,
) -> None:
    client = await hass_client_no_auth()
    await _post(client, _message("occupied", seq=1))
    await hass.async_block_till_done()
    before = {e: hass.states.get(e).state for e in (OCCUPANCY, STATUS)}
    _log_everything_we_log(caplog)
    for _ in range(2):
        response = await _post(client, body)
        assert response.status == status
    await hass.async_block_till_done()
    assert {e: hass.states.get(e).state for e in (OCCUPANCY, STATUS)} == before
    rejected = [r for r in caplog.records if "rejected a request" in r.getMessage()]
    assert len(rejected) == 1
    assert not _key_logged(caplog)


async def test_other_methods_are_refused_without_logging_the_key(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await hass_client_no_auth()
    _log_everything_we_log(caplog)
    response = await client.get(f"/api/webhook/{KEY}")
    assert response.status == 405
    response = await client.put(f"/api/webhook/{KEY}", data=json.dumps(_message()))
    assert response.status == 405
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    assert not _key_logged(caplog)


async def test_wrong_key_changes_nothing(
    hass: HomeAssistant, agent_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    response = await _post(client, _message(), key="0" * 64)
    assert response.status == 200  # Home Assistant does not tell which webhooks exist
    assert await response.read() == b""  # the agent says: Home Assistant does not know this key
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    assert agent_entry.runtime_data.transitions == type(agent_entry.runtime_data.transitions)()


async def test_camera_switch_tells_the_agent_and_occupancy_is_unavailable(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    client = await hass_client_no_auth()
    await _post(client, _message("occupied", seq=1))
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA_SWITCH).state == "on"

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": CAMERA_SWITCH}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(CAMERA_SWITCH).state == "off"
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    assert hass.states.get(STATUS).state == "stopped"
    assert agent_entry.options[OPT_CAMERA] is False
    # The agent still reports what it saw before it got the answer: it is told to close.
    answer = await (await _post(client, _message("empty", seq=2))).json()
    assert answer["camera"] is False
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "unavailable"
    # Silence while switched off is not "offline".
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=30))
    await hass.async_block_till_done()
    assert hass.states.get(STATUS).state == "stopped"
    assert _pauses(media_calls) == []

    await hass.services.async_call("switch", "turn_on", {"entity_id": CAMERA_SWITCH}, blocking=True)
    answer = await (await _post(client, _message("occupied", seq=3))).json()
    assert answer["camera"] is True
    await hass.async_block_till_done()
    assert hass.states.get(OCCUPANCY).state == "on"


async def test_diagnostics_hide_the_key(
    hass: HomeAssistant, agent_entry: MockConfigEntry, hass_client_no_auth: Any
) -> None:
    client = await hass_client_no_auth()
    await _post(client, _message())
    diagnostics = await async_get_config_entry_diagnostics(hass, agent_entry)
    assert KEY not in json.dumps(diagnostics, default=str)
    assert diagnostics["runtime"]["agent"]["messages"] == 1


GESTURE_EVENT_ENTITY = "event.desk_gesture"


@pytest_asyncio.fixture
async def gesture_entry(
    hass: HomeAssistant, agent_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """The agent entry with hand gestures switched on (as the options step saves them)."""
    options = {**agent_entry.options, "gestures": True, "gesture_mirror": False}
    hass.config_entries.async_update_entry(agent_entry, options=options)
    assert await hass.config_entries.async_reload(agent_entry.entry_id)
    await hass.async_block_till_done()
    yield agent_entry


async def test_gesture_from_the_agent_fires_the_event_and_skips_the_track(
    hass: HomeAssistant,
    gesture_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    gestures = async_capture_events(hass, "smart_play_gesture")
    client = await hass_client_no_auth()
    answer = await (await _post(client, _message("occupied", seq=1))).json()
    # The agent is told to run its gesture analyzer, with the entry's zone and mirroring.
    assert answer["settings"]["gestures"] == {
        "enabled": True,
        "zone": [0.5, 0.0, 1.0, 0.5],
        "mirror": False,
    }
    await hass.async_block_till_done()
    assert hass.states.get(GESTURE_EVENT_ENTITY).state == "unknown"
    assert hass.states.get(PLAYER).state == "playing"

    gesture = {"gesture": "play_pause", "motion": "hold", "t": 4.2}
    response = await _post(client, _message("occupied", seq=1, kind="gesture", gesture=gesture))
    assert response.status == 200
    await hass.async_block_till_done()
    state = hass.states.get(GESTURE_EVENT_ENTITY)
    assert state.attributes["event_type"] == "play_pause"
    assert state.attributes["motion"] == "hold"
    assert [(e.data["gesture"], e.data["motion"]) for e in gestures] == [("play_pause", "hold")]
    assert gestures[0].data["entry_id"] == gesture_entry.entry_id
    assert _pauses(media_calls) == ["media_play_pause"]
    assert hass.states.get(PLAYER).state == "paused"  # the demo player obeyed
    assert hass.states.get(OCCUPANCY).state == "on"  # the gesture message carries the state too


async def test_bad_gesture_reports_get_4xx_and_change_nothing(
    hass: HomeAssistant,
    gesture_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    gestures = async_capture_events(hass, "smart_play_gesture")
    client = await hass_client_no_auth()
    await _post(client, _message("occupied", seq=1))
    await hass.async_block_till_done()
    before = hass.states.get(GESTURE_EVENT_ENTITY).state
    bad = [
        _message("empty", seq=2, kind="gesture", gesture={"gesture": "dance"}),
        _message("empty", seq=2, kind="gesture"),  # no gesture in a gesture message
        _message("empty", seq=2, kind="gesture", gesture="next_track"),
        _message("empty", seq=2, gesture={"gesture": "next_track"}),  # gesture in a heartbeat
        _message("empty", seq=2, kind="gesture", gesture={"gesture": "play_pause", "t": -1}),
    ]
    for body in bad:
        response = await _post(client, body)
        assert response.status == 400, body
    await hass.async_block_till_done()
    assert gestures == []
    assert hass.states.get(GESTURE_EVENT_ENTITY).state == before
    assert hass.states.get(OCCUPANCY).state == "on"  # the "empty" in them was not taken
    assert _pauses(media_calls) == []
    assert gesture_entry.runtime_data.features.gesture_count == 0


async def test_gesture_ignored_while_the_gestures_option_is_off(
    hass: HomeAssistant,
    agent_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    media_calls: list[Event[dict[str, Any]]],
) -> None:
    gestures = async_capture_events(hass, "smart_play_gesture")
    client = await hass_client_no_auth()
    answer = await (await _post(client, _message("occupied", seq=1))).json()
    assert answer["settings"]["gestures"]["enabled"] is False  # the agent does not look
    gesture = {"gesture": "play_pause", "motion": "hold"}
    response = await _post(client, _message("occupied", seq=1, kind="gesture", gesture=gesture))
    assert response.status == 200  # a late one after switching off: taken, not acted on
    await hass.async_block_till_done()
    assert hass.states.get(GESTURE_EVENT_ENTITY) is None
    assert gestures == []
    assert _pauses(media_calls) == []


def _still_room_clip(path: Path, seconds: float = 40.0) -> Path:
    """A room nobody is in (a frame of a real clip, sensor noise), 5 fps H.264."""
    from .vision import gesture_synth as gs

    base = gs.resize(gs.background("one-by-one-person-detection.mp4", 2.0), 320, 180)
    rng = np.random.default_rng(3)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(5))
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "20"}
        for index in range(round(seconds * 5)):
            frame = av.VideoFrame.from_ndarray(gs.noisy(base, rng, 1.5), format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


async def test_first_picture_of_a_watched_tracking_view_arrives(
    hass: HomeAssistant,
    hass_client_no_auth: Any,
    link_module: Any,  # noqa: F811
    socket_enabled: None,
    tmp_path: Path,
) -> None:
    """A real agent (heartbeat every 5 s) on the empty room: the first still is a picture.

    The view is opened right after a heartbeat, so the agent learns it is watched
    only from the next answer, about 5 s later; the still must wait that long.
    """
    with all_entities_enabled():
        entry = await _async_setup_agent_entry(hass)
    client = await hass_client_no_auth()
    args = _args(str(client.make_url("/")).rstrip("/"), key=KEY)
    args.source = str(_still_room_clip(tmp_path / "room.mp4"))  # once empty: only heartbeats
    args.interval = 5.0
    link = entry.runtime_data.host
    heartbeats: asyncio.Queue[float] = asyncio.Queue()
    take = link._async_take

    def _spy(message: dict[str, Any]) -> None:
        take(message)
        if message["kind"] == "heartbeat" and message["state"] == "empty":
            heartbeats.put_nowait(asyncio.get_running_loop().time())

    link._async_take = _spy
    reporter = link_module.Reporter(args)
    thread = threading.Thread(target=reporter.run, daemon=True)
    thread.start()
    try:
        async with asyncio.timeout(30):
            await heartbeats.get()
            while not heartbeats.empty():
                heartbeats.get_nowait()
            await heartbeats.get()  # the view is opened just after a heartbeat
        loop = asyncio.get_running_loop()
        assert hass.states.get(OCCUPANCY).state == "off"
        assert entry.runtime_data.latest_jpeg() is None  # nothing uploaded while unwatched
        started = loop.time()
        image = await async_get_image(hass, TRACKING_VIEW)
        waited = loop.time() - started
        assert image.content.startswith(b"\xff\xd8")
        with av.open(io.BytesIO(image.content)) as container:
            picture = next(container.decode(video=0))
        assert picture.width <= 480  # the agent's small picture
        # It came after the agent's next heartbeat answer told it the view is watched.
        assert waited > 4.0
        assert not heartbeats.empty()
    finally:
        reporter.stop()
        await hass.async_add_executor_job(thread.join, 10)
    assert not thread.is_alive()
    await hass.config_entries.async_unload(entry.entry_id)
