"""Tickets: the crisis ticket lifecycle, its audit trail, and what a detection does to a ticket.

Lifecycle (``TRANSITIONS``), mapped to the communication-crisis plan::

    new ──► acknowledged ──► responding ──► monitoring ──► closed
     │  (forecast/prevent)     (handle)    (rebuild trust)    │
     └──── reopen: monitoring/closed ──► new ◄────────────────┘

Deciding is pure (``check_transition``, ``decide_ticket``, ``should_escalate``, ``deadline_for``);
the functions taking a session do the writes, record a ``TicketEvent`` for every change (who, when)
and, for system changes, queue the email in the same transaction (``notify``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.errors import MonitorError
from monitor.models import Ticket, TicketEvent

log = logging.getLogger(__name__)

STATES = ("new", "acknowledged", "responding", "monitoring", "closed")
ACTIVE_STATES = ("new", "acknowledged", "responding")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"acknowledged", "responding", "closed"}),
    "acknowledged": frozenset({"responding", "monitoring", "closed"}),
    "responding": frozenset({"monitoring", "closed"}),
    "monitoring": frozenset({"closed", "responding", "new"}),
    "closed": frozenset({"new"}),
}
SYSTEM = "system"
# A closed ticket whose story flares up within this time is reopened; later, a new ticket links to it.
REOPEN_WITHIN = timedelta(days=14)


class TicketError(MonitorError):
    """A forbidden state change or a bad step index."""


# --- deciding (pure) -------------------------------------------------------------------------

def check_transition(from_state: str, to_state: str) -> None:
    """Raise TicketError unless ``from_state → to_state`` is in TRANSITIONS."""
    if to_state not in TRANSITIONS:
        raise TicketError(f"tickets: unknown state {to_state!r} (one of {', '.join(STATES)})")
    if to_state not in TRANSITIONS.get(from_state, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(from_state, ()))) or "none"
        raise TicketError(f"tickets: cannot go from {from_state!r} to {to_state!r} (allowed: {allowed})")


def deadline_for(severity: int, deadlines: dict[int, timedelta], now: datetime) -> datetime:
    """When a ticket of ``severity`` must be acknowledged."""
    return now + deadlines[max(1, min(4, severity))]


def should_escalate(state: str, deadline_at: datetime, escalated_at: datetime | None, now: datetime) -> bool:
    """Unacknowledged and past its deadline, and not escalated since it (re)opened: escalate once."""
    return state == "new" and escalated_at is None and now >= deadline_at


@dataclass(frozen=True)
class TicketView:
    """What ``decide_ticket`` needs to know of a story's latest ticket."""

    state: str
    severity: int
    closed_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    # none | open | update | raise | reopen | open_linked
    action: str
    severity: int


def decide_ticket(existing: TicketView | None, fired: bool, severity: int, now: datetime,
                  reopen_within: timedelta = REOPEN_WITHIN) -> Decision:
    """One ticket per story: what new activity on a story does to its ticket.

    A firing detection opens a ticket, raises an open one's severity, or reopens a ticket in
    post-crisis monitoring (or recently closed); a story closed long ago gets a new, linked ticket.
    Activity that does not fire only adds to an open ticket's timeline. Severity never drops by itself.
    """
    if existing is None:
        return Decision("open" if fired else "none", severity)
    kept = max(existing.severity, severity)
    if existing.state in ACTIVE_STATES:
        return Decision("raise" if severity > existing.severity else "update", kept)
    if not fired:
        return Decision("update" if existing.state == "monitoring" else "none", existing.severity)
    if existing.state == "monitoring":
        return Decision("reopen", kept)
    if existing.closed_at is not None and now - existing.closed_at <= reopen_within:
        return Decision("reopen", kept)
    return Decision("open_linked", severity)


# --- doing -----------------------------------------------------------------------------------

def record(session: Session, ticket: Ticket, kind: str, *, actor: str, now: datetime,
           from_state: str | None = None, to_state: str | None = None, **detail: Any) -> TicketEvent:
    event = TicketEvent(ticket=ticket, at=now, actor=actor, kind=kind, from_state=from_state,
                        to_state=to_state, detail=detail)
    session.add(event)
    ticket.updated_at = now
    return event


def change_state(session: Session, ticket: Ticket, to_state: str, *, actor: str, now: datetime,
                 note: str | None = None, deadlines: dict[int, timedelta] | None = None) -> TicketEvent:
    """Move ``ticket`` to ``to_state`` (TicketError when TRANSITIONS forbids it) and record who and when.

    Entering ``new`` again is a reopen: the ticket needs acknowledging again, gets a fresh deadline
    (``deadlines``, default DetectionConfig's) and may escalate once more.
    """
    from_state = ticket.state
    check_transition(from_state, to_state)
    ticket.state = to_state
    if to_state in ("acknowledged", "responding") and ticket.acknowledged_at is None:
        ticket.acknowledged_at = now
    if to_state == "monitoring":
        ticket.resolved_at = now
    if to_state == "closed":
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    if to_state == "new":
        _reset_for_reopen(ticket, now, deadlines)
    if to_state == "responding" and from_state == "monitoring":
        ticket.resolved_at = None
    detail = {"note": note} if note else {}
    kind = "reopened" if to_state == "new" else "state_changed"
    event = record(session, ticket, kind, actor=actor, now=now, from_state=from_state, to_state=to_state, **detail)
    log.info("ticket state changed", extra={"ticket_id": ticket.id, "story_id": ticket.story_id,
                                            "from_state": from_state, "to_state": to_state, "actor": actor})
    return event


def _reset_for_reopen(ticket: Ticket, now: datetime, deadlines: dict[int, timedelta] | None) -> None:
    if deadlines is None:
        from monitor.config import DetectionConfig

        deadlines = DetectionConfig().deadlines
    ticket.reopened_count = (ticket.reopened_count or 0) + 1
    ticket.acknowledged_at = None
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.escalated_at = None
    ticket.deadline_at = deadline_for(ticket.severity, deadlines, now)


def add_note(session: Session, ticket: Ticket, text: str, *, actor: str, now: datetime) -> TicketEvent:
    text = (text or "").strip()
    if not text:
        raise TicketError(f"tickets: ticket {ticket.id}: empty note")
    return record(session, ticket, "note", actor=actor, now=now, note=text)


def set_step(session: Session, ticket: Ticket, index: int, done: bool, *, actor: str, now: datetime) -> TicketEvent:
    """Tick (or untick) checklist step ``index`` (0-based)."""
    steps = [dict(s) for s in ticket.steps or []]
    if not 0 <= index < len(steps):
        raise TicketError(f"tickets: ticket {ticket.id}: no step {index} (it has {len(steps)})")
    steps[index].update(done=bool(done), done_by=actor if done else None,
                        done_at=now.isoformat() if done else None)
    ticket.steps = steps  # a new list, so the JSON column is seen as changed
    return record(session, ticket, "step", actor=actor, now=now, index=index, done=bool(done),
                  text=steps[index]["text"])


def notify(session: Session, ticket: Ticket, change: str, *, config, settings, now: datetime):
    """Queue the email for ``change`` in this transaction (alerts.notify; absent in partial builds)."""
    try:
        from alerts.notify import notify_ticket_change
    except ImportError:  # pragma: no cover - only while alerts.notify is not built
        log.warning("alerts.notify unavailable; no email queued", extra={"ticket_id": ticket.id, "change": change})
        return None
    session.flush()
    return notify_ticket_change(session, ticket, change, config=config, settings=settings, now=now)


def escalate_overdue(session: Session, config, settings, *, now: datetime) -> list[Ticket]:
    """Escalate every unacknowledged ticket past its deadline, once (``escalated_at`` is the guard)."""
    candidates = session.scalars(
        select(Ticket).where(Ticket.state == "new", Ticket.escalated_at.is_(None), Ticket.deadline_at <= now)
    ).all()
    escalated = []
    for ticket in candidates:
        if not should_escalate(ticket.state, ticket.deadline_at, ticket.escalated_at, now):
            continue
        ticket.escalated_at = now
        record(session, ticket, "escalated", actor=SYSTEM, now=now, deadline_at=ticket.deadline_at.isoformat())
        notify(session, ticket, "escalated", config=config, settings=settings, now=now)
        log.warning("ticket escalated", extra={"ticket_id": ticket.id, "story_id": ticket.story_id,
                                               "severity": ticket.severity})
        escalated.append(ticket)
    return escalated


def steps_done(ticket: Ticket) -> tuple[int, int]:
    steps = ticket.steps or []
    return sum(1 for s in steps if s.get("done")), len(steps)
