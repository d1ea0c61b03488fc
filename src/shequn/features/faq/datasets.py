"""Evaluation sets built from the shared real data (never shipped in the package).

* StackFAQ (:func:`~shequn.features.faq.bank.load_stackfaq`): 125 questions, 1,375
  paraphrases. :func:`split_queries` gives the calibration half (even positions in each
  question's paraphrase list) and the report half (odd positions).
* Egret wenda (:func:`load_egret`): real Chinese forum questions with their best answer.
  Questions whose answers are *the same text* (mostly the same documentation URL) are
  taken as asking the same thing: the earliest becomes the bank entry, the later ones
  are queries. Every other conversation's question joins the bank as a distractor.
  Generic answers ("null", "ask in the QQ group", under 8 characters) are dropped, as
  they say nothing about the question. This is noisier than real paraphrases: one doc
  page answers several different questions.
* :func:`load_egret_paraphrases`: the same bank, but only the query pairs likely to be
  paraphrases, chosen from the *answer side* alone (never the matcher): the answer
  was given to exactly two questions (a hub link such as a repository root or a doc
  index answers many unrelated questions; an answer given once more is specific),
  and it is not a brush-off ("ask in QQ", "describe it in more detail").
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from shequn.features.faq.bank import FaqBank, FaqEntry

__all__ = ["load_egret", "load_egret_paraphrases", "split_queries"]

_SEP = " +++$+++ "


def split_queries(
    queries: list[tuple[str, str]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(calibration, report): alternate paraphrases of each expected id."""
    seen: dict[str, int] = defaultdict(int)
    calib: list[tuple[str, str]] = []
    report: list[tuple[str, str]] = []
    for q, ident in queries:
        (calib if seen[ident] % 2 == 0 else report).append((q, ident))
        seen[ident] += 1
    return calib, report


def _generic(answer: str) -> bool:
    a = answer.strip().lower()
    return len(a) < 8 or a == "null" or "qq群" in a or "群里" in a


#: Replies that send the asker elsewhere or ask for more: no paraphrase evidence.
_BRUSH_OFF = ("qq", "详细", "比较好解决", "自己", "搜索", "看文档")


def load_egret_paraphrases(folder: str | Path) -> tuple[FaqBank, list[tuple[str, str]]]:
    """The likely-paraphrase subset of :func:`load_egret` (see the module docstring)."""
    bank, queries = load_egret(folder)
    per_entry: dict[str, int] = defaultdict(int)
    for _, ident in queries:
        per_entry[ident] += 1
    answers = {e.id: e.answer.lower() for e in bank}
    kept = [
        (q, ident)
        for q, ident in queries
        if per_entry[ident] == 1 and not any(b in answers[ident] for b in _BRUSH_OFF)
    ]
    return bank, kept


def load_egret(folder: str | Path) -> tuple[FaqBank, list[tuple[str, str]]]:
    """The Chinese set: (bank, [(query, expected id)]) — see the module docstring."""
    base = Path(folder)
    lines: dict[int, str] = {}
    with (base / "egret_wenda_lines.txt").open(encoding="utf-8") as f:
        for raw in f:
            parts = raw.rstrip("\n").split(_SEP)
            if len(parts) >= 3:
                lines[int(parts[0])] = _SEP.join(parts[2:]).strip()
    by_answer: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with (base / "egret_wenda_conversations.txt").open(encoding="utf-8") as f:
        for raw in f:
            parts = raw.rstrip("\n").split(_SEP)
            if len(parts) < 6:
                continue
            ids = [int(x) for x in parts[5].strip("[] ").split(",") if x.strip()]
            if len(ids) < 2:
                continue
            question, answer = lines.get(ids[0], ""), lines.get(ids[1], "")
            if question and answer and not _generic(answer):
                by_answer[answer].append((f"egret{parts[0].strip()}", question))
    entries, queries = [], []
    seen_q: set[str] = set()
    for answer, convs in by_answer.items():
        (ident, question), rest = convs[0], convs[1:]
        if question in seen_q:
            continue
        seen_q.add(question)
        entries.append(FaqEntry(ident, question, answer))
        queries += [(q, ident) for _, q in rest if q != question]
    return FaqBank(entries), queries
