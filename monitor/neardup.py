"""Near-duplicate detection: MinHash signatures of normalised text and an in-memory LSH index
(datasketch), so a syndicated or lightly rewritten copy finds the earlier item without scanning the
table. Pure in-memory logic; ``monitor.store`` loads and verifies against the database."""

from __future__ import annotations

import hashlib
import zlib
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from classifiers.text import fold

NUM_PERM = 64
THRESHOLD = 0.5  # estimated Jaccard similarity of word-bigram sets that counts as "the same story"
MIN_SHINGLES = 6  # shorter texts (a bare headline) are matched on the exact content hash only
WINDOW = timedelta(days=7)  # copies of a story appear within days, not months
SEED = 1
SCHEME = "affine32"  # datasketch 2.x's default; stored signatures must be read back with it

# Drawn once: datasketch otherwise regenerates them for every MinHash. CRC-32 is a stable, fast
# 32-bit hash of a shingle (signatures are stored, so the hash must not change between runs).
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def content_hash(title: str, summary: str) -> str:
    """Same words, same hash: case, accents, punctuation and spacing do not count."""
    return hash_of_words(words(f"{title}\n{summary}"))


def hash_of_words(tokens: list[str]) -> str:
    return hashlib.sha256(" ".join(tokens).encode()).hexdigest()


def shingles(tokens: list[str]) -> set[bytes]:
    return {f"{a} {b}".encode() for a, b in zip(tokens, tokens[1:])}


def signature(text: str) -> LeanMinHash | None:
    """MinHash of the text's word bigrams; None when the text is too short to judge."""
    return signature_of_words(words(text))


def signature_of_words(tokens: list[str]) -> LeanMinHash | None:
    grams = shingles(tokens)
    if len(grams) < MIN_SHINGLES:
        return None
    mh = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=zlib.crc32, permutations=_PERMUTATIONS)
    mh.update_batch(list(grams))
    return LeanMinHash(mh)


def from_values(values: list[int]) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=np.asarray(values, dtype=np.uint64), scheme=SCHEME)


@dataclass
class NearDupIndex:
    """Signatures of recent items by item id. Entries older than ``window`` are evicted lazily.
    Thread-safe: scheduled jobs store from several threads (each method holds a lock briefly and
    never waits on the database while holding it)."""

    threshold: float = THRESHOLD
    window: timedelta = WINDOW
    lsh: MinHashLSH = field(init=False)
    signatures: dict[int, tuple[datetime, LeanMinHash]] = field(default_factory=dict)
    max_id: int = 0
    loaded: bool = False
    _evicted_before: datetime | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def __post_init__(self) -> None:
        self.lsh = MinHashLSH(threshold=self.threshold, num_perm=NUM_PERM)

    def add(self, item_id: int, published_at: datetime, sig: LeanMinHash) -> None:
        with self._lock:
            if item_id in self.signatures:
                return
            self.lsh.insert(item_id, sig, check_duplication=False)
            self.signatures[item_id] = (published_at, sig)
            self.max_id = max(self.max_id, item_id)

    def remove(self, item_id: int) -> None:
        with self._lock:
            if self.signatures.pop(item_id, None) is not None:
                self.lsh.remove(item_id)

    def similar(self, sig: LeanMinHash, published_at: datetime) -> list[tuple[int, float]]:
        """Indexed items within the window whose estimated Jaccard reaches the threshold, best first."""
        with self._lock:
            return self._similar(sig, published_at)

    def _similar(self, sig: LeanMinHash, published_at: datetime) -> list[tuple[int, float]]:
        found = []
        for key in self.lsh.query(sig):
            when, other = self.signatures[key]
            if abs(when - published_at) <= self.window:
                score = sig.jaccard(other)
                if score >= self.threshold:
                    found.append((key, score))
        return sorted(found, key=lambda pair: (-pair[1], pair[0]))

    def evict_older_than(self, cutoff: datetime) -> None:
        # At most once per hour of cutoff movement: a full sweep is O(n).
        with self._lock:
            if self._evicted_before is not None and cutoff - self._evicted_before < timedelta(hours=1):
                return
            self._evicted_before = cutoff
            for key in [k for k, (when, _sig) in self.signatures.items() if when < cutoff]:
                self.remove(key)
