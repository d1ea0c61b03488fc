"""Settings of FAQ auto-reply in a group (``[groups.faq]`` in shequn.toml)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FaqSettings"]


@dataclass(frozen=True, slots=True)
class FaqSettings:
    enabled: bool = False
    bank: str = ""  # path of the FAQ bank (CSV/JSON/XLSX); empty: no auto-reply
