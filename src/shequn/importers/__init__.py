"""Export-file importers, found by name or by sniffing the file.

Each format lives in its own module; the table below is the registry (third-party
formats can be added with :func:`register`). Detection asks each importer in order,
most specific first.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from shequn.importers.base import (
    Importer,
    ImportFormatError,
    Source,
    UnknownFormatError,
    read_head,
)

__all__ = [
    "ImportFormatError",
    "Importer",
    "Source",
    "UnknownFormatError",
    "available",
    "detect",
    "get",
    "register",
]

_REGISTRY: dict[str, str] = {
    "telegram": "shequn.importers.telegram:TelegramImporter",
    "discord": "shequn.importers.discord:DiscordImporter",
    "slack": "shequn.importers.slack:SlackImporter",
    "qq": "shequn.importers.qq_txt:QQTxtImporter",
    "wechatmsg": "shequn.importers.wechatmsg:WeChatMsgImporter",
    "chatlog": "shequn.importers.chatlog:ChatlogImporter",
    "irc": "shequn.importers.irc:IrcImporter",
    "wecom_archive": "shequn.importers.wecom_archive:WeComArchiveImporter",
}
_LOADED: dict[str, type[Importer]] = {}


def register(name: str, target: str | type[Importer]) -> None:
    """Add a format: ``target`` is a class or ``"module:Class"``."""
    if isinstance(target, str):
        _REGISTRY[name] = target
        _LOADED.pop(name, None)
    else:
        _REGISTRY[name] = f"{target.__module__}:{target.__qualname__}"
        _LOADED[name] = target


def available() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> type[Importer]:
    """The importer class for a format name (``--format``)."""
    if name not in _REGISTRY:
        raise KeyError(name)
    cls = _LOADED.get(name)
    if cls is None:
        module, _, attr = _REGISTRY[name].partition(":")
        cls = getattr(importlib.import_module(module), attr)
        _LOADED[name] = cls
    return cls


def detect(path: Path) -> type[Importer]:
    """The importer whose ``sniff`` accepts ``path``; raises :class:`UnknownFormatError`."""
    if not path.exists():
        raise UnknownFormatError(path, "no such file or folder")
    head = read_head(path)
    for name in _REGISTRY:
        try:
            cls = get(name)
        except ImportError:  # one broken or missing format must not break the others
            continue
        if cls.sniff(path, head):
            return cls
    raise UnknownFormatError(
        path,
        "not a chat export shequn recognises",
        expected="one of: " + ", ".join(_REGISTRY) + " (use --format to force one)",
    )
