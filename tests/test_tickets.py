"""Ticket lifecycle: transitions table, grouping decisions and escalation (pure, table-driven), and
the recorded audit trail on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from alerts import tickets
from alerts.labels import CATEGORY_LABELS, SEVERITY_LABELS, STATE_LABELS
from alerts.tickets import Decision, TicketError, TicketView, decide_ticket, should_escalate
from monitor.config import CATEGORIES, FeedsConfig
from monitor.models import Ticket, TicketEvent
from monitor.settings import Settings

T0 = datetime(2025, 10, 1, 2, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.mark.parametrize("from_state,to_state,ok", [
    ("new", "acknowledged", True),
    ("new", "responding", True),
    ("new", "closed", True),
    ("new", "monitoring", False),
    ("acknowledged", "responding", True),
    ("acknowledged", "new", False),
    ("responding", "monitoring", True),
    ("responding", "acknowledged", False),
    ("monitoring", "closed", True),
    ("monitoring", "new", True),
    ("closed", "new", True),
    ("closed", "responding", False),
    ("closed", "closed", False),
    ("new", "archived", False),
])
def test_transitions_table(from_state, to_state, ok):
    if ok:
        tickets.check_transition(from_state, to_state)
    else:
        with pytest.raises(TicketError, match="^tickets: "):
            tickets.check_transition(from_state, to_state)


@pytest.mark.parametrize("existing,fired,severity,now,expected", [
    (None, False, 2, T0, Decision("none", 2)),
    (None, True, 2, T0, Decision("open", 2)),
    (TicketView("new", 2), True, 2, T0, Decision("update", 2)),
    (TicketView("acknowledged", 2), True, 3, T0, Decision("raise", 3)),
    (TicketView("responding", 3), False, 1, T0, Decision("update", 3)),
    (TicketView("monitoring", 2), False, 2, T0, Decision("update", 2)),
    (TicketView("monitoring", 2), True, 3, T0, Decision("reopen", 3)),
    (TicketView("closed", 2, T0 - 24 * H), True, 1, T0, Decision("reopen", 2)),
    (TicketView("closed", 2, T0 - 30 * 24 * H), True, 1, T0, Decision("open_linked", 1)),
    (TicketView("closed", 2, T0 - 24 * H), False, 4, T0, Decision("none", 2)),
])
def test_decide_ticket(existing, fired, severity, now, expected):
    assert decide_ticket(existing, fired, severity, now) == expected


@pytest.mark.parametrize("state,deadline,escalated_at,now,expected", [
    ("new", T0, None, T0 - H, False),
    ("new", T0, None, T0, True),
    ("new", T0, T0, T0 + H, False),
    ("acknowledged", T0, None, T0 + H, False),
    ("closed", T0, None, T0 + H, False),
])
def test_should_escalate(state, deadline, escalated_at, now, expected):
    assert should_escalate(state, deadline, escalated_at, now) is expected


def test_labels_cover_every_state_severity_and_category():
    assert set(STATE_LABELS) == set(tickets.STATES)
    assert set(SEVERITY_LABELS) == {1, 2, 3, 4}
    assert set(CATEGORY_LABELS) == set(CATEGORIES)


def _ticket(session, **kw) -> Ticket:
    ticket = Ticket(group_key=kw.pop("group_key", "story:1"), severity=kw.pop("severity", 2),
                    category="payment_delay", title="Chậm chi trả trợ cấp thất nghiệp", opened_at=T0,
                    deadline_at=kw.pop("deadline_at", T0 + 24 * H), updated_at=T0,
                    steps=[{"stage": "prevent", "text": "Xác minh", "done": False, "done_by": None, "done_at": None}],
                    **kw)
    session.add(ticket)
    session.flush()
    return ticket


def test_lifecycle_records_who_and_when(any_sessions):
    with any_sessions.begin() as session:
        ticket = _ticket(session)
        tickets.change_state(session, ticket, "acknowledged", actor="lan", now=T0 + H)
        tickets.set_step(session, ticket, 0, True, actor="lan", now=T0 + 2 * H)
        tickets.add_note(session, ticket, "Đã liên hệ phòng chế độ", actor="lan", now=T0 + 2 * H)
        tickets.change_state(session, ticket, "responding", actor="minh", now=T0 + 3 * H)
        tickets.change_state(session, ticket, "monitoring", actor="minh", now=T0 + 4 * H)
        tickets.change_state(session, ticket, "closed", actor="minh", now=T0 + 5 * H, note="Đã xong")
        with pytest.raises(TicketError, match="cannot go from 'closed' to 'responding'"):
            tickets.change_state(session, ticket, "responding", actor="minh", now=T0 + 6 * H)
        with pytest.raises(TicketError, match="no step 5"):
            tickets.set_step(session, ticket, 5, True, actor="lan", now=T0)
    with any_sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.state == "closed"
        assert ticket.acknowledged_at == T0 + H
        assert ticket.resolved_at == T0 + 4 * H
        assert ticket.closed_at == T0 + 5 * H
        assert ticket.steps[0]["done"] is True and ticket.steps[0]["done_by"] == "lan"
        events = session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        assert [(e.kind, e.actor, e.to_state) for e in events] == [
            ("state_changed", "lan", "acknowledged"), ("step", "lan", None), ("note", "lan", None),
            ("state_changed", "minh", "responding"), ("state_changed", "minh", "monitoring"),
            ("state_changed", "minh", "closed"),
        ]
        assert events[-1].detail == {"note": "Đã xong"}


def test_reopen_resets_acknowledgement_and_deadline(any_sessions):
    with any_sessions.begin() as session:
        ticket = _ticket(session, severity=3)
        tickets.change_state(session, ticket, "acknowledged", actor="lan", now=T0 + H)
        tickets.change_state(session, ticket, "closed", actor="lan", now=T0 + 2 * H)
        tickets.change_state(session, ticket, "new", actor="system", now=T0 + 10 * H,
                             deadlines={1: 72 * H, 2: 24 * H, 3: 4 * H, 4: H})
        assert ticket.reopened_count == 1
        assert ticket.acknowledged_at is None and ticket.closed_at is None
        assert ticket.deadline_at == T0 + 14 * H
        assert ticket.events[-1].kind == "reopened"


def test_overdue_ticket_escalates_once(any_sessions):
    config, settings = FeedsConfig(), Settings()
    with any_sessions.begin() as session:
        late = _ticket(session, group_key="story:1", deadline_at=T0 + H)
        _ticket(session, group_key="story:2", deadline_at=T0 + 5 * H)
        acked = _ticket(session, group_key="story:3", deadline_at=T0 + H)
        tickets.change_state(session, acked, "acknowledged", actor="lan", now=T0)
        assert tickets.escalate_overdue(session, config, settings, now=T0 + 30 * timedelta(minutes=1)) == []
        first = tickets.escalate_overdue(session, config, settings, now=T0 + 2 * H)
        again = tickets.escalate_overdue(session, config, settings, now=T0 + 3 * H)
        assert [t.id for t in first] == [late.id]
        assert again == []
        assert late.escalated_at == T0 + 2 * H
        kinds = session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == late.id)).all()
        assert kinds.count("escalated") == 1
