"""The integration's metadata is consistent and installable."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
import re

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "custom_components" / "smart_play"


def _manifest() -> dict:
    return json.loads((PKG / "manifest.json").read_text())


def test_manifest_fields_for_a_custom_integration() -> None:
    manifest = _manifest()
    assert manifest["domain"] == PKG.name == "smart_play"
    assert manifest["name"] == "Smart Play"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["config_flow"] is True
    assert manifest["dependencies"] == ["application_credentials", "webhook"]  # desk agent
    for key in (
        "codeowners",
        "documentation",
        "issue_tracker",
        "iot_class",
        "integration_type",
        "loggers",
    ):
        assert manifest[key], key


def test_requirements_have_lower_bounds_only_and_no_opencv() -> None:
    requirements = _manifest()["requirements"]
    names = {re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower() for r in requirements}
    assert {"numpy", "av", "spotipy"} <= names
    # OpenCV has no musllinux wheels (Home Assistant OS): it must stay optional.
    assert not any("opencv" in n for n in names)
    for requirement in requirements:
        assert "==" not in requirement, requirement
        assert "<" not in requirement, requirement
    assert "numpy" in requirements  # HA pins numpy itself: we must not


def test_requirements_are_importable() -> None:
    for module in ("numpy", "av", "spotipy"):
        importlib.import_module(module)


def test_hacs_json_matches() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert hacs["name"] == _manifest()["name"]
    year, month, _ = (int(p) for p in hacs["homeassistant"].split("."))
    assert (year, month) >= (2025, 4)


def test_translations_match_strings() -> None:
    strings = json.loads((PKG / "strings.json").read_text())
    english = json.loads((PKG / "translations" / "en.json").read_text())
    assert strings == english


def test_brand_images() -> None:
    with Image.open(PKG / "brand" / "icon.png") as icon:
        assert icon.size == (256, 256)
    with Image.open(PKG / "brand" / "logo.png") as logo:
        assert logo.size[1] >= 128


def test_manifest_keys_in_hassfest_order() -> None:
    """hassfest: domain, name, then the other keys alphabetically."""
    keys = list(_manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_hacs_json_has_only_keys_hacs_knows() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    known = {
        "name", "content_in_root", "country", "filename", "hacs", "hide_default_branch",
        "homeassistant", "persistent_directory", "render_readme", "zip_release",
    }  # fmt: skip
    assert hacs["name"] == "Smart Play"
    assert set(hacs) <= known
    assert hacs.get("content_in_root") is False
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
