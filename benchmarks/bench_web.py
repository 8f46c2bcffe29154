"""Web page speed with a large database: request times on loopback for the review queue, the
dashboard, its chart and search, with N items (default 100,000) in SQLite.

``python -m benchmarks web -- --items 100000 --repeat 7``
"""

from __future__ import annotations

import argparse
import hashlib
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from webapp import serve  # noqa: E402  (the tests' loopback uvicorn server)

from classifiers.text import fold
from monitor import db
from monitor.models import Classification, Item, Review, Source, Ticket
from monitor.settings import Settings
from monitor.users import create_user

USER = ("bench", "mat-khau-do-hieu-nang")
SUBJECTS = ["Chậm chi trả trợ cấp thất nghiệp", "Doanh nghiệp nợ đóng bảo hiểm xã hội", "Giả danh cán bộ BHXH lừa đảo",
            "Ứng dụng VssID gặp sự cố", "Lương hưu tăng từ tháng 7", "Thủ tục hưởng chế độ thai sản",
            "Bảo hiểm y tế học sinh", "Rút bảo hiểm xã hội một lần", "Giá xăng dầu điều chỉnh", "Thời tiết miền Bắc"]
PLACES = ["Hà Nội", "TP.HCM", "Đà Nẵng", "Bình Dương", "Cần Thơ", "Nghệ An", "Hải Phòng", "Đồng Nai"]
CATEGORIES = ["payment_delay", "contribution_debt_evasion", "fraud_scam_impersonation", "service_it_outage",
              "policy_info", "benefit_info", "misinformation", "other_bhxh", "not_relevant"]
SENTIMENTS = ["negative", "neutral", "positive"]


def populate(sessions, n_items: int, now: datetime, seed: int = 7) -> None:
    rng = random.Random(seed)
    with sessions.begin() as session:
        create_user(session, *USER)
        sources = [Source(name=f"Báo số {i}", kind="rss", url=f"https://bao{i}.example.vn/rss",
                          last_success_at=now) for i in range(20)]
        session.add_all(sources)
        session.flush()
        source_ids = [s.id for s in sources]
        for i in range(30):
            session.add(Ticket(group_key=f"bench:{i}", state=rng.choice(["new", "acknowledged", "closed"]),
                               severity=rng.randint(1, 4), category=rng.choice(CATEGORIES[:-1]),
                               title=f"Phiếu thử {i}", opened_at=now, deadline_at=now + timedelta(hours=i)))
    batch = 5000
    engine = sessions.kw["bind"]
    for start in range(0, n_items, batch):
        items, classes = [], []
        for n in range(start, min(start + batch, n_items)):
            title = f"{rng.choice(SUBJECTS)} tại {rng.choice(PLACES)} (số {n})"
            summary = f"Người dân {rng.choice(PLACES)} phản ánh về {rng.choice(SUBJECTS).lower()}."
            published = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
            items.append({"id": n + 1, "source_id": rng.choice(source_ids), "guid": f"g{n}",
                          "url": f"https://bao.example.vn/{n}.html", "canonical_url": f"https://bao.example.vn/{n}.html",
                          "title": title, "summary": summary, "published_at": published, "fetched_at": published,
                          "published_estimated": False, "content_hash": hashlib.md5(title.encode()).hexdigest(),
                          "search_text": fold(f"{title} {summary}"), "passed_prefilter": True})
            category = rng.choice(CATEGORIES)
            classes.append({"item_id": n + 1, "model_version": "bench-1", "relevant": category != "not_relevant",
                            "relevance": rng.random(), "sentiment": rng.choice(SENTIMENTS), "sentiment_scores": {},
                            "misleading": rng.random() < 0.05, "misleading_score": rng.random(),
                            "category": category, "reasons": ["từ khóa"], "uncertainty": rng.random(),
                            "created_at": published})
        with engine.begin() as conn:
            conn.execute(insert(Item), items)
            conn.execute(insert(Classification), classes)
    with engine.begin() as conn:
        conn.execute(insert(Review), [{"item_id": i, "reviewer": "bench", "at": now, "before": {}, "after": {}}
                                      for i in rng.sample(range(1, n_items + 1), min(2000, n_items))])


def timed(client: httpx.Client, app, path: str, repeat: int) -> dict:
    """Warm figures (count and chart caches filled) and cold ones (caches emptied before each request)."""
    client.get(path)  # warm SQLite pages, templates, the matplotlib import
    warm, cold = [], []
    for samples, clear in ((warm, False), (cold, True)):
        for _ in range(repeat):
            if clear:
                app.state.counts.invalidate()
                app.state.charts.clear()
            started = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return {"median_ms": round(statistics.median(warm), 1), "max_ms": round(max(warm), 1),
            "cold_median_ms": round(statistics.median(cold), 1), "cold_max_ms": round(max(cold), 1),
            "bytes": len(response.content)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench_web")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv or [])
    from monitor.web.app import create_app

    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db", _env_file=None)
        engine = db.make_engine(settings.resolved_database_url())
        db.upgrade(engine)
        sessions = db.session_factory(engine)
        started = time.perf_counter()
        populate(sessions, args.items, now)
        print(f"bench_web: {args.items} items stored in {time.perf_counter() - started:.1f}s")
        paths = {"review_queue": "/review", "review_queue_page_50": "/review?page=50",
                 "review_queue_filtered": "/review?sentiment=negative&category=payment_delay",
                 "dashboard": "/", "dashboard_chart_png": "/dashboard/chart.png",
                 "search_common_words": "/search?q=bao+hiem", "search_rare_word": "/search?q=vssid+can+tho",
                 "tickets_board": "/tickets"}
        results = {"items": args.items, "repeat": args.repeat}
        app = create_app(settings, sessions)
        with serve(app) as base, httpx.Client(base_url=base, timeout=60) as client:
            token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
            client.post("/login", data={"username": USER[0], "password": USER[1], "csrf_token": token})
            for name, path in paths.items():
                r = results[name] = timed(client, app, path, args.repeat)
                print(f"  {name:22s} {path:52s} median {r['median_ms']:6.1f} ms (max {r['max_ms']:6.1f})"
                      f"  uncached {r['cold_median_ms']:6.1f} ms (max {r['cold_max_ms']:6.1f})")
        engine.dispose()
    return results


if __name__ == "__main__":
    main()
