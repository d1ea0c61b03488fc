"""Invite links and 群活码 with per-link attribution, and fission (裂变) campaigns."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
