"""Fake Spotify Web API for tests (see :mod:`.server`); fixtures in :mod:`.fixtures`."""

from .server import CONTEXTS, TRACKS, FakeSpotify, LoggedRequest

__all__ = ["CONTEXTS", "TRACKS", "FakeSpotify", "LoggedRequest"]
