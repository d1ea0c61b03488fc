"""The member CRM: profiles across groups, tags, notes, segments, export, orders and conversion."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
