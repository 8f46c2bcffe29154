"""Dashboard: relevant volume and sentiment per day (chart), open tickets, feeds health and the
review backlog. Counts are aggregated in the database; the chart is a PNG from its own route."""

from __future__ import annotations

import io
import threading
import time
from datetime import date, datetime, timedelta, timezone

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.labels import SENTIMENT_LABELS
from monitor.models import Classification, Item, Review, Source, Ticket
from monitor.search import latest_classification
from monitor.timeutil import to_local
from monitor.web.deps import Officer, current_user, reading
from monitor.web.render import render
from monitor.web.review import backlog

router = APIRouter()
CHART_DAYS = 30
CHART_TTL_S = 120.0  # the chart aggregates a month of items: drawn at most every two minutes
SENTIMENT_COLOURS = {"negative": "#c0392b", "neutral": "#7f8c8d", "positive": "#27ae60"}
_chart_lock = threading.Lock()  # pyplot state is global


def local_day(session: Session):
    """SQL expression: the Vietnam-local calendar day of ``Item.published_at``."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(Item.published_at, "+7 hours")
    return func.date(func.timezone("Asia/Ho_Chi_Minh", Item.published_at))


def daily_sentiment(session: Session, days: int, now: datetime) -> tuple[list[date], dict[str, list[int]]]:
    """Relevant items per local day and sentiment over the last ``days`` days."""
    today = to_local(now).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=to_local(now).tzinfo)
    day = local_day(session).label("day")
    rows = session.execute(
        select(day, Classification.sentiment, func.count())
        .join(Classification, Classification.item_id == Item.id)
        .where(Item.published_at >= start, func.coalesce(Classification.relevant, False).is_(True), latest_classification())
        .group_by(day, Classification.sentiment)).all()
    dates = [first + timedelta(days=i) for i in range(days)]
    index = {d: i for i, d in enumerate(dates)}
    series = {s: [0] * days for s in SENTIMENT_COLOURS}
    for value, sentiment, count in rows:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        if d in index and sentiment in series:
            series[sentiment][index[d]] = count
    return dates, series


def chart_png(dates: list[date], series: dict[str, list[int]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    with _chart_lock:
        plt.rcParams["font.family"] = ["DejaVu Sans"]
        fig, ax = plt.subplots(figsize=(9, 3.2), dpi=100)
        bottom = [0] * len(dates)
        labels = [d.strftime("%d/%m") for d in dates]
        for sentiment, colour in SENTIMENT_COLOURS.items():
            ax.bar(labels, series[sentiment], bottom=bottom, color=colour, label=SENTIMENT_LABELS[sentiment])
            bottom = [b + v for b, v in zip(bottom, series[sentiment])]
        ax.set_title("Tin liên quan theo ngày và sắc thái")
        ax.set_ylabel("Số tin")
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
    return buffer.getvalue()


def source_status(source: Source, now: datetime) -> tuple[str, str]:
    """(css class, Vietnamese word) for a feed's health."""
    if not source.enabled:
        return "muted", "Tắt"
    if source.consecutive_failures >= 3:
        return "bad", "Lỗi"
    if source.consecutive_failures:
        return "warn", "Lỗi tạm thời"
    if source.last_success_at is None:
        return "muted", "Chưa lấy tin"
    if source.mean_item_gap_s and source.last_new_item_at and \
            (now - source.last_new_item_at).total_seconds() > 5 * max(source.mean_item_gap_s, 3600):
        return "warn", "Im lặng bất thường"
    return "ok", "Tốt"


@router.get("/")
def dashboard(request: Request, user: Officer = Depends(current_user)):
    now = datetime.now(timezone.utc)
    with reading(request) as session:
        since = now - timedelta(days=1)
        recent = session.execute(
            select(func.count(), func.count().filter(Classification.sentiment == "negative"),
                   func.count().filter(Classification.misleading.is_(True)))
            .select_from(Item).join(Classification, Classification.item_id == Item.id)
            .where(Item.published_at >= since, func.coalesce(Classification.relevant, False).is_(True), latest_classification())).one()
        open_tickets = session.scalars(select(Ticket).where(Ticket.state != "closed")
                                       .order_by(Ticket.severity.desc(), Ticket.deadline_at).limit(10)).all()
        open_count = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.state != "closed"))
        sources = session.scalars(select(Source).order_by(Source.name)).all()
        figures = {
            "relevant_24h": recent[0], "negative_24h": recent[1], "misleading_24h": recent[2],
            "open_tickets": open_count or 0, "backlog": backlog(request, session),
            "backlog_flagged": backlog(request, session, flagged=True),
            "reviews_untrained": session.scalar(select(func.count()).select_from(Review)
                                                .where(Review.trained_in.is_(None))) or 0,
        }
        return render(request, "dashboard.html", title="Tổng quan", figures=figures, open_tickets=open_tickets,
                      sources=[(s, *source_status(s, now)) for s in sources], now=now, days=CHART_DAYS)


@router.get("/dashboard/chart.png")
def chart(request: Request, days: int = CHART_DAYS, user: Officer = Depends(current_user)):
    days = max(7, min(days, 180))
    now = time.monotonic()
    cached = request.app.state.charts.get(days)
    if cached is None or now - cached[0] > CHART_TTL_S:
        with reading(request) as session:
            dates, series = daily_sentiment(session, days, datetime.now(timezone.utc))
        cached = request.app.state.charts[days] = (now, chart_png(dates, series))
    return Response(cached[1], media_type="image/png", headers={"cache-control": "private, max-age=60"})
