"""Full-text search over the message archive, and weekly digests (汇总打包)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
