"""Indexed FAQ banks cached per file, rebuilt when the file changes.

Many groups usually share one bank file: it is loaded and indexed once per process and
looked at again (one ``stat``) on every question, so an operator's edit takes effect on
the next message without a restart. A bank that fails to load is logged once per
version of the file and answers nothing until it is fixed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from shequn.features.faq.bank import FaqBankError, load_bank
from shequn.features.faq.matcher import FaqMatcher

__all__ = ["clear", "matcher_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Cached:
    version: tuple[int, int]  # (mtime_ns, size)
    matcher: FaqMatcher | None


_MISSING = (-1, -1)
_cache: dict[Path, _Cached] = {}
_lock = threading.Lock()


def matcher_for(path: str) -> FaqMatcher | None:
    """The matcher of the bank at ``path`` (threshold 0: callers compare scores)."""
    if not path:
        return None
    p = Path(path).expanduser().resolve()
    try:
        st = p.stat()
    except OSError as e:
        with _lock:
            previous = _cache.get(p)
            if previous is None or previous.version != _MISSING:
                log.error("FAQ bank %s cannot be read: %s", p, e)
            _cache[p] = _Cached(_MISSING, None)
        return None
    version = (st.st_mtime_ns, st.st_size)
    with _lock:
        hit = _cache.get(p)
        if hit is not None and hit.version == version:
            return hit.matcher
        try:
            matcher: FaqMatcher | None = FaqMatcher(load_bank(p), threshold=0.0)
        except (OSError, FaqBankError) as e:
            log.error("FAQ bank %s not loaded: %s", p, e)
            matcher = None
        _cache[p] = _Cached(version, matcher)
        return matcher


def clear() -> None:
    """Forget every cached bank (tests; a console "reload all" button)."""
    with _lock:
        _cache.clear()
