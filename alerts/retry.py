"""Retry timing for outbox delivery (pure): capped exponential backoff with jitter.

Jitter spreads retries of many queued mails after an SMTP outage (as for feed polling in
RELIABILITY.md); nothing is ever dropped, so the cap bounds how late a mail can be once SMTP is back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

BASE = timedelta(seconds=30)
CAP = timedelta(minutes=15)
JITTER = 0.25


def backoff(attempts: int, *, rand: float, base: timedelta = BASE, cap: timedelta = CAP,
            jitter: float = JITTER) -> timedelta:
    """Delay after the ``attempts``-th failed attempt (1-based); ``rand`` in [0, 1) shortens it by up
    to ``jitter`` of itself."""
    if attempts < 1:
        raise ValueError(f"retry: attempts must be >= 1, not {attempts}")
    if not 0 <= rand < 1:
        raise ValueError(f"retry: rand must be in [0, 1), not {rand}")
    raw = min(cap, base * (2 ** min(attempts - 1, 30)))
    return raw * (1 - jitter * rand)


def next_attempt_at(now: datetime, attempts: int, *, rand: float) -> datetime:
    return now + backoff(attempts, rand=rand)
