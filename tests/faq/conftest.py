"""FAQ fixtures: no network ever (the embedding model is read from its wheel)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
