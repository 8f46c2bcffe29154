"""How the model behaves on the real stream, where almost nothing is about BHXH: items flagged
relevant per day, and a random sample of flagged items to check by hand.

``python -m classifiers.stream_eval [--stream FILE] [--model FILE] [--sample N]``. Prints figures
(and the sample, for the person checking it); writes nothing. Items also in the labelled corpus are
counted separately, since the model was trained on them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import statistics
from collections import Counter
from pathlib import Path

from classifiers.corpus import SHARED_CORPUS, stream_training_half
from classifiers.model import load_classifier

STREAM = SHARED_CORPUS.parent / "stream" / "news_2025-08_2026-01.jsonl.gz"


def read_stream(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def labelled_links() -> dict[str, bool]:
    path = SHARED_CORPUS / "news_labeled.jsonl"
    if not path.is_file():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {r["link"]: r["relevant"] for r in rows}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="stream_eval")
    parser.add_argument("--stream", type=Path, default=STREAM)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=60)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    clf = load_classifier(args.model)
    items = read_stream(args.stream)
    records = [{"id": i, "title": r["title"], "summary": r.get("summary") or ""} for i, r in enumerate(items)]
    predictions = []
    for start in range(0, len(records), 2000):
        predictions.extend(clf.predict(records[start:start + 2000]))
    days = Counter(r["published"][:10] for r in items)
    flagged = [(items[p.id], p) for p in predictions if p.relevant]
    per_day = Counter(r["published"][:10] for r, _ in flagged)
    counts = [per_day.get(d, 0) for d in sorted(days)]
    labels = labelled_links()
    known = [(labels[r["link"]], p) for r, p in flagged if r["link"] in labels]
    all_known = [(rel, p) for (rel, p) in ((labels.get(r["link"]), p) for r, p in zip(items, predictions))
                 if rel is not None]
    figures = {
        "model": clf.version, "items": len(items), "days": len(days), "flagged": len(flagged),
        "flagged_per_day_mean": round(len(flagged) / len(days), 2),
        "flagged_per_day_median": statistics.median(counts), "flagged_per_day_max": max(counts),
        "flagged_labelled": len(known), "flagged_labelled_relevant": sum(rel for rel, _ in known),
        "labelled_relevant": sum(rel for rel, _ in all_known),
        "labelled_relevant_found": sum(rel and p.relevant for rel, p in all_known),
        # The half of the stream never sampled for training: flagged items there that the labelled
        # file lacks have no insurance keyword at all, i.e. are (almost surely) false flags.
        "heldout_flagged": sum(not stream_training_half(r["id"]) for r, _ in flagged),
        "heldout_flagged_unlabelled": sum(not stream_training_half(r["id"]) and r["link"] not in labels
                                          for r, _ in flagged),
        "flagged_negative": sum(p.sentiment == "negative" for _, p in flagged),
        "flagged_misleading": sum(p.misleading for _, p in flagged),
        "categories": dict(Counter(p.category for _, p in flagged).most_common()),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    unlabelled = [(r, p) for r, p in flagged if r["link"] not in labels and not stream_training_half(r["id"])]
    sample = random.Random(args.seed).sample(unlabelled, min(args.sample, len(unlabelled)))
    print(f"\nRandom sample of {len(sample)} held-out flagged items not in the labelled corpus (check by hand):")
    for n, (r, p) in enumerate(sample, 1):
        print(f"{n:3d}. [{p.relevance:.2f} {p.sentiment[:3]} {p.category}] {r['title']} | {(r.get('summary') or '')[:140]}")
    return figures


if __name__ == "__main__":
    main()
