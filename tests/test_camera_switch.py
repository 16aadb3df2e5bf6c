"""The Camera switch on a real clip: off releases the file/device, on opens it again."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .helpers_entities import clip, make_entry
from .test_lifecycle import OCCUPANCY, STATUS, _open_fds, _state, _wait_for

SWITCH = "switch.desk_camera"


def _clip_open() -> bool:
    return any(str(clip()) in fd for fd in _open_fds())


async def test_switch_off_releases_the_camera_and_on_opens_it(hass: HomeAssistant) -> None:
    entry = make_entry(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The man in the clip sits in front of the camera the whole time.
    await _wait_for(hass, lambda: _state(hass, OCCUPANCY) == "on", limit=15)
    assert _clip_open()

    await hass.services.async_call("switch", "turn_off", {"entity_id": SWITCH}, blocking=True)
    await hass.async_block_till_done()
    assert _state(hass, OCCUPANCY) == "unavailable"
    assert _state(hass, STATUS) == "stopped"
    await _wait_for(hass, lambda: not _clip_open(), limit=5)  # released, not just ignored

    await hass.services.async_call("switch", "turn_on", {"entity_id": SWITCH}, blocking=True)
    await _wait_for(hass, lambda: _state(hass, STATUS) == "streaming")
    await _wait_for(hass, lambda: _state(hass, OCCUPANCY) == "on", limit=15)
    assert _clip_open()
    assert await hass.config_entries.async_unload(entry.entry_id)
