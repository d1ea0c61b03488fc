"""FAQ fixtures: no network ever (the embedding model is read from its wheel).

The auto-reply transcripts reuse the bot-engine transcript helpers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
