"""The strike ladder (警告3次后踢出): what the n-th active strike of a member leads to.

A strike is one confirmed violation. Strikes expire (30 days by default) and only the
active ones count, so a member who behaved for a month starts again at the bottom.
The default ladder is exactly the playbook's 1st warn, 2nd mute for an hour, 3rd
kick; a ladder may be set per rule (the verdict label: ``ad``, ``abuse`` ...) so a
group can be harsher on ads than on heated words. Beyond the last step the last step
repeats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_LADDER", "STRICT_LADDER", "Step", "step_for"]

StepKind = Literal["warn", "mute", "kick", "ban"]


@dataclass(frozen=True, slots=True)
class Step:
    """One rung: ``warn`` (a public notice), ``mute`` for ``seconds``, ``kick``, ``ban``."""

    kind: StepKind
    seconds: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("warn", "mute", "kick", "ban"):
            raise ValueError(f"unknown ladder step {self.kind!r}")
        if self.kind == "mute" and self.seconds <= 0:
            raise ValueError("a mute step needs seconds > 0")


#: 1st strike: warning; 2nd: muted one hour; 3rd: kicked.
DEFAULT_LADDER: tuple[Step, ...] = (Step("warn"), Step("mute", 3600), Step("kick"))
#: For commercial groups where ads are the business risk: mute at once, then ban.
STRICT_LADDER: tuple[Step, ...] = (Step("mute", 600), Step("mute", 86400), Step("ban"))


def step_for(
    n_before: int,
    rule: str,
    ladder: tuple[Step, ...],
    by_rule: Mapping[str, tuple[Step, ...]] | None = None,
) -> Step:
    """The step for a new strike when the member already has ``n_before`` active ones."""
    rungs = (by_rule or {}).get(rule) or ladder
    return rungs[min(n_before, len(rungs) - 1)]
