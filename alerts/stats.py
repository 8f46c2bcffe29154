"""Figures for digests and reports: one query per period into plain rows, then pure aggregation.

"Relevant" means the item's newest classification says it is about BHXH. "Waiting for review" means
relevant or flagged (negative or misleading) with no officer review yet.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from alerts.periods import Period
from monitor.models import Classification, Item, Review, Rumour, Source, Story, Ticket

SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    published_at: datetime
    outlet: str
    title: str
    url: str | None
    story_id: int | None
    relevant: bool
    sentiment: str
    misleading: bool
    rumour_claim: str | None = None


@dataclass(frozen=True)
class TicketRow:
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


@dataclass
class Figures:
    """Counts for one period."""

    relevant: int = 0
    sentiment: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SENTIMENTS, 0))
    misleading: int = 0
    outlets: int = 0
    tickets_opened: int = 0
    tickets_closed: int = 0
    median_ack: timedelta | None = None
    median_resolve: timedelta | None = None

    def share(self, sentiment: str) -> float | None:
        return self.sentiment.get(sentiment, 0) / self.relevant if self.relevant else None

    @property
    def empty(self) -> bool:
        return self.relevant == 0 and self.tickets_opened == 0 and self.tickets_closed == 0


def figures(items: list[ItemRow], tickets: list[TicketRow], period: Period) -> Figures:
    relevant = [i for i in items if i.relevant and period.contains(i.published_at)]
    counts = Counter(i.sentiment for i in relevant)
    acks = [t.acknowledged_at - t.opened_at for t in tickets
            if t.acknowledged_at and period.contains(t.acknowledged_at)]
    resolves = [(t.resolved_at or t.closed_at) - t.opened_at for t in tickets
                if (t.resolved_at or t.closed_at) and period.contains(t.resolved_at or t.closed_at)]
    return Figures(
        relevant=len(relevant),
        sentiment={s: counts.get(s, 0) for s in SENTIMENTS},
        misleading=sum(1 for i in relevant if i.misleading),
        outlets=len({i.outlet for i in relevant}),
        tickets_opened=sum(1 for t in tickets if period.contains(t.opened_at)),
        tickets_closed=sum(1 for t in tickets if t.closed_at and period.contains(t.closed_at)),
        median_ack=_median(acks),
        median_resolve=_median(resolves),
    )


def _median(values: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values)) if values else None


def busiest_outlets(items: list[ItemRow], period: Period, limit: int = 8) -> list[tuple[str, int, int]]:
    """(outlet, relevant items, negative items), most items first."""
    total: Counter[str] = Counter()
    negative: Counter[str] = Counter()
    for i in items:
        if i.relevant and period.contains(i.published_at):
            total[i.outlet] += 1
            negative[i.outlet] += i.sentiment == "negative"
    return [(name, n, negative[name]) for name, n in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def misleading_claims(items: list[ItemRow], period: Period, limit: int = 8) -> list[tuple[str, int, int, str | None]]:
    """(claim, items, outlets, a link): known rumours by their claim, others by item title."""
    groups: dict[str, list[ItemRow]] = {}
    for i in items:
        if i.misleading and period.contains(i.published_at):
            groups.setdefault(i.rumour_claim or i.title, []).append(i)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    return [(claim, len(rows), len({r.outlet for r in rows}), next((r.url for r in rows if r.url), None))
            for claim, rows in ranked]


def load_items(session: Session, start: datetime, end: datetime) -> list[ItemRow]:
    """Items published in ``[start, end)`` with their newest classification (unclassified: skipped)."""
    newest = (select(Classification.item_id, func.max(Classification.id).label("cid"))
              .group_by(Classification.item_id).subquery())
    query = (
        select(Item.id, Item.published_at, Source.name, Item.title, Item.url, Item.story_id,
               Classification.relevant, Classification.sentiment, Classification.misleading, Rumour.claim)
        .join(Source, Source.id == Item.source_id)
        .join(newest, newest.c.item_id == Item.id)
        .join(Classification, Classification.id == newest.c.cid)
        .outerjoin(Rumour, Rumour.id == Classification.rumour_id)
        .where(Item.published_at >= start, Item.published_at < end)
    )
    return [ItemRow(*row) for row in session.execute(query)]


def load_tickets(session: Session, start: datetime, end: datetime) -> list[TicketRow]:
    """Tickets with any lifecycle moment in ``[start, end)``."""
    moments = (Ticket.opened_at, Ticket.acknowledged_at, Ticket.resolved_at, Ticket.closed_at)
    query = select(*moments).where(or_(*[(m >= start) & (m < end) for m in moments]))
    return [TicketRow(*row) for row in session.execute(query)]


def story_titles(session: Session, story_ids: set[int]) -> dict[int, str]:
    if not story_ids:
        return {}
    return dict(session.execute(select(Story.id, Story.title).where(Story.id.in_(story_ids))).all())


def top_negative_stories(session: Session, items: list[ItemRow], period: Period,
                         limit: int = 5) -> list[tuple[str, int, int, int]]:
    """(story title, negative items, all relevant items, outlets) for the stories with most negative items."""
    by_story: dict[int, list[ItemRow]] = {}
    for i in items:
        if i.story_id is not None and i.relevant and period.contains(i.published_at):
            by_story.setdefault(i.story_id, []).append(i)
    negative = {sid: sum(r.sentiment == "negative" for r in rows) for sid, rows in by_story.items()}
    chosen = sorted((sid for sid in by_story if negative[sid]), key=lambda s: (-negative[s], s))[:limit]
    titles = story_titles(session, set(chosen))
    return [(titles.get(sid) or by_story[sid][0].title, negative[sid], len(by_story[sid]),
             len({r.outlet for r in by_story[sid]})) for sid in chosen]


def waiting_for_review(session: Session, before: datetime, limit: int = 5) -> tuple[int, list[tuple[str, str, datetime]]]:
    """(how many, the oldest few as (title, outlet, published)) relevant-or-flagged, unreviewed items."""
    newest = (select(Classification.item_id, func.max(Classification.id).label("cid"))
              .group_by(Classification.item_id).subquery())
    condition = (
        Item.published_at < before,
        or_(Classification.relevant, Classification.misleading, Classification.sentiment == "negative"),
        ~exists().where(Review.item_id == Item.id),
    )
    base = (select(Item.id).join(newest, newest.c.item_id == Item.id)
            .join(Classification, Classification.id == newest.c.cid).where(*condition))
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    oldest = session.execute(
        select(Item.title, Source.name, Item.published_at).join(Source, Source.id == Item.source_id)
        .join(newest, newest.c.item_id == Item.id).join(Classification, Classification.id == newest.c.cid)
        .where(*condition).order_by(Item.published_at).limit(limit)
    ).all()
    return count, [tuple(row) for row in oldest]
