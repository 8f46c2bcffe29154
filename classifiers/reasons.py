"""Reasons shown to reviewers: the Vietnamese terms of one item that pushed each decision most.

A term's push is its TF-IDF weight in the item times the coefficient, for the decided class, of the
linear model that made the decision: the TF-IDF model, or for items the dense models decided
(``Probabilities.dense``) the dense model's own coefficients on the same TF-IDF columns (the
sentence-embedding half of a dense decision has no terms to show). For relevant items (the few a
reviewer reads) the pushes of syllable n-grams, raw and accent-folded, are summed over the item's own
words as underthesea's ``word_tokenize`` segments them, so reasons are whole words spelt as in the
item ("bảo hiểm xã hội", "chốt sổ"; a multi-syllable word typed without diacritics gets them back from
the training vocabulary); other items show the item's own n-grams. Placeholders are shown as
Vietnamese labels.
Order: misleading, negative sentiment, category, relevance; a syllable already inside a longer chosen
term is not repeated.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from classifiers.features import Featurizer
from classifiers.normalize import normalize
from classifiers.text import fold

MAX_REASONS = 6
PER_DECISION = 4
# Function words say nothing to a reviewer on their own (folded spellings included).
_STOP = {"không", "được", "của", "và", "là", "có", "các", "những", "cho", "với", "đã", "đang", "sẽ", "này",
         "thì", "mà", "một", "để", "từ", "theo", "trong", "về", "tại", "khi", "đến", "ra", "vào", "như",
         "cũng", "rồi", "vậy", "gì", "ai", "nào", "thế", "nhiều", "hơn", "sau", "trước", "đi", "lại"}
STOPWORDS = frozenset(_STOP | {fold(w) for w in _STOP})
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
    def __init__(self, featurizer: Featurizer, models: Mapping[str, Any], accents: Mapping[str, str],
                 dense_models: Mapping[str, Any] | None = None):
        names = featurizer.feature_names()
        self.blocks = [b for b, _ in names]
        self.ngrams = [tuple(t.split()) for _, t in names]
        # Terms shown without segmentation: the item's own spelling (raw block) and teencode extras.
        self.terms = [_display(b, t, accents) if b != "folded" else None for b, t in names]
        self.coef = {name: coefficients(model) for name, model in models.items()}
        # Dense models read the TF-IDF columns first, then the embedding: keep the term columns.
        self.dense_coef = {}
        for name, model in (dense_models or {}).items():
            classes, coef = coefficients(model)
            self.dense_coef[name] = (classes, coef[:, :len(names)])
        self.accents = accents

    def _spelling(self, word: str) -> str:
        """A word typed without diacritics gets them back when the training vocabulary knows the
        whole (multi-syllable) word; a lone syllable is too ambiguous (gia: giá, giả, gia)."""
        if " " in word and word == fold(word):
            return self.accents.get(word, word)
        return word

    def _row(self, name: str, label: Any, dense: bool = False) -> np.ndarray:
        classes, coef = self.dense_coef[name] if dense and name in self.dense_coef else self.coef[name]
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
            if term and term not in out and not all(w in STOPWORDS for w in term.split()):
                out.append(term)
        return out

    def _top_words(self, idx: np.ndarray, data: np.ndarray, row: np.ndarray, words: "_Words") -> list[str]:
        push = data * row[idx]
        score = np.zeros(len(words.tokens))
        for j in np.flatnonzero(push > 0):
            gram, block = self.ngrams[idx[j]], self.blocks[idx[j]]
            starts = words.positions.get((block, gram), ())
            for start in starts:
                score[start:start + len(gram)] += push[j] / (len(gram) * len(starts))
        ranked = sorted(range(len(words.spans)), key=lambda w: -score[slice(*words.spans[w])].sum())
        out: list[str] = []
        for w in ranked:
            a, b = words.spans[w]
            text = self._spelling(" ".join(words.tokens[a:b]))
            if score[a:b].sum() <= 0 or len(out) >= PER_DECISION:
                break
            if text not in out and not any(t in PLACEHOLDER_LABELS for t in words.tokens[a:b]) \
                    and not all(t in STOPWORDS for t in words.tokens[a:b]):
                out.append(text)
        return out

    def explain(self, X, decisions: Sequence[Any], probs: Any, texts: Sequence[str] | None = None) -> list[list[str]]:
        """Reasons per item; relevant items (given ``texts``) get whole words (underthesea
        segmentation, paid only for the few relevant items), the others n-grams."""
        X = X.tocsr()
        dense_decided = probs.dense
        out = []
        for i, d in enumerate(decisions):
            dense = bool(dense_decided is not None and dense_decided[i])
            start, end = X.indptr[i], X.indptr[i + 1]
            idx, data = X.indices[start:end], X.data[start:end]
            words = _Words.of(texts[i]) if (d.relevant and texts is not None) else None
            top = (lambda row: self._top_words(idx, data, row, words)) if words else \
                (lambda row: self._top(idx, data, row))
            lists = []
            if d.relevant:
                if d.misleading:
                    lists.append(top(self._row("misleading", True, dense)))
                if d.sentiment == "negative":
                    lists.append(top(self._row("sentiment", "negative", dense)))
                lists.append(top(self._row("category", d.category, dense)))
            lists.append(top(self._row("relevance", bool(d.relevant))))
            out.append(_merge(lists))
        return out


class _Words:
    """One item's normalised syllables, their word segmentation, and where each n-gram occurs."""

    def __init__(self, tokens: list[str], folded: list[str], spans: list[tuple[int, int]]):
        self.tokens, self.spans = tokens, spans
        self.positions: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for block, seq in (("raw", tokens), ("folded", folded)):
            for n in (1, 2):
                for k in range(len(seq) - n + 1):
                    self.positions.setdefault((block, tuple(seq[k:k + n])), []).append(k)

    @classmethod
    def of(cls, text: str) -> "_Words | None":
        from underthesea import word_tokenize

        n = normalize(text)
        spans, k = [], 0
        for word in word_tokenize(" ".join(n.tokens)):
            size = len(word.split())
            spans.append((k, k + size))
            k += size
        if k != len(n.tokens):  # segmentation changed the syllables: fall back to n-grams
            return None
        return cls(n.tokens, n.folded, spans)


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
