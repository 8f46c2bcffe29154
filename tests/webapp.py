"""Test helper: a seeded database and the web app served by a real uvicorn on a free loopback port.

    with running_app(tmp_path) as web:      # web.url, web.sessions, web.seed (ids), web.settings
        ...

Reusable by any test that needs the page up (the end-to-end test of the service included).
All seed text is written for these tests, in Vietnamese.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from classifiers.text import fold
from monitor import db
from monitor.models import Classification, Item, ModelRun, Rumour, Source, Story, Ticket, TicketEvent
from monitor.settings import Settings
from monitor.users import create_user

REVIEWER = ("canbo", "mat-khau-can-bo-1")
ADMIN = ("quantri", "mat-khau-quan-tri-1")
NOW = datetime.now(timezone.utc).replace(microsecond=0)

XSS_TITLE = '<script>window.__xss=1;alert("xss-title")</script> Tin giả về <img src=x onerror="alert(1)"> bảo hiểm'
XSS_SUMMARY = ('<img src=x onerror="window.__xss=2"><a href="javascript:alert(3)">Bấm vào đây</a> '
               '<svg onload="alert(4)"></svg> để nhận tiền bảo hiểm xã hội một lần')
XSS_URL = "javascript:alert(5)"

# (title, summary, sentiment, relevant, misleading, category)
ARTICLES = [
    ("Chậm chi trả trợ cấp thất nghiệp tại Bình Dương", "Hàng trăm lao động phản ánh chưa nhận được trợ cấp thất nghiệp sau ba tháng.", "negative", True, False, "payment_delay"),
    ("Doanh nghiệp nợ đóng bảo hiểm xã hội hơn 10 tỷ đồng", "Cơ quan bảo hiểm xã hội đã lập biên bản và chuyển hồ sơ sang thanh tra.", "negative", True, False, "contribution_debt_evasion"),
    ("Cảnh báo giả danh cán bộ BHXH gọi điện lừa đảo", "Đối tượng yêu cầu người dân cài ứng dụng lạ để cập nhật sổ bảo hiểm.", "negative", True, False, "fraud_scam_impersonation"),
    ("Tin đồn rút BHXH một lần bị cấm từ tháng sau", "Mạng xã hội lan truyền thông tin sai sự thật về việc cấm rút bảo hiểm xã hội một lần.", "negative", True, True, "misinformation"),
    ("Ứng dụng VssID gián đoạn trong buổi sáng", "Nhiều người dùng không đăng nhập được ứng dụng VssID, cơ quan BHXH đang khắc phục.", "negative", True, False, "service_it_outage"),
    ("Mức hưởng lương hưu mới từ tháng 7", "Hướng dẫn cách tính lương hưu theo quy định mới của Luật Bảo hiểm xã hội.", "neutral", True, False, "policy_info"),
    ("Thủ tục hưởng chế độ thai sản cho lao động nữ", "Bảo hiểm xã hội hướng dẫn hồ sơ hưởng chế độ thai sản nhanh gọn.", "neutral", True, False, "benefit_info"),
    ("Tỷ lệ bao phủ bảo hiểm y tế đạt 93%", "Ngành bảo hiểm xã hội hoàn thành vượt chỉ tiêu bao phủ bảo hiểm y tế.", "positive", True, False, "positive_result"),
    ("Tranh luận về đề xuất giảm thời gian đóng để hưởng lương hưu", "Nhiều ý kiến trái chiều về đề xuất giảm số năm đóng bảo hiểm xã hội.", "negative", True, False, "policy_change_controversy"),
    ("Giá vàng hôm nay tăng mạnh", "Giá vàng miếng trong nước tăng theo giá thế giới.", "neutral", False, False, "not_relevant"),
    ("Đội tuyển bóng đá Việt Nam tập huấn tại Hàn Quốc", "Ban huấn luyện triệu tập 30 cầu thủ cho đợt tập huấn.", "positive", False, False, "not_relevant"),
    ("Cán bộ bảo hiểm xã hội huyện bị điều tra vì trục lợi quỹ", "Cơ quan công an khởi tố vụ án lập hồ sơ khống để rút tiền quỹ ốm đau.", "negative", True, False, "official_misconduct"),
    ("Người dân xếp hàng dài chờ đổi thẻ bảo hiểm y tế", "Điểm tiếp nhận quá tải vào đầu tuần.", "negative", True, False, "service_it_outage"),
    ("Hướng dẫn tra cứu quá trình đóng BHXH trên điện thoại", "Chỉ cần ứng dụng VssID và số định danh cá nhân.", "positive", True, False, "benefit_info"),
    ("Thời tiết Hà Nội chuyển rét", "Không khí lạnh tăng cường, nhiệt độ giảm sâu.", "neutral", False, False, "not_relevant"),
    ("Lao động tự do tham gia bảo hiểm xã hội tự nguyện tăng", "Số người tham gia bảo hiểm xã hội tự nguyện tăng 20% so với cùng kỳ.", "positive", True, False, "positive_result"),
    ("Bức xúc vì bị từ chối thanh toán bảo hiểm y tế", "Bệnh nhân phản ánh bệnh viện từ chối thanh toán thuốc ngoài danh mục.", "negative", True, False, "payment_delay"),
    ("Thông tin sai về việc bỏ sổ bảo hiểm xã hội giấy", "Một số trang mạng đăng tin người dân phải nộp lại sổ giấy trước cuối năm.", "negative", True, True, "misinformation"),
    ("Chợ hoa Tết nhộn nhịp", "Người dân đổ về chợ hoa mua sắm.", "positive", False, False, "not_relevant"),
    ("Bảo hiểm thất nghiệp hỗ trợ học nghề cho người lao động", "Người hưởng trợ cấp thất nghiệp được hỗ trợ chi phí học nghề.", "neutral", True, False, "benefit_info"),
    ("Ngân hàng điều chỉnh lãi suất tiết kiệm", "Lãi suất kỳ hạn 12 tháng giảm nhẹ.", "neutral", False, False, "not_relevant"),
    ("Chậm trả lương hưu do lỗi hệ thống ngân hàng", "Hàng nghìn người hưu trí nhận lương hưu muộn hai ngày.", "negative", True, False, "payment_delay"),
    ("Tuyên truyền chính sách bảo hiểm xã hội tại vùng cao", "Cán bộ bảo hiểm xã hội đến từng bản hướng dẫn người dân.", "positive", True, False, "policy_info"),
    ("Giả mạo trang web bảo hiểm xã hội để thu thập thông tin", "Trang web giả có giao diện giống cổng thông tin chính thức.", "negative", True, True, "fraud_scam_impersonation"),
]


@dataclass
class Seed:
    item_ids: list[int] = field(default_factory=list)
    xss_item_id: int = 0
    ticket_id: int = 0
    second_ticket_id: int = 0
    rumour_id: int = 0
    story_id: int = 0
    source_ids: list[int] = field(default_factory=list)


def _item(source: Source, n: int, title: str, summary: str, url: str, published_at: datetime) -> Item:
    return Item(source=source, guid=f"guid-{n}", url=url, canonical_url=url if url.startswith("http") else None,
                title=title, summary=summary, published_at=published_at, fetched_at=published_at,
                content_hash=hashlib.sha256(f"{title}{n}".encode()).hexdigest(),
                search_text=fold(f"{title} {summary}"), passed_prefilter=True, classified_at=published_at)


def _classification(item: Item, n: int, sentiment: str, relevant: bool, misleading: bool, category: str,
                    rumour: Rumour | None = None) -> Classification:
    return Classification(item=item, model_version="test-1", relevant=relevant, relevance=0.9 if relevant else 0.1,
                          sentiment=sentiment, sentiment_scores={sentiment: 0.7}, misleading=misleading,
                          misleading_score=0.8 if misleading else 0.1, category=category,
                          reasons=[f"từ khóa: {fold(category)}", "nguồn tin uy tín"],
                          rumour_id=rumour.id if rumour else None,
                          rumour_similarity=0.82 if rumour else None,
                          uncertainty=round(0.03 * (n % 17) + 0.01, 3), created_at=item.published_at)


def seed(sessions: sessionmaker[Session], now: datetime = NOW) -> Seed:
    """Users, three sources, the articles above plus one hostile item, a story, two tickets and a
    known rumour. Returns the ids tests need."""
    out = Seed()
    with sessions.begin() as session:
        create_user(session, *REVIEWER, role="reviewer", display_name="Nguyễn Thị Hương")
        create_user(session, *ADMIN, role="admin", display_name="Trần Văn Đức")
        sources = [Source(name=name, kind="rss", url=f"https://{host}/rss.xml", last_success_at=now - timedelta(minutes=m),
                          last_attempt_at=now, consecutive_failures=fails, last_error=err)
                   for name, host, m, fails, err in [
                       ("Báo Lao Động", "laodong.example.vn", 5, 0, None),
                       ("Tuổi Trẻ - Xã hội", "tuoitre.example.vn", 12, 0, None),
                       ("Diễn đàn Người lao động", "diendan.example.vn", 600, 4, "fetch: HTTP 503 từ máy chủ")]]
        session.add_all(sources)
        rumour = Rumour(key="cam-rut-bhxh-mot-lan", claim="Từ tháng sau người lao động bị cấm rút BHXH một lần",
                        variants=["không được rút bảo hiểm xã hội một lần nữa"],
                        fact="Luật BHXH vẫn cho phép hưởng BHXH một lần trong các trường hợp luật định.",
                        correction_url="https://baohiemxahoi.example.vn/dinh-chinh", correction_date="2026-11-01",
                        category="misinformation", updated_by="system")
        session.add(rumour)
        session.flush()
        story = Story(title="Tin đồn cấm rút bảo hiểm xã hội một lần", category="misinformation",
                      first_seen_at=now - timedelta(hours=30), last_seen_at=now - timedelta(hours=1),
                      item_count=3, outlet_count=2, relevant_count=3, negative_count=3, misleading_count=2)
        session.add(story)
        session.flush()
        items = []
        for n, (title, summary, sentiment, relevant, misleading, category) in enumerate(ARTICLES):
            item = _item(sources[n % 3], n, title, summary, f"https://{sources[n % 3].url.split('/')[2]}/bai-{n}.html",
                         now - timedelta(hours=2 * n + 1, days=n % 9))
            matched = rumour if category == "misinformation" and n == 3 else None
            if n in (3, 17):
                item.story = story
            session.add(_classification(item, n, sentiment, relevant, misleading, category, matched))
            items.append(item)
        hostile = _item(sources[2], 999, XSS_TITLE, XSS_SUMMARY, XSS_URL, now - timedelta(minutes=30))
        hostile.story = story
        session.add(_classification(hostile, 999, "negative", True, True, "misinformation", rumour))
        items.append(hostile)
        ticket = Ticket(group_key=f"story:{story.id}", story=story, state="new", severity=3, category="misinformation",
                        title="Tin đồn cấm rút BHXH một lần lan rộng",
                        reason="12 tin tiêu cực trong 2 giờ từ 3 nguồn; khớp tin đồn đã biết",
                        rumour_id=rumour.id, opened_at=now - timedelta(hours=2), deadline_at=now + timedelta(hours=2),
                        steps=[{"stage": "Dự báo", "text": "Xác minh nguồn tin và mức độ lan truyền", "done": False},
                               {"stage": "Xử lý", "text": "Soạn thông cáo đính chính gửi báo chí", "done": False},
                               {"stage": "Khôi phục", "text": "Theo dõi phản hồi trong 72 giờ", "done": False}])
        ticket.events.append(TicketEvent(at=now - timedelta(hours=2), actor="system", kind="opened", to_state="new"))
        other = Ticket(group_key="story:khac", state="acknowledged", severity=2, category="service_it_outage",
                       title="VssID gián đoạn, người dùng phàn nàn", reason="Tăng đột biến tin tiêu cực về VssID",
                       opened_at=now - timedelta(hours=5), deadline_at=now - timedelta(hours=1),
                       acknowledged_at=now - timedelta(hours=4), steps=[])
        session.add_all([ticket, other])
        session.add(ModelRun(version="test-1", trained_at=now - timedelta(days=3), examples=1200, reviews_used=0))
        session.flush()
        out.item_ids = [i.id for i in items[:-1]]
        out.xss_item_id = hostile.id
        out.ticket_id, out.second_ticket_id = ticket.id, other.id
        out.rumour_id, out.story_id = rumour.id, story.id
        out.source_ids = [s.id for s in sources]
    return out


@dataclass
class WebApp:
    url: str
    sessions: sessionmaker[Session]
    settings: Settings
    seed: Seed
    app: object


def free_socket() -> socket.socket:
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on such sockets (else a 40 ms delayed-ACK stall).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    sock = free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("webapp: uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def build(tmp_path: Path, url: str | None = None, *, with_seed: bool = True):
    """(app, sessions, settings, seed) on a migrated database (SQLite in ``tmp_path`` by default)."""
    from monitor.web.app import create_app

    settings = Settings(data_dir=tmp_path / "data", database_url=url or f"sqlite:///{tmp_path / 'web.db'}",
                        _env_file=None)
    engine = db.make_engine(settings.resolved_database_url())
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    seeded = seed(sessions) if with_seed else Seed()
    return create_app(settings, sessions, None), sessions, settings, seeded


@contextlib.contextmanager
def running_app(tmp_path: Path, url: str | None = None) -> Iterator[WebApp]:
    app, sessions, settings, seeded = build(tmp_path, url)
    try:
        with serve(app) as base:
            yield WebApp(base, sessions, settings, seeded, app)
    finally:
        sessions.kw["bind"].dispose()
