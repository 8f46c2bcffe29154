"""Reasons shown to reviewers: the Vietnamese terms of one item that pushed each decision most.

A term's push is its TF-IDF weight in the item times the linear model's coefficient for the decided
class. Accent-folded features are shown with diacritics restored from the training vocabulary
(``accents``: folded term → commonest accented spelling); placeholders are shown as Vietnamese labels.
Order: misleading, negative sentiment, category, relevance; a syllable already inside a longer chosen
term is not repeated.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from classifiers.features import Featurizer

MAX_REASONS = 6
PER_DECISION = 4
PLACEHOLDER_LABELS = {
    "urltok": "(đường link)", "emailtok": "(địa chỉ email)", "mentiontok": "(nhắc tên người dùng)",
    "hashtagtok": "(hashtag)", "emoneg": "(biểu tượng cảm xúc tiêu cực)",
    "emopos": "(biểu tượng cảm xúc tích cực)", "emojitok": None, "numtok": None, "pcttok": None,
    "emptytok": None,
}


def coefficients(model: Any) -> tuple[list[Any], np.ndarray]:
    """(classes, coef rows) of a fitted linear model, or of the base models of a calibrated one."""
    bases = [c.estimator for c in getattr(model, "calibrated_classifiers_", [])] or [model]
    coef = np.mean([np.asarray(b.coef_, dtype=np.float32) for b in bases], axis=0)
    return list(model.classes_), coef


def _display(block: str, term: str, accents: Mapping[str, str]) -> str | None:
    words = term.split()
    if any(w in PLACEHOLDER_LABELS for w in words):
        if len(words) == 1:
            return PLACEHOLDER_LABELS[words[0]]
        return None
    return accents.get(term, term) if block == "folded" else term


class ReasonFinder:
    def __init__(self, featurizer: Featurizer, models: Mapping[str, Any], accents: Mapping[str, str]):
        self.terms = [_display(b, t, accents) for b, t in featurizer.feature_names()]
        self.coef = {name: coefficients(model) for name, model in models.items()}

    def _row(self, name: str, label: Any) -> np.ndarray:
        classes, coef = self.coef[name]
        if coef.shape[0] == 1:  # binary: the row pushes toward classes[1]
            return coef[0] if label == classes[1] else -coef[0]
        return coef[classes.index(label)]

    def _top(self, idx: np.ndarray, data: np.ndarray, row: np.ndarray) -> list[str]:
        push = data * row[idx]
        order = np.argsort(-push, kind="stable")
        out: list[str] = []
        for j in order:
            if push[j] <= 0 or len(out) >= PER_DECISION:
                break
            term = self.terms[idx[j]]
            if term and term not in out:
                out.append(term)
        return out

    def explain(self, X, decisions: Sequence[Any], probs: Any) -> list[list[str]]:
        X = X.tocsr()
        out = []
        for i, d in enumerate(decisions):
            start, end = X.indptr[i], X.indptr[i + 1]
            idx, data = X.indices[start:end], X.data[start:end]
            lists = []
            if d.relevant:
                if d.misleading:
                    lists.append(self._top(idx, data, self._row("misleading", True)))
                if d.sentiment == "negative":
                    lists.append(self._top(idx, data, self._row("sentiment", "negative")))
                lists.append(self._top(idx, data, self._row("category", d.category)))
            lists.append(self._top(idx, data, self._row("relevance", bool(d.relevant))))
            out.append(_merge(lists))
        return out


def _merge(lists: list[list[str]]) -> list[str]:
    chosen: list[str] = []
    for terms in lists:
        for term in terms:
            if len(chosen) >= MAX_REASONS:
                return chosen
            if any(term == c or f" {term} " in f" {c} " for c in chosen):
                continue
            # A longer term replaces the shorter one it contains.
            chosen = [c for c in chosen if f" {c} " not in f" {term} "]
            chosen.append(term)
    return chosen
