"""Weekly digest and yearly report: figures from rows written here, rendering, the empty week,
idempotent enqueueing, and delivery through a real SMTP server with the chart inline."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerts import outbox, periods
from alerts.digest import build_digest, enqueue_digest, render_digest
from alerts.report import build_report, render_report
from mail_helpers import SmtpServer, add_item, add_source, add_story, add_ticket
from monitor import db
from monitor.config import FeedsConfig
from monitor.models import Notification, Review, Rumour
from monitor.settings import Settings

UTC = timezone.utc
MONDAY_8 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội, W48
W47 = datetime(2026, 11, 17, 3, 0, tzinfo=UTC)  # Tuesday of W47, 10:00 local
W46 = W47 - timedelta(weeks=1)
CONFIG = FeedsConfig.model_validate({
    "digest": {"recipients": ["lanh-dao@bhxh.example.vn", "truyen-thong@bhxh.example.vn"], "weeks_in_chart": 8},
    "campaigns": [{"name": "Tháng vận động BHXH", "start": "2026-05-01", "end": "2026-05-31", "recurring": True},
                  {"name": "Tuần lễ BHYT cuối năm", "start": "2026-11-16", "end": "2026-11-18"}],
})


def test_iso_weeks_are_local_weeks():
    week = periods.parse_week("2026-W48")
    assert week.start == datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Monday 00:00 at UTC+7
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert periods.previous_week(MONDAY_8).label == "2026-W47"
    # Sunday 23:30 local is still that week, though it is Sunday 16:30 UTC.
    assert periods.previous_week(datetime(2026, 11, 29, 16, 30, tzinfo=UTC)).label == "2026-W47"
    assert periods.parse_week("2027-W01").first_day == date(2027, 1, 4)
    with pytest.raises(ValueError, match="^periods: no such ISO week"):
        periods.parse_week("2026-W54")
    with pytest.raises(ValueError, match="^periods: not an ISO week"):
        periods.parse_week("48/2026")


def seed(sessions) -> None:
    """W47: 6 relevant (3 negative, 2 neutral, 1 positive; 2 misleading), 1 irrelevant; W46: 2 relevant."""
    with db.transaction(sessions) as s:
        lao_dong, vnexpress, facebook = (add_source(s, n) for n in ("Báo Lao Động", "VnExpress", "Nhóm <b>Hưu trí</b>"))
        rumour = Rumour(key="rut-bhxh-1-lan", claim="Sắp bỏ rút BHXH một lần từ tháng 12",
                        fact="Luật BHXH 2024 vẫn cho phép rút một lần trong một số trường hợp.")
        s.add(rumour)
        s.flush()
        story = add_story(s, "Chậm chi trả lương hưu ở Nghệ An", W47)
        for n, source in enumerate((lao_dong, vnexpress, lao_dong)):
            add_item(s, source, f"Người về hưu chờ lương tháng 11, phản ánh số {n + 1}", W47 + timedelta(hours=n), story=story)
        scam = add_item(s, facebook, "Tin đồn <script>bỏ rút BHXH một lần</script>", W47 + timedelta(days=1),
                        sentiment="neutral", misleading=True, category="misinformation")
        scam.classifications[0].rumour_id = rumour.id
        add_item(s, facebook, "Sắp bỏ rút BHXH một lần, nhanh tay rút ngay", W47 + timedelta(days=2),
                 sentiment="neutral", misleading=True, category="misinformation").classifications[0].rumour_id = rumour.id
        add_item(s, vnexpress, "BHXH Việt Nam chi trả đúng hạn cho 3 triệu người", W47 + timedelta(days=3), sentiment="positive")
        add_item(s, vnexpress, "Giá vàng hôm nay", W47, relevant=False, sentiment="neutral", category="not_relevant")
        reviewed = add_item(s, vnexpress, "Tin cũ đã được rà soát", W46, sentiment="negative")
        add_item(s, lao_dong, "Hướng dẫn tra cứu quá trình đóng BHXH", W46 + timedelta(hours=5), sentiment="positive")
        s.flush()
        s.add(Review(item_id=reviewed.id, reviewer="can-bo", at=W46 + timedelta(days=1), before={}, after={"sentiment": "negative"}))
        ticket = add_ticket(s, story, "Chậm chi trả lương hưu ở Nghệ An", W47 + timedelta(hours=2))
        ticket.acknowledged_at = ticket.opened_at + timedelta(minutes=40)
        closed = add_ticket(s, None, "Lừa đảo cài ứng dụng VssID giả", W46, category="fraud_scam_impersonation", state="closed")
        closed.acknowledged_at = W46 + timedelta(minutes=20)
        closed.resolved_at = closed.closed_at = W47 + timedelta(hours=1)


def test_digest_figures_for_a_week(any_sessions):
    seed(any_sessions)
    with any_sessions() as session:
        digest = build_digest(session, CONFIG, week=None, now=MONDAY_8)
    assert digest.week.label == "2026-W47" and not digest.empty
    cur, prev = digest.current, digest.previous
    assert (cur.relevant, cur.sentiment, cur.misleading, cur.outlets) == (
        6, {"negative": 3, "neutral": 2, "positive": 1}, 2, 3)
    assert (prev.relevant, prev.sentiment["negative"], digest.change()) == (2, 1, 4)
    assert (cur.tickets_opened, cur.tickets_closed) == (1, 1)
    assert cur.median_ack == timedelta(minutes=40)  # the W46 ticket was acknowledged in W46
    assert cur.median_resolve == timedelta(days=7, hours=1)
    assert [label for label, _ in digest.trend][-2:] == ["2026-W46", "2026-W47"] and len(digest.trend) == 8
    assert digest.top_negative == [("Chậm chi trả lương hưu ở Nghệ An", 3, 3, 2)]
    assert digest.misleading[0][:3] == ("Sắp bỏ rút BHXH một lần từ tháng 12", 2, 1)
    assert digest.outlets == [("Báo Lao Động", 2, 2), ("Nhóm <b>Hưu trí</b>", 2, 0), ("VnExpress", 2, 1)]
    # Waiting for review: relevant-or-flagged without a Review row (the irrelevant one and the reviewed one are not).
    assert digest.waiting_count == 7
    # The November campaign (16–18/11) against 13–15/11.
    (campaign,) = digest.campaigns
    assert (campaign.name, campaign.during.first_day, campaign.baseline.first_day) == (
        "Tuần lễ BHYT cuối năm", date(2026, 11, 16), date(2026, 11, 13))
    assert (campaign.during_figures.relevant, campaign.baseline_figures.relevant) == (4, 0)


def test_digest_rendering_is_vietnamese_and_escaped(any_sessions):
    seed(any_sessions)
    with any_sessions() as session:
        subject, text, html, images = render_digest(build_digest(session, CONFIG, week="2026-W47", now=MONDAY_8))
    assert subject == "[BHXH] Bản tin tuần 47 (16/11–22/11/2026): 6 tin liên quan, tiêu cực 50%"
    assert "Tin liên quan: 6 (+4 so với tuần trước: 2)" in text
    assert "Thời gian tiếp nhận (trung vị): 40 phút" in text
    assert 'Chiến dịch "Tuần lễ BHYT cuối năm" (16/11–18/11/2026)' in text
    assert "Nhóm &lt;b&gt;Hưu trí&lt;/b&gt;" in html and "<b>Hưu trí" not in html
    assert len(images) == 1 and images[0]["mime"] == "image/png"
    assert f'src="cid:{images[0]["cid"]}"' in html


def test_a_week_without_data_says_so(any_sessions):
    with any_sessions() as session:
        digest = build_digest(session, CONFIG, week="2026-W10", now=MONDAY_8)
    subject, text, html, images = render_digest(digest)
    assert digest.empty and images == []
    assert subject == "[BHXH] Bản tin tuần 10 (02/03–08/03/2026): không có dữ liệu"
    assert "Tuần này không có dữ liệu" in text and "Tuần này không có dữ liệu" in html
    assert "cid:" not in html


def test_campaign_month_compared_with_the_days_before(any_sessions):
    with db.transaction(any_sessions) as s:
        source = add_source(s, "Cổng thông tin BHXH")
        for day in (3, 5, 7):
            add_item(s, source, f"Tháng vận động BHXH: người dân tham gia ngày {day}/5",
                     datetime(2026, 5, day, 2, tzinfo=UTC), sentiment="positive")
        add_item(s, source, "Phản ánh chậm cấp sổ BHXH", datetime(2026, 4, 25, 2, tzinfo=UTC))
    with any_sessions() as session:
        digest = build_digest(session, CONFIG, week="2026-W19", now=datetime(2026, 5, 11, 1, tzinfo=UTC))
    (campaign,) = digest.campaigns
    assert (campaign.during.first_day, campaign.during.last_day) == (date(2026, 5, 1), date(2026, 5, 10))
    assert (campaign.baseline.first_day, campaign.baseline.last_day) == (date(2026, 4, 21), date(2026, 4, 30))
    assert (campaign.during_figures.relevant, campaign.baseline_figures.relevant) == (3, 1)
    assert campaign.share_change("positive") == pytest.approx(100.0)


def test_enqueue_is_idempotent_per_week_and_arrives_with_inline_chart(any_sessions):
    seed(any_sessions)
    with SmtpServer() as server:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=server.port, mail_from="BHXH <bantin@bhxh.example.vn>")
        for _ in range(2):  # the Monday job runs twice
            with db.transaction(any_sessions) as session:
                enqueue_digest(session, CONFIG, settings, week=None, now=MONDAY_8)
        with any_sessions() as session:
            rows = session.scalars(select(Notification)).all()
        assert [r.dedup_key for r in rows] == ["digest:2026-W47"]
        assert outbox.deliver_due(any_sessions, settings, now=MONDAY_8, worker_id="w").sent == 1
    (got,) = server.received
    assert sorted(got.rcpt_tos) == ["lanh-dao@bhxh.example.vn", "truyen-thong@bhxh.example.vn"]
    msg = got.message()
    assert msg["Subject"].startswith("[BHXH] Bản tin tuần 47 (16/11–22/11/2026)")
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html_part, image = related.get_payload()
    assert "Số lượng và sắc thái" in html_part.get_content()
    assert image.get_content_type() == "image/png" and image.get_content().startswith(b"\x89PNG\r\n")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html_part.get_content()
    assert "Sắp bỏ rút BHXH một lần từ tháng 12" in plain.get_content()


def test_yearly_report_by_month(any_sessions):
    seed(any_sessions)
    with any_sessions() as session:
        report = build_report(session, CONFIG, year=2026, now=datetime(2026, 11, 25, tzinfo=UTC))
        empty = build_report(session, CONFIG, year=2025, now=datetime(2026, 11, 25, tzinfo=UTC))
    november = dict((p.label, f) for p, f in report.months)["11/2026"]
    assert (report.total.relevant, november.relevant, november.tickets_opened) == (8, 8, 2)
    assert [c.name for c in report.campaigns] == ["Tháng vận động BHXH", "Tuần lễ BHYT cuối năm"]
    html = render_report(report)
    assert "Báo cáo truyền thông về BHXH năm 2026" in html and "data:image/png;base64," in html
    assert "<td>11/2026</td><td>8</td>" in html
    assert "Nhóm &lt;b&gt;Hưu trí&lt;/b&gt;" in html
    assert "Năm 2025 không có dữ liệu" in render_report(empty)


def test_yearly_report_as_pdf(any_sessions):
    pytest.importorskip("weasyprint", reason="the optional 'pdf' extra is not installed")
    from alerts.report import render_pdf

    seed(any_sessions)
    with any_sessions() as session:
        html = render_report(build_report(session, CONFIG, year=2026, now=datetime(2026, 11, 25, tzinfo=UTC)))
    pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf  # the embedded chart was drawn


@pytest.mark.parametrize("cron, error", [
    ("0 8 * * 1", "must be a name"),
    ("0 8 * * 1-5", "must be a name"),
    ("0 25 * * mon", "not a crontab expression"),
    ("0 8 * *", "not a crontab expression"),
])
def test_digest_cron_is_checked(cron, error):
    with pytest.raises(ValueError, match=error):
        FeedsConfig.model_validate({"digest": {"cron": cron}})


def test_digest_trigger_fires_monday_8_in_hanoi():
    from alerts.digest import digest_trigger

    trigger = digest_trigger(FeedsConfig())
    sunday_evening = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)  # 19:00 Sunday in Hà Nội
    fire = trigger.get_next_fire_time(None, sunday_evening)
    assert fire.astimezone(UTC) == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Monday 08:00 at UTC+7
    assert periods.previous_week(fire).label == "2026-W48"
