"""End to end: two Smart Play entries (kitchen, desk) on one Spotify account, real hass.

Each entry chose its own Spotify device in the config flow (the kitchen the living-room
speaker, the desk the work laptop). Music plays on the laptop. The kitchen camera empties
first while the desk is occupied: nothing may pause the laptop (the kitchen says "not
paused: playing on Work Laptop (not at this camera)"). Then the desk empties: the laptop
is paused, and the kitchen entry is unaffected. The fake Spotify lags its player state
1 s behind commands, as Spotify does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fake_spotify import FakeSpotify

from .hass_process import HassClient, HassProcess, next_event
from .test_e2e_spotify import hass_proc, spotify_port  # noqa: F401  (module fixtures)
from .test_e2e_spotify_faults import add_spotify_entry, for_entry, show

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture
async def fake_spotify(spotify_port: int) -> AsyncIterator[FakeSpotify]:  # noqa: F811
    """The fake Spotify with its default (realistic) state lag."""
    server = FakeSpotify()
    await server.start(port=spotify_port)
    try:
        yield server
    finally:
        await server.stop()


async def test_kitchen_leaves_the_desk_music_alone(
    hass_proc: HassProcess,  # noqa: F811
    client: HassClient,
    fake_spotify: FakeSpotify,
    clip: Path,
    away_clip: Path,
) -> None:
    fake_spotify.user_play("dev-desktop", "spotify:album:mezzanine")
    paused_q = await client.subscribe_events("smart_play_paused")
    skipped_q = await client.subscribe_events("smart_play_pause_skipped")

    kitchen, kitchen_sensor = await add_spotify_entry(
        client, fake_spotify, clip, devices=["dev-speaker"], name="Kitchen"
    )
    await client.wait_state(kitchen_sensor, "on", 30)
    desk, desk_sensor = await add_spotify_entry(
        client, fake_spotify, away_clip, devices=["dev-desktop"], name="Desk"
    )
    await client.wait_state(desk_sensor, "on", 30)

    # The kitchen empties while someone sits at the desk.
    skipped = await next_event(skipped_q, 45, for_entry(kitchen))
    desk_state = await client.state(desk_sensor)
    assert desk_state is not None
    assert desk_state["state"] == "on", "the desk emptied before the kitchen: no proof"
    assert skipped["data"]["reason"] == "not_at_this_camera"
    assert skipped["data"]["message"] == "playing on Work Laptop (not at this camera)"
    assert fake_spotify.api_requests("PUT") == [], show(fake_spotify.api_requests())
    assert fake_spotify.state()["is_playing"] is True

    # Then the desk empties: its laptop is paused, by the desk entry only.
    paused = await next_event(paused_q, 45, for_entry(desk))
    assert paused["data"]["device_id"] == "dev-desktop"
    pauses = fake_spotify.api_requests("PUT", "/v1/me/player/pause")
    assert [p.query for p in pauses] == [{"device_id": "dev-desktop"}], show(pauses)
    assert fake_spotify.state()["is_playing"] is False
    assert paused_q.empty(), "another entry paused too"
    kitchen_state = await client.state(kitchen_sensor)
    assert kitchen_state is not None
    assert kitchen_state["state"] in ("on", "off")  # the kitchen keeps working
    entries = {e["entry_id"]: e for e in await client.config_entries("smart_play")}
    assert entries[kitchen]["state"] == "loaded"
    assert entries[desk]["state"] == "loaded"
    # One client for both entries: Spotify never saw two requests at once.
    assert fake_spotify.max_in_flight == 1
