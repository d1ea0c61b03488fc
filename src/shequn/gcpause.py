"""Pausing Python's cyclic garbage collector around bulk work.

An import or an analysis creates millions of short-lived, acyclic objects (parsed
messages, rows, records). Reference counting frees them; the cyclic collector only
rescans the growing heap over and over — measured at a seventh of a 1M-message import
and a third of an analysis. Memory held by any cycles is collected when it resumes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its previous state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
