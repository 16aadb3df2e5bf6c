"""Helpers for the entity platform tests: a config entry and a scriptable vision pipeline.

The platform tests replace only the vision pipeline (the threads that read the
camera and run the engine) with :class:`FakePipeline`. Everything the pipeline
reports still goes through the runtime's thread → loop bridge, so the
entities see exactly what they would see with a real camera, but the test
decides when the camera streams, fails, or when occupancy changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
import threading
import time
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.smart_play.const import (
    CONF_LOOP,
    CONF_MEDIA_PLAYER,
    CONF_SOURCE,
    CONF_TARGET_TYPE,
    DOMAIN,
    TARGET_MEDIA_PLAYER,
)
from custom_components.smart_play.vision.types import (
    Occupancy,
    SourceState,
    SourceStatus,
    Transition,
)

DATA = Path(__file__).parent / "data"
SHARED_CLIPS = Path("/work/shared/clips")
MEDIA_PLAYER = "media_player.walkman"


def clip(name: str = "head-pose-male-preview.mp4") -> Path:
    """Return a bundled test clip (tests/data, else the shared clip folder)."""
    for folder in (DATA, SHARED_CLIPS):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"test clip {name} missing from {DATA}")


def make_entry(
    hass: HomeAssistant,
    *,
    source: str | None = None,
    title: str = "Desk",
    options: dict[str, Any] | None = None,
    **data: Any,
) -> MockConfigEntry:
    """Add a media-player-target entry (not set up yet) to hass."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={
            CONF_TARGET_TYPE: TARGET_MEDIA_PLAYER,
            CONF_MEDIA_PLAYER: MEDIA_PLAYER,
            CONF_SOURCE: source if source is not None else str(clip()),
            CONF_LOOP: True,
            **data,
        },
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


def entity_id_of(hass: HomeAssistant, entry: MockConfigEntry, platform: str, key: str) -> str:
    """Return the entity id registered for the entity ``key`` of ``entry``."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert entity_id is not None, f"no {platform} entity {key}"
    return entity_id


@dataclass
class FakeStats:
    """What the runtime reads from PipelineStats."""

    motion_score: float = 0.0
    fps: float = 0.0
    frame_cost_ms: float = 0.0
    state: Occupancy = Occupancy.UNKNOWN
    source_state: SourceState | None = None
    last_transitions: list[Transition] = field(default_factory=list)


class FakePipeline:
    """Stands in for vision.pipeline.VisionPipeline; the test drives its callbacks.

    The driver methods call the runtime's callbacks from a separate thread, like
    the real analysis thread does.
    """

    def __init__(
        self,
        source: Any,
        engine: Any,
        *,
        on_transition: Any,
        on_source_state: Any,
        on_stats: Any = None,
        stats_interval: float = 1.0,
        renderer: Any = None,
    ) -> None:
        """Record the callbacks."""
        self.source = source
        self.engine = engine
        self.renderer = renderer
        self.on_transition = on_transition
        self.on_source_state = on_source_state
        self.on_stats = on_stats
        self.started = False
        self.stopped = False
        self.jpeg: bytes | None = None
        self.jpeg_after_calls = 0  # latest_jpeg returns None for this many calls first
        self.jpeg_calls = 0

    def start(self) -> None:
        """Pretend to start the threads."""
        self.started = True

    def stop(self, timeout: float = 1.0) -> None:
        """Pretend to stop the threads."""
        self.stopped = True

    def latest_jpeg(self) -> bytes | None:
        """Return the scripted frame once ``jpeg_after_calls`` calls have been made."""
        self.jpeg_calls += 1
        return self.jpeg if self.jpeg_calls > self.jpeg_after_calls else None

    # -- drivers (call from the test, then await hass.async_block_till_done())
    @staticmethod
    def _from_thread(func: Any, value: Any) -> None:
        worker = threading.Thread(target=func, args=(value,))
        worker.start()
        worker.join()

    def source_state(self, status: SourceStatus, reason: str | None = None) -> None:
        """Report a camera state change."""
        self._from_thread(self.on_source_state, SourceState(status, reason, time.monotonic()))

    def transition(self, state: Occupancy, reason: str = "test") -> None:
        """Report an occupancy change."""
        self._from_thread(self.on_transition, Transition(1.0, state, reason, time.monotonic()))

    def stats(self, **values: Any) -> None:
        """Report a statistics tick."""
        self._from_thread(self.on_stats, FakeStats(**values))


@contextmanager
def fake_pipelines() -> Iterator[list[FakePipeline]]:
    """Patch the runtime's pipeline class; yields every pipeline created meanwhile."""
    created: list[FakePipeline] = []

    def _factory(*args: Any, **kwargs: Any) -> FakePipeline:
        pipeline = FakePipeline(*args, **kwargs)
        created.append(pipeline)
        return pipeline

    with patch("custom_components.smart_play.runtime.VisionPipeline", side_effect=_factory):
        yield created


async def async_setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the entry and wait until everything settled."""
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def async_setup_streaming(
    hass: HomeAssistant, pipelines: list[FakePipeline], **entry_kwargs: Any
) -> tuple[MockConfigEntry, FakePipeline]:
    """Set up an entry whose (fake) camera is streaming."""
    entry = make_entry(hass, **entry_kwargs)
    await async_setup(hass, entry)
    pipeline = pipelines[-1]
    pipeline.source_state(SourceStatus.STREAMING)
    await hass.async_block_till_done()
    return entry, pipeline


@contextmanager
def all_entities_enabled() -> Iterator[None]:
    """Create entities that are disabled by default as enabled (camera, analysis rate)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


async def async_change_options(
    hass: HomeAssistant, entry: MockConfigEntry, step: str, user_input: dict[str, Any]
) -> None:
    """Change options the way a user does: through the options flow's menu and ``step``."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    assert result["type"] == "create_entry", result
    await hass.async_block_till_done()
