"""The weekly sentiment digest: figures for one ISO week (pure data), Vietnamese text/HTML with an
inline chart, and an idempotent outbox row per week.

``build_digest`` reads; ``render_digest`` is pure; ``enqueue_digest`` writes one outbox row keyed by
the week, so a Monday job that runs twice (or after a restart) still sends one digest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import periods, stats
from alerts.campaigns import CampaignComparison, compare_campaigns
from alerts.chart import sentiment_chart
from alerts.message import inline_image, make_message_id
from alerts.periods import Period
from alerts.templating import render
from monitor.config import FeedsConfig
from monitor.errors import ConfigError
from monitor.models import Notification
from monitor.settings import Settings

log = logging.getLogger(__name__)
CHART_CID = "xu-huong@bhxh-monitor"


@dataclass
class Digest:
    week: Period
    now: datetime
    current: stats.Figures
    previous: stats.Figures
    trend: list[tuple[str, stats.Figures]]
    top_negative: list[tuple[str, int, int, int]] = field(default_factory=list)
    misleading: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    outlets: list[tuple[str, int, int]] = field(default_factory=list)
    waiting_count: int = 0
    waiting_oldest: list[tuple[str, str, datetime]] = field(default_factory=list)
    campaigns: list[CampaignComparison] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.current.empty

    def change(self, sentiment: str | None = None) -> int:
        """Items this week minus last week (all relevant, or one sentiment)."""
        if sentiment is None:
            return self.current.relevant - self.previous.relevant
        return self.current.sentiment[sentiment] - self.previous.sentiment[sentiment]


def build_digest(session: Session, config: FeedsConfig, *, week: str | None, now: datetime) -> Digest:
    """Figures for ``week`` (ISO, e.g. ``2026-W48``; default: the last complete week before ``now``)."""
    period = periods.parse_week(week) if week else periods.previous_week(now)
    weeks = [periods.shift_weeks(period, -n) for n in range(config.digest.weeks_in_chart - 1, -1, -1)]
    campaign_pairs = _campaign_windows(config, period)
    start = min([weeks[0].start, periods.shift_weeks(period, -1).start]
                + [baseline.start for _, baseline in campaign_pairs])
    items = stats.load_items(session, start, period.end)
    tickets = stats.load_tickets(session, start, period.end)
    waiting_count, waiting_oldest = stats.waiting_for_review(session, min(now, period.end))
    return Digest(
        week=period, now=now,
        current=stats.figures(items, tickets, period),
        previous=stats.figures(items, tickets, periods.shift_weeks(period, -1)),
        trend=[(w.label, stats.figures(items, tickets, w)) for w in weeks],
        top_negative=stats.top_negative_stories(session, items, period),
        misleading=stats.misleading_claims(items, period),
        outlets=stats.busiest_outlets(items, period),
        waiting_count=waiting_count, waiting_oldest=waiting_oldest,
        campaigns=compare_campaigns(campaign_pairs, items, tickets),
    )


def _campaign_windows(config: FeedsConfig, week: Period) -> list[tuple[Period, Period]]:
    """(campaign so far, same-length period before it) for each campaign overlapping ``week``."""
    pairs = []
    for campaign in config.campaigns:
        for year in {week.first_day.year, week.last_day.year}:
            window = periods.campaign_window(campaign, year)
            if window and window.overlaps(week):
                so_far = Period(window.label, window.start, min(window.end, week.end))
                pairs.append((so_far, periods.before(so_far)))
    return pairs


def render_digest(digest: Digest) -> tuple[str, str, str, list[dict]]:
    """(subject, plain text, HTML, inline images)."""
    week_no = digest.week.label.split("-W")[1].lstrip("0")
    span = f"{digest.week.first_day:%d/%m}–{digest.week.last_day:%d/%m/%Y}"
    if digest.empty:
        subject = f"[BHXH] Bản tin tuần {week_no} ({span}): không có dữ liệu"
    else:
        negative = digest.current.share("negative") or 0
        subject = (f"[BHXH] Bản tin tuần {week_no} ({span}): {digest.current.relevant} tin liên quan, "
                   f"tiêu cực {negative * 100:.0f}%")
    images = []
    has_trend = any(f.relevant for _, f in digest.trend)
    if has_trend:
        png = sentiment_chart([label.split("-")[1] for label, _ in digest.trend],
                              {s: [f.sentiment[s] for _, f in digest.trend] for s in stats.SENTIMENTS},
                              f"Sắc thái tin liên quan, {len(digest.trend)} tuần gần nhất")
        images.append(inline_image(CHART_CID, png, "xu-huong-sac-thai.png"))
    context = dict(d=digest, subject=subject, span=span, week_no=week_no, chart_cid=CHART_CID if has_trend else None,
                   sentiments=stats.SENTIMENTS, duration=duration_vi)
    return subject, render("digest.txt", **context), render("digest.html", **context), images


def enqueue_digest(session: Session, config: FeedsConfig, settings: Settings, *, week: str | None,
                   now: datetime) -> Notification:
    """Queue the digest of ``week`` once: a second call for the same week returns the first row."""
    if not config.digest.recipients:
        raise ConfigError("digest: no recipients; set digest.recipients in feeds.yaml")
    label = periods.parse_week(week).label if week else periods.previous_week(now).label
    key = f"digest:{label}"
    existing = session.scalars(select(Notification).where(Notification.dedup_key == key)).first()
    if existing is not None:
        log.info("digest: already queued", extra={"outbox_id": existing.id, "week": label})
        return existing
    subject, text, html, images = render_digest(build_digest(session, config, week=label, now=now))
    row = Notification(
        dedup_key=key, kind="digest", changes=[], message_id=make_message_id(f"digest-{label}", settings.mail_from),
        recipients=list(config.digest.recipients), subject=subject, body_text=text, body_html=html,
        attachments=images, created_at=now, not_before=now, next_attempt_at=now, attempts=0,
    )
    session.add(row)
    session.flush()
    log.info("digest: queued", extra={"outbox_id": row.id, "week": label})
    return row


def duration_vi(value: timedelta | None) -> str:
    """``2 giờ 15 phút``, ``3 ngày 4 giờ``; a dash when there is nothing to measure."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    if d:
        return f"{d} ngày {h} giờ" if h else f"{d} ngày"
    if h:
        return f"{h} giờ {m} phút" if m else f"{h} giờ"
    return f"{m} phút"


def digest_trigger(config: FeedsConfig):
    """The APScheduler trigger for ``digest.cron`` in Vietnam's time zone (for the service)."""
    from apscheduler.triggers.cron import CronTrigger

    from monitor.timeutil import LOCAL_TZ

    return CronTrigger.from_crontab(config.digest.cron, timezone=LOCAL_TZ)
