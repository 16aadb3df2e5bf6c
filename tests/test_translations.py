"""Every user-facing string passes hassfest's translation rules and gets its placeholders.

hassfest (Home Assistant's integration validator) rejects strings that look like HTML
(``<name>`` counts), placeholders in single quotes or that are not identifiers,
combined references, leading/trailing spaces and URLs; the frontend shows a
placeholder the code does not fill as literal ``{name}``. These tests read
strings.json / translations/en.json and the code that shows them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.helpers import config_validation as cv
import pytest
import voluptuous as vol

from custom_components.smart_play import const
from custom_components.smart_play.vision.types import SourceError

PKG = Path(__file__).resolve().parents[1] / "custom_components" / "smart_play"
STRINGS = json.loads((PKG / "strings.json").read_text(encoding="utf-8"))
EN = json.loads((PKG / "translations" / "en.json").read_text(encoding="utf-8"))

# The rules of hassfest's translations plugin (script/hassfest/translations.py).
RE_SINGLE_QUOTED_PLACEHOLDER = re.compile(r"'{\w+}'")
RE_COMBINED_REFERENCE = re.compile(r"(.+\[%)|(%\].+)")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
# Sections whose values hassfest checks with placeholders forbidden (entity states).
NO_PLACEHOLDERS = re.compile(r"^entity\.[^.]+\.[^.]+\.(state|state_attributes)\.")


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else key)
    else:
        yield path, node


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a translation string."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def hassfest_problem(path: str, text: Any) -> str | None:
    """What hassfest would reject in one string value (None: nothing)."""
    if not isinstance(text, str):
        return "not a string"
    try:
        cv.string_with_no_html(text)
    except vol.Invalid as err:
        return str(err)
    if RE_SINGLE_QUOTED_PLACEHOLDER.search(text):
        return "placeholder inside single quotes"
    try:
        names = placeholders(text)
    except ValueError as err:
        return f"broken placeholder: {err}"
    if any(not name.isidentifier() for name in names):
        return "placeholder is not an identifier"
    if names and NO_PLACEHOLDERS.match(path):
        return "placeholders are not allowed here"
    if RE_COMBINED_REFERENCE.search(text):
        return "combined translation reference"
    if text != text.strip():
        return "leading or trailing spaces"
    if RE_URL.search(text):
        return "URL (use a description placeholder)"
    return None


def test_english_translation_is_strings_json() -> None:
    assert EN == STRINGS


@pytest.mark.parametrize("name", ["strings.json", "translations/en.json"])
def test_every_string_passes_hassfest_rules(name: str) -> None:
    data = json.loads((PKG / name).read_text(encoding="utf-8"))
    problems = {path: why for path, text in _leaves(data) if (why := hassfest_problem(path, text))}
    assert problems == {}


def test_the_rules_catch_what_hassfest_rejects() -> None:
    """The checker itself: the strings of issue 14 and the other rejected forms fail."""
    assert hassfest_problem("x", "photos of {folder}/<name>/") is not None
    assert hassfest_problem("x", "say '{name}'") is not None
    assert hassfest_problem("x", "{0}") is not None
    assert hassfest_problem("x", " padded") is not None
    assert hassfest_problem("x", "see https://example.com/x") is not None
    assert hassfest_problem("entity.sensor.person.state.none", "{who}") is not None
    assert hassfest_problem("x", "photos of {folder}, for example {folder}/Alex") is None


def test_flow_steps_and_data_descriptions_match() -> None:
    """hassfest: every data_description key is a field of the same step; keys are slugs."""
    for section in ("config", "options"):
        for step_id, step in STRINGS[section]["step"].items():
            assert set(step.get("data_description", {})) <= set(step.get("data", {})), step_id
    for path, _ in _leaves({k: STRINGS[k] for k in ("entity", "selector") if k in STRINGS}):
        for key in path.split("."):
            assert RE_TRANSLATION_KEY.match(key), path


# ---------------------------------------------------------------- placeholders
def _calls() -> Iterator[tuple[str, ast.Call]]:
    for path in sorted(PKG.rglob("*.py")):
        if "vision" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                yield path.name, node


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _dict_keys(node: ast.expr | None) -> set[str] | None:
    """Literal keys of a ``{...}`` argument (None: not a literal, cannot be checked)."""
    if node is None:
        return set()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {k.value for k in node.keys if isinstance(k, ast.Constant)}
    return None


def _keys_of(node: ast.expr | None, table: dict[str, Any]) -> list[str]:
    """Translation keys an argument can name: a literal, a const.py name or an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and isinstance(getattr(const, node.id, None), str):
        return [getattr(const, node.id)]
    if (
        isinstance(node, ast.JoinedStr)
        and len(node.values) == 2
        and isinstance(node.values[0], ast.Constant)
        and isinstance(node.values[1], ast.FormattedValue)
        and ast.unparse(node.values[1].value).endswith(".code")
    ):  # f"camera_{err.code}": one key per SourceError code
        return [f"{node.values[0].value}{code}" for code in SourceError.CODES]
    return []


def test_raised_exceptions_and_repairs_get_their_placeholders() -> None:
    """Every translation_key the code raises or reports exists and gets exactly its placeholders."""
    checked = 0
    for file, call in _calls():
        key_node = _kw(call, "translation_key")
        if key_node is None or (
            _kw(call, "translation_domain") is None
            and not (
                isinstance(call.func, ast.Attribute) and call.func.attr == "async_create_issue"
            )
        ):
            continue
        is_issue = isinstance(call.func, ast.Attribute) and call.func.attr == "async_create_issue"
        table = STRINGS["issues"] if is_issue else STRINGS["exceptions"]
        given = _dict_keys(_kw(call, "translation_placeholders"))
        keys = _keys_of(key_node, table)
        assert keys, f"{file}:{call.lineno}: translation key not found"
        for key in keys:
            assert key in table, f"{file}:{call.lineno}: {key}"
            wanted = set().union(*(placeholders(t) for _, t in _leaves(table[key])))
            if given is not None:
                assert wanted == given, f"{file}:{call.lineno}: {key}"
            checked += 1
    assert checked >= 5


def test_forms_and_aborts_fill_their_placeholders() -> None:
    """A step's description and an abort message only use placeholders the code passes."""
    flows = [STRINGS["config"], STRINGS["options"]]
    checked = 0
    for file, call in _calls():
        if not isinstance(call.func, ast.Attribute):
            continue
        what = {"async_show_form": "step_id", "async_abort": "reason"}.get(call.func.attr)
        key_node = _kw(call, what) if what else None
        if not isinstance(key_node, ast.Constant):
            continue
        given = _dict_keys(_kw(call, "description_placeholders"))
        if given is None:
            continue
        for flow in flows:
            if what == "step_id":
                text = flow["step"].get(key_node.value, {}).get("description", "")
            else:
                text = flow.get("abort", {}).get(key_node.value, "")
            assert placeholders(text) <= given, f"{file}:{call.lineno}: {key_node.value}"
            checked += 1
    assert checked >= 10
