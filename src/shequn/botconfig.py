"""Settings of the live bot: per-group policy and the ``shequn.toml`` file it comes from.

``GroupSettings`` is what the pipeline asks for each event's group. A group starts
from a template (``default``, ``strict-commercial``, ``relaxed-learning``) and
overrides single keys, so a working group's settings can be cloned to new groups
(复制). Secrets never live in the file: an account names the environment variable
that holds its token (``token_env``). Every validation error names the key at fault.
See ``examples/shequn.toml`` for each key, documented.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from shequn import secrets
from shequn.features.activities import ActivitySettings
from shequn.features.checkin.settings import CheckinSettings
from shequn.features.content import ContentSettings
from shequn.features.faq.settings import FaqSettings
from shequn.features.gate import MODES, GateSettings, QuizQuestion
from shequn.features.invites import InvitesSettings
from shequn.features.layers import LayerSettings
from shequn.features.strikes import DEFAULT_LADDER, STRICT_LADDER, Step

__all__ = [
    "BLOCKLIST_MODES",
    "LABELS",
    "TEMPLATES",
    "AccountConfig",
    "BotConfig",
    "ConfigError",
    "GroupSettings",
    "layered_settings",
    "load_config",
    "merge_docs",
    "parse_config",
    "source_of",
    "validate_doc",
]


#: ``blocklist``: share (list and keep out), honour (keep out only), off.
BLOCKLIST_MODES = ("share", "honour", "off")
#: The longest ``purge_minutes``: platforms refuse to delete older messages (Telegram
#: bots after 48 h) and the purge reads only the archive's newest messages anyway.
MAX_PURGE_MINUTES = 1440

#: Rules a strike can be for (the moderation verdicts), as ``blocklist_rules`` names them.
LABELS = ("ad", "spam", "abuse", "sensitive")


class ConfigError(ValueError):
    """A bad ``shequn.toml``; ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """How the bot treats one group. Defaults are the ``default`` template."""

    language: str = "zh"
    ladder: tuple[Step, ...] = DEFAULT_LADDER
    ladder_by_rule: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    strike_days: float = 30.0
    act_threshold: float = 0.8  # a verdict at or above this score is acted on
    act_labels: frozenset[str] = frozenset({"ad", "spam", "abuse", "sensitive"})
    exempt: frozenset[str] = frozenset()  # admins and trusted members (platform ids)
    allow: tuple[str, ...] = ()  # per-group allowlist handed to moderation
    gate: GateSettings = field(default_factory=GateSettings)
    question_minutes: float = 30.0  # unanswered this long -> alert; 0 turns it off
    quarrel_window: float = 120.0  # seconds in which a back-and-forth counts
    quarrel_messages: int = 4  # alternating messages between two members, >= 2 abusive
    flood_messages: int = 8  # this many messages from one member ...
    flood_seconds: float = 10.0  # ... within this many seconds is flooding; 0 turns it off
    duplicate_groups: int = 3  # the same text from one member in this many groups ...
    duplicate_seconds: float = 600.0  # ... within this many seconds is a spam run
    qr_codes: bool = True  # download posted images and moderate the QR codes in them
    appeals: bool = True  # members contest a strike: 申诉 <理由> / /appeal <reason>
    announce_penalties: bool = True  # say in the group why a member was muted or removed
    notices_per_minute: int = 5  # strike notices said per group per minute (a raid); 0: all
    # The deployment's blocklist (全局黑名单): "share" lists members the ladder removes
    # here for ``blocklist_rules`` and keeps listed members out; "honour" only keeps
    # them out; "off" neither.
    blocklist: str = "share"
    blocklist_rules: frozenset[str] = frozenset({"ad", "spam"})
    # 清理: a member removed for a strike (or by the blocklist) has their messages of
    # the last this many minutes recalled too, as have the copies of a spam run; 0: off.
    purge_minutes: float = 30.0
    alert_group: str = ""  # "platform:group id" of the operators' group alerts go to (人工预警)
    checkin: CheckinSettings = field(default_factory=CheckinSettings)  # 签到 / 打卡
    activities: ActivitySettings = field(default_factory=ActivitySettings)  # 投票/接龙/抽奖/活动
    faq: FaqSettings = field(default_factory=FaqSettings)  # 关键词/语义自动回复
    layers: LayerSettings = field(default_factory=LayerSettings)  # 成员分层（实时）
    content: ContentSettings = field(default_factory=ContentSettings)  # 内容计划 / 群发
    invites: InvitesSettings = field(default_factory=InvitesSettings)  # 活码 / 裂变


TEMPLATES: dict[str, GroupSettings] = {
    "default": GroupSettings(),
    # Ads are the business risk; newcomers solve a captcha; staff react fast.
    "strict-commercial": GroupSettings(
        ladder=STRICT_LADDER,
        strike_days=90.0,
        act_threshold=0.7,
        gate=GateSettings(mode="captcha", time_limit=180),
        question_minutes=15.0,
    ),
    # Learners: act only on clear cases, open door, patient with questions.
    "relaxed-learning": GroupSettings(
        ladder=(Step("warn"), Step("warn"), Step("mute", 600), Step("mute", 3600), Step("kick")),
        strike_days=30.0,
        act_threshold=0.9,
        question_minutes=60.0,
    ),
}


@dataclass(frozen=True, slots=True)
class AccountConfig:
    platform: str
    token: str = field(repr=False)  # never in a repr, a log line or a traceback
    options: dict[str, Any]  # everything else in the account table, for the adapter


@dataclass(frozen=True, slots=True)
class BotConfig:
    database: str | None
    tick_seconds: float
    accounts: dict[str, AccountConfig]
    groups: dict[tuple[str, str], GroupSettings]
    default: GroupSettings
    # The tables as written in the file, so the console's overrides can be layered over
    # them (and show which value comes from where): [[groups]] by key, and [defaults].
    raw_groups: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    raw_defaults: Mapping[str, Any] = field(default_factory=dict)
    #: Where operators open the console; alerts posted to their group link there.
    console_url: str = ""

    def settings_for(self, platform: str, group_id: str) -> GroupSettings:
        return self.groups.get((platform, group_id), self.default)

    def toml_doc(self, platform: str, group_id: str) -> dict[str, Any]:
        """The file's table this group's settings come from (without platform and id)."""
        raw = self.raw_groups.get((platform, group_id), self.raw_defaults)
        return {k: v for k, v in raw.items() if k not in ("platform", "id")}


# -- parsing -----------------------------------------------------------------------


def _typed(key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise ConfigError(key, f"expected {what}, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(key, f"expected {what}, got {value!r}")
    return value


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    _typed(key, value, list, "a list of strings")
    for i, v in enumerate(value):
        _typed(f"{key}[{i}]", v, str, "a string")
    return tuple(value)


def _ladder(key: str, value: Any) -> tuple[Step, ...]:
    """``["warn", "mute:3600", "kick"]``."""
    steps = _str_list(key, value)
    if not steps:
        raise ConfigError(key, "a ladder needs at least one step")
    out = []
    for i, raw in enumerate(steps):
        kind, _, secs = raw.partition(":")
        try:
            out.append(Step(kind, int(secs) if secs else 0))  # type: ignore[arg-type]
        except ValueError as e:
            raise ConfigError(
                f"{key}[{i}]", f"{e} (write warn, mute:SECONDS, kick or ban)"
            ) from None
    return tuple(out)


def _gate(key: str, raw: Any, base: GateSettings) -> GateSettings:
    _typed(key, raw, dict, "a table")
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        k = f"{key}.{name}"
        if name == "mode":
            if value not in MODES:
                raise ConfigError(k, f"expected one of {', '.join(MODES)}, got {value!r}")
            changes[name] = value
        elif name in ("invite_codes",):
            changes[name] = _str_list(k, value)
        elif name == "quiz":
            _typed(k, value, list, "a list of {question, answers} tables")
            qs = []
            for i, q in enumerate(value):
                _typed(f"{k}[{i}]", q, dict, "a table")
                if set(q) != {"question", "answers"}:
                    raise ConfigError(f"{k}[{i}]", "needs exactly the keys question and answers")
                question = _typed(f"{k}[{i}].question", q["question"], str, "a string")
                qs.append(QuizQuestion(question, _str_list(f"{k}[{i}].answers", q["answers"])))
            changes[name] = tuple(qs)
        elif name in ("count", "pass_mark", "time_limit", "min_layer"):
            changes[name] = _typed(k, value, int, "an integer")
        elif name in ("layer_group", "welcome", "name_reminder"):
            changes[name] = _typed(k, value, str, "a string")
        elif name == "name_format":
            try:
                re.compile(_typed(k, value, str, "a string"))
            except re.error as e:
                raise ConfigError(k, f"not a valid regex: {e}") from None
            changes[name] = value
        else:
            raise ConfigError(k, "unknown key")
    try:
        return dataclasses.replace(base, **changes)
    except ValueError as e:
        raise ConfigError(key, str(e)) from None


#: Feature settings read generically by :func:`_feature` (dataclasses with typed fields).
_FEATURES = ("checkin", "activities", "faq", "layers", "content", "invites")
_MSGSPEC_PATH = re.compile(r" - at `\$(.*)`$")
_FIELD_MSG = re.compile(r"^([a-z_]+): (.+)$", re.S)


def _known_keys(key: str, raw: dict[str, Any], cls: type) -> None:
    """Refuse keys a settings dataclass (or a nested one, or a list of them) lacks."""
    hints = typing.get_type_hints(cls)
    for name, value in raw.items():
        if name not in hints:
            raise ConfigError(f"{key}.{name}", "unknown key")
        hint = hints[name]
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            _known_keys(f"{key}.{name}", value, hint)  # type: ignore[arg-type]
        elif typing.get_origin(hint) is tuple and isinstance(value, list):
            inner = typing.get_args(hint)[0] if typing.get_args(hint) else None
            if inner is not None and dataclasses.is_dataclass(inner):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        _known_keys(f"{key}.{name}[{i}]", item, inner)  # type: ignore[arg-type]


def _deep_merge(base: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` over ``base``, table by table (a nested table keeps the keys it omits)."""
    out = dict(base)
    for name, value in raw.items():
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = _deep_merge(out[name], value)
        else:
            out[name] = value
    return out


def _feature(key: str, raw: Any, base: Any) -> Any:
    """Overrides of a feature's settings dataclass, type-checked by msgspec.

    Unknown keys, wrong types and failed checks (field constraints or the dataclass's
    ``__post_init__``) raise :class:`ConfigError` naming the key as precisely as known.
    """
    _typed(key, raw, dict, "a table")
    _known_keys(key, raw, type(base))
    merged = _deep_merge(msgspec.to_builtins(base), raw)
    try:
        return msgspec.convert(merged, type(base))
    except msgspec.ValidationError as e:
        msg = str(e)
        m = _MSGSPEC_PATH.search(msg)
        if m is not None:
            key, msg = key + m.group(1), msg[: m.start()]
        # a ``__post_init__`` check names its field as "field: what is wrong"
        field_msg = _FIELD_MSG.match(msg)
        if field_msg is not None:
            key, msg = f"{key}.{field_msg.group(1)}", field_msg.group(2)
        raise ConfigError(key, msg) from None


def _group(key: str, raw: Any) -> tuple[tuple[str, str], GroupSettings]:
    _typed(key, raw, dict, "a table")
    for req in ("platform", "id"):
        if req not in raw:
            raise ConfigError(f"{key}.{req}", "missing")
    platform = _typed(f"{key}.platform", raw["platform"], str, "a string")
    gid = _typed(f"{key}.id", raw["id"], str, "a string")
    template = _typed(f"{key}.template", raw.get("template", "default"), str, "a string")
    if template not in TEMPLATES:
        raise ConfigError(
            f"{key}.template", f"unknown template {template!r} ({', '.join(TEMPLATES)})"
        )
    return (platform, gid), _overrides(key, raw, TEMPLATES[template])


def _overrides(key: str, raw: dict[str, Any], base: GroupSettings) -> GroupSettings:
    changes: dict[str, Any] = {}
    for name, value in raw.items():
        k = f"{key}.{name}"
        if name in ("platform", "id", "template"):
            continue
        if name == "language":
            if value not in ("zh", "en"):
                raise ConfigError(k, f"expected zh or en, got {value!r}")
            changes[name] = value
        elif name == "ladder":
            changes[name] = _ladder(k, value)
        elif name == "ladder_by_rule":
            _typed(k, value, dict, "a table of rule = ladder")
            changes[name] = {r: _ladder(f"{k}.{r}", v) for r, v in value.items()}
        elif name in (
            "strike_days", "act_threshold", "question_minutes", "quarrel_window",
            "flood_seconds", "duplicate_seconds", "purge_minutes",
        ):  # fmt: skip
            changes[name] = float(_typed(k, value, (int, float), "a number"))
            if name == "act_threshold" and not 0 <= changes[name] <= 1:
                raise ConfigError(k, "must be between 0 and 1")
            if name == "purge_minutes" and not 0 <= changes[name] <= MAX_PURGE_MINUTES:
                raise ConfigError(k, f"must be between 0 (off) and {MAX_PURGE_MINUTES}")
        elif name in ("quarrel_messages", "flood_messages", "duplicate_groups"):
            changes[name] = _typed(k, value, int, "an integer")
        elif name == "notices_per_minute":
            changes[name] = _typed(k, value, int, "an integer")
            if changes[name] < 0:
                raise ConfigError(k, "must be 0 (no limit) or more")
        elif name in ("qr_codes", "appeals", "announce_penalties"):
            changes[name] = _typed(k, value, bool, "true or false")
        elif name == "alert_group":
            changes[name] = _typed(k, value, str, "a string").strip()
            if changes[name] and alert_destination(changes[name]) is None:
                raise ConfigError(k, 'expected "platform:group id", e.g. "telegram:-1001234567"')
        elif name in ("act_labels", "exempt"):
            changes[name] = frozenset(_str_list(k, value))
        elif name == "blocklist":
            if value not in BLOCKLIST_MODES:
                raise ConfigError(k, f"expected one of {', '.join(BLOCKLIST_MODES)}, got {value!r}")
            changes[name] = value
        elif name == "blocklist_rules":
            rules = frozenset(_str_list(k, value))
            unknown = sorted(rules - set(LABELS))
            if unknown:
                raise ConfigError(
                    k, f"unknown rule {unknown[0]!r} (write any of {', '.join(LABELS)})"
                )
            changes[name] = rules
        elif name == "allow":
            changes[name] = _str_list(k, value)
        elif name == "gate":
            changes[name] = _gate(k, value, base.gate)
        elif name in _FEATURES:
            changes[name] = _feature(k, value, getattr(base, name))
        else:
            raise ConfigError(k, "unknown key")
    return dataclasses.replace(base, **changes)


def _account(key: str, raw: Any, env: Mapping[str, str]) -> AccountConfig:
    _typed(key, raw, dict, "a table")
    if "token_env" not in raw:
        raise ConfigError(
            f"{key}.token_env", "missing (name the environment variable with the token)"
        )
    var = _typed(f"{key}.token_env", raw["token_env"], str, "a string")
    token = env.get(var)
    if not token:
        raise ConfigError(
            f"{key}.token_env", f"environment variable {var} is not set (nor in the secrets file)"
        )
    secrets.remember(var, token)  # redacted from logs and errors from now on
    if "token" in raw:
        raise ConfigError(f"{key}.token", "secrets may not be written in the file; use token_env")
    options = {k: v for k, v in raw.items() if k != "token_env"}
    return AccountConfig(platform=key.split(".", 1)[1], token=token, options=options)


def parse_config(data: Mapping[str, Any], env: Mapping[str, str] | None = None) -> BotConfig:
    """Validate a parsed TOML document (``env`` defaults to ``os.environ``)."""
    env = os.environ if env is None else env
    for top in data:
        if top not in ("bot", "accounts", "groups", "defaults"):
            raise ConfigError(top, "unknown key")
    bot = _typed("bot", data.get("bot", {}), dict, "a table")
    for name in bot:
        if name not in ("database", "tick_seconds", "console_url"):
            raise ConfigError(f"bot.{name}", "unknown key")
    database = bot.get("database")
    if database is not None:
        _typed("bot.database", database, str, "a string")
    tick = float(_typed("bot.tick_seconds", bot.get("tick_seconds", 10), (int, float), "a number"))
    console_url = _typed("bot.console_url", bot.get("console_url", ""), str, "a string").strip()
    if console_url and not re.match(r"https?://[^/\s]+", console_url):
        raise ConfigError("bot.console_url", f"expected an http(s):// address, got {console_url!r}")
    accounts_raw = _typed("accounts", data.get("accounts", {}), dict, "a table")
    accounts = {p: _account(f"accounts.{p}", raw, env) for p, raw in accounts_raw.items()}
    defaults_raw = _typed("defaults", data.get("defaults", {}), dict, "a table")
    template = _typed("defaults.template", defaults_raw.get("template", "default"), str, "a string")
    if template not in TEMPLATES:
        raise ConfigError("defaults.template", f"unknown template {template!r}")
    default = _overrides("defaults", defaults_raw, TEMPLATES[template])
    groups: dict[tuple[str, str], GroupSettings] = {}
    raw_groups: dict[tuple[str, str], Mapping[str, Any]] = {}
    for i, raw in enumerate(_typed("groups", data.get("groups", []), list, "an array of tables")):
        k, settings = _group(f"groups[{i}]", raw)
        if k in groups:
            raise ConfigError(f"groups[{i}].id", f"group {k[1]!r} on {k[0]} is listed twice")
        groups[k] = settings
        raw_groups[k] = raw
    return BotConfig(
        database, tick, accounts, groups, default, raw_groups, defaults_raw, console_url
    )


def alert_destination(setting: str) -> tuple[str, str] | None:
    """``alert_group = "platform:group id"`` → (platform, group id); the group id may
    hold colons (Matrix room ids do). ``None`` for an empty or malformed setting."""
    platform, sep, group = setting.strip().partition(":")
    if not sep or not platform or not group:
        return None
    return platform, group


def load_config(path: Path, env: Mapping[str, str] | None = None) -> BotConfig:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path), f"not valid TOML: {e}") from None
    return parse_config(data, env)


# -- layers: the file's table, then the console's overrides ------------------------


def validate_doc(doc: Any, key: str = "settings") -> dict[str, Any]:
    """A console override document: a table in the shape of a ``[[groups]]`` table.

    Only its shape is checked here (the values by :func:`layered_settings`).
    """
    _typed(key, doc, dict, "a table")
    for name in ("platform", "id"):
        if name in doc:
            raise ConfigError(f"{key}.{name}", "set by the group itself, not by its settings")
    template = doc.get("template")
    if template is not None and template not in TEMPLATES:
        raise ConfigError(
            f"{key}.template", f"unknown template {template!r} ({', '.join(TEMPLATES)})"
        )
    return dict(doc)


def layered_settings(
    doc: Mapping[str, Any] | None = None,
    toml: Mapping[str, Any] | None = None,
    *,
    key: str = "settings",
) -> GroupSettings:
    """A group's settings: a template, the file's table over it, the console's over that.

    The console's ``template`` (if any) replaces the file's; every other key the
    console sets wins over the file's, table by table (``gate.mode`` alone keeps the
    file's ``gate.welcome``). A bad value raises :class:`ConfigError` naming the key
    as ``settings.<key>`` (``toml.<key>`` for the file's).
    """
    console_doc = validate_doc(dict(doc or {}), key)
    file_doc = {k: v for k, v in (toml or {}).items() if k not in ("platform", "id")}
    template = console_doc.get("template") or file_doc.get("template") or "default"
    if template not in TEMPLATES:
        raise ConfigError("toml.template", f"unknown template {template!r}")
    base = _overrides("toml", file_doc, TEMPLATES[template])
    return _overrides(key, console_doc, base)


def _has(doc: Mapping[str, Any] | None, dotted: str) -> bool:
    node: Any = doc or {}
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def source_of(dotted: str, doc: Mapping[str, Any] | None, toml: Mapping[str, Any] | None) -> str:
    """Where a value comes from: ``console``, ``toml`` or ``template`` (the defaults)."""
    if _has(doc, dotted):
        return "console"
    if _has(toml, dotted):
        return "toml"
    return "template"


def merge_docs(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` over ``base``, table by table (what a group's two layers add up to)."""
    return _deep_merge(dict(base), dict(over))
