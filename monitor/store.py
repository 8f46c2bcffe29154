"""Storing entries as items: exact de-duplication, derived fields, and near-duplicate linking.

Exact duplicates (same GUID in a source, or same canonical URL anywhere) are stored once: looked up
in bulk first, and the database's unique constraints are the last word (a conflicting insert is
rolled back to a savepoint and counted as a duplicate, so concurrent writers are safe). Near
duplicates (syndicated or lightly rewritten copies) are linked to the earlier item and put in one
``Story``; candidates come from an in-memory MinHash LSH index per engine that is loaded lazily and
topped up with items other writers added (``id`` greater than the highest indexed).
"""

from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor import neardup, prefilter
from monitor.config import KeywordsConfig
from monitor.entries import Entry
from monitor.models import Item, Source, Story
from classifiers.text import fold
from monitor.normalize import plausible_published

log = logging.getLogger(__name__)
_CHUNK = 500


@dataclass
class StoreResult:
    new_items: list[Item] = field(default_factory=list)
    duplicates: int = 0
    near_duplicates: int = 0


_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(session: Session) -> neardup.NearDupIndex:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _indexes_lock:
        index = _indexes.get(engine)
        if index is None:
            index = _indexes[engine] = neardup.NearDupIndex()
        return index


def forget_index(session: Session) -> None:
    """Drop the cached index (after bulk deletes); the next store rebuilds it."""
    bind = session.get_bind()
    with _indexes_lock:
        _indexes.pop(getattr(bind, "engine", bind), None)


def store_entries(session: Session, source: Source, entries: list[Entry], *, now: datetime,
                  keywords: KeywordsConfig) -> StoreResult:
    """Insert the new entries of one source (in the caller's transaction) and link near duplicates."""
    result = StoreResult()
    fresh = _drop_known(session, source, entries, result)
    index = index_for(session)
    _refresh_index(session, index, now)  # before our inserts: the index must not find an item itself
    rows, derived = [], {}
    for entry in fresh:
        row, sig, n_words = _make_row(source, entry, now, keywords)
        rows.append(row)
        derived[entry.guid] = (sig, n_words)
    result.new_items = _insert(session, rows, result)
    _link_near_duplicates(session, index, result.new_items, derived, now, result)
    return result


def _drop_known(session: Session, source: Source, entries: list[Entry], result: StoreResult) -> list[Entry]:
    guids, urls, fresh = set(), set(), []
    for entry in entries:  # duplicates inside the batch
        if entry.guid in guids or (entry.canonical_url and entry.canonical_url in urls):
            result.duplicates += 1
            continue
        guids.add(entry.guid)
        if entry.canonical_url:
            urls.add(entry.canonical_url)
        fresh.append(entry)
    known_guids = _existing(session, Item.guid, guids, Item.source_id == source.id) if source.id else set()
    known_urls = _existing(session, Item.canonical_url, urls)
    kept = [e for e in fresh if e.guid not in known_guids and e.canonical_url not in known_urls]
    result.duplicates += len(fresh) - len(kept)
    return kept


def _existing(session: Session, column, values: Iterable[str], *where) -> set[str]:
    values, found = list(values), set()
    for start in range(0, len(values), _CHUNK):
        found.update(session.scalars(select(column).where(column.in_(values[start:start + _CHUNK]), *where)))
    return found


def _make_row(source: Source, entry: Entry, now: datetime, keywords: KeywordsConfig) -> tuple[dict, object, int]:
    """The item's column values, its MinHash signature (or None) and its word count."""
    published = plausible_published(entry.published_at, now)
    folded = fold(f"{entry.title}\n{entry.summary}")  # fold once: search text, hash, signature
    search_text = f"{folded}\n{fold(entry.body)}" if entry.body else folded
    tokens = neardup.WORD.findall(folded)
    sig = neardup.signature_of_words(tokens)
    row = dict(
        source_id=source.id, guid=entry.guid, url=entry.url, canonical_url=entry.canonical_url,
        title=entry.title, summary=entry.summary, body=entry.body, author=entry.author,
        published_at=published or now, published_estimated=published is None, fetched_at=now,
        content_hash=neardup.hash_of_words(tokens), search_text=search_text.strip(),
        passed_prefilter=prefilter.matches(search_text, keywords),
    )
    if sig is not None:  # left out otherwise: SQL NULL, not a JSON null
        row["minhash"] = [int(v) for v in sig.hashvalues]
    return row, sig, len(tokens)


def _insert(session: Session, rows: list[dict], result: StoreResult) -> list[Item]:
    """Bulk INSERT … RETURNING the ORM objects, in a savepoint; on a unique-constraint conflict
    (another writer won a race since our lookup) retry row by row and count the losers."""
    if not rows:
        return []
    groups = [[r for r in rows if "minhash" in r], [r for r in rows if "minhash" not in r]]
    try:
        with session.begin_nested():
            stored = [item for group in groups if group for item in session.scalars(
                insert(Item).returning(Item), group).all()]
    except IntegrityError:
        stored = []
        for row in rows:
            try:
                with session.begin_nested():
                    stored.append(session.scalars(insert(Item).returning(Item), [row]).one())
            except IntegrityError:
                result.duplicates += 1
    order = {row["guid"]: n for n, row in enumerate(rows)}
    return sorted(stored, key=lambda item: order[item.guid])


def _link_near_duplicates(session: Session, index: neardup.NearDupIndex, items: list[Item], derived: dict,
                          now: datetime, result: StoreResult) -> None:
    if not items:
        return
    # An exact match of a few words ("Tin vắn", an empty item) is not the same story.
    long_enough = {item.id for item in items if derived[item.guid][1] >= 5}
    by_hash = _earliest_by_hash(session, [item for item in items if item.id in long_enough])
    batch = {item.id: item for item in items}
    for item in sorted(items, key=lambda i: (i.published_at, i.id)):
        sig = derived[item.guid][0]
        original = by_hash.get(item.content_hash) if item.id in long_enough else None
        if original is not None and original.id == item.id:
            original = None
        if original is None and sig is not None:
            original = _best_candidate(session, index, batch, item, sig)
        if original is not None:
            _link(session, item, original, now)
            result.near_duplicates += 1
        elif item.id in long_enough:
            by_hash.setdefault(item.content_hash, item)
        if sig is not None:
            index.add(item.id, item.published_at, sig)
    session.flush()


def _refresh_index(session: Session, index: neardup.NearDupIndex, now: datetime) -> None:
    query = select(Item.id, Item.published_at, Item.minhash).where(Item.minhash.is_not(None), Item.id > index.max_id)
    if not index.loaded:
        query = query.where(Item.published_at >= now - index.window)
        index.loaded = True
    for item_id, published_at, values in session.execute(query.order_by(Item.id)):
        if values:
            index.add(item_id, published_at, neardup.from_values(values))
        else:
            index.max_id = max(index.max_id, item_id)
    index.evict_older_than(now - 2 * index.window)


def _earliest_by_hash(session: Session, items: list[Item]) -> dict[str, Item]:
    """Earlier items (not of this batch) with the same content hash, the first stored of each."""
    hashes = list({item.content_hash for item in items})
    batch_ids = {item.id for item in items}
    first_ids: dict[str, int] = {}
    for start in range(0, len(hashes), _CHUNK):
        rows = session.execute(select(Item.content_hash, func.min(Item.id))
                               .where(Item.content_hash.in_(hashes[start:start + _CHUNK]), Item.id.not_in(batch_ids))
                               .group_by(Item.content_hash))
        first_ids.update((h, i) for h, i in rows)
    return {content_hash: session.get(Item, item_id) for content_hash, item_id in first_ids.items()}


def _best_candidate(session: Session, index: neardup.NearDupIndex, batch: dict[int, Item], item: Item, sig) -> Item | None:
    for candidate_id, _score in index.similar(sig, item.published_at):
        if candidate_id == item.id:
            continue
        candidate = batch.get(candidate_id) or session.get(Item, candidate_id)
        if candidate is None:  # indexed by a transaction that was rolled back
            index.remove(candidate_id)
            continue
        return candidate
    return None


def _link(session: Session, item: Item, original: Item, now: datetime) -> None:
    """``item`` copies ``original``: point at the first item of the chain and share its story."""
    item.near_duplicate_of_id = original.near_duplicate_of_id or original.id
    story = original.story
    if story is None:
        story = Story(title=original.title or item.title, first_seen_at=min(original.published_at, item.published_at),
                      last_seen_at=max(original.published_at, item.published_at), item_count=1,
                      outlet_count=1)
        session.add(story)
        original.story = story
    story.first_seen_at = min(story.first_seen_at, item.published_at)
    story.last_seen_at = max(story.last_seen_at, item.published_at)
    if item.source_id != original.source_id:
        story.outlet_count = (story.outlet_count or 1) + 1
    story.item_count = (story.item_count or 1) + 1
    item.story = story
    log.debug("near duplicate linked", extra={"item_id": item.id, "near_duplicate_of": item.near_duplicate_of_id})
