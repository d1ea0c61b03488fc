"""Fixtures for the analytics tests (helpers live in ``handmade.py``)."""

from __future__ import annotations

import pytest
from handmade import Chat


@pytest.fixture
def chat() -> Chat:
    """An empty hand-made archive to fill with events."""
    return Chat()
