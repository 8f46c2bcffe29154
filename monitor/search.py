"""Item search: list filters shared by the review queue, search page and exports, and full-text
matching that ignores diacritics (SQLite FTS5 ``items_fts`` / PostgreSQL ``to_tsvector``, both over
the accent-folded ``items.search_text``; see migration 0002).

"bao hiem" and "bảo hiểm" fold to the same words; the last word also matches as a prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from sqlalchemy import Integer, Select, and_, column, exists, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from classifiers.text import fold
from monitor.models import Classification, Item
from monitor.timeutil import LOCAL_TZ

_WORD = re.compile(r"\w+", re.UNICODE)
SENTIMENTS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class ItemFilters:
    """What an officer narrowed a list to; every field optional. Dates are local (Vietnam) days."""

    q: str = ""
    category: str = ""
    sentiment: str = ""
    source_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "ItemFilters":
        """Parse query parameters leniently: a malformed value is ignored, never an error page."""
        return cls(
            q=str(params.get("q") or "").strip()[:200],
            category=str(params.get("category") or "").strip()[:40],
            sentiment=s if (s := str(params.get("sentiment") or "")) in SENTIMENTS else "",
            source_id=_int(params.get("source")),
            date_from=_date(params.get("from")),
            date_to=_date(params.get("to")),
        )

    def as_params(self) -> dict[str, str]:
        """The non-empty filters as query parameters (for links, pagination and exports)."""
        params = {"q": self.q, "category": self.category, "sentiment": self.sentiment,
                  "source": str(self.source_id) if self.source_id else "",
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in params.items() if v}

    @property
    def needs_classification(self) -> bool:
        return bool(self.category or self.sentiment)

    @property
    def needs_item(self) -> bool:
        return bool(self.q or self.source_id or self.date_from or self.date_to)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def latest_classification(cls: type[Classification] | Any = Classification):
    """SQL condition: ``cls`` is the newest classification of its item (highest id)."""
    newer = aliased(Classification)
    return ~exists().where(newer.item_id == cls.item_id, newer.id > cls.id)


def words(query: str) -> list[str]:
    """The folded words of a query (at most 12): what full-text matching looks for."""
    return _WORD.findall(fold(query))[:12]


def fulltext_condition(session: Session, query: str):
    """SQL condition on ``Item`` matching every word of ``query`` (diacritics-insensitive, prefix)."""
    terms = words(query)
    if not terms:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # Whole words, except the last one which may be unfinished (prefix): cheaper than prefixes everywhere.
        match = " ".join(f'"{t}"' for t in terms[:-1]) + f' "{terms[-1]}"*'

        ids = text("SELECT rowid FROM items_fts WHERE items_fts MATCH :fts_query").bindparams(
            fts_query=match).columns(column("rowid", Integer))
        return Item.id.in_(ids)
    if dialect == "postgresql":
        tsquery = " & ".join(terms[:-1] + [f"{terms[-1]}:*"])
        return func.to_tsvector("simple", Item.search_text).op("@@")(func.to_tsquery("simple", tsquery))
    return and_(*(Item.search_text.contains(t) for t in terms))


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ)


def apply_filters(stmt: Select, session: Session, filters: ItemFilters,
                  cls: type[Classification] | Any = Classification) -> Select:
    """Narrow a select over ``Item`` (joined with classification ``cls``) by ``filters``."""
    conditions = []
    if filters.q and (match := fulltext_condition(session, filters.q)) is not None:
        conditions.append(match)
    if filters.category:
        conditions.append(cls.category == filters.category)
    if filters.sentiment:
        conditions.append(cls.sentiment == filters.sentiment)
    if filters.source_id:
        conditions.append(Item.source_id == filters.source_id)
    if filters.date_from:
        conditions.append(Item.published_at >= local_day_start(filters.date_from))
    if filters.date_to:
        conditions.append(Item.published_at < local_day_start(filters.date_to + timedelta(days=1)))
    return stmt.where(*conditions) if conditions else stmt


def flagged_condition(cls: type[Classification] | Any = Classification):
    """Items the model flags: relevant and negative or misleading.

    ``coalesce`` keeps SQLite off the (relevant, category) index, which matches most rows and would
    force a sort; the review queue walks the uncertainty index instead."""
    return and_(func.coalesce(cls.relevant, False).is_(True),
                or_(cls.sentiment == "negative", cls.misleading.is_(True)))


def search_items(session: Session, filters: ItemFilters, *, limit: int = 50,
                 offset: int = 0) -> tuple[list[tuple[Item, Classification | None]], int]:
    """One page of items matching ``filters`` (newest first) with their newest classification,
    and the total number of matches."""
    join = and_(Classification.item_id == Item.id, latest_classification())
    order = (Item.published_at.desc(), Item.id.desc())
    if filters.needs_classification:
        stmt = apply_filters(select(Item.id).join(Classification, join), session, filters)
        counted = apply_filters(select(func.count(Item.id)).join(Classification, join), session, filters)
    else:
        # Page the items alone (index on published_at), then fetch the page's classifications.
        stmt = apply_filters(select(Item.id), session, filters)
        counted = apply_filters(select(func.count(Item.id)), session, filters)
    ids = list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}
    labels = {c.item_id: c for c in session.scalars(
        select(Classification).where(Classification.item_id.in_(ids), latest_classification()))} if ids else {}
    total = session.scalar(counted)
    return [(items[i], labels.get(i)) for i in ids], int(total or 0)
