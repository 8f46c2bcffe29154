"""Replay throughput: 100,000 items through store → classify → stories → detection → tickets.

The items are the real six-month stream in ../shared/stream (79,175) topped up with copies of its
earliest items shifted six months later (new ids and URLs), so the volume and mix stay realistic.
Usage: ``python -m benchmarks replay -- [--items N] [--database URL] [--model PATH] [--step 15m]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

STREAM = Path(__file__).resolve().parent.parent.parent / "shared" / "stream" / "news_2025-08_2026-01.jsonl.gz"


def records(n: int, stream: Path = STREAM) -> list[dict]:
    from alerts.replay import read_stream

    real = list(read_stream(stream))
    out = real[:n]
    shift = timedelta(days=183)
    k = 0
    while len(out) < n:
        r = dict(real[k % len(real)])
        generation = 1 + k // len(real)
        r["id"] = f"{r['id']}-shift{generation}"
        r["link"] = f"{r.get('link') or r.get('url')}?shift={generation}"
        r["published"] = (datetime.fromisoformat(r["published"]) + generation * shift).isoformat()
        out.append(r)
        k += 1
    return out


def main(argv: list[str] | None = None) -> dict:
    from alerts.replay import replay
    from classifiers.model import load_classifier
    from monitor import db
    from monitor.config import load_feeds
    from monitor.settings import REPO_ROOT, load_settings
    from monitor.timeutil import parse_duration

    parser = argparse.ArgumentParser(prog="bench_replay")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--database", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--step", default="15m")
    args = parser.parse_args(argv or [])
    if not STREAM.exists():
        print(f"bench_replay: {STREAM} is absent; skipped")
        return {"skipped": True}
    data = records(args.items)
    config = load_feeds(REPO_ROOT / "feeds.yaml")
    classifier = load_classifier(args.model)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'replay.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        sessions = db.session_factory(engine)
        started = time.perf_counter()
        tickets = replay(data, sessions, config, classifier, load_settings(), step=parse_duration(args.step))
        elapsed = time.perf_counter() - started
        engine.dispose()
    figures = {"items": len(data), "seconds": round(elapsed, 1), "items_per_second": round(len(data) / elapsed),
               "tickets": len(tickets), "backend": url.split(":")[0], "model_version": classifier.version}
    print(f"bench_replay: {figures['items']} items in {figures['seconds']}s "
          f"({figures['items_per_second']} items/s), {figures['tickets']} tickets")
    return figures


if __name__ == "__main__":
    main()
