"""Sparse text features: TF-IDF over syllable 1-2-grams of the normalised text, the same over its
accent-folded copy (so text typed without dấu is understood), and over the raw teencode/emoji extras.

Only plain scikit-learn vectorizers are stored (no custom classes), so the artifact loads with skops
without trusting any project code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from classifiers.normalize import feature_strings

BLOCKS = ("raw", "folded", "extra")


def make_vectorizers(max_features: int = 60000) -> dict[str, TfidfVectorizer]:
    common = dict(token_pattern=r"\S+", lowercase=False, sublinear_tf=True, dtype=np.float32)
    return {
        "raw": TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, **common),
        "folded": TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=max_features, **common),
        "extra": TfidfVectorizer(ngram_range=(1, 1), min_df=1, **common),
    }


def documents(texts: Sequence[str]) -> dict[str, list[str]]:
    """Normalise each text once; one list of strings per feature block."""
    columns: dict[str, list[str]] = {name: [] for name in BLOCKS}
    for text in texts:
        for name, value in zip(BLOCKS, feature_strings(text)):
            columns[name].append(value)
    return columns


@dataclass
class Featurizer:
    vectorizers: dict[str, TfidfVectorizer]

    def fit(self, texts: Sequence[str]) -> Featurizer:
        docs = documents(texts)
        for name in BLOCKS:
            vec = self.vectorizers[name]
            # An empty block (no extras at all) still needs a vocabulary.
            vec.fit([d or "emptytok" for d in docs[name]])
            if hasattr(vec, "stop_words_"):
                del vec.stop_words_  # pruned terms: only for introspection, large in the artifact
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        docs = documents(texts)
        return sp.hstack([self.vectorizers[n].transform(docs[n]) for n in BLOCKS], format="csr")

    def feature_names(self) -> list[tuple[str, str]]:
        """(block, term) for every column."""
        return [(n, t) for n in BLOCKS for t in self.vectorizers[n].get_feature_names_out()]
