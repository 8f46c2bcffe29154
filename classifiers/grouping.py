"""Story groups for cross-validation: copies and near-duplicates of one story share a group, so one
story never sits on both sides of a train/validation split.

Two examples are linked when they share a link or an ``orig_id`` key, or when their accent-folded
titles share at least half of their syllable trigrams (Jaccard); groups are the connected components.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Sequence

from classifiers.corpus import Example
from classifiers.text import fold

TITLE_JACCARD = 0.5
_WORD = re.compile(r"\w+")


def _shingles(title: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(fold(title))
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + 3]) for i in range(len(words) - 2)}


def story_groups(examples: Sequence[Example]) -> list[int]:
    """One group number per example (see the module docstring)."""
    parent = list(range(len(examples)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    first_by_key: dict[str, int] = {}
    for i, example in enumerate(examples):
        for key in (example.link, example.key and f"key:{example.key}"):
            if key:
                union(i, first_by_key.setdefault(key, i))

    shingles = [_shingles(e.title or e.text[:200]) for e in examples]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, sh in enumerate(shingles):
        for s in sh:
            index[s].append(i)
    for i, sh in enumerate(shingles):
        candidates = {j for s in sh for j in index[s] if j < i}
        for j in candidates:
            other = shingles[j]
            if len(sh & other) >= TITLE_JACCARD * len(sh | other):
                union(i, j)
    return [find(i) for i in range(len(examples))]
