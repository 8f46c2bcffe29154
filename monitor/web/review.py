"""Review queue: unreviewed items, flagged ones first, then the most uncertain (uncertainty
sampling: labels near the model's thresholds teach it the most). Each confirmation or correction is
a ``Review`` (model labels before, officer labels after) plus an ``AuditLog`` row."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from monitor.config import CATEGORIES
from monitor.models import AuditLog, Classification, Item, Review, Rumour, Source
from monitor.search import SENTIMENTS, ItemFilters, apply_filters, flagged_condition, latest_classification
from monitor.web.deps import Officer, current_user, reading, writing
from monitor.web.render import flash, render

router = APIRouter()
PAGE_SIZE = 20


def labels_of(c: Classification) -> dict:
    return {"relevant": bool(c.relevant), "sentiment": c.sentiment, "misleading": bool(c.misleading),
            "category": c.category}


def _unreviewed(stmt, session: Session, filters: ItemFilters):
    stmt = stmt.where(latest_classification(), ~exists().where(Review.item_id == Classification.item_id))
    return apply_filters(stmt, session, filters)


def unreviewed_query(session: Session, filters: ItemFilters):
    """Newest classifications of items nobody reviewed yet (with their items), narrowed by ``filters``."""
    stmt = select(Classification, Item).join(Item, Item.id == Classification.item_id)
    return _unreviewed(stmt, session, filters)


def count_unreviewed(session: Session, filters: ItemFilters = ItemFilters(), *, flagged: bool = False) -> int:
    """How many items wait for review; the items table is joined only when a filter needs it."""
    if filters == ItemFilters() and not flagged:
        # Classified items minus reviewed ones: two index scans instead of two probes per row.
        classified = session.scalar(select(func.count(func.distinct(Classification.item_id))))
        reviewed = session.scalar(select(func.count(func.distinct(Review.item_id)))
                                  .where(exists().where(Classification.item_id == Review.item_id)))
        return int(classified or 0) - int(reviewed or 0)
    stmt = select(func.count(Classification.id))
    if filters.needs_item:
        stmt = stmt.join(Item, Item.id == Classification.item_id)
    stmt = _unreviewed(stmt, session, filters)
    if flagged:
        stmt = stmt.where(flagged_condition())
    return int(session.scalar(stmt) or 0)


def backlog(request: Request, session: Session, filters: ItemFilters = ItemFilters(), *,
            flagged: bool = False) -> int:
    """``count_unreviewed`` through the app's short-lived count cache."""
    key = ("backlog", flagged, filters)
    return request.app.state.counts.get(key, lambda: count_unreviewed(session, filters, flagged=flagged))


def queue_page(request: Request, session: Session, filters: ItemFilters, offset: int, limit: int = PAGE_SIZE):
    """One page of the queue: flagged items first, each part by uncertainty (0 = on a threshold).

    Two queries, each walking the uncertainty index and stopping at ``limit``, instead of sorting
    every unreviewed item; the flagged count (cached) says where the second part starts."""
    order = (Classification.uncertainty, Classification.id)
    base = unreviewed_query(session, filters)
    rows = session.execute(base.where(flagged_condition()).order_by(*order).limit(limit).offset(offset)).all()
    if len(rows) < limit:
        flagged_total = backlog(request, session, filters, flagged=True) if offset else len(rows)
        rest = session.execute(base.where(~flagged_condition()).order_by(*order)
                               .limit(limit - len(rows)).offset(max(0, offset - flagged_total))).all()
        rows = list(rows) + list(rest)
    return rows


def item_context(session: Session, rows) -> list[dict]:
    """What a card shows for each (classification, item) row: sources and rumours fetched once."""
    source_ids = {item.source_id for _c, item in rows}
    rumour_ids = {c.rumour_id for c, _i in rows if c.rumour_id}
    sources = {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(source_ids)))}
    rumours = {r.id: r for r in session.scalars(select(Rumour).where(Rumour.id.in_(rumour_ids)))}
    cards = []
    for c, item in rows:
        cards.append({"item": item, "c": c, "source": sources.get(item.source_id),
                      "story": item.story, "rumour": rumours.get(c.rumour_id),
                      "flagged": bool(c.relevant and (c.sentiment == "negative" or c.misleading))})
    return cards


@router.get("/review")
def review_queue(request: Request, page: int = 1, user: Officer = Depends(current_user)):
    filters = ItemFilters.from_params(request.query_params)
    page = max(1, min(page, 10_000))
    with reading(request) as session:
        rows = queue_page(request, session, filters, (page - 1) * PAGE_SIZE)
        cards = item_context(session, rows)
        total = backlog(request, session, filters)
        sources = session.execute(select(Source.id, Source.name).order_by(Source.name)).all()
        return render(request, "review.html", title="Duyệt tin", cards=cards, total=total, page=page,
                      page_size=PAGE_SIZE, filters=filters, sources=sources)


def _parse_labels(relevant: str, sentiment: str, misleading: str, category: str) -> dict:
    if relevant not in ("0", "1") or sentiment not in SENTIMENTS or category not in CATEGORIES:
        raise HTTPException(status_code=400, detail="web.review: nhãn không hợp lệ")
    return {"relevant": relevant == "1", "sentiment": sentiment, "misleading": misleading in ("1", "on"),
            "category": category}


def store_review(session: Session, item_id: int, after: dict, reviewer: str, now: datetime) -> Review:
    """Record one officer's labels for an item against the model's newest labels, with an audit row."""
    c = session.scalar(select(Classification).where(Classification.item_id == item_id)
                       .order_by(Classification.id.desc()).limit(1))
    if session.get(Item, item_id) is None:
        raise HTTPException(status_code=404, detail="web.review: không tìm thấy tin")
    before = labels_of(c) if c else {}
    review = Review(item_id=item_id, reviewer=reviewer, at=now, before=before, after=after)
    session.add(review)
    changed = sorted(k for k in after if before.get(k) != after[k])
    session.add(AuditLog(at=now, actor=reviewer, action="label_corrected" if changed else "label_confirmed",
                         target=f"item:{item_id}", detail={"before": before, "after": after,
                                                           "changed": changed,
                                                           "model_version": c.model_version if c else None}))
    session.flush()
    return review


@router.post("/review/{item_id}")
def submit_review(request: Request, item_id: int, relevant: str = Form(...), sentiment: str = Form(...),
                  misleading: str = Form("0"), category: str = Form(...), back: str = Form(""),
                  user: Officer = Depends(current_user)):
    after = _parse_labels(relevant, sentiment, misleading, category)
    with writing(request) as session:
        review = store_review(session, item_id, after, user.username, datetime.now(timezone.utc))
        changed = sorted(k for k in after if review.before.get(k) != after[k])
        review_id = review.id
    request.app.state.counts.invalidate()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "review_id": review_id, "changed": changed})
    flash(request, "Đã lưu nhãn." if not changed else "Đã lưu nhãn đã sửa.")
    target = "/review" + ("?" + back if back and not back.startswith(("/", "\\")) else "")
    return RedirectResponse(target, status_code=303)
