"""People of an entry: enrolled faces (descriptors only, in a Store), who is at the desk.

Face data is stored as LBP-histogram descriptors (see :mod:`.vision.faces`),
never as photos, in ``.storage/smart_play.<entry_id>.people``. Removing a
person deletes their descriptors. Recognition runs only after an arrival, in
the vision pipeline thread; results come back to the event loop here.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
import logging
from pathlib import Path
import re
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
import numpy as np

from .const import DOMAIN
from .tasks import async_cancel_tasks
from .vision.faces import (
    DESCRIPTOR_SIZE,
    PeopleAnalyzer,
    Recognition,
    descriptors_from_images,
    face_support,
)

if TYPE_CHECKING:
    from .controller import PlaybackController

_LOGGER = logging.getLogger(__name__)

OPT_PEOPLE: Final = "people"  # bool: recognise who arrives (needs OpenCV)
OPT_PERSON_PLAYLIST: Final = "person_playlist"  # bool: start their playlist at an empty desk
EVENT_PERSON_ARRIVED: Final = f"{DOMAIN}_person_arrived"
EVENT_PERSON_LEFT: Final = f"{DOMAIN}_person_left"
SIGNAL_PEOPLE: Final = "smart_play_people_{}"
STORE_VERSION: Final = 1
PEOPLE_FOLDER: Final = "smart_play/people"  # under the config dir: <name>/*.jpg|png
IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png")
CAPTURE_COUNT: Final = 8  # face samples taken from the camera at enrolment
CAPTURE_TIMEOUT: Final = 20.0  # seconds
MIN_SAMPLES: Final = 3  # fewer faces than this: enrolment fails

PERSON_NONE: Final = "none"  # nobody at the desk
PERSON_UNKNOWN: Final = "unknown"  # someone not recognised


_PERSON_NAME: Final = re.compile(r"\w[\w .'-]{0,39}")


def valid_person_name(name: str) -> bool:
    """Whether ``name`` can be enrolled (it also names the person's photo folder).

    What the user notices: up to 40 letters, digits, spaces, dots, apostrophes or
    dashes, starting with a letter or digit, and not "none" or "unknown"; anything
    else (a path such as ``../x`` or ``/etc``, a slash, a line break) is refused in the
    form, so a name never points outside ``<config>/smart_play/people/``.
    """
    return (
        _PERSON_NAME.fullmatch(name) is not None
        and name == name.strip()
        and name.lower() not in (PERSON_NONE, PERSON_UNKNOWN)
    )


def encode_descriptor(descriptor: np.ndarray) -> str:
    """Descriptor bytes as base64 text (the Store format)."""
    return base64.b64encode(np.asarray(descriptor, dtype=np.uint8).tobytes()).decode()


def decode_descriptor(text: str) -> np.ndarray:
    """Inverse of :func:`encode_descriptor` (ValueError on a wrong size)."""
    data = np.frombuffer(base64.b64decode(text), dtype=np.uint8)
    if data.size != DESCRIPTOR_SIZE:
        raise ValueError("descriptor has the wrong size")
    return data.copy()


async def async_remove_people_data(hass: HomeAssistant, entry_id: str) -> None:
    """Delete all face data of a config entry (called when the entry is removed)."""
    await Store[dict[str, Any]](hass, STORE_VERSION, f"{DOMAIN}.{entry_id}.people").async_remove()


class PeopleManager:
    """Enrolment, storage and recognition results of one entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        controller: PlaybackController,
        threadsafe: Callable[[Callable[[Any], None]], Callable[[Any], None]],
    ) -> None:
        """Create the manager; ``threadsafe`` wraps loop callbacks for the pipeline thread."""
        self.hass = hass
        self.entry = entry
        self.controller = controller
        self.signal = SIGNAL_PEOPLE.format(entry.entry_id)
        self._threadsafe = threadsafe
        self._store: Store[dict[str, Any]] = Store(
            hass, STORE_VERSION, f"{DOMAIN}.{entry.entry_id}.people"
        )
        self.people: dict[str, dict[str, Any]] = {}  # name -> {"media_id", "samples"}
        self.current: str = PERSON_NONE
        self.last: Recognition | None = None
        self._arrived_from_empty = False
        self._tasks: set[asyncio.Task[Any]] = set()
        # Enabled in async_load, once OpenCV was looked for (off the event loop).
        self.face_problem: str | None = None
        self.analyzer = PeopleAnalyzer(
            threadsafe(self._async_result), threadsafe(self._async_left), enabled=False
        )

    # ---------------------------------------------------------------- options
    @property
    def wanted(self) -> bool:
        """Whether the people option is on."""
        return bool(self.entry.options.get(OPT_PEOPLE, False))

    @property
    def enabled(self) -> bool:
        """Whether recognition runs (option on and OpenCV present)."""
        return self.analyzer.enabled

    @property
    def play_playlists(self) -> bool:
        """Whether a recognised person's playlist is started at an empty desk."""
        return bool(self.entry.options.get(OPT_PERSON_PLAYLIST, False))

    # ---------------------------------------------------------------- storage
    async def async_load(self) -> None:
        """Load enrolled people into the recogniser."""
        data = await self._store.async_load() or {}
        for name, person in (data.get("people") or {}).items():
            try:
                samples = [decode_descriptor(t) for t in person.get("templates", [])]
            except (ValueError, TypeError):
                _LOGGER.warning("Stored face data of %s is damaged; ignoring it", name)
                continue
            self.analyzer.gallery.enrol(name, samples)
            self.people[name] = {"media_id": person.get("media_id") or None}
        # Importing OpenCV takes a while: never on the event loop.
        self.face_problem = await self.hass.async_add_executor_job(face_support)
        self.analyzer.enabled = self.wanted and self.face_problem is None
        if self.wanted and self.face_problem is not None:
            _LOGGER.warning(
                "%s: people recognition is on, but %s", self.entry.title, self.face_problem
            )

    async def _async_save(self) -> None:
        gallery = self.analyzer.gallery.people
        await self._store.async_save(
            {
                "people": {
                    name: {
                        "media_id": info.get("media_id"),
                        "templates": [encode_descriptor(t) for t in gallery.get(name, [])],
                    }
                    for name, info in self.people.items()
                }
            }
        )

    async def async_add_person(
        self, name: str, media_id: str | None, samples: list[np.ndarray]
    ) -> None:
        """Enrol ``name`` (or add samples to them) and store the descriptors."""
        self.analyzer.gallery.enrol(name, samples)
        self.people[name] = {"media_id": media_id or None}
        await self._async_save()
        async_dispatcher_send(self.hass, self.signal)

    async def async_remove_person(self, name: str) -> None:
        """Forget ``name``: their descriptors are deleted from the Store."""
        self.analyzer.gallery.remove(name)
        self.people.pop(name, None)
        if self.current == name:
            self.current = PERSON_UNKNOWN
        await self._async_save()
        async_dispatcher_send(self.hass, self.signal)

    # -------------------------------------------------------------- enrolment
    async def async_capture(
        self, count: int = CAPTURE_COUNT, max_seconds: float = CAPTURE_TIMEOUT
    ) -> list[np.ndarray]:
        """Take ``count`` face samples from the live camera (fewer after ``max_seconds``)."""
        future: asyncio.Future[list[np.ndarray]] = self.hass.loop.create_future()

        @callback
        def _done(samples: list[np.ndarray]) -> None:
            if not future.done():
                future.set_result(samples)

        self.analyzer.start_capture(count, self._threadsafe(_done))
        try:
            async with asyncio.timeout(max_seconds):
                return await future
        except TimeoutError:
            return self.analyzer.cancel_capture()
        finally:
            self.analyzer.cancel_capture()

    def folder(self, name: str) -> Path:
        """Folder with enrolment images of ``name``: ``<config>/smart_play/people/<name>``.

        Raises ValueError for a name :func:`valid_person_name` refuses (it could
        otherwise be a path elsewhere).
        """
        if not valid_person_name(name):
            raise ValueError("not a valid person name")
        base = Path(self.hass.config.path(PEOPLE_FOLDER))
        folder = base / name
        if folder.parent != base or folder.name != name:  # one plain folder level
            raise ValueError("not a valid person name")
        return folder

    async def async_samples_from_folder(self, name: str) -> list[np.ndarray]:
        """Face samples from ``<config>/smart_play/people/<name>/*.jpg|png``."""
        folder = self.folder(name)

        def _load() -> list[np.ndarray]:
            if not folder.is_dir():
                return []
            paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            return descriptors_from_images(paths)

        return await self.hass.async_add_executor_job(_load)

    # ------------------------------------------------------------ recognition
    @callback
    def async_on_transition(self, previous: str, state: str) -> None:
        """Remember whether the desk was empty before an arrival."""
        if state == "occupied":
            self._arrived_from_empty = previous == "empty"

    @callback
    def _async_result(self, recognition: Recognition) -> None:
        """Publish an analysed arrival: sensor, event, maybe their playlist."""
        self.last = recognition
        name = recognition.name
        self.current = name or PERSON_UNKNOWN
        _LOGGER.debug(
            "%s: arrival recognised as %s (%d faces, %d runs, %.1f ms)",
            self.entry.title,
            self.current,
            recognition.faces,
            recognition.runs,
            recognition.cost_ms,
        )
        self.hass.bus.async_fire(
            EVENT_PERSON_ARRIVED,
            {"entry_id": self.entry.entry_id, "name": name, "known": name is not None},
        )
        async_dispatcher_send(self.hass, self.signal)
        media_id = self.people.get(name or "", {}).get("media_id")
        if name and media_id and self.play_playlists and self._arrived_from_empty:
            task = self.hass.async_create_background_task(
                self.controller.async_play_for_person(name, media_id),
                f"{DOMAIN} {self.entry.entry_id} playlist of {name}",
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @callback
    def _async_left(self, _value: None) -> None:
        """Publish that the desk became empty."""
        name = self.current
        self.current = PERSON_NONE
        if name != PERSON_NONE:
            self.hass.bus.async_fire(
                EVENT_PERSON_LEFT,
                {
                    "entry_id": self.entry.entry_id,
                    "name": None if name == PERSON_UNKNOWN else name,
                },
            )
        async_dispatcher_send(self.hass, self.signal)

    async def async_stop(self) -> None:
        """Cancel playlist starts in flight."""
        self.analyzer.enabled = False
        self.analyzer.cancel_capture()
        await async_cancel_tasks(self._tasks)

    def diagnostics(self) -> dict[str, Any]:
        """State for diagnostics: names and counts only, no face data."""
        last = self.last
        return {
            "enabled": self.enabled,
            "opencv_missing": self.face_problem is not None,
            # No names (personal data): counts only.
            "people": [
                {
                    "samples": len(self.analyzer.gallery.people.get(name, [])),
                    "has_playlist": bool(info.get("media_id")),
                }
                for name, info in self.people.items()
            ],
            "current": self.current if self.current in (PERSON_NONE, PERSON_UNKNOWN) else "known",
            "last_run": None
            if last is None
            else {"faces": last.faces, "runs": last.runs, "cost_ms": round(last.cost_ms, 1)},
        }
