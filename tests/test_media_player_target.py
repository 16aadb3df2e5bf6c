"""MediaPlayerTarget + PlaybackController with Home Assistant's demo media players."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from unittest.mock import patch

from homeassistant.const import EVENT_CALL_SERVICE, Platform
from homeassistant.core import Event, HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
import pytest_asyncio
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.smart_play.const import EVENT_PAUSED, EVENT_RESUME_SKIPPED, EVENT_RESUMED
from custom_components.smart_play.controller import PlaybackController
from custom_components.smart_play.players.base import AlreadyPaused, DeviceGone, PauseMemo
from custom_components.smart_play.players.media_player import MediaPlayerTarget
from custom_components.smart_play.vision.types import Occupancy, Transition

EMPTY = Transition(t=0.0, state=Occupancy.EMPTY, reason="no motion")
OCCUPIED = Transition(t=0.0, state=Occupancy.OCCUPIED, reason="motion")
UNKNOWN = Transition(t=0.0, state=Occupancy.UNKNOWN, reason="camera lost")
BEDROOM = "media_player.bedroom"  # demo YouTube player: has a position
WALKMAN = "media_player.walkman"  # demo music player: tracks, no position


@pytest_asyncio.fixture
async def demo_players(hass: HomeAssistant) -> None:
    """Set up only the demo integration's media players."""
    with patch(
        "homeassistant.components.demo.COMPONENTS_WITH_CONFIG_ENTRY_DEMO_PLATFORM",
        [Platform.MEDIA_PLAYER],
    ):
        assert await async_setup_component(hass, "homeassistant", {})
        assert await async_setup_component(hass, "demo", {})
        await hass.async_block_till_done()
    assert hass.states.get(BEDROOM).state == "playing"
    assert hass.states.get(WALKMAN).state == "playing"


@pytest.fixture
def service_calls(hass: HomeAssistant) -> list[Event[dict[str, Any]]]:
    return async_capture_events(hass, EVENT_CALL_SERVICE)


def _media_calls(calls: list[Event[dict[str, Any]]]) -> list[tuple[str, str]]:
    return [
        (c.data["service"], c.data["service_data"]["entity_id"])
        for c in calls
        if c.data["domain"] == "media_player"
    ]


@pytest_asyncio.fixture
async def make_controller(hass: HomeAssistant, demo_players: None) -> AsyncGenerator[Any]:
    controllers: list[PlaybackController] = []

    async def _make(entity_id: str, *, at_desk: bool = True) -> PlaybackController:
        ctrl = PlaybackController(
            hass, f"entry_{entity_id}", MediaPlayerTarget(hass, entity_id, state_timeout=2.0)
        )
        await ctrl.async_load()
        if at_desk:  # someone at the desk: a leave can follow
            await ctrl.async_on_transition(OCCUPIED)
        controllers.append(ctrl)
        return ctrl

    yield _make
    for ctrl in controllers:
        await ctrl.async_shutdown()


async def test_leave_and_return_pause_and_play_once(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    paused = async_capture_events(hass, EVENT_PAUSED)
    resumed = async_capture_events(hass, EVENT_RESUMED)
    controller = await make_controller(BEDROOM)

    await controller.async_on_transition(EMPTY)
    await hass.async_block_till_done()
    state = hass.states.get(BEDROOM)
    assert state.state == "paused"
    assert _media_calls(service_calls) == [("media_pause", BEDROOM)]
    memo = controller.memo
    assert memo is not None
    assert (memo.device_id, memo.item_uri) == (BEDROOM, "kxopViU98Xo")
    assert memo.position_ms == state.attributes["media_position"] * 1000
    assert paused[0].data["item_name"] == "Epic sax guy 10 hours"

    await controller.async_on_transition(OCCUPIED)
    await hass.async_block_till_done()
    assert hass.states.get(BEDROOM).state == "playing"
    assert hass.states.get(BEDROOM).attributes["media_content_id"] == "kxopViU98Xo"
    assert _media_calls(service_calls) == [("media_pause", BEDROOM), ("media_play", BEDROOM)]
    assert controller.memo is None
    assert len(resumed) == 1


async def test_track_changed_while_away_is_not_resumed(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    skipped = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    controller = await make_controller(WALKMAN)
    await controller.async_on_transition(EMPTY)
    assert hass.states.get(WALKMAN).state == "paused"
    await hass.services.async_call(
        "media_player", "media_next_track", {"entity_id": WALKMAN}, blocking=True
    )
    await hass.async_block_till_done()

    await controller.async_on_transition(OCCUPIED)
    await hass.async_block_till_done()
    assert hass.states.get(WALKMAN).state == "paused"
    assert [s for s, _ in _media_calls(service_calls)] == ["media_pause", "media_next_track"]
    assert skipped[0].data["reason"] == "item_changed"
    assert controller.memo is None


async def test_resumed_by_hand_while_away_forgets_the_memo(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    skipped = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    controller = await make_controller(WALKMAN)
    await controller.async_on_transition(EMPTY)
    await hass.services.async_call(
        "media_player", "media_play", {"entity_id": WALKMAN}, blocking=True
    )
    await controller.async_on_transition(OCCUPIED)
    assert skipped[0].data["reason"] == "resumed_by_user"
    assert controller.memo is None
    assert [s for s, _ in _media_calls(service_calls)] == ["media_pause", "media_play"]


async def test_player_switched_off_while_away(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    skipped = async_capture_events(hass, EVENT_RESUME_SKIPPED)
    controller = await make_controller(WALKMAN)
    await controller.async_on_transition(EMPTY)
    await hass.services.async_call(
        "media_player", "turn_off", {"entity_id": WALKMAN}, blocking=True
    )
    await controller.async_on_transition(OCCUPIED)
    assert hass.states.get(WALKMAN).state == "off"
    assert skipped[0].data["reason"] == "nothing_active"


async def test_nothing_sent_when_paused_off_or_unknown(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    controller = await make_controller(WALKMAN)
    await controller.async_on_transition(UNKNOWN)
    controller.auto_pause = False
    await controller.async_on_transition(EMPTY)
    controller.auto_pause = True
    await controller.async_on_transition(OCCUPIED)
    assert _media_calls(service_calls) == []
    assert hass.states.get(WALKMAN).state == "playing"


async def test_restart_while_paused(
    hass: HomeAssistant, make_controller: Any, service_calls: list[Event]
) -> None:
    controller = await make_controller(BEDROOM)
    await controller.async_on_transition(EMPTY)
    await controller.async_shutdown()
    restarted = await make_controller(BEDROOM, at_desk=False)
    assert restarted.memo == controller.memo
    await restarted.async_on_transition(OCCUPIED)
    assert hass.states.get(BEDROOM).state == "playing"
    assert _media_calls(service_calls) == [("media_pause", BEDROOM), ("media_play", BEDROOM)]


async def test_missing_entity(hass: HomeAssistant) -> None:
    target = MediaPlayerTarget(hass, "media_player.nope")
    assert await target.async_get_playback() is None
    memo = PauseMemo("media_player.nope", "Nope", None, "x", "x", 0, 0.0)
    with pytest.raises(DeviceGone):
        await target.async_resume(memo)
    assert target.service_calls == 0


async def test_player_that_ignores_pause_leaves_no_memo(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A player that says it paused but keeps playing is reported, nothing remembered."""
    entity_id = "media_player.stubborn"
    hass.states.async_set(entity_id, "playing", {"media_content_id": "song", "media_title": "S"})
    calls = async_mock_service(hass, "media_player", "media_pause")
    controller = PlaybackController(
        hass, "stubborn", MediaPlayerTarget(hass, entity_id, state_timeout=0.1)
    )
    await controller.async_load()
    await controller.async_on_transition(OCCUPIED)
    await controller.async_on_transition(EMPTY)
    assert len(calls) == 1
    assert controller.memo is None
    assert "still playing" in caplog.text
    await controller.async_shutdown()


async def test_already_paused_player_is_not_remembered(
    hass: HomeAssistant, demo_players: None, service_calls: list[Event]
) -> None:
    target = MediaPlayerTarget(hass, WALKMAN)
    playback = await target.async_get_playback()
    await hass.services.async_call(
        "media_player", "media_pause", {"entity_id": WALKMAN}, blocking=True
    )
    with pytest.raises(AlreadyPaused):
        await target.async_pause(playback)
    assert target.service_calls == 0
