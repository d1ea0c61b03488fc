"""The fast classifier paths (:meth:`Classifier.logit`, :meth:`Classifier.logits`) give
scikit-learn's logits on real texts and on the edge cases of the window cache."""

from __future__ import annotations

import numpy as np
import pytest

from shequn.features.moderation.classifier import (
    Classifier,
    classifier_input,
    load_classifier,
    make_vectorizer,
    tfidf,
)
from shequn.features.moderation.datasets import Sample
from shequn.text import normalize

EDGE = [
    "",
    "a",
    "中",
    "   ",
    "aaaa",
    "aaaaa",
    "ab" * 7,
    "加微信加微信加微信 # 加微信",
    "a  b\t\tc 中文  混合",
    "代充" * 2000 + "看头像",  # very long, the same grams thousands of times
    "x" * 9001,
]


def _clf() -> Classifier:
    clf = load_classifier()
    assert clf is not None
    return clf


def _sklearn(clf: Classifier, texts: list[str]) -> np.ndarray:
    x = tfidf(make_vectorizer(clf.meta["vectorizer"]).transform(texts), clf._idf)
    return np.asarray(x @ clf._weights + clf.bias)


@pytest.fixture(scope="module")
def real_inputs(all_samples: dict[str, list[Sample]]) -> list[str]:
    texts = [s.text for samples in all_samples.values() for s in samples]
    return [classifier_input(normalize(t).compact) for t in texts[::7]]


def test_single_and_batch_match_scikit_learn_on_real_texts(real_inputs: list[str]) -> None:
    clf = _clf()
    expected = _sklearn(clf, real_inputs)
    single = [clf.logit(t) for t in real_inputs]
    batch = clf.logits(real_inputs)
    assert len(batch) == len(real_inputs)
    assert np.abs(np.array(single) - expected).max() < 1e-9
    assert np.abs(np.array(batch) - expected).max() < 1e-9
    # scored again (every window cached now) and in another batch order: the same
    assert np.abs(np.array([clf.logit(t) for t in real_inputs]) - expected).max() < 1e-9
    flipped = clf.logits(real_inputs[::-1])[::-1]
    assert np.abs(np.array(flipped) - expected).max() < 1e-9


def test_edge_cases_match_scikit_learn() -> None:
    clf = Classifier(_clf()._weights, _clf()._idf, _clf().bias, _clf().meta)  # cold caches
    expected = _sklearn(clf, EDGE)
    assert clf.logit("") == clf.bias
    assert clf.logits([]) == []
    assert clf.logits([""]) == [clf.bias]
    for text, want in zip(EDGE, expected, strict=True):
        assert abs(clf.logit(text) - want) < 1e-9, text[:20]
    assert np.abs(np.array(clf.logits(EDGE)) - expected).max() < 1e-9


def test_window_cache_reset_and_chunking_keep_the_logits(
    real_inputs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shequn.features.moderation.classifier as mod

    clf = _clf()
    texts = real_inputs[:300]
    expected = _sklearn(clf, texts)
    monkeypatch.setattr(mod, "_MAX_WINDOWS", 50)  # the cache is renewed again and again
    monkeypatch.setattr(mod, "_CHUNK", 7)
    fresh = Classifier(clf._weights, clf._idf, clf.bias, clf.meta)
    assert np.abs(np.array([fresh.logit(t) for t in texts]) - expected).max() < 1e-9
    assert np.abs(np.array(fresh.logits(texts)) - expected).max() < 1e-9
