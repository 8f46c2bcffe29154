"""Per-source health decisions: when to check next, how long to back off, whether a source has gone
silent. Pure functions over plain values (no clock, no database, no randomness of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import CollectConfig

GAP_WEIGHT = 0.3  # EWMA weight of the newest gap between new items


def poll_interval(configured: timedelta | None, collect: CollectConfig) -> timedelta:
    """The source's interval (or the default), clamped to [min_interval, max_interval] (Miniflux)."""
    interval = configured or collect.default_interval
    return min(max(interval, collect.min_interval), collect.max_interval)


def backoff_delay(failures: int, interval: timedelta, collect: CollectConfig, *, jitter: float,
                  retry_after_s: float | None = None) -> timedelta:
    """Capped exponential backoff with jitter after ``failures`` consecutive failures (>= 1).

    ``jitter`` in [0, 1) picks a delay between half and all of the exponential step, so sources that
    failed together do not retry together. A Retry-After (RFC 9110 §10.2.3) is honoured up to
    ``max_interval``; it applies to this source only, never to the whole host (a FreshRSS complaint).
    """
    step = interval * (2 ** min(max(failures, 1) - 1, 20))
    delay = min(step, collect.max_backoff) * (0.5 + 0.5 * jitter)
    if retry_after_s is not None:
        delay = max(delay, min(timedelta(seconds=retry_after_s), collect.max_interval))
    return delay


def updated_item_gap(mean_gap_s: float | None, last_new_item_at: datetime | None, now: datetime) -> float | None:
    """The typical gap between new items (EWMA), after new items arrived at ``now``."""
    if last_new_item_at is None:
        return mean_gap_s
    gap = max((now - last_new_item_at).total_seconds(), 0.0)
    return gap if mean_gap_s is None else GAP_WEIGHT * gap + (1 - GAP_WEIGHT) * mean_gap_s


@dataclass
class HealthView:
    """What ``feeds status`` needs to know about one source."""

    enabled: bool
    consecutive_failures: int
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_new_item_at: datetime | None
    mean_item_gap_s: float | None
    interval: timedelta


def is_silent(view: HealthView, now: datetime, silence_factor: float) -> bool:
    """Answers but brings nothing new for much longer than its usual rhythm (Media Cloud's lesson:
    a feed can look healthy and collect nothing)."""
    if view.last_success_at is None or view.last_new_item_at is None:
        return False
    usual = max(view.mean_item_gap_s or 0.0, view.interval.total_seconds())
    return (now - view.last_new_item_at).total_seconds() > silence_factor * usual


def status(view: HealthView, now: datetime, silence_factor: float) -> str:
    """One word: disabled | never | failing | silent | ok."""
    if not view.enabled:
        return "disabled"
    if view.last_attempt_at is None:
        return "never"
    if view.consecutive_failures > 0:
        return "failing"
    if is_silent(view, now, silence_factor):
        return "silent"
    return "ok"
