"""Crisis detection end to end on synthetic streams (our own Vietnamese text): a calm stream opens
nothing; a burst opens exactly one ticket within one replay step of the item completing a rule; later items update
it; an unrelated burst opens a second; a known false claim gets the misinformation playbook and a
higher severity than a routine complaint of the same volume. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from alerts.replay import STEP, replay
from crisis_streams import (COMPLAINT_BURST, DEBT_BURST, OUTAGE_BURST, RUMOUR_BURST, START, KeywordClassifier,
                            burst, calm)
from crisis_streams import record as record_
from monitor.config import FeedsConfig
from monitor.models import Notification, Ticket, TicketEvent
from monitor.settings import Settings

CONFIG = FeedsConfig.model_validate({"alerts": {"recipients": ["truyenthong@bhxh.example.vn"]}})


def _run(sessions, records):
    return replay(records, sessions, CONFIG, KeywordClassifier(), Settings())


def test_calm_stream_opens_no_ticket(any_sessions):
    assert _run(any_sessions, calm(days=7)) == []


def test_one_burst_one_ticket_then_updates_then_a_second_story(any_sessions):
    background = calm(days=6)
    t_burst = START + timedelta(days=3, hours=2)
    debt = burst(DEBT_BURST[:3], t_burst, 10_000)
    later = burst(DEBT_BURST[3:], t_burst + timedelta(hours=20), 10_100, every=timedelta(hours=1))
    outage = burst(OUTAGE_BURST, t_burst + timedelta(days=1, hours=5), 10_200)
    result = _run(any_sessions, background + debt + later + outage)

    assert len(result) == 2
    first, second = result
    # Detection delay: at most one replay step after the item that completes the earliest rule.
    completing = datetime.fromisoformat(debt[CONFIG.detection.sustained_items - 1]["published"])
    opened = datetime.fromisoformat(first["opened_at"])
    assert completing <= opened <= completing + STEP
    assert first["category"] == "contribution_debt_evasion"
    assert {r["id"] for r in debt + later} <= set(first["item_ids"])
    assert second["category"] == "service_it_outage"
    assert {r["id"] for r in outage} <= set(second["item_ids"])
    assert not set(first["item_ids"]) & set(second["item_ids"])
    assert set(result[0]) == {"id", "opened_at", "severity", "category", "stage", "title", "item_ids", "steps"}
    with any_sessions() as session:
        events = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == first["id"])).all()
        assert events.count("opened") == 1 and "item_added" in events
        ticket = session.get(Ticket, first["id"])
        assert "2 tin tiêu cực hoặc sai lệch từ 2 cơ quan báo chí" in ticket.reason
        assert "Tin tiêu biểu" in ticket.reason
        kinds = session.scalars(select(Notification.kind).where(Notification.ticket_id == first["id"])).all()
        assert kinds, "the ticket's alert should be queued in the replay outbox"


def test_known_false_claim_gets_misinformation_playbook_and_higher_severity(any_sessions):
    t = START + timedelta(days=2, hours=3)
    records = calm(days=4) + burst(RUMOUR_BURST, t, 20_000) + burst(COMPLAINT_BURST, t + timedelta(days=1), 20_100)
    result = _run(any_sessions, records)
    by_category = {r["category"]: r for r in result}
    assert set(by_category) == {"misinformation", "payment_delay"}
    rumour, complaint = by_category["misinformation"], by_category["payment_delay"]
    assert rumour["severity"] > complaint["severity"]
    assert any("đính chính" in step for step in rumour["steps"])
    assert any("Luật Bảo hiểm xã hội 2024" in step for step in rumour["steps"])
    assert not any("đính chính" in step for step in complaint["steps"])
    with any_sessions() as session:
        ticket = session.get(Ticket, rumour["id"])
        assert ticket.rumour_id is not None
        assert "Tin đồn đã biết" in ticket.reason


def test_flare_up_reopens_the_ticket_in_monitoring(any_sessions):
    from alerts.tickets import change_state

    t = START + timedelta(days=1)
    first = _run(any_sessions, calm(days=2) + burst(DEBT_BURST[:3], t, 30_000))
    assert len(first) == 1
    with any_sessions.begin() as session:
        ticket = session.get(Ticket, first[0]["id"])
        change_state(session, ticket, "acknowledged", actor="lan", now=t + timedelta(hours=1))
        change_state(session, ticket, "responding", actor="lan", now=t + timedelta(hours=2))
        change_state(session, ticket, "monitoring", actor="lan", now=t + timedelta(hours=20))
    flare = [dict(r, title=r["title"] + " (tiếp)") for r in burst(DEBT_BURST[2:], t + timedelta(hours=30), 30_100)]
    second = _run(any_sessions, flare)
    assert [r["id"] for r in second] == [first[0]["id"]]
    assert second[0]["stage"] == "new"
    with any_sessions() as session:
        ticket = session.get(Ticket, first[0]["id"])
        assert ticket.reopened_count == 1 and ticket.acknowledged_at is None
        assert [e.kind for e in ticket.events].count("reopened") == 1


def test_story_back_after_the_story_window_links_to_its_earlier_ticket(any_sessions):
    t = START + timedelta(days=1)
    again = burst(["Công ty may Hòa Phát vẫn chưa trả nợ bảo hiểm xã hội cho công nhân sau một tuần",
                   "Công nhân may Hòa Phát tiếp tục bức xúc vì nợ BHXH chưa được giải quyết"],
                  t + timedelta(days=6), 40_100)
    result = _run(any_sessions, burst(DEBT_BURST[:2], t, 40_000) + again)
    assert len(result) == 2
    with any_sessions() as session:
        later = session.get(Ticket, result[1]["id"])
        assert later.previous_ticket_id == result[0]["id"]
        assert f"Liên quan đến phiếu #{result[0]['id']}" in later.reason


def test_copies_grouped_by_the_store_join_the_existing_story(any_sessions):
    headline = "Kế toán bảo hiểm xã hội huyện Hòa Bình tham ô 5 tỷ đồng bị bắt"
    digest = (f"Điểm tin sáng: Giá vàng tăng mạnh phiên đầu tuần | Mưa lớn gây ngập nhiều tuyến phố nội thành | "
              f"Đội tuyển bóng đá giành chiến thắng trận giao hữu | Khai mạc hội chợ hàng Việt | {headline}")
    t = START + timedelta(days=1)
    records = [
        record_(1, t, headline, "Báo Lao Động"),
        record_(2, t + timedelta(hours=3), digest, "Báo Dân Trí"),
        record_(3, t + timedelta(hours=3, minutes=5), digest, "Báo Dân Trí - Thời sự"),
    ]
    from crisis_streams import KeywordClassifier as Base

    class Classifier(Base):
        def predict(self, recs):
            out = super().predict(recs)
            for p in out:
                if p.relevant:
                    p.sentiment, p.category = "negative", "official_misconduct"
            return out

    tickets = replay(records, any_sessions, CONFIG, Classifier(), Settings())
    assert len(tickets) == 1
    assert set(tickets[0]["item_ids"]) == {"syn-1", "syn-2", "syn-3"}


def test_items_matching_one_known_rumour_are_one_story_and_one_ticket(any_sessions):
    # Worded far apart (a forum post without dấu, a report, the official denial): only the registry
    # match says they are one story.
    titles = ["nghe noi bhxh mot lan sap bi bai bo, ai dang dong rut het di ko mat trang",
              "Lan truyền tin BHXH một lần bị bãi bỏ khiến nhiều công nhân hoang mang",
              "Cơ quan BHXH bác bỏ tin đồn bãi bỏ BHXH một lần, quy định vẫn giữ nguyên"]
    t = START + timedelta(days=2, hours=3)
    result = _run(any_sessions, calm(days=4) + burst(titles, t, 30_000, every=timedelta(hours=2)))
    assert len(result) == 1
    assert result[0]["category"] == "misinformation"
    assert {"syn-30000", "syn-30001", "syn-30002"} <= set(result[0]["item_ids"])
