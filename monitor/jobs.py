"""The scheduled work of the running service, and the one APScheduler that runs it.

Jobs: collection (one per source, from ``monitor.schedule``), ``pipeline`` (classify → stories →
detection → tickets → outbox rows), ``escalate`` (overdue tickets), ``outbox`` (send email),
``digest`` (weekly, by cron), ``maintenance`` (nightly). Every job is wrapped by ``guarded``: it never
overlaps itself (``max_instances=1``), a failure is logged with its job name and does not stop the
others, and its duration goes to ``/metrics``.

APScheduler 3 pitfalls handled here (RELIABILITY.md): ``misfire_grace_time`` is set explicitly
(the default of 1 s silently drops late runs), ``coalesce`` folds a backlog of missed runs into one,
and exactly one scheduler runs per service process.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, text
from sqlalchemy.orm import Session, sessionmaker

from monitor import metrics
from monitor.config import FeedsConfig
from monitor.models import FetchAttempt
from monitor.settings import Settings
from monitor.timeutil import LOCAL_TZ, utcnow

log = logging.getLogger("monitor.jobs")

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
FETCH_ATTEMPTS_KEPT = timedelta(days=30)


def guarded(name: str, func: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``func``; log and count any exception instead of letting it reach the scheduler."""

    def run() -> Any:
        started = time.perf_counter()
        try:
            return func()
        except Exception:
            metrics.JOB_FAILURES.labels(name).inc()
            log.exception("job failed", extra={"job": name})
            return None
        finally:
            metrics.JOB_SECONDS.labels(name).observe(time.perf_counter() - started)

    run.__name__ = f"job_{name}"
    return run


class TimedClassifier:
    """A classifier whose ``predict`` reports its per-item latency and volume to ``/metrics``."""

    def __init__(self, classifier):
        self.inner = classifier
        self.version = classifier.version

    def predict(self, records):
        started = time.perf_counter()
        predictions = self.inner.predict(records)
        if predictions:
            metrics.CLASSIFY_SECONDS.observe((time.perf_counter() - started) / len(predictions))
            metrics.ITEMS_CLASSIFIED.inc(len(predictions))
        return predictions


class ClassifierHolder:
    """The classifier in use. ``load_classifier`` caches per artifact file and modification time, so
    asking again picks up a newly trained model (e.g. after a retrain from the web page)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._timed: TimedClassifier | None = None

    def get(self) -> TimedClassifier:
        from classifiers.model import load_classifier, resolve_model_path

        with self._lock:
            classifier = load_classifier(resolve_model_path(self.settings.model_path, settings=self.settings))
            if self._timed is None or self._timed.inner is not classifier:
                self._timed = TimedClassifier(classifier)
                log.info("classifier loaded", extra={"model_version": classifier.version})
            return self._timed


@dataclass
class Service:
    """What the jobs need: settings, feeds.yaml, the database, the classifier."""

    settings: Settings
    config: FeedsConfig
    sessions: sessionmaker[Session]
    classifier: ClassifierHolder
    worker_id: str = field(default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}")
    clock: Callable[[], datetime] = utcnow


def run_pipeline(service: Service) -> Any:
    from alerts.pipeline import process_new_items

    classifier = service.classifier.get()
    return process_new_items(service.sessions, service.config, classifier, service.settings, now=service.clock())


def run_escalations(service: Service) -> list:
    from alerts.tickets import escalate_overdue

    with service.sessions.begin() as session:
        escalated = escalate_overdue(session, service.config, service.settings, now=service.clock())
        return [t.id for t in escalated]


def run_outbox(service: Service) -> Any:
    from alerts.outbox import deliver_due

    result = deliver_due(service.sessions, service.settings, now=service.clock(), worker_id=service.worker_id,
                         clock=service.clock)
    sent = getattr(result, "sent", 0)
    if isinstance(sent, int) and sent:
        metrics.EMAILS_SENT.inc(sent)
    return result


def run_digest(service: Service) -> Any:
    from alerts.digest import enqueue_digest

    if not service.config.digest.recipients:
        log.info("digest skipped: no recipients in feeds.yaml", extra={"job": "digest"})
        return None
    with service.sessions.begin() as session:
        return enqueue_digest(session, service.config, service.settings, week=None, now=service.clock())


def run_maintenance(service: Service) -> None:
    """Prune old fetch attempts; let the database refresh its statistics and trim its WAL."""
    cutoff = service.clock() - FETCH_ATTEMPTS_KEPT
    with service.sessions.begin() as session:
        pruned = session.execute(delete(FetchAttempt).where(FetchAttempt.started_at < cutoff)).rowcount
    engine = service.sessions.kw["bind"]
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA optimize")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()
    log.info("maintenance done", extra={"job": "maintenance", "fetch_attempts_pruned": pruned})


def build_scheduler(service: Service) -> BackgroundScheduler:
    """One scheduler with every job of the service (not started)."""
    from alerts.digest import digest_trigger
    from monitor.schedule import add_collection_jobs

    pipeline_every = timedelta(seconds=service.settings.pipeline_interval_s)
    outbox_every = timedelta(seconds=service.settings.outbox_interval_s)
    # Enough threads that slow feeds (up to the fetch timeout) do not hold up the pipeline or email.
    executors = {"default": ThreadPoolExecutor(max_workers=20)}
    scheduler = BackgroundScheduler(timezone=LOCAL_TZ, job_defaults=JOB_DEFAULTS, executors=executors)
    pipeline = guarded("pipeline", lambda: run_pipeline(service))

    def trigger_pipeline(item_ids: list[int] | None = None) -> None:
        # New items: classify them now instead of waiting for the next minute.
        try:
            scheduler.modify_job("pipeline", next_run_time=datetime.now(timezone.utc))
        except Exception:  # the scheduler is shutting down
            log.debug("pipeline trigger ignored", exc_info=True)

    add_collection_jobs(scheduler, service.sessions, service.config, on_new_items=trigger_pipeline)
    start = datetime.now(timezone.utc) + timedelta(seconds=2)
    scheduler.add_job(pipeline, IntervalTrigger(seconds=pipeline_every.total_seconds()), id="pipeline",
                      name="classify, cluster, detect", next_run_time=start)
    scheduler.add_job(guarded("escalate", lambda: run_escalations(service)), IntervalTrigger(minutes=1),
                      id="escalate", name="escalate overdue tickets")
    scheduler.add_job(guarded("outbox", lambda: run_outbox(service)),
                      IntervalTrigger(seconds=outbox_every.total_seconds()), id="outbox", name="send email",
                      next_run_time=start)
    scheduler.add_job(guarded("digest", lambda: run_digest(service)), digest_trigger(service.config),
                      id="digest", name="weekly digest", misfire_grace_time=6 * 3600)
    scheduler.add_job(guarded("maintenance", lambda: run_maintenance(service)),
                      CronTrigger(hour=3, minute=17, timezone=LOCAL_TZ), id="maintenance",
                      name="nightly maintenance", misfire_grace_time=6 * 3600)
    return scheduler

