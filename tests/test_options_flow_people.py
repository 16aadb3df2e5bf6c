"""Options flow, people steps: what the user sees when the entry or camera is not there."""

from __future__ import annotations

from functools import partial
from pathlib import Path
import types
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import numpy as np
import pytest

from custom_components.smart_play.people import (
    OPT_PEOPLE,
    OPT_PERSON_PLAYLIST,
    PEOPLE_FOLDER,
    encode_descriptor,
)
from custom_components.smart_play.vision.faces import DESCRIPTOR_SIZE, face_support
from custom_components.smart_play.vision.types import SourceStatus

from .helpers_entities import async_setup, fake_pipelines, make_entry

needs_opencv = pytest.mark.skipif(face_support() is not None, reason="OpenCV not installed")


async def _step(hass: HomeAssistant, entry_id: str, step: str) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry_id)
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )


@needs_opencv
async def test_people_steps_of_an_entry_that_is_not_running(hass: HomeAssistant) -> None:
    """An entry that is not set up (camera missing at start): a clear abort, nothing stored."""
    entry = make_entry(hass, options={OPT_PEOPLE: True})
    for step in ("add_person", "remove_person"):
        result = await _step(hass, entry.entry_id, step)
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "not_running"
    assert entry.options == {OPT_PEOPLE: True}


@needs_opencv
async def test_capture_needs_a_streaming_camera(hass: HomeAssistant) -> None:
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        pipelines[-1].source_state(SourceStatus.FAILED, "gone")
        await hass.async_block_till_done()
        result = await _step(hass, entry.entry_id, "add_person")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Alice", "samples_from": "camera"}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == {"base": "camera_unavailable"}
        assert entry.runtime_data.features.people.people == {}


@needs_opencv
async def test_capture_without_a_face_stores_nothing(hass: HomeAssistant) -> None:
    """Nobody looks at the camera during the capture: 'no face', no person."""
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        pipelines[-1].source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        people = entry.runtime_data.features.people
        # The capture window, shortened from 20 s; no frame arrives meanwhile.
        people.async_capture = partial(people.async_capture, max_seconds=0.2)
        result = await _step(hass, entry.entry_id, "add_person")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Alice", "samples_from": "camera"}
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_configure(result["flow_id"])
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "no_face"
        assert people.people == {}


@needs_opencv
async def test_capture_of_an_entry_unloaded_meanwhile(hass: HomeAssistant) -> None:
    """The entry is unloaded while the capture runs: the flow ends, nothing is stored."""
    with fake_pipelines() as pipelines:
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        pipelines[-1].source_state(SourceStatus.STREAMING)
        await hass.async_block_till_done()
        people = entry.runtime_data.features.people
        result = await _step(hass, entry.entry_id, "add_person")
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"name": "Alice", "samples_from": "camera"}
        )
        assert result["type"] is FlowResultType.SHOW_PROGRESS
        assert await hass.config_entries.async_unload(entry.entry_id)
        result = await hass.config_entries.options.async_configure(result["flow_id"])
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "not_running"
        assert people.people == {}
        await hass.async_block_till_done()


@needs_opencv
async def test_a_name_never_reads_photos_outside_the_people_folder(
    hass: HomeAssistant, tmp_path: Path
) -> None:
    """``../x``, an absolute path or a slash in the name: refused, that folder is not read."""
    hass.config.config_dir = str(tmp_path / "config")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "0.png").write_bytes(b"not read")
    with fake_pipelines():
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        await async_setup(hass, entry)
        people = entry.runtime_data.features.people
        result = await _step(hass, entry.entry_id, "add_person")
        for name in ("../../outside", str(outside), "Bob/../../../outside", "a/b", "unknown"):
            result = await hass.config_entries.options.async_configure(
                result["flow_id"], {"name": name, "samples_from": "folder"}
            )
            assert result["errors"] == {"name": "invalid_name"}, name
            with pytest.raises(ValueError):
                people.folder(name)
        # A plain name is a folder right under <config>/smart_play/people/.
        assert people.folder("Bob O'Neil") == tmp_path / "config" / PEOPLE_FOLDER / "Bob O'Neil"
        assert people.people == {}


async def test_an_installed_opencv_5_is_reported_and_never_replaced(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another integration installed OpenCV 5: the options say why, nothing is installed."""
    opencv5 = types.ModuleType("cv2")
    opencv5.__version__ = "5.0.0"  # type: ignore[attr-defined]
    monkeypatch.setattr("custom_components.smart_play.vision.faces.opencv", lambda: opencv5)
    monkeypatch.setattr(
        "custom_components.smart_play.options_flow.installed_opencv",
        lambda: "opencv-python 5.0.0",
    )
    installs: list[list[str]] = []

    async def install(_hass: HomeAssistant, _domain: str, requirements: list[str]) -> None:
        installs.append(requirements)

    monkeypatch.setattr(
        "custom_components.smart_play.options_flow.async_process_requirements", install
    )
    with fake_pipelines():
        entry = make_entry(hass)
        await async_setup(hass, entry)
        result = await _step(hass, entry.entry_id, "people")
        why = result["description_placeholders"]["opencv"]
        assert "OpenCV 5.0.0 has no Haar cascade classifier" in why
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {OPT_PEOPLE: True, OPT_PERSON_PLAYLIST: False}
        )
        assert result["errors"] == {OPT_PEOPLE: "opencv_missing"}
        assert installs == []  # never installed over the other OpenCV
        assert not entry.options.get(OPT_PEOPLE)
        result = await _step(hass, entry.entry_id, "add_person")
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "opencv_missing"
        assert "no Haar cascade classifier" in result["description_placeholders"]["why"]


async def test_enrolled_people_survive_a_restart_and_damaged_data_is_skipped(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """People come back from the store after a restart; one damaged record loses only itself."""
    template = encode_descriptor(np.arange(DESCRIPTOR_SIZE, dtype=np.uint8))
    with fake_pipelines():
        entry = make_entry(hass, options={OPT_PEOPLE: True})
        hass_storage[f"smart_play.{entry.entry_id}.people"] = {
            "version": 1,
            "key": f"smart_play.{entry.entry_id}.people",
            "data": {
                "people": {
                    "Alice": {"media_id": "spotify:playlist:alice", "templates": [template]},
                    "Bob": {"media_id": None, "templates": ["c2hvcnQ="]},  # too short
                }
            },
        }
        await async_setup(hass, entry)
        people = entry.runtime_data.features.people
        assert people.people == {"Alice": {"media_id": "spotify:playlist:alice"}}
        assert len(people.analyzer.gallery.people["Alice"]) == 1
    assert "Stored face data of Bob is damaged" in caplog.text
