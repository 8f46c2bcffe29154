"""Labelled training examples: reading the shared corpus and the repository's seed set.

The shared corpus (``../shared/corpus/*.jsonl``) belongs to its publishers and is read at run time,
never copied. Items published from ``EVAL_CUTOFF`` on are held out for evaluation and never trained on.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

from classifiers.text import fold
from monitor.errors import InputError

SEED_DIR = Path(__file__).resolve().parent / "seed"
SHARED_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SHARED_STREAM = SHARED_CORPUS.parent / "stream" / "news_2025-08_2026-01.jsonl.gz"
EVAL_CUTOFF = "2026-02-01"

SENTIMENTS = ("negative", "neutral", "positive")
CATEGORIES = (
    "payment_delay", "contribution_debt_evasion", "fraud_scam_impersonation", "misinformation",
    "policy_change_controversy", "service_it_outage", "official_misconduct", "benefit_info",
    "policy_info", "positive_result", "other_bhxh", "not_relevant",
)
TEXT_LIMIT = 600  # characters of the body used: titles and leads carry the signal, and training has no bodies


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    relevant: bool
    sentiment: str
    misleading: bool
    category: str
    origin: str  # file name, "seed:<file>" or "review"
    published: str | None = None
    link: str | None = None
    key: str | None = None  # shared by copies of one story (orig_id), for grouped folds
    title: str = field(default="", compare=False)

    def stripped(self) -> Example:
        """The same example typed without diacritics."""
        return replace(self, text=fold(self.text), title=fold(self.title))


def compose_text(record: dict[str, Any]) -> str:
    """Title (twice: it carries the stance, and weighting it gained on grouped cross-validation),
    lead (snippet or summary) and the start of the body, as one text."""
    title = record.get("title") or ""
    parts = [title, title]
    parts.append(record.get("snippet") or record.get("summary") or "")
    body = record.get("text") or ""
    if body:
        parts.append(body[:TEXT_LIMIT])
    return " . ".join(p.strip() for p in parts if p and p.strip())


def example_from_record(record: dict[str, Any], origin: str, where: str) -> Example:
    """Validate one labelled record (``where`` names file and line for errors)."""
    relevant = record.get("relevant")
    if not isinstance(relevant, bool):
        raise InputError(f"corpus: {where}: field 'relevant' must be true or false")
    sentiment = record.get("sentiment") if relevant else "neutral"
    if sentiment not in SENTIMENTS:
        raise InputError(f"corpus: {where}: field 'sentiment' must be one of {', '.join(SENTIMENTS)}")
    category = record.get("category") if relevant else "not_relevant"
    if category not in CATEGORIES or (relevant and category == "not_relevant"):
        raise InputError(f"corpus: {where}: field 'category' {category!r} is not a category for this item")
    text = compose_text(record)
    if not text:
        raise InputError(f"corpus: {where}: no 'title' text")
    return Example(
        id=str(record.get("id") or where), text=text, relevant=relevant, sentiment=sentiment,
        misleading=bool(record.get("misleading")) and relevant, category=category, origin=origin,
        published=record.get("published"), link=record.get("link") or record.get("source_url"),
        key=record.get("orig_id"), title=record.get("title") or "",
    )


def read_jsonl(path: Path, origin: str) -> Iterator[Example]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"corpus: cannot read {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"corpus: {path}, line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise InputError(f"corpus: {path}, line {number}: not a JSON object")
        yield example_from_record(record, origin, f"{path}, line {number}")


def before_cutoff(example: Example) -> bool:
    """False for items published in the evaluation period (never trained on)."""
    return not (example.published and str(example.published)[:10] >= EVAL_CUTOFF)


def corpus_files(paths: Iterable[Path] | None = None) -> list[Path]:
    """The labelled files: given paths (files or folders), else ../shared/corpus where it exists."""
    if paths is None:
        paths = [SHARED_CORPUS] if SHARED_CORPUS.is_dir() else []
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted(path.glob("*.jsonl")))
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"corpus: {path} does not exist")
    return files


def load_corpus(paths: Iterable[Path] | None = None) -> list[Example]:
    """Labelled examples from the shared corpus, evaluation period excluded."""
    out: list[Example] = []
    for path in corpus_files(paths):
        out.extend(e for e in read_jsonl(path, path.name) if before_cutoff(e))
    return out


def load_seed(seed_dir: Path = SEED_DIR) -> list[Example]:
    """The repository's own hand-written examples."""
    out: list[Example] = []
    for path in sorted(seed_dir.glob("*.jsonl")):
        out.extend(read_jsonl(path, f"seed:{path.name}"))
    return out


# Stream items near the domain (health, labour, wages, welfare) are the useful negatives.
_NEAR_DOMAIN = re.compile(r"y te|benh vien|kham|thuoc|luong|lao dong|tro cap|che do|xa hoi|huu|"
                          r"viec lam|nghi viec|thai|cong chuc|noi vu|chinh sach|quy dinh|nghi dinh")


def stream_training_half(item_id: str) -> bool:
    """Half of the stream (by id hash) may be sampled for training; the other half stays unseen,
    so flag rates measured on it are not in-sample."""
    return hashlib.sha1(item_id.encode()).digest()[0] % 2 == 0


def load_stream_negatives(path: Path, known_links: set[str], *, limit: int = 9000,
                          seed: int = 13) -> list[Example]:
    """Weak negatives from the real stream: items that the labelled news file does not contain.

    ``news_labeled.jsonl`` holds every stream item with a social-insurance keyword and every item
    mentioning insurance, pensions, allowances or scams (corpus README), so the stream's other items
    are not about BHXH by construction. Near-domain items first, then random ones, from the training
    half only, published before the evaluation period.
    """
    near, other = [], []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            r = json.loads(line)
            if r.get("link") in known_links or not stream_training_half(str(r.get("id"))):
                continue
            if str(r.get("published"))[:10] >= EVAL_CUTOFF:
                continue
            record = {"id": f"stream:{r.get('id')}", "title": r.get("title"), "summary": r.get("summary"),
                      "link": r.get("link"), "published": r.get("published"), "relevant": False}
            (near if _NEAR_DOMAIN.search(fold(f"{r.get('title')} {r.get('summary')}")) else other).append(record)
    rng = random.Random(seed)
    picked = rng.sample(near, min(len(near), limit * 2 // 3))
    picked += rng.sample(other, min(len(other), limit - len(picked)))
    return [example_from_record(r, "stream", f"{path}, item {r['id']}") for r in picked]
