"""Fixtures for the report tests: the contract dict (see ``report_contract.py``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from report_contract import make_report

_REPORT = make_report()


@pytest.fixture
def report() -> dict[str, Any]:
    """The contract fixture (a deep copy per test)."""
    return copy.deepcopy(_REPORT)
