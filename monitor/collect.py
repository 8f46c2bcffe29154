"""One collection pass over the sources: the orchestration of fetch → parse → store → health.

``collect_once`` runs these stages, each taking and returning plain data:

1. ``select``: sync feeds.yaml into ``sources`` and pick the sources to poll (all enabled, the
   ``only`` names, or those whose next check is due).
2. ``fetch``: all sources concurrently (``monitor.fetch``: limits, conditional GET, SSRF guard); a
   304 or an unchanged file ends there.
3. ``parse``: bytes → ``Entry`` records (``monitor.parse``); problems become warnings. Stages 2-3
   run in a background thread (parsing in worker processes for big passes) and hand each source
   over as soon as it is ready, so storing overlaps with fetching and parsing.
4. ``store``: per source, one transaction: new items, duplicates, near-duplicate links
   (``monitor.store``), a ``fetch_attempts`` row and the health record (``monitor.health``).
   A source that fails at any stage is recorded as failed; the others go on.
5. ``articles`` (optional): main text of new prefiltered items (``monitor.article``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import queue
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from classifiers.text import fold
from monitor import article, health
from monitor.config import FeedsConfig
from monitor.entries import Entry
from monitor.fetch import Fetcher, FetchResult
from monitor.models import FetchAttempt, Item, Source
from monitor.parse import ParsedDocuments, parse_documents
from monitor.sources import sync_sources
from monitor.store import store_entries

log = logging.getLogger(__name__)


@dataclass
class Target:
    """What a pass needs to know about one source, detached from the database session."""

    id: int
    name: str
    url: str
    etag: str | None
    last_modified: str | None
    interval: timedelta


@dataclass
class SourceOutcome:
    source: str
    outcome: str  # ok | not_modified | error
    entries: int = 0
    new_items: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    http_status: int | None = None
    error: str | None = None
    error_kind: str | None = None
    warnings: list[str] = field(default_factory=list)
    next_check_at: datetime | None = None
    silent: bool = False  # answers, but nothing new for much longer than its usual rhythm
    new_item_ids: list[int] = field(default_factory=list)


@dataclass
class CollectSummary:
    started_at: datetime
    outcomes: list[SourceOutcome] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: {"fetch": 0.0, "parse": 0.0, "store": 0.0, "articles": 0.0})

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    @property
    def new_items(self) -> int:
        return sum(o.new_items for o in self.outcomes)

    @property
    def duplicates(self) -> int:
        return sum(o.duplicates for o in self.outcomes)

    @property
    def new_item_ids(self) -> list[int]:
        return [i for o in self.outcomes for i in o.new_item_ids]

    def as_dict(self) -> dict:
        return {
            "started_at": self.started_at.isoformat(),
            "sources": len(self.outcomes), "ok": self.count("ok"), "not_modified": self.count("not_modified"),
            "failed": self.count("error"), "new_items": self.new_items, "duplicates": self.duplicates,
            "near_duplicates": sum(o.near_duplicates for o in self.outcomes),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "outcomes": [{**asdict(o), "next_check_at": o.next_check_at.isoformat() if o.next_check_at else None}
                         for o in self.outcomes],
        }


def collect_once(sessions: sessionmaker[Session], config: FeedsConfig, *, now: datetime | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, only: list[str] | None = None,
                 due_only: bool = False, rng: random.Random | None = None, parse_workers: int = 0) -> CollectSummary:
    """One pass (stages in the module docstring). Never raises because one source failed.

    ``parse_workers`` >= 2 parses in that many worker processes when the pass has many sources (the
    CLI and the benchmark ask for it; a library caller's ``__main__`` must then be import-safe)."""
    now = now or datetime.now(timezone.utc)
    rng = rng or random.Random()
    summary = CollectSummary(started_at=now)
    targets = select_targets(sessions, config, now, only=only, due_only=due_only)
    for target, result, parsed in fetch_and_parse(targets, config, transport, summary.seconds, parse_workers):
        entries, warnings = settle_parse(target, result, parsed)
        clock = time.perf_counter()
        summary.outcomes.append(store_result(sessions, config, target, result, entries, warnings, now, rng))
        summary.seconds["store"] += time.perf_counter() - clock
    if config.collect.fetch_article_text:
        clock = time.perf_counter()
        add_article_texts(sessions, config, summary.new_item_ids, transport, now)
        summary.seconds["articles"] = time.perf_counter() - clock
    order = {t.name: n for n, t in enumerate(targets)}
    summary.outcomes.sort(key=lambda o: order[o.source])
    return summary


def select_targets(sessions: sessionmaker[Session], config: FeedsConfig, now: datetime, *,
                   only: list[str] | None, due_only: bool) -> list[Target]:
    with sessions.begin() as session:
        sources = [s for s in sync_sources(session, config, only=only) if s.enabled]
        if due_only:
            sources = [s for s in sources if s.next_check_at is None or s.next_check_at <= now]
        return [Target(s.id, s.name, s.url, s.etag, s.last_modified, timedelta(seconds=s.poll_interval_s))
                for s in sources]


def fetch_and_parse(targets: list[Target], config: FeedsConfig, transport, seconds: dict[str, float],
                    parse_workers: int = 0) -> Iterator[tuple[Target, FetchResult, ParsedDocuments]]:
    """Fetch and parse every target, yielding each as soon as it is ready, so the caller stores one
    source while others are still being fetched and parsed. Fetching runs on an event loop in a
    background thread; parsing (CPU-bound, feedparser) in worker processes for big passes."""
    ready: queue.Queue = queue.Queue()
    pool = _parse_pool(len(targets), parse_workers)

    def produce() -> None:
        try:
            asyncio.run(_fetch_then_parse(targets, config, transport, pool, ready, seconds))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            ready.put(exc)
        finally:
            ready.put(_DONE)

    thread = threading.Thread(target=produce, name="collect-fetch", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        thread.join()
        if pool is not None:
            pool.shutdown(cancel_futures=True)


_DONE = object()
PARALLEL_PARSE_MIN_SOURCES = 64  # below this, worker start-up costs more than it saves


def _parse_pool(sources: int, workers: int) -> ProcessPoolExecutor | None:
    if sources < PARALLEL_PARSE_MIN_SOURCES or workers < 2:
        return None
    # forkserver: never fork a process that holds database connections and scheduler threads.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"))


async def _parse(loop, pools: list, documents, target: Target) -> ParsedDocuments:
    """In the worker pool if there is one; in a thread if there is none or it broke (a worker that
    died, or a caller's ``__main__`` that cannot be re-imported by the workers)."""
    if pools[0] is not None:
        try:
            return await loop.run_in_executor(pools[0], parse_documents, documents)
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            log.warning("parse workers unavailable; parsing in-process",
                        extra={"source": target.name, "error": f"{type(exc).__name__}: {exc}"})
            pools[0] = None
    return await loop.run_in_executor(None, parse_documents, documents)


async def _fetch_then_parse(targets: list[Target], config: FeedsConfig, transport, pool, ready: queue.Queue,
                            seconds: dict[str, float]) -> None:
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    pools = [pool]

    async def one(target: Target, fetcher: Fetcher) -> None:
        result = await fetcher.fetch(target.url, etag=target.etag, last_modified=target.last_modified)
        seconds["fetch"] = time.perf_counter() - started  # until the last answer: the fetch stage's span
        parsed = ParsedDocuments()
        if result.documents:
            parsed = await _parse(loop, pools, result.documents, target)
            seconds["parse"] += parsed.seconds
        result.documents = []  # the bytes are no longer needed
        ready.put((target, result, parsed))

    async with Fetcher(config.collect, allow_private=config.allow_private_addresses, transport=transport) as fetcher:
        await asyncio.gather(*(one(t, fetcher) for t in targets))


def settle_parse(target: Target, result: FetchResult, parsed: ParsedDocuments) -> tuple[list[Entry], list[str]]:
    """A fetch whose every document failed to parse fails the source; otherwise errors are warnings."""
    warnings = list(parsed.warnings)
    if parsed.errors and len(parsed.errors) == parsed.documents:
        result.outcome, result.error_kind, result.error = "error", "parse", "; ".join(parsed.errors[:3])
    else:
        warnings.extend(parsed.errors)
    for warning in warnings:
        log.warning(warning, extra={"source": target.name, "url": target.url})
    return parsed.entries, warnings


def store_result(sessions: sessionmaker[Session], config: FeedsConfig, target: Target, result: FetchResult,
                 entries: list[Entry], warnings: list[str], now: datetime, rng: random.Random) -> SourceOutcome:
    outcome = SourceOutcome(target.name, result.outcome, entries=len(entries), http_status=result.status,
                            error=result.error, error_kind=result.error_kind, warnings=warnings)
    try:
        with sessions.begin() as session:
            source = session.get(Source, target.id)
            if result.outcome == "ok":
                stored = store_entries(session, source, entries, now=now, keywords=config.keywords)
                outcome.new_items, outcome.duplicates = len(stored.new_items), stored.duplicates
                outcome.near_duplicates = stored.near_duplicates
                session.flush()
                outcome.new_item_ids = [item.id for item in stored.new_items]
            record_health(session, source, config, result, outcome, target, now, rng)
    except Exception as exc:  # the database refused this source's batch: record it, keep going
        log.exception("store failed", extra={"source": target.name, "url": target.url})
        outcome = SourceOutcome(target.name, "error", entries=len(entries), http_status=result.status,
                                error=f"store: {type(exc).__name__}: {exc}", error_kind="store", warnings=warnings)
        result.outcome, result.error, result.error_kind = "error", outcome.error, "store"
        try:
            with sessions.begin() as session:
                record_health(session, session.get(Source, target.id), config, result, outcome, target, now, rng)
        except Exception:  # the database is unreachable: the summary still says what happened
            log.exception("health record failed", extra={"source": target.name})
    if outcome.outcome == "error":
        log.warning("source failed", extra={"source": target.name, "url": target.url, "error": outcome.error})
    return outcome


def record_health(session: Session, source: Source, config: FeedsConfig, result: FetchResult,
                  outcome: SourceOutcome, target: Target, now: datetime, rng: random.Random) -> None:
    source.last_attempt_at = now
    if result.outcome == "error":
        source.consecutive_failures = (source.consecutive_failures or 0) + 1
        source.last_error_at, source.last_error = now, result.error
        delay = health.backoff_delay(source.consecutive_failures, target.interval, config.collect,
                                     jitter=rng.random(), retry_after_s=result.retry_after_s)
    else:
        source.consecutive_failures = 0
        source.last_success_at = now
        # RFC 9111 §4.3.4: keep validators from a 304 too; a 200 without them clears the old ones.
        if result.outcome == "ok" or result.etag:
            source.etag = result.etag
        if result.outcome == "ok" or result.last_modified:
            source.last_modified = result.last_modified
        if outcome.new_items:
            source.mean_item_gap_s = health.updated_item_gap(source.mean_item_gap_s, source.last_new_item_at, now)
            source.last_new_item_at = now
        view = health.HealthView(True, 0, now, now, source.last_new_item_at, source.mean_item_gap_s, target.interval)
        outcome.silent = health.is_silent(view, now, config.collect.silence_factor)
        if outcome.silent:
            log.warning("source silent", extra={"source": target.name, "url": target.url,
                                                "last_new_item_at": source.last_new_item_at.isoformat()})
        delay = target.interval
    source.next_check_at = outcome.next_check_at = now + delay
    session.add(FetchAttempt(source_id=source.id, started_at=now, finished_at=now + timedelta(seconds=result.seconds),
                             outcome=result.outcome, http_status=result.status, error=result.error,
                             bytes_read=result.bytes_read, entries_found=outcome.entries,
                             items_new=outcome.new_items, items_duplicate=outcome.duplicates))


def add_article_texts(sessions: sessionmaker[Session], config: FeedsConfig, item_ids: list[int], transport,
                      now: datetime) -> None:
    if not item_ids:
        return
    with sessions() as session:
        rows = session.execute(select(Item.id, Item.url).where(
            Item.id.in_(item_ids), Item.passed_prefilter.is_(True), Item.url.is_not(None))).all()
    if not rows:
        return

    async def run() -> dict[str, str]:
        async with Fetcher(config.collect, allow_private=config.allow_private_addresses, transport=transport) as f:
            return await article.fetch_texts(f, [url for _id, url in rows])

    texts = asyncio.run(run())
    with sessions.begin() as session:
        for item_id, url in rows:
            if url in texts:
                item = session.get(Item, item_id)
                item.body = texts[url]
                item.search_text = fold("\n".join(p for p in (item.title, item.summary, item.body) if p))
