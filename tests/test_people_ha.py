"""People inside Home Assistant: options menu, enrolment, removal, person sensor, playlists."""

from __future__ import annotations

from pathlib import Path
import threading
from typing import Any

import av
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.requirements import RequirementsNotFound
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.smart_play.features import OPT_GESTURE_ZONE, OPT_GESTURES
from custom_components.smart_play.people import (
    EVENT_PERSON_ARRIVED,
    EVENT_PERSON_LEFT,
    OPT_PEOPLE,
    OPT_PERSON_PLAYLIST,
    PEOPLE_FOLDER,
)
from custom_components.smart_play.vision.faces import face_support
from custom_components.smart_play.vision.source import iter_file_frames
from custom_components.smart_play.vision.types import Frame, FrameResult, Occupancy, SourceStatus

from .helpers_entities import MEDIA_PLAYER, async_setup, fake_pipelines, make_entry

DATA = Path(__file__).parent / "data"
SENSOR = "sensor.desk_person"
needs_opencv = pytest.mark.skipif(face_support() is not None, reason="OpenCV not installed")


@pytest.fixture(scope="module")
def alice_frames() -> list[Frame]:
    """The man of head-pose-male-preview plays "Alice"."""
    return list(iter_file_frames(DATA / "head-pose-male-preview.mp4", fps_cap=6.0))


@pytest.fixture(scope="module")
def stranger_frames() -> list[Frame]:
    return list(iter_file_frames(DATA / "face-exposure-swings.mp4", fps_cap=6.0))[:40]


def feed(analyzer: Any, frames: list[Frame], state: Occupancy, t0: float = 0.0) -> None:
    """Feed frames with an occupancy state from another thread (like the pipeline)."""

    def _run() -> None:
        for frame in frames:
            t = t0 + frame.pts
            analyzer(
                Frame(frame.image, t, t),
                FrameResult(t=t, state=state, presence=True, motion_score=0.0),
            )

    worker = threading.Thread(target=_run)
    worker.start()
    worker.join()


async def _menu(hass: HomeAssistant, entry_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    assert set(result["menu_options"]) == {
        "settings",
        "zones",
        "gestures",
        "people",
        "add_person",
        "remove_person",
    }
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


async def test_gesture_options(hass: HomeAssistant) -> None:
    with fake_pipelines():
        entry = make_entry(hass)
        await async_setup(hass, entry)
        result = await _menu(hass, entry.entry_id, "gestures")
        assert result["step_id"] == "gestures"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {OPT_GESTURES: True, OPT_GESTURE_ZONE: "0.5, 0, 1.2, 0.5", "gesture_mirror": True},
        )
        assert result["errors"] == {OPT_GESTURE_ZONE: "invalid_zone"}
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {OPT_GESTURES: True, OPT_GESTURE_ZONE: "0,0.5,0.5,1", "gesture_mirror": False},
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
    assert entry.options[OPT_GESTURES] is True
    assert entry.options[OPT_GESTURE_ZONE] == "0, 0.5, 0.5, 1"
    features = entry.runtime_data.features
    assert features.gestures.enabled
    assert features.gestures.zone == (0.0, 0.5, 0.5, 1.0)
    assert features.gestures.detector.config.mirror is False


@needs_opencv
async def test_enrol_from_camera_recognise_and_remove(
    hass: HomeAssistant,
    alice_frames: list[Frame],
    stranger_frames: list[Frame],
    hass_storage: dict[str, Any],
) -> None:
    hass.states.async_set(MEDIA_PLAYER, "idle")
    play_media = async_mock_service(hass, "media_player", "play_media")
    arrived = async_capture_events(hass, EVENT_PERSON_ARRIVED)
    left = async_capture_events(hass, EVENT_PERSON_LEFT)
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_PEOPLE: True, OPT_PERSON_PLAYLIST: True})
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        people = entry.runtime_data.features.people
        assert hass.states.get(SENSOR).state == "none"

        # Enrol Alice from the live camera.
        result = await _menu(hass, entry.entry_id, "add_person")
        assert result["step_id"] == "add_person"
        result = await hass.config_entries.options.async_configure(
            result["flow_id"],
            {"name": "Alice", "media_id": "spotify:playlist:alice", "samples_from": "camera"},
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        feed(people.analyzer, alice_frames, Occupancy.OCCUPIED)
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_configure(result["flow_id"])
        assert result["type"] is FlowResultType.CREATE_ENTRY
        stored = hass_storage[f"smart_play.{entry.entry_id}.people"]["data"]["people"]
        assert list(stored) == ["Alice"]
        assert stored["Alice"]["media_id"] == "spotify:playlist:alice"
        assert len(stored["Alice"]["templates"]) == 8  # descriptors, no image data
        assert all(len(t) < 6000 for t in stored["Alice"]["templates"])
        # Captured while the camera saw someone arrive (start-up): nobody was enrolled yet.
        assert [(e.data["name"], e.data["known"]) for e in arrived] == [(None, False)]
        arrived.clear()

        # Alice sits down at an empty desk: recognised, event, her playlist starts.
        pipeline.transition(Occupancy.EMPTY)
        pipeline.transition(Occupancy.OCCUPIED)
        feed(people.analyzer, alice_frames[:1], Occupancy.EMPTY, t0=100.0)
        feed(people.analyzer, alice_frames, Occupancy.OCCUPIED, t0=101.0)
        # Her playlist is started by a background task: wait for it too.
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(SENSOR).state == "Alice"
        assert [(e.data["name"], e.data["known"]) for e in arrived] == [("Alice", True)]
        assert [c.data["media_content_id"] for c in play_media] == ["spotify:playlist:alice"]

        # She leaves; a stranger arrives: unknown, no playlist.
        feed(people.analyzer, alice_frames[:1], Occupancy.EMPTY, t0=200.0)
        await hass.async_block_till_done()
        assert hass.states.get(SENSOR).state == "none"
        # (the unknown "arrival" seen during the capture left first, at t=100)
        assert [e.data["name"] for e in left] == [None, "Alice"]
        pipeline.transition(Occupancy.EMPTY)
        pipeline.transition(Occupancy.OCCUPIED)
        feed(people.analyzer, stranger_frames, Occupancy.OCCUPIED, t0=201.0)
        await hass.async_block_till_done()
        assert hass.states.get(SENSOR).state == "unknown"
        assert arrived[-1].data == {"entry_id": entry.entry_id, "name": None, "known": False}
        assert len(play_media) == 1

        # Remove Alice: her face data is deleted from the store.
        result = await _menu(hass, entry.entry_id, "remove_person")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Alice"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        await hass.async_block_till_done()
        assert hass_storage[f"smart_play.{entry.entry_id}.people"]["data"]["people"] == {}
        assert people.analyzer.gallery.people == {}
        result = await _menu(hass, entry.entry_id, "remove_person")
        assert result["reason"] == "no_people"


@needs_opencv
async def test_playlist_never_interrupts_and_not_after_startup(
    hass: HomeAssistant, alice_frames: list[Frame]
) -> None:
    hass.states.async_set(MEDIA_PLAYER, "playing", {"media_title": "Other"})
    play_media = async_mock_service(hass, "media_player", "play_media")
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_PEOPLE: True, OPT_PERSON_PLAYLIST: True})
        await async_setup(hass, entry)
        pipeline = pipelines[-1]
        pipeline.source_state(SourceStatus.STREAMING)
        people = entry.runtime_data.features.people
        samples = [
            d[0][1]
            for f in alice_frames[:6]
            if (d := people.analyzer.detector.descriptors(f.image))
        ]
        await people.async_add_person("Alice", "spotify:playlist:alice", samples)
        # Start-up (UNKNOWN -> OCCUPIED) is not "sitting down at an empty desk".
        pipeline.transition(Occupancy.OCCUPIED)
        feed(people.analyzer, alice_frames, Occupancy.OCCUPIED, t0=10.0)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(SENSOR).state == "Alice"
        # Empty desk, she comes back, but music is playing: left alone.
        pipeline.transition(Occupancy.EMPTY)
        pipeline.transition(Occupancy.OCCUPIED)
        feed(people.analyzer, alice_frames[:1], Occupancy.EMPTY, t0=50.0)
        feed(people.analyzer, alice_frames, Occupancy.OCCUPIED, t0=51.0)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert play_media == []


@needs_opencv
async def test_enrol_from_folder(
    hass: HomeAssistant,
    alice_frames: list[Frame],
    tmp_path: Path,
    hass_storage: dict[str, Any],
) -> None:
    hass.config.config_dir = str(tmp_path)
    folder = tmp_path / PEOPLE_FOLDER / "Bob"
    folder.mkdir(parents=True)
    for index, frame in enumerate(alice_frames[:4]):
        with av.open(str(folder / f"{index}.png"), "w", format="image2") as out:
            stream = out.add_stream("png")
            stream.width, stream.height, stream.pix_fmt = 480, 270, "rgb24"
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame.image, format="rgb24")))
            out.mux(stream.encode(None))
    (folder / "notes.txt").write_text("not an image")
    with fake_pipelines():
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        result = await _menu(hass, entry.entry_id, "add_person")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Nobody", "samples_from": "folder"}
        )
        assert result["errors"] == {"base": "no_faces_in_folder"}
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "none", "samples_from": "folder"}
        )
        assert result["errors"] == {"name": "invalid_name"}
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Bob", "media_id": "", "samples_from": "folder"}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        people = entry.runtime_data.features.people
        assert people.people == {"Bob": {"media_id": None}}
        assert len(people.analyzer.gallery.people["Bob"]) == 4
    key = f"smart_play.{entry.entry_id}.people"
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage  # deleting the entry deletes all face data


async def test_people_need_opencv(hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the OpenCV extra (and no wheel to install) the feature says so and stays off."""
    why = "recognising people needs the optional OpenCV extra"
    monkeypatch.setattr("custom_components.smart_play.options_flow.face_support", lambda: why)
    monkeypatch.setattr("custom_components.smart_play.people.face_support", lambda: why)
    monkeypatch.setattr("custom_components.smart_play.options_flow.installed_opencv", lambda: None)
    installs: list[list[str]] = []

    async def no_wheel(_hass: HomeAssistant, _domain: str, requirements: list[str]) -> None:
        installs.append(requirements)
        raise RequirementsNotFound("smart_play", requirements)

    monkeypatch.setattr(
        "custom_components.smart_play.options_flow.async_process_requirements", no_wheel
    )
    with fake_pipelines():
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        assert hass.states.get(SENSOR) is None
        result = await _menu(hass, entry.entry_id, "add_person")
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "opencv_missing"
        result = await _menu(hass, entry.entry_id, "people")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {OPT_PEOPLE: True, OPT_PERSON_PLAYLIST: False}
        )
        assert result["errors"] == {OPT_PEOPLE: "opencv_missing"}
        assert installs == [["opencv-python-headless>=4.8,<5"]]  # it was tried once
        assert OPT_PEOPLE not in entry.options or entry.options[OPT_PEOPLE] is True


async def test_opencv_installed_on_demand(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switching people on installs the OpenCV extra where a wheel exists, then it works."""
    state = {"installed": False}

    def support() -> str | None:
        return None if state["installed"] else "OpenCV is not installed"

    async def install(_hass: HomeAssistant, _domain: str, requirements: list[str]) -> None:
        assert requirements == ["opencv-python-headless>=4.8,<5"]
        state["installed"] = True

    monkeypatch.setattr("custom_components.smart_play.options_flow.face_support", support)
    monkeypatch.setattr("custom_components.smart_play.people.face_support", support)
    monkeypatch.setattr(
        "custom_components.smart_play.options_flow.installed_opencv",
        lambda: "opencv-python-headless 4.10.0" if state["installed"] else None,
    )
    monkeypatch.setattr(
        "custom_components.smart_play.options_flow.async_process_requirements", install
    )
    with fake_pipelines():
        entry = make_entry(hass)
        await async_setup(hass, entry)
        result = await _menu(hass, entry.entry_id, "people")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {OPT_PEOPLE: True, OPT_PERSON_PLAYLIST: False}
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert state["installed"]
        assert entry.options[OPT_PEOPLE] is True
        await hass.async_block_till_done()
