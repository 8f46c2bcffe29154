"""Prometheus metrics for ``/metrics``: one registry, names shared with the structured logs.

Counters and histograms are updated by the jobs; gauges that describe stored state (tickets by
state, outbox backlog, review backlog) are read from the database at scrape time.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from monitor.models import FetchAttempt, Item, Notification, Source, Ticket

REGISTRY = CollectorRegistry(auto_describe=True)

ITEMS_CLASSIFIED = Counter("bhxh_items_classified", "Items classified.", registry=REGISTRY)
CLASSIFY_SECONDS = Histogram(
    "bhxh_classification_seconds", "Classification latency per item (batch time / batch size).",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5), registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "bhxh_job_duration_seconds", "Scheduled job run time.", ["job"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300), registry=REGISTRY,
)
JOB_FAILURES = Counter("bhxh_job_failures", "Scheduled job runs that raised.", ["job"], registry=REGISTRY)
EMAILS_SENT = Counter("bhxh_emails_sent", "Emails accepted by the SMTP server.", registry=REGISTRY)


class StateCollector:
    """Gauges read from the database when Prometheus scrapes."""

    def __init__(self, sessions: sessionmaker[Session]):
        self.sessions = sessions

    def collect(self):
        tickets = GaugeMetricFamily("bhxh_tickets", "Tickets by state.", labels=["state"])
        backlog = GaugeMetricFamily("bhxh_outbox_backlog", "Emails waiting to be sent.")
        failing = GaugeMetricFamily("bhxh_sources_failing", "Sources whose last fetch failed.")
        # Per-source figures come from stored rows, so they survive restarts (fetch_attempts are
        # pruned after 30 days by the nightly maintenance job: the error count covers that window).
        collected = CounterMetricFamily("bhxh_items_collected", "Items stored, per source.", labels=["source"])
        errors = CounterMetricFamily("bhxh_fetch_errors", "Failed fetches in the kept history, per source.",
                                     labels=["source"])
        with self.sessions() as session:
            for name, count in session.execute(
                    select(Source.name, func.count(Item.id)).join(Item, Item.source_id == Source.id).group_by(Source.name)):
                collected.add_metric([name], count)
            for name, count in session.execute(
                    select(Source.name, func.count(FetchAttempt.id)).join(FetchAttempt, FetchAttempt.source_id == Source.id)
                    .where(FetchAttempt.outcome == "error").group_by(Source.name)):
                errors.add_metric([name], count)
            for state, count in session.execute(select(Ticket.state, func.count()).group_by(Ticket.state)):
                tickets.add_metric([state], count)
            backlog.add_metric([], session.scalar(
                select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))) or 0)
            failing.add_metric([], session.scalar(
                select(func.count()).select_from(Source).where(Source.consecutive_failures > 0)) or 0)
        yield tickets
        yield backlog
        yield failing
        yield collected
        yield errors


_state_collector: StateCollector | None = None


def watch_database(sessions: sessionmaker[Session]) -> None:
    """Register (once per process) the gauges that read ``sessions``' database."""
    global _state_collector
    if _state_collector is None:
        _state_collector = StateCollector(sessions)
        REGISTRY.register(_state_collector)
    else:
        _state_collector.sessions = sessions


def render() -> bytes:
    return generate_latest(REGISTRY)
