"""The real six months (../shared/stream) replayed, checked against the labelled corpus.

Reports tickets a week, and for each ticket the labels (``../shared/corpus/news_labeled.jsonl``,
joined by link) of its items: how many tickets hold a relevant negative or misleading item, and which
labelled high/medium crisis items no ticket covers. The per-ticket lines are for the hand check.
Usage: ``python -m benchmarks replay_quality -- [--model PATH] [--json OUT] [--database URL]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
STREAM = SHARED / "stream" / "news_2025-08_2026-01.jsonl.gz"
LABELS = SHARED / "corpus" / "news_labeled.jsonl"


def check(records: list[dict], tickets: list[dict], labels: list[dict]) -> dict:
    """Figures and per-ticket lines: pure, over the replay output and the labels."""
    by_link = {r["link"]: r for r in labels}
    link_of = {r["id"]: r.get("link") or r.get("url") for r in records}
    times = [datetime.fromisoformat(r["published"]) for r in records]
    weeks = (max(times) - min(times)) / timedelta(weeks=1)
    lines, real = [], 0
    covered: set[str] = set()
    for t in tickets:
        labelled = [by_link[link_of[i]] for i in t["item_ids"] if link_of.get(i) in by_link]
        covered |= {lab["link"] for lab in labelled}
        hits = [lab for lab in labelled if lab["relevant"] and (lab["sentiment"] == "negative" or lab["misleading"])]
        real += bool(hits)
        signals = sorted({lab["crisis_signal"] for lab in labelled})
        lines.append(f"#{t['id']} {t['opened_at'][:16]} sev{t['severity']} {t['category']} items={len(t['item_ids'])} "
                     f"labelled={len(labelled)} neg/mis={len(hits)} signals={signals} :: {t['title'][:90]}")
    crisis = [lab for lab in labels if lab["crisis_signal"] in ("high", "medium")]
    missed = [f"{lab['published'][:10]} {lab['crisis_signal']} {lab['category']}: {lab['title'][:90]}"
              for lab in crisis if lab["link"] not in covered]
    return {"weeks": round(weeks, 1), "tickets": len(tickets), "tickets_per_week": round(len(tickets) / weeks, 2),
            "tickets_with_labelled_negative_or_misleading": real, "crisis_items": len(crisis),
            "crisis_items_covered": len(crisis) - len(missed), "missed": missed, "lines": lines}


def main(argv: list[str] | None = None) -> dict:
    from alerts.replay import read_stream, replay
    from classifiers.model import load_classifier
    from monitor import db
    from monitor.config import load_feeds
    from monitor.settings import REPO_ROOT, load_settings

    parser = argparse.ArgumentParser(prog="bench_replay_quality")
    parser.add_argument("--model", default=None)
    parser.add_argument("--database", default=None)
    parser.add_argument("--json", default=None, help="Also write the tickets here.")
    args = parser.parse_args(argv or [])
    if not STREAM.exists() or not LABELS.exists():
        print("bench_replay_quality: ../shared is absent; skipped")
        return {"skipped": True}
    records = list(read_stream(STREAM))
    labels = [json.loads(line) for line in LABELS.open(encoding="utf-8")]
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'replay.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        started = time.perf_counter()
        classifier = load_classifier(args.model)
        tickets = replay(records, db.session_factory(engine), load_feeds(REPO_ROOT / "feeds.yaml"),
                         classifier, load_settings())
        elapsed = time.perf_counter() - started
        engine.dispose()
    if args.json:
        Path(args.json).write_text(json.dumps(tickets, ensure_ascii=False, indent=2), encoding="utf-8")
    figures = check(records, tickets, labels) | {"seconds": round(elapsed, 1), "model_version": classifier.version}
    print("\n".join(figures["lines"]))
    print("not covered (high/medium):\n  " + "\n  ".join(figures["missed"]))
    print(f"bench_replay_quality: {figures['tickets']} tickets in {figures['weeks']} weeks "
          f"({figures['tickets_per_week']} a week); {figures['tickets_with_labelled_negative_or_misleading']} hold a "
          f"labelled negative/misleading BHXH item; {figures['crisis_items_covered']}/{figures['crisis_items']} "
          f"high/medium items covered; {figures['seconds']}s; model {figures['model_version']}")
    return {k: v for k, v in figures.items() if k != "lines"}


if __name__ == "__main__":
    main()
