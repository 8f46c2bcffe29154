"""Scheduled collection: one APScheduler 3 job per enabled source at its poll interval.

Each job polls only its own source, only when the source's health record says it is due (so a
backoff after failures is respected), never overlaps itself (``max_instances=1``), folds missed runs
into one (``coalesce=True``), and has an explicit ``misfire_grace_time`` (APScheduler's default of
1 s silently drops a run that starts late; RELIABILITY.md). Jitter spreads sources with equal
intervals apart.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta, timezone
from typing import Callable

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from monitor.collect import collect_once
from monitor.config import FeedsConfig
from monitor.health import poll_interval

log = logging.getLogger(__name__)
JOB_PREFIX = "collect:"


def jitter_seconds(interval_s: float) -> int:
    """Up to a tenth of the interval, at most 2 minutes."""
    return int(min(interval_s / 10, 120))


def add_collection_jobs(scheduler, sessions: sessionmaker[Session], config: FeedsConfig, *,
                        on_new_items: Callable[[list[int]], None] | None = None, rng: random.Random | None = None) -> list:
    """Add (or replace) one job per enabled source, removing jobs of sources no longer enabled;
    returns the jobs. The first runs are spread over the first minute so a restart does not poll
    every feed at once."""
    rng = rng or random.Random()
    now = datetime.now(timezone.utc)
    jobs = []
    for job in scheduler.get_jobs():
        # A reload replaces every collection job; before start() APScheduler 3 keeps pending jobs in a
        # list that replace_existing does not look at, so remove them explicitly.
        if job.id.startswith(JOB_PREFIX):
            scheduler.remove_job(job.id)
    for source in config.enabled_sources():
        seconds = poll_interval(source.interval, config.collect).total_seconds()
        jobs.append(scheduler.add_job(
            run_source, trigger=IntervalTrigger(seconds=seconds, jitter=jitter_seconds(seconds)),
            args=[sessions, config, source.name, on_new_items],
            id=JOB_PREFIX + source.name, name=f"collect {source.name}", replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=int(max(60, seconds / 2)),
            next_run_time=now + timedelta(seconds=rng.uniform(1, min(60, seconds))),
        ))
    return jobs


def run_source(sessions: sessionmaker[Session], config: FeedsConfig, name: str,
               on_new_items: Callable[[list[int]], None] | None = None) -> list[int]:
    """The job body: poll one source if it is due; hand new item ids to ``on_new_items``."""
    summary = collect_once(sessions, config, only=[name], due_only=True)
    ids = summary.new_item_ids
    if ids and on_new_items is not None:
        try:
            on_new_items(ids)
        except Exception:  # the items are stored; the next pipeline run picks them up anyway
            log.exception("on_new_items failed", extra={"source": name, "job": JOB_PREFIX + name})
    return ids
