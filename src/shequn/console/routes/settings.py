"""Group settings, group templates (复制) and FAQ banks, edited in the console."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
