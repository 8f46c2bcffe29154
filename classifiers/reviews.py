"""Officers' label corrections (the ``reviews`` table) as training examples.

The latest review of an item wins; labels missing from ``after`` fall back to ``before`` (the model's),
and an item marked not relevant is always neutral, not misleading and ``not_relevant`` (LABELS.md).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from classifiers.corpus import Example, example_from_record
from monitor.errors import InputError
from monitor.models import Item, Review

log = logging.getLogger(__name__)


def review_examples(session: Session) -> list[Example]:
    """One example per reviewed item, from its latest review (ids are ``review:<item id>``)."""
    latest: dict[int, Review] = {}
    for review in session.scalars(select(Review).order_by(Review.at, Review.id)):
        latest[review.item_id] = review
    out: list[Example] = []
    for item_id, review in sorted(latest.items()):
        item = session.get(Item, item_id)
        if item is None:
            continue
        labels = {**(review.before or {}), **(review.after or {})}
        record = {
            "id": f"review:{item_id}", "title": item.title, "summary": item.summary, "text": item.body,
            "link": item.canonical_url or item.url, "relevant": labels.get("relevant"),
            "sentiment": labels.get("sentiment"), "misleading": labels.get("misleading"),
            "category": labels.get("category"),
        }
        try:
            out.append(example_from_record(record, "review", f"reviews, id {review.id}"))
        except InputError as exc:
            log.warning("reviews: skipped: %s", exc, extra={"item_id": item_id})
    return out
