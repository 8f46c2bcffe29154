"""Ticket alerts end to end: notify in the ticket's transaction, deliver over a real SMTP server on
loopback, parse what arrived. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerts import outbox
from alerts.notify import notify_ticket_change
from mail_helpers import SmtpServer, add_item, add_source, add_story, add_ticket, free_port
from monitor import db
from monitor.config import FeedsConfig
from monitor.models import Notification, Ticket
from monitor.settings import Settings

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 09:00 in Hà Nội
CONFIG = FeedsConfig.model_validate({
    "alerts": {
        "recipients": ["truc-ban@bhxh.example.vn"],
        "routes": [
            {"match": {"severity_gte": 3}, "to": ["giam-doc@bhxh.example.vn"]},
            {"match": {"categories": ["fraud_scam_impersonation"]}, "to": ["cntt@bhxh.example.vn"]},
        ],
        "escalation_recipients": ["van-phong@bhxh.example.vn"],
        "min_interval_per_ticket": "30m",
        "group_wait": "30s",
    }
})
HOSTILE = 'Lương hưu chậm <script>alert("x")</script> & "nợ" <b>đóng</b>'


def settings_for(port: int) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_s=5,
                    mail_from="Cảnh báo BHXH <canhbao@bhxh.example.vn>", base_url="https://giamsat.bhxh.example.vn")


def open_ticket(sessions, *, severity=3, category="payment_delay", settings=None, now=T0) -> int:
    """A story of three negative items from two outlets, and its ticket, notified in one transaction."""
    settings = settings or settings_for(25)
    with db.transaction(sessions) as session:
        a, b = add_source(session, "Báo Lao Động"), add_source(session, 'Kênh <i>"Tin nhanh"</i>')
        story = add_story(session, "Chậm chi trả lương hưu tại Nghệ An", now, category)
        add_item(session, a, HOSTILE, now - timedelta(hours=1), story=story, summary="Nhiều người về hưu phản ánh chờ đợi <img src=x onerror=alert(1)>",
                 reasons=["chậm chi trả", "<b>khiếu nại</b>"])
        add_item(session, b, "Người về hưu ở Vinh chờ lương ba tháng", now - timedelta(hours=2), story=story,
                 url="javascript:alert(1)", misleading=True)
        add_item(session, a, "BHXH tỉnh giải thích nguyên nhân chậm chi trả", now - timedelta(hours=3), story=story,
                 sentiment="neutral")
        ticket = add_ticket(session, story, "Chậm chi trả lương hưu tại Nghệ An", now, severity=severity, category=category)
        notify_ticket_change(session, ticket, "ticket_opened", config=CONFIG, settings=settings, now=now)
        return ticket.id


def test_alert_arrives_with_routes_both_parts_and_escaped_feed_text(any_sessions):
    with SmtpServer() as server:
        settings = settings_for(server.port)
        ticket_id = open_ticket(any_sessions, settings=settings)
        # group_wait: nothing is due during the first 30 s.
        early = outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(seconds=29), worker_id="w1")
        assert (early.sent, server.received) == (0, [])
        result = outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(seconds=30), worker_id="w1")
        assert (result.sent, result.failed) == (1, 0)
    assert len(server.received) == 1
    got = server.received[0]
    assert got.mail_from == "canhbao@bhxh.example.vn"
    assert got.message()["From"] == "Cảnh báo BHXH <canhbao@bhxh.example.vn>"
    assert sorted(got.rcpt_tos) == ["giam-doc@bhxh.example.vn", "truc-ban@bhxh.example.vn"]
    msg = got.message()
    assert msg["Subject"] == "[BHXH][Cao] Phiếu khủng hoảng mới: Chậm chi trả lương hưu tại Nghệ An"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Hạn phản hồi" in body and "13:00 23/11/2026" in body  # 02:00 UTC + 4 h, shown at UTC+7
        assert f"https://giamsat.bhxh.example.vn/tickets/{ticket_id}" in body
        assert "Chậm chi trả chế độ" in body and "Xác minh thông tin với phòng chế độ" in body
        # Only the current phase's steps: the ticket is new, so "prevent", not "handle".
        assert "Dự báo, phòng ngừa" in body and "Đăng thông cáo báo chí" not in body
    assert "3 tin từ 2 nguồn" in text and "Tiêu cực: 67%; sai lệch: 33%" in text
    assert HOSTILE in text  # plain text carries the words as they were
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img src=x" not in html and "&lt;b&gt;khiếu nại&lt;/b&gt;" in html
    assert "javascript:" not in html and "&lt;i&gt;&#34;Tin nhanh&#34;&lt;/i&gt;" in html
    with any_sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert row.sent_at == T0 + timedelta(seconds=30) and row.attempts == 1
        assert msg["Message-ID"] == row.message_id
        assert session.get(Ticket, ticket_id).last_notified_at == T0 + timedelta(seconds=30)


def test_changes_within_the_interval_fold_into_one_mail(any_sessions):
    settings = settings_for(25)
    ticket_id = open_ticket(any_sessions, severity=2, category="fraud_scam_impersonation", settings=settings)
    with db.transaction(any_sessions) as session:
        ticket = session.get(Ticket, ticket_id)
        ticket.severity = 3
        notify_ticket_change(session, ticket, "severity_raised", config=CONFIG, settings=settings,
                             now=T0 + timedelta(seconds=10))
    with any_sessions() as session:
        rows = session.scalars(select(Notification)).all()
    assert len(rows) == 1
    row = rows[0]
    assert row.changes == ["ticket_opened", "severity_raised"] and row.kind == "ticket_opened"
    assert row.recipients == ["truc-ban@bhxh.example.vn", "cntt@bhxh.example.vn", "giam-doc@bhxh.example.vn"]
    assert "Mức độ: Cao (3/4)" in row.body_text and "Tăng mức độ" in row.body_text
    assert row.not_before == T0 + timedelta(seconds=30)

    with SmtpServer() as server:
        settings = settings_for(server.port)
        assert outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(minutes=1), worker_id="w").sent == 1
        # Escalated 5 min after the first mail went: a second mail, held until 30 min after the first.
        with db.transaction(any_sessions) as session:
            ticket = session.get(Ticket, ticket_id)
            second = notify_ticket_change(session, ticket, "escalated", config=CONFIG, settings=settings,
                                          now=T0 + timedelta(minutes=6))
            assert second.not_before == T0 + timedelta(minutes=31)
            first_id = row.message_id
            assert second.message_id != first_id
        assert outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(minutes=30), worker_id="w").sent == 0
        assert outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(minutes=31), worker_id="w").sent == 1
    assert [r.message()["Message-ID"] for r in server.received] == [first_id, second.message_id]
    assert "van-phong@bhxh.example.vn" in server.received[1].rcpt_tos
    assert server.received[1].message()["Subject"].startswith("[BHXH][Cao] Quá hạn, chuyển cấp trên:")


def test_smtp_down_keeps_the_mail_queued_until_it_returns(any_sessions):
    port = free_port()  # nothing listens here yet
    settings = settings_for(port)
    open_ticket(any_sessions, settings=settings)
    due = T0 + timedelta(minutes=1)
    failed = outbox.deliver_due(any_sessions, settings, now=due, worker_id="w", rand=random.Random(1))
    assert (failed.sent, failed.failed) == (0, 1) and "cannot connect" in failed.errors[0]
    with any_sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert row.sent_at is None and row.attempts == 1 and row.claimed_until is None
        assert row.last_error.startswith("smtp: cannot connect")
        retry_at = row.next_attempt_at
    assert due + timedelta(seconds=22) <= retry_at <= due + timedelta(seconds=30)
    with SmtpServer(port) as server:
        # Not before its retry time, then delivered.
        assert outbox.deliver_due(any_sessions, settings, now=retry_at - timedelta(seconds=1), worker_id="w").sent == 0
        assert outbox.deliver_due(any_sessions, settings, now=retry_at, worker_id="w").sent == 1
        assert outbox.deliver_due(any_sessions, settings, now=retry_at + timedelta(hours=1), worker_id="w").sent == 0
    assert len(server.received) == 1
    with any_sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert (row.attempts, row.sent_at, row.last_error) == (2, retry_at, None)


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(any_sessions):
    open_ticket(any_sessions)
    now = T0 + timedelta(minutes=1)
    lease = timedelta(minutes=5)
    first = outbox.claim_next(any_sessions, now=now, worker_id="a", lease=lease)
    assert first is not None and first.claimed_by == "a"
    assert outbox.claim_next(any_sessions, now=now + timedelta(minutes=4), worker_id="b", lease=lease) is None
    again = outbox.claim_next(any_sessions, now=now + lease + timedelta(seconds=1), worker_id="b", lease=lease)
    assert again is not None and (again.id, again.claimed_by, again.attempts) == (first.id, "b", 2)


def test_a_rolled_back_ticket_change_leaves_no_mail(any_sessions):
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with db.transaction(any_sessions) as session:
            story = add_story(session, "Giả danh cán bộ BHXH gọi điện", T0, "fraud_scam_impersonation")
            ticket = add_ticket(session, story, "Giả danh cán bộ BHXH gọi điện", T0, category="fraud_scam_impersonation")
            assert notify_ticket_change(session, ticket, "ticket_opened", config=CONFIG, settings=settings_for(25), now=T0)
            raise Boom
    with any_sessions() as session:
        assert session.scalars(select(Notification)).all() == []


def test_no_route_means_no_row(any_sessions):
    quiet = FeedsConfig.model_validate({"alerts": {"routes": [{"match": {"severity_gte": 4}, "to": ["gd@bhxh.example.vn"]}]}})
    with db.transaction(any_sessions) as session:
        ticket = add_ticket(session, None, "Tin đồn nhỏ", T0, severity=1)
        assert notify_ticket_change(session, ticket, "ticket_opened", config=quiet, settings=settings_for(25), now=T0) is None
        ticket.severity = 4
        row = notify_ticket_change(session, ticket, "severity_raised", config=quiet, settings=settings_for(25), now=T0)
        assert row.recipients == ["gd@bhxh.example.vn"]


def test_concurrent_senders_send_each_row_once(any_sessions):
    import threading

    with SmtpServer() as server:
        settings = settings_for(server.port)
        with db.transaction(any_sessions) as session:
            for n in range(12):
                ticket = add_ticket(session, None, f"Phiếu thử số {n}", T0, key=f"k{n}")
                notify_ticket_change(session, ticket, "ticket_opened", config=CONFIG, settings=settings, now=T0)
        results = []
        workers = [threading.Thread(target=lambda w=w: results.append(
            outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(minutes=1), worker_id=f"w{w}")))
            for w in range(3)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(60)
    ids = [r.message()["Message-ID"] for r in server.received]
    assert len(ids) == 12 == len(set(ids))
    assert sum(r.sent for r in results) == 12 and all(r.failed == 0 for r in results)


def test_a_long_batch_claims_each_row_at_the_clock_time(any_sessions):
    with SmtpServer() as server:
        settings = settings_for(server.port)
        with db.transaction(any_sessions) as session:
            for n in range(3):
                ticket = add_ticket(session, None, f"Phiếu chậm số {n}", T0, key=f"slow{n}")
                notify_ticket_change(session, ticket, "ticket_opened", config=CONFIG, settings=settings, now=T0)
        ticks = iter([T0 + timedelta(minutes=10), T0 + timedelta(minutes=20), T0 + timedelta(minutes=30)])
        result = outbox.deliver_due(any_sessions, settings, now=T0 + timedelta(minutes=1), worker_id="w",
                                    clock=lambda: next(ticks))
    assert result.sent == 3
    with any_sessions() as session:
        sent = sorted(r.sent_at for r in session.scalars(select(Notification)))
    assert sent == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)]
