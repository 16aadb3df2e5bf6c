"""Test-only: point a real hass process's Smart Play at the fake Spotify.

Production Smart Play has no switch for its Spotify endpoints. The e2e tests start
hass with this folder on ``PYTHONPATH`` (see ``hass_process.fake_spotify_env``);
Python imports ``sitecustomize`` at start-up, and this one installs an import hook
that rewrites ``SPOTIFY_API_BASE`` / ``SPOTIFY_ACCOUNTS_BASE`` in
``custom_components.smart_play.const`` right after that module runs, before any
other module of the integration reads them. Nothing happens without
``SMART_PLAY_TEST_FAKE_SPOTIFY`` (the fake's base URL, e.g. ``http://127.0.0.1:PORT``).
"""

from __future__ import annotations

from collections.abc import Sequence
import importlib.abc
import importlib.machinery
import os
import sys
from types import ModuleType

CONST_MODULE = "custom_components.smart_play.const"
ENV = "SMART_PLAY_TEST_FAKE_SPOTIFY"


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, wrapped: importlib.abc.Loader, base: str) -> None:
        self._wrapped = wrapped
        self._base = base.rstrip("/")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._wrapped.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._wrapped.exec_module(module)
        module.SPOTIFY_API_BASE = f"{self._base}/v1/"  # type: ignore[attr-defined]
        module.SPOTIFY_ACCOUNTS_BASE = self._base  # type: ignore[attr-defined]


class _Finder(importlib.abc.MetaPathFinder):
    def __init__(self, base: str) -> None:
        self._base = base

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != CONST_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(fullname, path, target)  # type: ignore[attr-defined]
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, self._base)
                return spec
        return None


def install(base: str) -> None:
    """Install the hook (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder(base))


if os.environ.get(ENV):
    install(os.environ[ENV])
