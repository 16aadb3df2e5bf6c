"""Shared fixtures for the Smart Play tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _custom_integrations_for_hass_tests(request: pytest.FixtureRequest) -> None:
    """Let tests that use the hass fixture load custom_components/smart_play."""
    if "hass" in request.fixturenames:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture
def clip_dir() -> Path:
    """Folder with the bundled test clips."""
    return DATA
