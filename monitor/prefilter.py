"""The BHXH keyword prefilter: does an item mention social insurance at all? Keywords come from
feeds.yaml (``keywords.include`` / ``keywords.exclude``) and match case- and diacritics-insensitively
on whole words, so "BHXH", "bhxh" and "bảo hiểm xã hội" / "bao hiem xa hoi" all count."""

from __future__ import annotations

import re
from functools import lru_cache

from classifiers.text import fold
from monitor.config import KeywordsConfig


@lru_cache(maxsize=32)
def _compile(include: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[re.Pattern | None, re.Pattern | None]:
    def pattern(words: tuple[str, ...]) -> re.Pattern | None:
        folded = sorted({" ".join(fold(w).split()) for w in words if w.strip()}, key=len, reverse=True)
        if not folded:
            return None
        alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in folded)
        return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")

    return pattern(include), pattern(exclude)


def matches(folded_text: str, keywords: KeywordsConfig) -> bool:
    """True when the already-folded text mentions an include keyword outside every exclude phrase."""
    include, exclude = _compile(tuple(keywords.include), tuple(keywords.exclude))
    if include is None:
        return False
    if exclude is not None:
        folded_text = exclude.sub(" ", folded_text)
    return include.search(folded_text) is not None


def passes(text: str, keywords: KeywordsConfig) -> bool:
    return matches(fold(text), keywords)
