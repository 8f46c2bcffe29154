"""Web page without a browser (Starlette TestClient): login gate, session cookie, CSRF, security
headers, review storage, ticket changes, search folding, exports, rumours, retraining rights."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
import time
import types
from html import escape

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from starlette.testclient import TestClient

from monitor.models import AuditLog, Classification, Item, Review, Rumour, Ticket, TicketEvent, User
from monitor.settings import Settings
from monitor.web.render import plain, safe_url
from monitor.web.security import safe_next, session_secret

from webapp import ADMIN, REVIEWER, XSS_TITLE, build

PAGES = ["/", "/review", "/tickets", "/tickets/1", "/search", "/rumours", "/rumours/1", "/rumours/new",
         "/model", "/audit", "/users", "/dashboard/chart.png", "/search/export.csv", "/search/export.xlsx"]


@pytest.fixture
def web(tmp_path):
    app, sessions, settings, seed = build(tmp_path)
    client = TestClient(app, base_url="http://127.0.0.1")
    client.sessions, client.seed = sessions, seed
    yield client
    sessions.kw["bind"].dispose()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login(client, who=REVIEWER) -> str:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": who[0], "password": who[1], "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/review").text)


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_pages_redirect_to_login(web, path):
    response = web.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_anonymous_post_is_refused(web):
    response = web.post(f"/review/{web.seed.item_ids[0]}", data={"relevant": "1"}, follow_redirects=False)
    assert response.status_code == 403
    with web.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0


def test_security_headers_on_pages_and_static_files(web):
    for path in ("/login", "/static/app.js"):
        headers = web.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]


def test_unhandled_error_answers_500_in_vietnamese_with_security_headers(web):
    def boom():
        raise RuntimeError("boom from a page")

    web.app.add_api_route("/boom", boom)
    client = TestClient(web.app, base_url="http://127.0.0.1", raise_server_exceptions=False)
    login(client)
    response = client.get("/boom")
    assert response.status_code == 500
    assert "Lỗi máy chủ" in response.text and "boom from a page" not in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    login(web)
    with pytest.raises(RuntimeError, match="boom from a page"):  # still reaches the server's log
        web.get("/boom")


def test_login_sets_a_hardened_session_cookie_and_rejects_bad_passwords(web):
    token = csrf_of(web.get("/login").text)
    bad = web.post("/login", data={"username": REVIEWER[0], "password": "sai-mat-khau", "csrf_token": token})
    assert bad.status_code == 400 and "Sai tên đăng nhập hoặc mật khẩu" in bad.text
    good = web.post("/login", data={"username": REVIEWER[0], "password": REVIEWER[1], "csrf_token": token},
                    follow_redirects=False)
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert web.get("/review").status_code == 200


def test_login_needs_csrf_token_and_next_stays_local(web):
    refused = web.post("/login", data={"username": REVIEWER[0], "password": REVIEWER[1]}, follow_redirects=False)
    assert refused.status_code == 403
    token = csrf_of(web.get("/login").text)
    response = web.post("/login", data={"username": REVIEWER[0], "password": REVIEWER[1], "csrf_token": token,
                                        "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_secure_cookie_when_configured(tmp_path):
    app, sessions, settings, _ = build(tmp_path)
    settings.secure_cookies = True
    from monitor.web.app import create_app

    client = TestClient(create_app(settings, sessions), base_url="https://127.0.0.1")
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": REVIEWER[0], "password": REVIEWER[1], "csrf_token": token},
                           follow_redirects=False)
    assert "secure" in response.headers["set-cookie"].lower()
    sessions.kw["bind"].dispose()


def test_secret_key_is_generated_once_with_private_mode(tmp_path):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    first = session_secret(settings)
    assert session_secret(settings) == first and len(first) >= 32
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    assert session_secret(Settings(data_dir=tmp_path, secret_key="x" * 40, _env_file=None)) == "x" * 40


def test_review_requires_the_session_csrf_token(web):
    token = login(web)
    item = web.seed.item_ids[0]
    form = {"relevant": "1", "sentiment": "negative", "category": "payment_delay"}
    assert web.post(f"/review/{item}", data=form).status_code == 403
    assert web.post(f"/review/{item}", data={**form, "csrf_token": "sai"}).status_code == 403
    assert web.post(f"/review/{item}", data=form, headers={"x-csrf-token": token + "x"}).status_code == 403
    with web.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 0
    ok = web.post(f"/review/{item}", data={**form, "csrf_token": token}, headers={"accept": "application/json"})
    assert ok.status_code == 200 and ok.json()["ok"]


def test_review_stores_before_after_reviewer_and_audit(web):
    token = login(web)
    item = web.seed.item_ids[0]  # model: relevant, negative, not misleading, payment_delay
    response = web.post(f"/review/{item}", headers={"accept": "application/json", "x-csrf-token": token},
                        data={"relevant": "1", "sentiment": "neutral", "misleading": "1", "category": "payment_delay"})
    assert sorted(response.json()["changed"]) == ["misleading", "sentiment"]
    with web.sessions() as session:
        review = session.scalars(select(Review)).one()
        assert (review.item_id, review.reviewer, review.trained_in) == (item, REVIEWER[0], None)
        assert review.before == {"relevant": True, "sentiment": "negative", "misleading": False,
                                 "category": "payment_delay"}
        assert review.after == {"relevant": True, "sentiment": "neutral", "misleading": True,
                                "category": "payment_delay"}
        audit = session.scalars(select(AuditLog).where(AuditLog.target == f"item:{item}")).one()
        assert audit.action == "label_corrected" and audit.actor == REVIEWER[0]
        assert audit.detail["changed"] == ["misleading", "sentiment"]


def test_review_rejects_unknown_labels(web):
    token = login(web)
    response = web.post(f"/review/{web.seed.item_ids[0]}", data={
        "relevant": "1", "sentiment": "angry", "category": "payment_delay", "csrf_token": token})
    assert response.status_code == 400


def _queue_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-item="(\d+)"', html)]


def test_queue_puts_flagged_items_first_and_drops_reviewed_ones(web):
    token = login(web)
    ids = _queue_ids(web.get("/review").text)
    with web.sessions() as session:
        rows = {c.item_id: c for c in session.scalars(select(Classification))}
    flags = [rows[i].relevant and (rows[i].sentiment == "negative" or rows[i].misleading) for i in ids]
    assert flags == sorted(flags, reverse=True) and flags[0]
    flagged = [rows[i].uncertainty for i, f in zip(ids, flags) if f]
    assert flagged == sorted(flagged)
    web.post(f"/review/{ids[0]}", data={"relevant": "1", "sentiment": "negative", "category": "misinformation",
                                        "csrf_token": token})
    assert ids[0] not in _queue_ids(web.get("/review").text)


def test_queue_filters_by_sentiment_and_source(web):
    login(web)
    positive = _queue_ids(web.get("/review?sentiment=positive").text)
    with web.sessions() as session:
        want = {c.item_id for c in session.scalars(select(Classification).where(Classification.sentiment == "positive"))}
        assert positive and set(positive) == want
        source = web.seed.source_ids[1]
        by_source = _queue_ids(web.get(f"/review?source={source}").text)
        assert by_source and all(session.get(Item, i).source_id == source for i in by_source)


def test_hostile_feed_text_is_escaped_and_javascript_links_are_not_links(web):
    login(web)
    for path in ("/review", "/search?q=tin+gia", f"/tickets/{web.seed.ticket_id}"):
        html = web.get(path).text
        assert "<script>window.__xss" not in html and "onerror=" not in html.replace("onerror=&#34;", "")
        assert "&lt;script&gt;window.__xss" in html, path
        assert 'href="javascript:' not in html.lower()
        assert "<svg" not in html and "<img src=x" not in html


@pytest.mark.parametrize("url, expected", [
    ("https://baohiemxahoi.gov.vn/tin-tuc", True), ("http://a.vn/x?y=1", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), (" javascript:alert(1)", False),
    ("data:text/html,<script>", False), ("vbscript:x", False), ("//evil.example", False),
    ("https://", False), ("http://a.vn/\nx", False), ("", False), (None, False),
])
def test_safe_url_allows_only_http_and_https(url, expected):
    assert (safe_url(url) is not None) is expected


def test_plain_drops_tags_and_scripts():
    assert plain('<p>Bảo <b>hiểm</b></p><script>alert(1)</script>') == "Bảo hiểm"
    assert plain("a" * 50, 10) == "a" * 9 + "…"


@pytest.mark.parametrize("target, expected", [("/review?x=1", "/review?x=1"), ("//evil", "/"),
                                              ("https://evil", "/"), ("/\\evil", "/"), (None, "/")])
def test_safe_next(target, expected):
    assert safe_next(target) == expected


def test_search_ignores_diacritics_and_case(web):
    login(web)
    for query in ("bao hiem that nghiep", "BẢO HIỂM THẤT NGHIỆP", "bảo hiểm thất"):
        html = web.get("/search", params={"q": query}).text
        assert "Bảo hiểm thất nghiệp hỗ trợ học nghề" in html, query
        assert "Giá vàng hôm nay" not in html
    html = web.get("/search", params={"q": "vssid", "sentiment": "positive"}).text
    assert "Hướng dẫn tra cứu quá trình đóng BHXH" in html and "Ứng dụng VssID gián đoạn" not in html


def test_exports_carry_the_filtered_list(web):
    login(web)
    response = web.get("/search/export.csv", params={"q": "lương hưu"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    titles = {row[3] for row in rows[1:]}
    assert rows[0][3] == "Tiêu đề"
    assert titles == {"Mức hưởng lương hưu mới từ tháng 7", "Chậm trả lương hưu do lỗi hệ thống ngân hàng",
                      "Tranh luận về đề xuất giảm thời gian đóng để hưởng lương hưu"}
    book = load_workbook(io.BytesIO(web.get("/search/export.xlsx", params={"q": "lương hưu"}).content))
    sheet = book.active
    assert {sheet.cell(row=r, column=4).value for r in range(2, sheet.max_row + 1)} == titles


def test_export_neutralises_spreadsheet_formulas():
    from monitor.web.search_page import _cell

    assert _cell("=HYPERLINK(\"http://x\")").startswith("'=")
    assert _cell("-1+2") == "'-1+2" and _cell("Bảo hiểm") == "Bảo hiểm"


def test_ticket_lifecycle_is_recorded_and_audited(web):
    token = login(web)
    tid = web.seed.ticket_id
    for state in ("acknowledged", "closed"):
        response = web.post(f"/tickets/{tid}/state", data={"to_state": state, "csrf_token": token})
        assert response.status_code == 200
    bad = web.post(f"/tickets/{tid}/state", data={"to_state": "monitoring", "csrf_token": token})
    assert "Không thực hiện được" in bad.text
    web.post(f"/tickets/{tid}/notes", data={"text": "Đã gửi thông cáo cho báo chí", "csrf_token": token})
    with web.sessions() as session:
        ticket = session.get(Ticket, tid)
        assert ticket.state == "closed" and ticket.acknowledged_at and ticket.closed_at
        kinds = [(e.kind, e.to_state, e.actor) for e in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == tid).order_by(TicketEvent.id))]
        assert kinds[1:] == [("state_changed", "acknowledged", "canbo"), ("state_changed", "closed", "canbo"),
                             ("note", None, "canbo")]
        actions = session.scalars(select(AuditLog.action).where(AuditLog.target == f"ticket:{tid}")).all()
        assert actions == ["ticket_state", "ticket_state", "ticket_note"]


def test_ticket_checklist_step_toggles(web):
    token = login(web)
    tid = web.seed.ticket_id
    web.post(f"/tickets/{tid}/steps/1", data={"done": "1", "csrf_token": token})
    with web.sessions() as session:
        steps = session.get(Ticket, tid).steps
        assert [s["done"] for s in steps] == [False, True, False] and steps[1]["done_by"] == "canbo"


def test_rumour_add_edit_and_admin_only_retire(web):
    token = login(web)
    form = {"key": "rut-bhxh-qua-mang", "claim": "Có thể rút BHXH một lần qua mạng xã hội",
            "variants": "nhận tiền bảo hiểm qua Zalo\nrút sổ BHXH online", "fact": "Chỉ nộp hồ sơ qua Cổng dịch vụ công.",
            "correction_url": "javascript:alert(1)", "category": "fraud_scam_impersonation", "csrf_token": token}
    refused = web.post("/rumours", data=form)
    assert refused.status_code == 400 and "http://" in refused.text
    created = web.post("/rumours", data={**form, "correction_url": "https://dichvucong.example.vn"},
                       follow_redirects=False)
    rid = int(created.headers["location"].rsplit("/", 1)[1])
    web.post(f"/rumours/{rid}", data={**form, "correction_url": "", "claim": "Rút BHXH qua mạng xã hội"})
    assert web.post(f"/rumours/{rid}/active", data={"active": "0", "csrf_token": token}).status_code == 403
    with web.sessions() as session:
        rumour = session.get(Rumour, rid)
        assert rumour.claim == "Rút BHXH qua mạng xã hội" and rumour.variants == [
            "nhận tiền bảo hiểm qua Zalo", "rút sổ BHXH online"] and rumour.active
    web.post("/logout", data={"csrf_token": token})
    admin_token = login(web, ADMIN)
    web.post(f"/rumours/{rid}/active", data={"active": "0", "csrf_token": admin_token})
    with web.sessions() as session:
        assert not session.get(Rumour, rid).active
        actions = session.scalars(select(AuditLog.action).where(AuditLog.target == f"rumour:{rid}")
                                  .order_by(AuditLog.id)).all()
        assert actions == ["rumour_added", "rumour_edited", "rumour_retired"]


def test_rumour_page_lists_matched_items(web):
    login(web)
    html = web.get(f"/rumours/{web.seed.rumour_id}").text
    assert "Tin đồn rút BHXH một lần bị cấm từ tháng sau" in html
    assert "Tin khớp tin đồn (2)" in html


def test_retraining_is_admin_only_and_shows_untrained_reviews(web, monkeypatch):
    token = login(web)
    web.post(f"/review/{web.seed.item_ids[0]}", data={"relevant": "1", "sentiment": "negative",
                                                      "category": "payment_delay", "csrf_token": token})
    assert re.search(r'id="untrained">1<', web.get("/model").text)
    assert web.post("/model/retrain", data={"csrf_token": token}).status_code == 403
    web.post("/logout", data={"csrf_token": token})
    calls = []

    def fake_retrain(sessions, settings, *, corpus_paths=None, progress=None):
        calls.append(settings)
        return type("Run", (), {"version": "test-2"})()

    monkeypatch.setitem(sys.modules, "classifiers.train", types.SimpleNamespace(retrain=fake_retrain))
    admin_token = login(web, ADMIN)
    web.post("/model/retrain", data={"csrf_token": admin_token})
    status = web.app.state.retrain
    for _ in range(200):
        if status.state != "running":
            break
        time.sleep(0.01)
    assert calls and status.state == "done" and status.version == "test-2"
    assert "test-2" in web.get("/model").text


def test_dashboard_shows_backlog_tickets_and_feed_health(web):
    login(web)
    html = web.get("/").text
    assert "Diễn đàn Người lao động" in html and "Lỗi" in html
    backlog = re.search(r'href="/review">(\d+)<', html).group(1)
    assert int(backlog) == len(web.seed.item_ids) + 1
    chart = web.get("/dashboard/chart.png")
    assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"


def test_title_of_hostile_item_is_shown_verbatim(web):
    login(web)
    assert escape(XSS_TITLE, quote=False) in web.get("/review").text.replace("&#34;", '"').replace("&#39;", "'")


def test_pages_and_search_on_each_database(any_db_url, tmp_path):
    """The same queries on SQLite (FTS5) and PostgreSQL (tsvector): search folds, queue, dashboard."""
    app, sessions, _settings, seed = build(tmp_path, any_db_url)
    try:
        client = TestClient(app, base_url="http://127.0.0.1")
        token = login(client)
        html = client.get("/search", params={"q": "BAO HIEM THAT NGHIEP"}).text
        assert "Bảo hiểm thất nghiệp hỗ trợ học nghề" in html and "Giá vàng" not in html
        assert "Chậm chi trả trợ cấp thất nghiệp" not in html  # every word must match
        ids = _queue_ids(client.get("/review").text)
        assert len(ids) == 20
        client.post(f"/review/{ids[0]}", data={"relevant": "0", "sentiment": "neutral", "category": "not_relevant",
                                              "csrf_token": token})
        assert ids[0] not in _queue_ids(client.get("/review").text)
        dashboard = client.get("/").text
        assert int(re.search(r'href="/review">(\d+)<', dashboard).group(1)) == len(seed.item_ids)
        assert client.get("/dashboard/chart.png").content[:4] == b"\x89PNG"
        assert client.get(f"/rumours/{seed.rumour_id}").status_code == 200
    finally:
        sessions.kw["bind"].dispose()


def test_audit_log_page_is_for_admins_and_lists_corrections(web):
    token = login(web)
    web.post(f"/review/{web.seed.item_ids[1]}", data={"relevant": "0", "sentiment": "neutral",
                                                      "category": "not_relevant", "csrf_token": token})
    assert web.get("/audit").status_code == 403
    web.post("/logout", data={"csrf_token": token})
    login(web, ADMIN)
    html = web.get("/audit").text
    assert "Sửa nhãn" in html and f"item:{web.seed.item_ids[1]}" in html and "canbo" in html
    assert "đã sửa: chủ đề, liên quan, sắc thái" in html


def test_error_pages_keep_navigation_for_signed_in_officers(web):
    login(web)
    response = web.get("/tickets/999999", headers={"accept": "text/html"})
    assert response.status_code == 404 and "không tìm thấy phiếu" in response.text
    assert 'href="/review"' in response.text and "Nguyễn Thị Hương" in response.text


def test_admin_manages_users_and_a_disabled_officer_is_logged_out(web):
    reviewer = TestClient(web.app, base_url="http://127.0.0.1")
    login(reviewer)
    assert reviewer.get("/users").status_code == 403
    token = login(web, ADMIN)
    short = web.post("/users", data={"username": "lan", "password": "ngan", "role": "reviewer", "csrf_token": token})
    assert short.status_code == 400 and "8" in short.text
    web.post("/users", data={"username": "lan", "display_name": "Phạm Thị Lan", "password": "mat-khau-cua-lan",
                             "role": "reviewer", "csrf_token": token})
    with web.sessions() as session:
        lan = session.scalar(select(User).where(User.username == "lan"))
        canbo = session.scalar(select(User).where(User.username == REVIEWER[0]))
        me = session.scalar(select(User).where(User.username == ADMIN[0]))
    assert lan.role == "reviewer" and lan.password_hash.startswith("$argon2id$")
    web.post(f"/users/{canbo.id}", data={"role": "reviewer", "active": "0", "csrf_token": token})
    assert reviewer.get("/review", follow_redirects=False).headers["location"] == "/login"
    assert web.post(f"/users/{me.id}", data={"role": "reviewer", "active": "1", "csrf_token": token}).status_code == 400
    html = web.get("/audit").text
    assert "Đổi vai trò, trạng thái người dùng" in html and "user:lan" in html
