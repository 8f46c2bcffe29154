"""Collector benchmark: N generated Vietnamese RSS feeds served on loopback by a separate process, one
``collect_once`` pass into a fresh database; reports items/s and the share of time in fetch, parse
and store. Target: 1,000 feeds × 30 items in under 30 s on a 2-core machine.

    python -m benchmarks collect -- --feeds 1000 --items 30 [--database URL]

All feeds share one host (127.0.0.1), so per-host concurrency is raised to the overall bound here; in
production the per-host bound (default 2) protects each outlet.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("bảo hiểm xã hội người lao động doanh nghiệp chậm đóng lương hưu thẻ BHYT trợ cấp thất nghiệp tỉnh "
         "Khánh Hòa Nha Trang chính sách quy định mới tháng năm tăng giảm giá vàng thời tiết bão lũ học sinh "
         "trường học bệnh viện giao thông tai nạn công an điều tra kinh tế xuất khẩu du lịch biển đảo "
         "quốc hội chính phủ bộ trưởng thủ tục hồ sơ ứng dụng VssID dịch vụ công trực tuyến cán bộ").split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize()


def write_feeds(folder: Path, feeds: int, items: int, seed: int = 1) -> int:
    """Write the feeds; about 2% of items are syndicated copies of another feed's item."""
    rng = random.Random(seed)
    start = datetime(2026, 5, 6, 0, 0, tzinfo=timezone(timedelta(hours=7)))
    shared = [(sentence(rng, 12), sentence(rng, 40)) for _ in range(max(1, feeds // 10))]
    total = 0
    for f in range(feeds):
        parts = [f"<rss version='2.0'><channel><title>Báo {f}</title><link>https://bao{f}.example.vn/</link>"]
        for i in range(items):
            title, lead = rng.choice(shared) if rng.random() < 0.02 else (sentence(rng, 12), sentence(rng, 40))
            when = (start + timedelta(minutes=f + i * 7)).strftime("%a, %d %b %Y %H:%M:%S +0700")
            url = f"https://bao{f}.example.vn/tin-{f}-{i}.html?utm_source=rss"
            parts.append(f"<item><title>{escape(title)}</title><link>{url}</link><guid>{url}</guid>"
                         f"<description><![CDATA[<a href=\"{url}\"><img src=https://img.example.vn/{f}-{i}.jpg></a></br>"
                         f"{escape(lead)}]]></description><pubDate>{when}</pubDate></item>")
            total += 1
        parts.append("</channel></rss>")
        (folder / f"f{f}.xml").write_text("".join(parts), encoding="utf-8")
    return total


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench_collect")
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--database", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv or [])

    from monitor import db
    from monitor.collect import collect_once
    from monitor.config import FeedsConfig

    with tempfile.TemporaryDirectory(prefix="bench-collect-") as tmp:
        folder = Path(tmp) / "feeds"
        folder.mkdir()
        total = write_feeds(folder, args.feeds, args.items)
        server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "feedserver.py"), str(folder)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            port = int(server.stdout.readline())
            engine = db.make_engine(args.database or f"sqlite:///{Path(tmp) / 'bench.db'}")
            db.upgrade(engine)
            sessions = db.session_factory(engine)
            config = FeedsConfig.model_validate({
                "allow_private_addresses": True,
                "collect": {"concurrency": 16, "per_host_concurrency": 16},
                "keywords": {"include": ["bảo hiểm xã hội", "BHXH", "BHYT", "VssID", "lương hưu"]},
                "sources": [{"name": f"Báo {f}", "url": f"http://127.0.0.1:{port}/f{f}.xml"} for f in range(args.feeds)],
            })
            started, cpu = time.perf_counter(), time.process_time()
            summary = collect_once(sessions, config, parse_workers=2)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu

            engine.dispose()
        finally:
            server.terminate()
            server.wait(timeout=10)
    seconds = summary.seconds
    staged = sum(seconds[k] for k in ("fetch", "parse", "store")) or 1.0
    figures = {
        "feeds": args.feeds, "items_per_feed": args.items, "items_served": total,
        "sources_ok": summary.count("ok"), "sources_failed": summary.count("error"),
        "new_items": summary.new_items, "near_duplicates": summary.as_dict()["near_duplicates"],
        "wall_s": round(wall, 2), "items_per_s": round(summary.new_items / wall, 1),
        # CPU seconds of this process (fetch thread + store) and of parsing (in worker processes for
        # big passes; process_time summed over feeds): on a machine
        # shared with other jobs, wall time alone says little.
        "cpu_s": round(cpu, 2), "parse_cpu_s": round(summary.seconds["parse"], 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        # fetch: span of the fetch stage; parse: CPU summed over feeds; store: summed (main thread).
        "share": {k: round(seconds[k] / staged, 3) for k in ("fetch", "parse", "store")},
        "seconds": {k: round(seconds[k], 2) for k in ("fetch", "parse", "store")},
        "target_s": 30.0 if (args.feeds, args.items) == (1000, 30) else None,
    }
    print(f"collect: {args.feeds} feeds × {args.items} items: {figures['wall_s']} s wall, "
          f"{figures['items_per_s']} items/s; fetch {figures['share']['fetch']:.0%}, "
          f"parse {figures['share']['parse']:.0%}, store {figures['share']['store']:.0%}; "
          f"CPU {figures['cpu_s']} s here + {figures['parse_cpu_s']} s parsing "
          f"(load {figures['load_average_1m']}); {figures['sources_ok']} ok, {figures['sources_failed']} failed, {figures['near_duplicates']} near duplicates")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
