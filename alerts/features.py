"""Text features for story clustering and claim matching: accent-folded syllables, syllable bigrams
(Vietnamese words are mostly one or two syllables), sparse vectors and cosine similarity.

Everything is diacritics-insensitive (``classifiers.text.fold``) and cheap: no word segmentation, so
100,000 items cost seconds. Words that every BHXH item shares carry no story signal and are dropped.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from classifiers.text import fold

_TOKEN = re.compile(r"[^\W_]+(?:[.,]\d+)*", re.UNICODE)
# Abbreviations expanded so "BHXH" and "bảo hiểm xã hội" are the same feature.
_EXPAND = {
    "bhxh": ("bao", "hiem", "xa", "hoi"),
    "bhyt": ("bao", "hiem", "y", "te"),
    "bhtn": ("bao", "hiem", "that", "nghiep"),
    "tphcm": ("tp", "hcm"),
    "ti": ("ty",),  # tỉ / tỷ
}
# Function words and syllables common to nearly every BHXH item (folded).
STOPWORDS = frozenset("""
va la cua cho voi cac nhung mot nay do thi ma de khi da dang se bi duoc tai tu trong ngoai ve theo
co khong nhieu nguoi nam thang ngay sau truoc len ra vao hon tren duoi den nhu gi nao neu vi
bao hiem xa hoi y te that nghiep nguoi lao dong tin moi nhat hom nay
""".split())


def tokens(text: str | None) -> list[str]:
    """Folded syllables of ``text`` with abbreviations expanded."""
    out: list[str] = []
    for token in _TOKEN.findall(fold(text)):
        out.extend(_EXPAND.get(token, (token,)))
    return out


def terms(text: str | None) -> list[str]:
    """Content terms: syllables that are not stopwords, and bigrams with at least one such syllable."""
    toks = tokens(text)
    result = [t for t in toks if t not in STOPWORDS and len(t) > 1]
    result += [f"{a}_{b}" for a, b in zip(toks, toks[1:]) if a not in STOPWORDS or b not in STOPWORDS]
    return result


def vector(text: str | None) -> dict[str, float]:
    """L2-normalised sublinear term-frequency vector."""
    counts = Counter(terms(text))
    weights = {t: 1.0 + math.log(c) for t, c in counts.items()}
    return normalise(weights)


def normalise(weights: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {t: w / norm for t, w in weights.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def merge(centroid: dict[str, float], vec: dict[str, float], n: int, keep: int = 60) -> dict[str, float]:
    """The centroid of ``n`` items plus ``vec``, re-normalised and pruned to its ``keep`` top terms."""
    merged = {t: w * n for t, w in centroid.items()}
    for t, w in vec.items():
        merged[t] = merged.get(t, 0.0) + w
    top = sorted(merged.items(), key=lambda kv: kv[1], reverse=True)[:keep]
    return normalise(dict(top))


def containment(claim: str, text: str) -> float:
    """Share of the claim's content terms found in ``text`` (0..1), bigrams counted twice:
    a claim is matched when its key phrases appear, whatever else the text says."""
    claim_terms = set(terms(claim))
    if not claim_terms:
        return 0.0
    text_terms = set(terms(text))
    weight = lambda t: 2.0 if "_" in t else 1.0  # noqa: E731
    total = sum(weight(t) for t in claim_terms)
    return sum(weight(t) for t in claim_terms if t in text_terms) / total


# Names that recur across unrelated stories (places, national bodies): no story signal.
NAME_STOP = frozenset("""
viet_nam ha_noi tp_hcm thanh_pho ho_chi chi_minh sai_gon da_nang can_tho hai_phong nha_nuoc
chinh_phu quoc_hoi thu_tuong bo_tai tai_chinh bo_lao lao_dong thuong_binh bo_noi noi_vu
""".split())
_SEGMENT = re.compile(r"[\n.!?:;\"“”‘’'()\[\]|–—-]+")


def names(text: str | None) -> set[str]:
    """Folded name bigrams: runs of two or more capitalised syllables that do not open a sentence
    ("Công ty may *Hòa Phong*", "*Cam Ranh*"), minus acronyms, stopwords and ``NAME_STOP``. Two
    items sharing one are very likely about the same company, person or place, which plain term
    overlap cannot tell apart from another story of the same kind."""
    found: set[str] = set()
    for segment in _SEGMENT.split(text or ""):
        words = [w.strip(",") for w in segment.split()]
        run: list[str] = []
        for position, word in enumerate(words + [""]):
            capitalised = position > 0 and word[:1].isupper() and not word.isupper() and word.isalpha()
            if capitalised:
                run.append(fold(word))
                continue
            for a, b in zip(run, run[1:]):
                if not (a in STOPWORDS and b in STOPWORDS) and f"{a}_{b}" not in NAME_STOP:
                    found.add(f"{a}_{b}")
            run = []
    return found
