"""Readers for the labelled spam sets in ``shared/data/spam`` and the fixed held-out split.

Used by ``scripts/train_moderation.py`` (which fits only on the training side), by
``bench/moderation.py`` and by the tests (which measure only the held-out side). No
data ships in the package; these functions take the data folder as an argument.

The split is by a hash of the message text: 30 % of *distinct* texts are held out,
the same way on every machine and run, and a text repeated in a file always lands on
the same side (so duplicates cannot leak from training into evaluation).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import msgspec

__all__ = ["HELD_OUT_PERCENT", "SETS", "Sample", "is_held_out", "load_all", "load_set"]

HELD_OUT_PERCENT = 30

#: name → what it is; the bench reports each one.
SETS = {
    "qq_group": "zh_qq_group_ads_mc_qq_group.txt (text==label, 1 = ad)",
    "qq_extra": "zh_qq_group_ads_extra_ads.txt vs zh_qq_group_ads_extra_chatting.txt",
    "qq_review": "zh_qq_group_review_labelled.tsv (label<TAB>text, 1 = violation or ad)",
    "sms": "en_SMSSpamCollection.tsv (ham|spam<TAB>text)",
    "telegram": "tg_spam_samples.txt vs tg_ham_samples.txt",
}


class Sample(msgspec.Struct, frozen=True):
    """One labelled message: ``label`` 1 = ad/spam/violation, 0 = normal chat."""

    text: str
    label: int
    source: str


def is_held_out(text: str) -> bool:
    """True for the fixed 30 % of texts that training never sees."""
    return zlib.crc32(b"shequn-moderation:" + text.encode("utf-8")) % 100 < HELD_OUT_PERCENT


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def load_set(data_dir: Path, name: str) -> tuple[list[Sample], int]:
    """All samples of one set and the number of malformed lines skipped."""
    spam = data_dir / "spam"
    out: list[Sample] = []
    bad = 0
    if name == "qq_group":
        for line in _lines(spam / "zh_qq_group_ads_mc_qq_group.txt"):
            text, sep, mark = line.rpartition("==")
            if not sep or mark.strip() not in ("0", "1") or not text.strip():
                bad += 1
                continue
            out.append(Sample(text, int(mark.strip()), name))
    elif name == "qq_extra":
        for fname, label in (
            ("zh_qq_group_ads_extra_ads.txt", 1),
            ("zh_qq_group_ads_extra_chatting.txt", 0),
        ):
            out += [Sample(t, label, name) for t in _lines(spam / fname) if t.strip()]
    elif name == "qq_review":
        for line in _lines(spam / "zh_qq_group_review_labelled.tsv"):
            mark, sep, text = line.partition("\t")
            if not sep or mark not in ("0", "1") or not text.strip():
                bad += 1
                continue
            out.append(Sample(text, int(mark), name))
    elif name == "sms":
        for line in _lines(spam / "en_SMSSpamCollection.tsv")[1:]:
            mark, sep, text = line.partition("\t")
            if not sep or mark not in ("ham", "spam"):
                bad += 1
                continue
            out.append(Sample(text, int(mark == "spam"), name))
    elif name == "telegram":
        for fname, label in (("tg_spam_samples.txt", 1), ("tg_ham_samples.txt", 0)):
            out += [Sample(t, label, name) for t in _lines(spam / fname) if t.strip()]
    else:
        raise KeyError(name)
    return out, bad


def load_all(data_dir: Path, *, held_out: bool | None = None) -> list[Sample]:
    """Every set; ``held_out=True`` only the evaluation side, ``False`` only training."""
    samples = [s for name in SETS for s in load_set(data_dir, name)[0]]
    if held_out is None:
        return samples
    return [s for s in samples if is_held_out(s.text) == held_out]
