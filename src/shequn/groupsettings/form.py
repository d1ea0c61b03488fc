"""The group settings form: the main keys as fields, the rest as a JSON table.

A field's submitted value is stored as a console override only when it differs from
what the group would inherit (its template and the file's table): a value left as
inherited keeps following the file. Values are converted leniently (``"abc"`` in a
number field stays a string) so :mod:`shequn.botconfig` reports the error with the
key, exactly as for the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shequn.botconfig import (
    BLOCKLIST_MODES,
    TEMPLATES,
    ConfigError,
    GroupSettings,
    layered_settings,
)
from shequn.features.gate import MODES

__all__ = ["EXTRA", "FIELDS", "Field", "FormResult", "doc_from_form", "error_field", "shown"]

EXTRA = "extra"  # the JSON textarea of the other overrides


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # dotted key in the [[groups]] table
    kind: str  # choice | text | longtext | int | number | lines | ladder | bool | bank
    choices: tuple[str, ...] = ()
    section: str = ""


FIELDS: tuple[Field, ...] = (
    Field("template", "choice", tuple(TEMPLATES), "general"),
    Field("language", "choice", ("zh", "en"), "general"),
    Field("gate.mode", "choice", MODES, "gate"),
    Field("gate.time_limit", "int", section="gate"),
    Field("gate.invite_codes", "lines", section="gate"),
    Field("gate.welcome", "longtext", section="gate"),
    Field("gate.name_format", "text", section="gate"),
    Field("ladder", "ladder", section="moderation"),
    Field("strike_days", "number", section="moderation"),
    Field("act_threshold", "number", section="moderation"),
    Field("allow", "lines", section="moderation"),
    Field("exempt", "lines", section="moderation"),
    Field("question_minutes", "number", section="moderation"),
    Field("appeals", "bool", section="moderation"),
    Field("announce_penalties", "bool", section="moderation"),
    Field("notices_per_minute", "int", section="moderation"),
    Field("blocklist", "choice", BLOCKLIST_MODES, "moderation"),
    Field("blocklist_rules", "lines", section="moderation"),
    Field("purge_minutes", "number", section="moderation"),
    Field("alert_group", "text", section="moderation"),
    Field("faq.enabled", "bool", section="faq"),
    Field("faq.bank", "bank", section="faq"),
    Field("faq.threshold", "number", section="faq"),
    Field("checkin.enabled", "bool", section="checkin"),
    Field("checkin.keywords", "lines", section="checkin"),
    Field("checkin.points", "int", section="checkin"),
    Field("checkin.makeup_cost", "int", section="checkin"),
    Field("checkin.daily_cap", "int", section="checkin"),
)
_BY_NAME = {f.name: f for f in FIELDS}
_INT = re.compile(r"^[+-]?\d+$")


def _get(settings: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        settings = getattr(settings, part)
    return settings


def shown(settings: GroupSettings, field: Field, template: str = "default") -> str:
    """The field's value in ``settings`` as the form shows it."""
    if field.name == "template":
        return template
    value = _get(settings, field.name)
    if field.kind == "bool":
        return "true" if value else "false"
    if field.kind == "ladder":
        return " ".join(f"{s.kind}:{s.seconds}" if s.seconds else s.kind for s in value)
    if field.kind == "lines":
        items = sorted(value) if isinstance(value, frozenset) else list(value)
        return "\n".join(items)
    if field.kind == "number":
        return f"{value:g}"
    return str(value)


def _convert(field: Field, raw: str) -> Any:
    text = raw.replace("\r\n", "\n")
    if field.kind == "bool":
        return {"true": True, "false": False}.get(text, text)
    if field.kind == "int":
        return int(text) if _INT.match(text.strip()) else text
    if field.kind == "number":
        try:
            return float(text) if not _INT.match(text.strip()) else int(text)
        except ValueError:
            return text
    if field.kind == "lines":
        return [line.strip() for line in text.split("\n") if line.strip()]
    if field.kind == "ladder":
        return text.replace(",", " ").split()
    if field.kind in ("text", "bank"):
        return text.strip()
    return text


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    node = doc
    for part in path:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def _drop(doc: dict[str, Any], dotted: str) -> None:
    *path, last = dotted.split(".")
    nodes = [doc]
    for part in path:
        child = nodes[-1].get(part)
        if not isinstance(child, dict):
            return
        nodes.append(child)
    nodes[-1].pop(last, None)
    for parent, part in zip(reversed(nodes[:-1]), reversed(path), strict=True):
        if parent.get(part) == {}:
            del parent[part]


def extra_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The overrides that have no field of their own (the JSON textarea)."""
    out = json.loads(json.dumps(doc))
    for f in FIELDS:
        _drop(out, f.name)
    return dict(out)


@dataclass
class FormResult:
    doc: dict[str, Any]
    errors: dict[str, str]  # field name (or EXTRA) -> message


def error_field(key: str) -> str:
    """The form field a :class:`ConfigError` key (``settings.gate.mode``) belongs to."""
    name = re.sub(r"\[\d+\].*$", "", key.removeprefix("settings."))
    if name in _BY_NAME:
        return name
    for f in FIELDS:
        if f.name.startswith(name + "."):
            return f.name
    return EXTRA


def doc_from_form(form: Mapping[str, str], toml: Mapping[str, Any]) -> FormResult:
    """The console override document a submitted form asks for, validated."""
    errors: dict[str, str] = {}
    try:
        doc = json.loads(form.get(EXTRA, "").strip() or "{}")
    except json.JSONDecodeError as e:
        return FormResult({}, {EXTRA: f"not valid JSON: {e.msg} (line {e.lineno})"})
    if not isinstance(doc, dict):
        return FormResult({}, {EXTRA: "expected a JSON object {…}"})
    chosen = form.get("template", "")
    file_template = str(toml.get("template", "default"))
    if chosen in TEMPLATES and chosen != file_template:
        doc["template"] = chosen
    else:
        doc.pop("template", None)
    try:
        base = layered_settings({"template": doc["template"]} if "template" in doc else {}, toml)
    except ConfigError as e:
        return FormResult(doc, {error_field(e.key): str(e)})
    template = str(doc.get("template", file_template))
    only_template = {"template": doc["template"]} if "template" in doc else {}
    for f in FIELDS:
        if f.name == "template" or f.name not in form:
            continue
        raw = form[f.name]
        if raw.replace("\r\n", "\n") == shown(base, f, template):
            _drop(doc, f.name)
            continue
        value = _convert(f, raw)
        _set(doc, f.name, value)
        alone = dict(only_template)
        _set(alone, f.name, value)
        try:  # each field on its own, so every bad field gets its message
            layered_settings(alone, toml)
        except ConfigError as e:
            errors[f.name] = str(e)
    if not errors:
        try:
            layered_settings(doc, toml)
        except ConfigError as e:
            errors[error_field(e.key)] = str(e)
    return FormResult(doc, errors)
