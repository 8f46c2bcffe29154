"""End to end: the real ``bhxh-monitor serve`` process, a real feed server and a real SMTP server on
loopback, on SQLite and on PostgreSQL.

New feed items are collected and classified, a burst opens one ticket, its alert email arrives and
the review page shows the items. Then the process is SIGKILLed while one source's response is still
trickling in, restarted, and checked: no item lost, no duplicate item, ticket or email.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
from sqlalchemy import func, select

from monitor import db
from monitor.models import Classification, Item, Notification, Ticket
from feedserver import FeedServer, Reply
from mail_helpers import SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).with_name("bhxh-monitor")
PASSWORD = "mat-khau-e2e-2026"

CALM = [
    ("Hướng dẫn tra cứu thời gian đóng bảo hiểm xã hội trên điện thoại",
     "Người lao động có thể xem quá trình đóng BHXH của mình trên ứng dụng VssID chỉ với vài thao tác."),
    ("Giá rau xanh tăng nhẹ sau đợt mưa lớn", "Nhiều chợ dân sinh ghi nhận giá rau tăng do nguồn cung giảm."),
    ("Đội bóng địa phương thắng trận thứ ba liên tiếp", "Các cầu thủ thi đấu tự tin trước khán giả nhà."),
]
BURST = [
    ("Công ty giày Minh Khang nợ BHXH 6 tỷ đồng, 900 công nhân mất quyền lợi",
     "Doanh nghiệp chậm đóng bảo hiểm xã hội 11 tháng khiến công nhân không được hưởng chế độ thai sản, ốm đau."),
    ("Hàng trăm công nhân Minh Khang bức xúc vì công ty nợ đóng bảo hiểm xã hội",
     "Tiền BHXH bị trừ vào lương nhưng doanh nghiệp không nộp, người lao động nghỉ việc không chốt được sổ."),
    ("Nợ BHXH kéo dài, công nhân giày Minh Khang không thể hưởng trợ cấp thất nghiệp",
     "Công ty nợ đóng bảo hiểm xã hội, bảo hiểm thất nghiệp nhiều tháng, người lao động bị từ chối giải quyết chế độ."),
    ("Công nhân Minh Khang tập trung đòi doanh nghiệp trả nợ bảo hiểm xã hội",
     "Sáng nay nhiều công nhân ngừng việc vì công ty trốn đóng BHXH cho người lao động suốt gần một năm."),
]
LATER = [
    ("Vụ công ty Minh Khang nợ bảo hiểm xã hội: người lao động mòn mỏi chờ",
     "Doanh nghiệp vẫn chưa trả nợ BHXH, nhiều lao động nữ sinh con không được hưởng thai sản."),
    ("Thanh tra vào cuộc vụ công ty Minh Khang chậm đóng BHXH",
     "Cơ quan chức năng kiểm tra việc doanh nghiệp nợ đóng bảo hiểm xã hội kéo dài của hàng trăm công nhân."),
]


@dataclass
class Outlet:
    """One feed whose items the test changes while the service polls it."""

    key: str
    items: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # guid, title, summary, published

    def add(self, title: str, summary: str, published: datetime) -> str:
        guid = f"https://{self.key}.e2e.invalid/{len(self.items) + 1}.html"
        self.items.append((guid, title, summary, published))
        return guid

    def rss(self) -> bytes:
        entries = "".join(
            f"<item><title>{escape(t)}</title><link>{g}</link><guid>{g}</guid>"
            f"<pubDate>{format_datetime(p)}</pubDate><description>{escape(s)}</description></item>"
            for g, t, s, p in self.items)
        return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{self.key}</title>'
                f"<link>https://{self.key}.e2e.invalid/</link>{entries}</channel></rss>").encode()


def _feeds_yaml(path: Path, server: FeedServer, outlets: list[Outlet]) -> None:
    sources = "\n".join(f"  - {{name: Báo {o.key}, url: '{server.url('/' + o.key + '.xml')}', interval: 2s, tags: [national]}}"
                        for o in outlets)
    path.write_text(f"""
allow_private_addresses: true
collect: {{default_interval: 2s, min_interval: 1s, timeout: 30s}}
keywords:
  include: [bảo hiểm xã hội, BHXH, bảo hiểm thất nghiệp, VssID]
alerts:
  recipients: [truyenthong@bhxh-e2e.example.vn]
  routes:
    - match: {{categories: [contribution_debt_evasion]}}
      to: [thanhtra@bhxh-e2e.example.vn]
  group_wait: 0s
  min_interval_per_ticket: 1m
digest: {{recipients: []}}
sources:
{sources}
""", encoding="utf-8")


class Service:
    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.proc: subprocess.Popen | None = None
        self.url = f"http://127.0.0.1:{env['BHXH_WEB_PORT']}"

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen([str(BIN), "serve"], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: self._healthy(), 90, "service /healthz", self)

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"service exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/healthz", timeout=2).json().get("scheduler") == "running"
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode if self.proc else 0


def wait_for(check, seconds: float, what: str, service: Service | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    log = service.log.read_text()[-4000:] if service else ""
    raise AssertionError(f"timed out after {seconds}s waiting for {what}\n{log}")


def _count(sessions, stmt) -> int:
    with sessions() as session:
        return session.scalar(stmt) or 0


def _login(client: httpx.Client) -> None:
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303), response.text[:500]


def test_service_end_to_end_survives_sigkill(any_db_url, tmp_path):
    now = datetime.now(timezone.utc)
    fast = [Outlet("a"), Outlet("b"), Outlet("c")]
    slow = Outlet("cham")
    for outlet, (title, summary) in zip(fast, CALM):
        outlet.add(title, summary, now - timedelta(hours=5))
    slow.add("Lịch chi trả lương hưu tháng này tại các điểm bưu điện",
             "Cơ quan bảo hiểm xã hội thông báo lịch chi trả lương hưu và trợ cấp hằng tháng.", now - timedelta(hours=4))
    trickle = {"on": False}

    with FeedServer() as server, SmtpServer() as smtp:
        for outlet in fast:
            server.add_handler(f"/{outlet.key}.xml", lambda req, o=outlet: Reply(body=o.rss()))
        server.add_handler("/cham.xml", lambda req: Reply(body=slow.rss(), chunk_size=64, chunk_delay=0.25)
                           if trickle["on"] else Reply(body=slow.rss()))
        feeds = tmp_path / "feeds.yaml"
        _feeds_yaml(feeds, server, fast + [slow])
        env = {k: v for k, v in os.environ.items() if not k.startswith("BHXH_")} | {
            "BHXH_DATA_DIR": str(tmp_path / "data"), "BHXH_DATABASE_URL": any_db_url, "BHXH_FEEDS": str(feeds),
            "BHXH_WEB_PORT": str(free_port()), "BHXH_SMTP_HOST": "127.0.0.1", "BHXH_SMTP_PORT": str(smtp.port),
            "BHXH_PIPELINE_INTERVAL_S": "2", "BHXH_OUTBOX_INTERVAL_S": "1", "BHXH_ADMIN_PASSWORD": PASSWORD,
            "BHXH_LOG_LEVEL": "INFO"}
        service = Service(env, tmp_path / "service.log")
        engine = db.make_engine(any_db_url).execution_options(sqlite_begin="DEFERRED")
        sessions = db.session_factory(engine)
        try:
            service.start()
            # 1. Calm items are collected and classified; nothing opens a ticket.
            wait_for(lambda: _count(sessions, select(func.count()).select_from(Classification)) >= 4, 60,
                     "the calm items to be classified", service)
            assert _count(sessions, select(func.count()).select_from(Ticket)) == 0

            # 2. A burst of negative items about one story from three outlets opens one ticket and mails it.
            for outlet, (title, summary) in zip(fast + fast[:1], BURST):
                outlet.add(title, summary, datetime.now(timezone.utc) - timedelta(minutes=5))
            ticket_id = wait_for(lambda: _count(sessions, select(func.max(Ticket.id))), 90, "a ticket", service)
            wait_for(lambda: smtp.received, 60, "the alert email", service)
            alert = smtp.received[0].message()
            assert "Minh Khang" in alert["Subject"]
            assert set(smtp.received[0].rcpt_tos) == {"truyenthong@bhxh-e2e.example.vn", "thanhtra@bhxh-e2e.example.vn"}
            assert f"/tickets/{ticket_id}" in alert.get_body(("plain",)).get_content()

            # 3. The review page shows the items to a logged-in officer.
            with httpx.Client(base_url=service.url, follow_redirects=True, timeout=20) as client:
                _login(client)
                page = client.get("/review").text
                assert "Minh Khang" in page

            # 4. SIGKILL while one source's answer is still trickling in, with new items on the others.
            for outlet, (title, summary) in zip(fast, LATER):
                outlet.add(title, summary, datetime.now(timezone.utc) - timedelta(minutes=2))
            slow.add("Công nhân Minh Khang được hướng dẫn thủ tục chốt sổ BHXH",
                     "Cơ quan bảo hiểm xã hội hướng dẫn người lao động các bước chốt sổ khi doanh nghiệp còn nợ.",
                     datetime.now(timezone.utc) - timedelta(minutes=1))
            trickle["on"] = True
            hits = server.hits["/cham.xml"]
            wait_for(lambda: server.hits["/cham.xml"] > hits, 30, "a poll of the trickling source", service)
            time.sleep(1.0)  # mid-response: the body takes about 8 s to trickle in
            service.kill()
            trickle["on"] = False

            # 5. Restart: everything served is stored exactly once, one ticket, no email twice.
            service.start()
            served = {guid for outlet in fast + [slow] for guid, *_ in outlet.items}
            wait_for(lambda: _count(sessions, select(func.count()).select_from(Item)) == len(served), 90,
                     "every served item to be stored", service)
            wait_for(lambda: _count(sessions, select(func.count()).select_from(Item).where(Item.classified_at.is_(None))) == 0,
                     60, "every item to be classified", service)
            wait_for(lambda: _count(sessions, select(func.count()).select_from(Notification)
                                    .where(Notification.sent_at.is_(None))) == 0, 60, "the outbox to drain", service)
            time.sleep(3)  # a few more collection, pipeline and outbox cycles after the restart
            with sessions() as session:
                stored = session.scalars(select(Item.guid)).all()
                assert sorted(stored) == sorted(served)  # none lost, none twice
                tickets = session.scalars(select(Ticket)).all()
                assert len(tickets) == 1 and len({t.group_key for t in tickets}) == 1
                burst_guids = {g for o in fast for g, t, *_ in o.items if "Minh Khang" in t}
                assert {i.guid for i in tickets[0].story.items} >= burst_guids
                sent_rows = session.scalar(select(func.count()).select_from(Notification).where(Notification.sent_at.is_not(None)))
            ids = Counter(m.message()["Message-ID"] for m in smtp.received)
            assert all(n == 1 for n in ids.values()), ids
            assert len(smtp.received) == sent_rows
            assert service.stop() == 0 or service.proc.returncode in (-signal.SIGTERM, 0)
        finally:
            if service.proc and service.proc.poll() is None:
                service.proc.kill()
            engine.dispose()
