"""Config entry lifecycle with the real vision pipeline on a looping test clip."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import os
import threading
from unittest.mock import patch

from homeassistant.components.camera import async_get_image
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.icon import async_get_icons
from homeassistant.helpers.translation import async_get_translations

from custom_components.smart_play.const import CONF_LOOP, DOMAIN

from .helpers_entities import all_entities_enabled, clip, fake_pipelines, make_entry

STATUS = "sensor.desk_camera_status"
OCCUPANCY = "binary_sensor.desk_occupancy"
MOTION = "sensor.desk_motion_level"
CAMERA = "camera.desk_tracking_view"


async def _wait_for(hass: HomeAssistant, check: Callable[[], bool], limit: float = 10.0) -> None:
    """Let the pipeline threads work until ``check()`` holds."""
    async with asyncio.timeout(limit):
        while True:
            await hass.async_block_till_done()
            if check():
                return
            await asyncio.sleep(0.05)


def _state(hass: HomeAssistant, entity_id: str) -> str | None:
    state = hass.states.get(entity_id)
    return None if state is None else state.state


# Home Assistant's executor pools start workers lazily; more workers is not a leak.
_POOL_THREADS = ("SyncWorker_", "ImportExecutor_", "ThreadPoolExecutor-")


def _non_pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if not t.name.startswith(_POOL_THREADS)]


def _smart_play_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("smart_play")]


def _open_fds() -> set[str]:
    """Open file descriptors and what they point at."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.add(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:  # closed while listing (the listing's own fd)
            continue
    return fds


def _fds_besides_clip() -> set[str]:
    return {fd for fd in _open_fds() if str(clip()) not in fd}


async def test_setup_streams_and_unload_releases_the_camera(hass: HomeAssistant) -> None:
    """Set up on a real clip: entities report sensible states; unload stops everything."""
    entry = make_entry(hass)
    with all_entities_enabled():
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        len(er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)) == 9
    )  # + the Camera switch

    await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")
    # Streaming: the occupancy sensor is available (unknown until the engine
    # decided, then on/off) and motion is measured.
    assert _state(hass, OCCUPANCY) != STATE_UNAVAILABLE
    await _wait_for(hass, lambda: _state(hass, MOTION) not in (None, "unknown", "unavailable"))
    assert 0 <= float(_state(hass, MOTION)) <= 100
    # The man in the clip sits still in front of the camera the whole time.
    await _wait_for(hass, lambda: _state(hass, OCCUPANCY) == "on", limit=15)

    image = await async_get_image(hass, CAMERA)  # the first request starts rendering
    assert image.content.startswith(b"\xff\xd8")
    assert image.content.endswith(b"\xff\xd9")

    threads = _smart_play_threads()
    assert threads, "the pipeline should run in its own threads"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not any(t.is_alive() for t in threads)
    assert _state(hass, OCCUPANCY) == STATE_UNAVAILABLE
    assert not any(str(clip()) in fd for fd in _open_fds())


async def test_reloads_leak_no_thread_or_file(hass: HomeAssistant) -> None:
    """Several reloads leave exactly the threads and descriptors of one running entry."""
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")
    # Warm up once so lazily created executor workers exist before measuring.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")
    threads_before = len(_non_pool_threads())
    own_before = len(_smart_play_threads())
    # The looping clip is closed and reopened at every loop, so it is counted
    # separately: at most one open copy of it, and nothing else may grow.
    fds_before = _fds_besides_clip()

    for _ in range(3):
        assert await hass.config_entries.async_reload(entry.entry_id)
        assert entry.state is ConfigEntryState.LOADED
        await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")

    assert len(_smart_play_threads()) == own_before
    assert len(_non_pool_threads()) <= threads_before, _non_pool_threads()
    assert sum(str(clip()) in fd for fd in _open_fds()) <= 1
    # Sockets and pipes of the reloads may take a moment to be closed by
    # their owners (executor jobs finishing); a leak stays.
    with contextlib.suppress(TimeoutError):
        await _wait_for(hass, lambda: len(_fds_besides_clip()) <= len(fds_before), limit=5)
    assert len(_fds_besides_clip()) <= len(fds_before), _fds_besides_clip() - fds_before

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert _smart_play_threads() == []
    assert not any(str(clip()) in fd for fd in _open_fds())


async def test_missing_source_is_retried(hass: HomeAssistant, tmp_path) -> None:
    """A source that cannot be opened means 'not ready yet', with no entities or threads."""
    entry = make_entry(hass, source=str(tmp_path / "missing.mp4"))
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.states.async_entity_ids("binary_sensor") == []
    assert _smart_play_threads() == []


async def test_end_of_clip_makes_occupancy_unavailable(hass: HomeAssistant) -> None:
    """When the camera stops delivering (end of a non-looping clip), nothing claims 'empty'."""
    entry = make_entry(hass, source=str(clip("empty-room-preview.mp4")), **{CONF_LOOP: False})
    with all_entities_enabled():
        assert await hass.config_entries.async_setup(entry.entry_id)
    await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")
    await _wait_for(hass, lambda: _state(hass, STATUS) == "stopped", limit=10)
    assert _state(hass, OCCUPANCY) == STATE_UNAVAILABLE
    assert _state(hass, MOTION) == STATE_UNAVAILABLE
    assert hass.states.get(STATUS).attributes["reason"] == "end of file"
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_every_entity_is_named_and_has_an_icon(hass: HomeAssistant) -> None:
    """Names come from the translations, icons from icons.json, one set per entity."""
    entry = make_entry(hass)
    with all_entities_enabled(), fake_pipelines():
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    names = {
        entity_id: hass.states.get(entity_id).attributes["friendly_name"]
        for entity_id in hass.states.async_entity_ids()
    }
    assert names == {
        "binary_sensor.desk_occupancy": "Desk Occupancy",
        "camera.desk_tracking_view": "Desk Tracking view",
        "number.desk_absence_delay": "Desk Absence delay",
        "number.desk_sensitivity": "Desk Sensitivity",
        "sensor.desk_analysis_rate": "Desk Analysis rate",
        "sensor.desk_camera_status": "Desk Camera status",
        "sensor.desk_motion_level": "Desk Motion level",
        "switch.desk_auto_pause": "Desk Auto-pause",
        "switch.desk_camera": "Desk Camera",
    }
    icons = (await async_get_icons(hass, "entity", [DOMAIN]))[DOMAIN]
    translations = await async_get_translations(hass, "en", "entity", [DOMAIN])
    for registry_entry in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id):
        platform, key = registry_entry.domain, registry_entry.translation_key
        assert icons[platform][key]["default"].startswith("mdi:"), registry_entry.entity_id
        assert f"component.{DOMAIN}.entity.{platform}.{key}.name" in translations
    # Every state of the camera status sensor is translated.
    for status in hass.states.get("sensor.desk_camera_status").attributes["options"]:
        assert f"component.{DOMAIN}.entity.sensor.camera_status.state.{status}" in translations
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_failed_setup_leaves_no_thread_running(hass: HomeAssistant) -> None:
    """The camera threads start before the platforms; if forwarding fails they stop again."""
    entry = make_entry(hass)
    started: list[int] = []

    async def _forward_fails(*_args: object) -> None:
        started.append(len(_smart_play_threads()))
        raise RuntimeError("platform setup failed")

    with patch.object(hass.config_entries, "async_forward_entry_setups", _forward_fails):
        assert not await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert started and started[0] > 0  # the pipeline was running when forwarding failed
    assert _smart_play_threads() == []
    assert not any(str(clip()) in fd for fd in _open_fds())
