"""The yearly report (due before 1 December): the digest's figures by month, campaign comparisons,
as one self-contained Vietnamese HTML page (chart embedded as a data: URI)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from alerts import periods, stats
from alerts.campaigns import CampaignComparison, compare_campaigns
from alerts.chart import sentiment_chart
from alerts.digest import duration_vi
from alerts.periods import Period
from alerts.templating import render
from monitor.config import FeedsConfig
from monitor.errors import MonitorError


@dataclass
class Report:
    year: int
    now: datetime
    period: Period
    total: stats.Figures
    months: list[tuple[Period, stats.Figures]]
    top_negative: list[tuple[str, int, int, int]] = field(default_factory=list)
    misleading: list[tuple[str, int, int, str | None]] = field(default_factory=list)
    outlets: list[tuple[str, int, int]] = field(default_factory=list)
    campaigns: list[CampaignComparison] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.total.empty


def build_report(session: Session, config: FeedsConfig, *, year: int, now: datetime) -> Report:
    period = periods.year_period(year)
    pairs = []
    for campaign in config.campaigns:
        window = periods.campaign_window(campaign, year)
        if window and window.start < now:
            during = Period(window.label, window.start, min(window.end, period.end))
            pairs.append((during, periods.before(during)))
    start = min([period.start] + [baseline.start for _, baseline in pairs])
    items = stats.load_items(session, start, period.end)
    tickets = stats.load_tickets(session, start, period.end)
    return Report(
        year=year, now=now, period=period, total=stats.figures(items, tickets, period),
        months=[(m, stats.figures(items, tickets, m)) for m in (periods.month(year, n) for n in range(1, 13))],
        top_negative=stats.top_negative_stories(session, items, period, limit=10),
        misleading=stats.misleading_claims(items, period, limit=15),
        outlets=stats.busiest_outlets(items, period, limit=15),
        campaigns=compare_campaigns(pairs, items, tickets),
    )


def render_report(report: Report) -> str:
    chart = None
    if not report.empty:
        png = sentiment_chart([f"T{m.first_day.month}" for m, _ in report.months],
                              {s: [f.sentiment[s] for _, f in report.months] for s in stats.SENTIMENTS},
                              f"Sắc thái tin liên quan theo tháng, năm {report.year}")
        chart = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return render("report.html", r=report, chart=chart, sentiments=stats.SENTIMENTS, duration=duration_vi)


def render_pdf(html: str) -> bytes:
    """The report as PDF through WeasyPrint (optional extra ``pdf``; needs Pango from Debian).

    Only ``data:`` URLs are fetched (the embedded chart): rendering never touches the network or
    the file system, even though the page links to feed URLs.
    """
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise MonitorError(
            f"report: PDF needs WeasyPrint and Pango (pip install 'bhxh-monitor[pdf]'; "
            f"apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}") from exc
    return HTML(string=html, base_url=None, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
