"""Per-ticket rate limit: fold a change into the pending mail or schedule a new one (pure).

Alertmanager waits ``group_wait`` before a group's first notification and then at most once per
``group_interval``; here one mail per ticket per ``min_interval_per_ticket``, and a change that
arrives while a mail is still waiting is folded into it (re-rendered, same Message-ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Most important first: the subject of a folded mail names the most important change in it (a
# first mail stays "new ticket" even when its severity rose before it went out).
CHANGE_PRIORITY = ("escalated", "ticket_opened", "reopened", "severity_raised")


@dataclass(frozen=True)
class PendingMail:
    """The ticket's newest alert row, as the decision needs it."""

    not_before: datetime
    sent: bool
    in_flight: bool  # claimed by a sender right now: it can no longer be changed


@dataclass(frozen=True)
class FoldDecision:
    fold: bool  # True: re-render the pending row; False: insert a new row
    not_before: datetime


def decide(
    latest: PendingMail | None,
    change: str,
    *,
    now: datetime,
    group_wait: timedelta,
    min_interval: timedelta,
    last_sent_at: datetime | None = None,
) -> FoldDecision:
    """Where this change goes and when it may be sent."""
    if latest is not None and not latest.sent and not latest.in_flight:
        return FoldDecision(fold=True, not_before=latest.not_before)
    earliest = now + group_wait if change == "ticket_opened" else now
    if latest is not None:
        # The previous mail went (or is going) at the later of its slot and its actual send.
        previous = max(latest.not_before, last_sent_at) if last_sent_at else latest.not_before
        earliest = max(earliest, previous + min_interval)
    return FoldDecision(fold=False, not_before=earliest)


def stronger_change(a: str, b: str) -> str:
    """The more important of two changes (for the subject of a folded mail)."""
    rank = {name: i for i, name in enumerate(CHANGE_PRIORITY)}
    return a if rank.get(a, 99) <= rank.get(b, 99) else b
