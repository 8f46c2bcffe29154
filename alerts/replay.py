"""Replay: a JSON Lines stream through the same code as live collection, on a simulated clock.

``replay`` sorts the records by ``published`` and walks simulated time in steps (default 15 minutes):
at the end of each step the step's records are stored with ``monitor.store.store_entries`` (one
``Source`` of kind ``file`` per stream ``source`` name), ``alerts.pipeline.process_new_items`` runs
with ``now`` = the end of the step, and ``alerts.tickets.escalate_overdue`` runs on the same clock.
Alerts go into the outbox of the replay database; nothing is sent.

Records: ``{"id", "source", "url" | "link", "title", "snippet" | "summary", "published"}`` with
``published`` in ISO 8601 with an offset; ``.gz`` files are read transparently.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from alerts import tickets as tk
from alerts.pipeline import PipelineSummary, process_new_items
from alerts.rumours import sync_rumours
from monitor.config import FeedsConfig
from monitor.entries import Entry
from monitor.errors import InputError
from monitor.models import Item, Source, Ticket
from monitor.store import store_entries

log = logging.getLogger(__name__)
STEP = timedelta(minutes=15)


def read_stream(path: str | Path) -> Iterator[dict]:
    """Records of a JSON Lines file (``.gz`` too); errors name the file and line."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"replay: {path}:{n}: invalid JSON: {exc.msg}") from exc
    except OSError as exc:
        raise InputError(f"replay: cannot read {path}: {exc.strerror or exc}") from exc


def to_entry(record: dict, where: str = "record") -> tuple[str, Entry]:
    """(source name, Entry) of one stream record; InputError names the record and field."""
    for key in ("id", "source", "title", "published"):
        if not record.get(key):
            raise InputError(f"replay: {where}: missing field {key!r}")
    try:
        published = datetime.fromisoformat(str(record["published"]))
    except ValueError as exc:
        raise InputError(f"replay: {where}: published: not ISO 8601: {record['published']!r}") from exc
    if published.tzinfo is None:
        raise InputError(f"replay: {where}: published: no UTC offset in {record['published']!r}")
    url = record.get("url") or record.get("link")
    entry = Entry(guid=str(record["id"]), title=str(record["title"]),
                  summary=str(record.get("snippet") or record.get("summary") or ""),
                  url=url, canonical_url=url, published_at=published.astimezone(timezone.utc))
    return str(record["source"]), entry


def _floor(t: datetime, step: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=timezone.utc)
    return epoch + ((t - epoch) // step) * step


def replay(records: Iterable[dict], sessions: sessionmaker[Session], config: FeedsConfig, classifier, settings, *,
           step: timedelta = STEP, rumours_path: str | Path | None = None) -> list[dict]:
    """Run ``records`` through store → pipeline → escalation on a simulated clock; return the tickets."""
    entries = sorted((to_entry(r, f"record {n}") for n, r in enumerate(records, 1)), key=lambda se: se[1].published_at)
    if not entries:
        return []
    with sessions.begin() as session:
        sync_rumours(session, rumours_path or config.detection.rumours_file, now=entries[0][1].published_at)
        sources = _ensure_sources(session, {name for name, _e in entries}, config)
    totals = PipelineSummary()
    buckets: dict[datetime, list[tuple[str, Entry]]] = defaultdict(list)
    for name, entry in entries:
        buckets[_floor(entry.published_at, step) + step].append((name, entry))
    next_deadline: datetime | None = None
    clock = min(buckets)
    last = max(buckets) + max(config.detection.deadlines.values())
    while clock <= last:
        batch = buckets.get(clock)
        if batch:
            _store(sessions, sources, batch, clock, config)
            summary = process_new_items(sessions, config, classifier, settings, now=clock)
            _add(totals, summary)
        if batch or (next_deadline and next_deadline <= clock):
            next_deadline = _escalate(sessions, config, settings, clock)
        clock += step
        if not batch and clock > max(buckets) and next_deadline is None:
            break
    log.info("replay finished", extra={"items": len(entries), "classified": totals.classified,
                                       "tickets": len(totals.opened), "reopened": totals.reopened})
    return export_tickets(sessions)


def _ensure_sources(session: Session, names: set[str], config: FeedsConfig) -> dict[str, int]:
    configured = {s.name: s for s in config.sources}
    existing = {s.name: s for s in session.scalars(select(Source).where(Source.name.in_(names)))}
    for name in sorted(names - set(existing)):
        spec = configured.get(name)
        source = Source(name=name, kind="file", url=f"file:stream/{name}", reach_weight=spec.reach_weight if spec else 1.0,
                        tags=(list(spec.tags) + (["official"] if spec.official else [])) if spec else [])
        session.add(source)
        existing[name] = source
    session.flush()
    return {name: s.id for name, s in existing.items()}


def _store(sessions, sources: dict[str, int], batch, now: datetime, config: FeedsConfig) -> None:
    by_source: dict[str, list[Entry]] = defaultdict(list)
    for name, entry in batch:
        by_source[name].append(entry)
    with sessions.begin() as session:
        for name, group in by_source.items():
            store_entries(session, session.get(Source, sources[name]), group, now=now, keywords=config.keywords)


def _escalate(sessions, config, settings, now: datetime) -> datetime | None:
    with sessions.begin() as session:
        tk.escalate_overdue(session, config, settings, now=now)
        return session.scalar(select(func.min(Ticket.deadline_at)).where(Ticket.state == "new", Ticket.escalated_at.is_(None)))


def _add(totals: PipelineSummary, s: PipelineSummary) -> None:
    totals.classified += s.classified
    totals.opened += s.opened
    totals.reopened += s.reopened


def export_tickets(sessions) -> list[dict]:
    """The tickets in the replay contract's shape, oldest first."""
    with sessions() as session:
        out = []
        for ticket in session.scalars(select(Ticket).order_by(Ticket.opened_at, Ticket.id)):
            guids = session.scalars(select(Item.guid).where(Item.story_id == ticket.story_id)
                                    .order_by(Item.published_at, Item.id)).all() if ticket.story_id else []
            out.append({"id": ticket.id, "opened_at": ticket.opened_at.isoformat(), "severity": ticket.severity,
                        "category": ticket.category, "stage": ticket.state, "title": ticket.title,
                        "item_ids": list(guids), "steps": [s["text"] for s in ticket.steps or []]})
        return out
