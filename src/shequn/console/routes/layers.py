"""Layers in action: each layer's playbook action suggested to operators, one click to carry out."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
