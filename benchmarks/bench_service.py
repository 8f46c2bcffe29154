"""The running service as a whole (``bhxh-monitor serve`` as a real process, feeds and SMTP on loopback):

1. latency from a new item appearing in a local feed to its alert email arriving, with the wait for
   the next poll subtracted (measured from the moment the feed server handed out the new items);
2. items/s through the whole pipeline (fetch → parse → store → classify → stories → detection);
3. peak memory (VmHWM) of the service with 100,000 stored items while its pages are used, against
   the same service with an empty database.

``python -m benchmarks service -- --items 100000 --bursts 3 --feeds 20 --feed-items 50``
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from feedserver import FeedServer, Reply  # noqa: E402  (test helpers double as benchmark servers)
from mail_helpers import SmtpServer, free_port  # noqa: E402

from monitor import db  # noqa: E402
from monitor.models import Item  # noqa: E402

BIN = Path(sys.executable).with_name("bhxh-monitor")
PASSWORD = "mat-khau-benchmark"
# Each burst is a different story (different topic, not only another name), so each opens its own ticket.
BURSTS = [
    ("Doanh nghiệp chậm đóng bảo hiểm xã hội khiến người lao động không chốt được sổ.",
     ["Công ty may Hòa An nợ BHXH hàng tỷ đồng, hàng trăm công nhân mất quyền lợi",
      "Công nhân may Hòa An bức xúc vì công ty nợ đóng bảo hiểm xã hội nhiều tháng",
      "Nợ bảo hiểm xã hội kéo dài, lao động công ty may Hòa An không được hưởng thai sản",
      "Công nhân may Hòa An ngừng việc đòi trả nợ BHXH"]),
    ("Kẻ gian gọi điện giả danh cán bộ bảo hiểm xã hội, dụ người dân cài ứng dụng giả để chiếm đoạt tiền.",
     ["Cảnh báo lừa đảo giả danh cán bộ BHXH yêu cầu cài ứng dụng VssID giả",
      "Nhiều người mất tiền vì cuộc gọi mạo danh nhân viên bảo hiểm xã hội",
      "Giả danh cơ quan BHXH gửi đường link cập nhật thông tin để chiếm đoạt tài khoản",
      "Thủ đoạn mạo danh bảo hiểm xã hội lừa cài ứng dụng lạ, chiếm đoạt tiền ngân hàng"]),
    ("Người lao động phản ánh hồ sơ hưởng trợ cấp thất nghiệp bị chậm giải quyết nhiều tuần.",
     ["Hàng nghìn hồ sơ trợ cấp thất nghiệp bị chậm chi trả, người lao động mòn mỏi chờ",
      "Chậm chi trả trợ cấp thất nghiệp, nhiều lao động mất việc lâm cảnh khó khăn",
      "Người lao động bức xúc vì tiền bảo hiểm thất nghiệp chưa về sau hai tháng",
      "Trung tâm dịch vụ việc làm quá tải, chậm chi trả trợ cấp thất nghiệp"]),
]
FILLER = ["Thời tiết {n}: trời nắng, chiều tối có mưa rào", "Giá rau củ ở chợ đầu mối số {n} ổn định",
          "Hướng dẫn tra cứu quá trình đóng BHXH trên VssID, bài {n}", "Giải bóng đá phong trào, vòng {n}"]


class Feed:
    def __init__(self, key: str):
        self.key, self.items, self.lock = key, [], threading.Lock()
        self.served_at: dict[str, float] = {}  # guid -> first time the server handed it out

    def add(self, title: str, summary: str) -> str:
        with self.lock:
            guid = f"https://{self.key}.bench.invalid/{len(self.items) + 1}.html"
            self.items.append((guid, title, summary, datetime.now(timezone.utc)))
            return guid

    def reply(self, _request) -> Reply:
        with self.lock:
            now = time.monotonic()
            for guid, *_ in self.items:
                self.served_at.setdefault(guid, now)
            body = "".join(f"<item><title>{escape(t)}</title><link>{g}</link><guid>{g}</guid>"
                           f"<pubDate>{format_datetime(p)}</pubDate><description>{escape(s)}</description></item>"
                           for g, t, s, p in self.items)
        return Reply(body=(f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{self.key}'
                           f"</title>{body}</channel></rss>").encode())


def start_service(tmp: Path, db_url: str, feeds_yaml: Path, smtp_port: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BHXH_")} | {
        "BHXH_DATA_DIR": str(tmp / "data"), "BHXH_DATABASE_URL": db_url, "BHXH_FEEDS": str(feeds_yaml),
        "BHXH_WEB_PORT": str(port), "BHXH_SMTP_HOST": "127.0.0.1", "BHXH_SMTP_PORT": str(smtp_port),
        "BHXH_PIPELINE_INTERVAL_S": "2", "BHXH_OUTBOX_INTERVAL_S": "0.5", "BHXH_ADMIN_PASSWORD": PASSWORD,
        "BHXH_LOG_LEVEL": "WARNING"}
    log = open(tmp / f"service-{port}.log", "wb")
    proc = subprocess.Popen([str(BIN), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"bench_service: service exited: {(tmp / f'service-{port}.log').read_text()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("bench_service: service did not become healthy")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_feeds_yaml(path: Path, server: FeedServer, feeds: list[Feed], interval: str) -> None:
    sources = "\n".join(f"  - {{name: 'Báo {f.key}', url: '{server.url('/' + f.key + '.xml')}', interval: {interval}}}"
                        for f in feeds)
    path.write_text(f"""allow_private_addresses: true
collect: {{default_interval: {interval}, min_interval: 1s}}
keywords: {{include: [bảo hiểm xã hội, BHXH, VssID]}}
alerts: {{recipients: [bench@bhxh.example.vn], group_wait: 0s, min_interval_per_ticket: 1m}}
digest: {{recipients: []}}
sources:
{sources}
""", encoding="utf-8")


def wait(check, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"bench_service: condition not met within {seconds}s")


def latency_and_throughput(tmp: Path, args) -> dict:
    feeds = [Feed(f"f{i}") for i in range(args.feeds)]
    poll_s = 2.0
    with FeedServer() as server, SmtpServer() as smtp:
        for feed in feeds:
            server.add_handler(f"/{feed.key}.xml", feed.reply)
        yaml_path = tmp / "feeds-latency.yaml"
        write_feeds_yaml(yaml_path, server, feeds, f"{poll_s:g}s")
        db_url = f"sqlite:///{tmp / 'latency.db'}"
        proc, _url = start_service(tmp, db_url, yaml_path, smtp.port)
        engine = db.make_engine(db_url).execution_options(sqlite_begin="DEFERRED")
        sessions = db.session_factory(engine)

        def count(stmt) -> int:
            with sessions() as session:
                return session.scalar(stmt) or 0

        try:
            latencies, since_append = [], []
            for burst in range(args.bursts):
                summary, titles = BURSTS[burst % len(BURSTS)]
                mails_before = len(smtp.received)
                appended = time.monotonic()
                guids = [feeds[i % 3].add(title, summary) for i, title in enumerate(titles)]
                arrived = wait(lambda: len(smtp.received) > mails_before, 120)
                # The ticket opens once enough of the burst's items are in; count from when the last
                # item served before the mail arrived was handed out by the feed server.
                served = max(t for i, g in enumerate(guids)
                             if (t := feeds[i % 3].served_at.get(g)) is not None and t <= arrived)
                latencies.append(arrived - served)
                since_append.append(arrived - appended)
            # Throughput: every feed gets feed_items new items at once.
            total_before = count(select(func.count()).select_from(Item))
            started = time.monotonic()
            for feed in feeds:
                for n in range(args.feed_items):
                    feed.add(FILLER[n % len(FILLER)].format(n=f"{feed.key}-{n}"), "Nội dung tin tức tổng hợp trong ngày.")
            expected = total_before + args.feeds * args.feed_items
            wait(lambda: count(select(func.count()).select_from(Item).where(Item.detected_at.is_not(None))) >= expected, 600)
            elapsed = time.monotonic() - started
        finally:
            stop(proc)
            engine.dispose()
    n = args.feeds * args.feed_items
    latencies.sort()
    return {"alert_latency_s_after_poll": [round(x, 2) for x in latencies],
            "alert_latency_median_s": round(latencies[len(latencies) // 2], 2),
            "alert_since_item_appeared_s": [round(x, 2) for x in since_append],
            "poll_interval_s": poll_s,
            "pipeline_items": n, "pipeline_seconds": round(elapsed, 1),
            "pipeline_items_per_s": round(n / elapsed, 1),
            "pipeline_note": "includes waiting for the next poll (up to one interval) and pipeline runs"}


def memory(tmp: Path, args) -> dict:
    from benchmarks.bench_web import populate

    results = {}
    for label, n_items in (("empty", 0), ("large", args.items)):
        db_url = f"sqlite:///{tmp / f'memory-{label}.db'}"
        engine = db.make_engine(db_url)
        db.upgrade(engine)
        now = datetime.now(timezone.utc)
        if n_items:
            populate(db.session_factory(engine), n_items, now)
            with engine.begin() as conn:  # stored and already processed, as in a long-running service
                conn.execute(update(Item).values(classified_at=now, detected_at=now))
        engine.dispose()
        yaml_path = tmp / "feeds-memory.yaml"
        yaml_path.write_text("allow_private_addresses: true\ndigest: {recipients: []}\nsources: []\n", encoding="utf-8")
        with SmtpServer() as smtp:
            proc, url = start_service(tmp, db_url, yaml_path, smtp.port)
            try:
                # An empty database gets the service's first admin; bench_web's data brings its own user.
                user = ("bench", "mat-khau-do-hieu-nang") if n_items else ("admin", PASSWORD)
                with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as client:
                    page = client.get("/login").text
                    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
                    client.post("/login", data={"username": user[0], "password": user[1], "csrf_token": token})
                    for _ in range(3):
                        for path in ("/", "/review", "/review?page=20", "/search?q=bao+hiem", "/tickets",
                                     "/dashboard/chart.png"):
                            client.get(path)
                time.sleep(3)  # let a pipeline and an outbox run happen
                results[label] = round(peak_rss_mib(proc.pid), 1)
            finally:
                stop(proc)
    return {"peak_rss_mib_empty_db": results["empty"], f"peak_rss_mib_{args.items}_items": results["large"],
            "rss_ratio_large_to_empty": round(results["large"] / results["empty"], 2)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="bench_service")
    parser.add_argument("--items", type=int, default=100_000, help="stored items for the memory figure")
    parser.add_argument("--bursts", type=int, default=3, help="alert latency samples")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--feed-items", type=int, default=50, help="new items per feed for items/s")
    parser.add_argument("--workdir", type=Path, help="keep databases and logs here (default: a temporary folder)")
    parser.add_argument("--only", choices=["latency", "memory"], help="run one part")
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-service-") as folder:
        tmp = args.workdir or Path(folder)
        tmp.mkdir(parents=True, exist_ok=True)
        figures = {}
        if args.only in (None, "latency"):
            figures |= latency_and_throughput(tmp, args)
        if args.only in (None, "memory"):
            figures |= memory(tmp, args)
    for key, value in figures.items():
        print(f"  {key}: {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
