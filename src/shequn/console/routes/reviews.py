"""Reviews (复盘): before/after comparisons of activities, posts, topics and campaigns."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
