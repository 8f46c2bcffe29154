"""Ticket alerts into the outbox: route, rate-limit/fold, render, insert, in the caller's transaction.

``notify_ticket_change`` is called by the ticket code in the same transaction as the ticket change
(transactional outbox): the mail exists exactly when the change does. Deciding is pure
(``alerts.routing``, ``alerts.folding``); this module only reads and writes rows.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.alert_mail import gather, render_alert
from alerts.folding import PendingMail, decide, stronger_change
from alerts.message import make_message_id
from alerts.routing import AlertFacts, route_recipients, unique_addresses
from monitor.config import FeedsConfig
from monitor.models import Notification, Ticket
from monitor.settings import Settings

log = logging.getLogger(__name__)

ALERT_KINDS = ("ticket_opened", "severity_raised", "escalated", "reopened")


def notify_ticket_change(
    session: Session, ticket: Ticket, change: str, *, config: FeedsConfig, settings: Settings, now: datetime
) -> Notification | None:
    """Record (or fold) the alert mail for ``change`` of ``ticket``; None when nobody is routed."""
    recipients = route_recipients(config.alerts, AlertFacts(ticket.severity, ticket.category, change))
    if not recipients:
        log.warning("notify: no recipients routed", extra={"ticket_id": ticket.id, "change": change})
        return None
    session.flush()  # the ticket needs its id
    latest = _latest_alert(session, ticket.id)
    decision = decide(
        _pending_view(latest, now) if latest else None, change, now=now,
        group_wait=config.alerts.group_wait, min_interval=config.alerts.min_interval_per_ticket,
        last_sent_at=latest.sent_at if latest else None,
    )
    if decision.fold:
        row = latest
        row.changes = list(row.changes or [row.kind]) + [change]
        row.kind = stronger_change(row.kind, change)
        row.recipients = unique_addresses(list(row.recipients) + recipients)
    else:
        sequence = _alert_count(session, ticket.id) + 1
        row = Notification(
            dedup_key=f"ticket:{ticket.id}:alert:{sequence}", kind=change, ticket_id=ticket.id,
            changes=[change], message_id=make_message_id(f"ticket-{ticket.id}", settings.mail_from),
            recipients=recipients, subject="", body_text="", attachments=[], created_at=now,
            not_before=decision.not_before, next_attempt_at=decision.not_before, attempts=0,
        )
        session.add(row)
    view = gather(ticket, row.kind, list(row.changes), base_url=settings.base_url, now=now,
                  window=config.detection.window)
    row.subject, row.body_text, row.body_html = render_alert(view)
    session.flush()
    log.info("notify: alert %s", "folded" if decision.fold else "queued",
             extra={"ticket_id": ticket.id, "outbox_id": row.id, "change": change,
                    "not_before": row.not_before.isoformat()})
    return row


def _latest_alert(session: Session, ticket_id: int) -> Notification | None:
    return session.scalars(
        select(Notification)
        .where(Notification.ticket_id == ticket_id, Notification.kind.in_(ALERT_KINDS))
        .order_by(Notification.id.desc())
        .limit(1)
        # PostgreSQL: a sender's claim waits for this fold (or this sees the claim); SQLite writers
        # are serialised by BEGIN IMMEDIATE already.
        .with_for_update()
    ).first()


def _alert_count(session: Session, ticket_id: int) -> int:
    return session.scalar(
        select(func.count()).select_from(Notification).where(Notification.dedup_key.like(f"ticket:{ticket_id}:alert:%"))
    ) or 0


def _pending_view(row: Notification, now: datetime) -> PendingMail:
    # A row a sender has claimed (or began sending) is frozen: folding into it could change a mail
    # that is already on the wire.
    in_flight = row.send_started_at is not None or (row.claimed_until is not None and row.claimed_until > now)
    return PendingMail(not_before=row.not_before or row.created_at, sent=row.sent_at is not None, in_flight=in_flight)
