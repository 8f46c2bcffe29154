"""Outbox delivery: claim a due row with a lease, send it over SMTP, mark it sent or schedule a retry.

Per row: claim (one UPDATE guarded by ``claimed_until``, committed) → connect, MAIL, RCPT →
record ``send_started_at`` (committed) → DATA → mark sent (committed). A failure records
``last_error`` and a backed-off ``next_attempt_at``. A process that dies anywhere leaves its claim
to expire; the row is then claimed again and resent with the same Message-ID and bytes.

Guarantee: at least once. A resend can duplicate a mail only if the process died after starting
DATA and before committing ``sent_at``; such resends are logged as ``in_doubt`` (README, "Email").
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import smtp
from alerts.message import build_message, envelope_sender
from alerts.retry import next_attempt_at
from monitor import db
from monitor.models import Notification, Ticket
from monitor.settings import Settings
from monitor.timeutil import Clock

log = logging.getLogger(__name__)

MIN_LEASE = timedelta(minutes=5)


@dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    in_doubt: int = 0  # resent after an interrupted DATA: may be a duplicate (same Message-ID)
    errors: list[str] = field(default_factory=list)


def lease_for(settings: Settings) -> timedelta:
    """Long enough that a live sender never loses its claim mid-send: connect, TLS, login, RCPT and
    DATA each may take up to the socket timeout."""
    return max(MIN_LEASE, timedelta(seconds=settings.smtp_timeout_s * 6))


def due_filter(now: datetime):
    return (
        Notification.sent_at.is_(None),
        or_(Notification.not_before.is_(None), Notification.not_before <= now),
        func.coalesce(Notification.next_attempt_at, Notification.created_at) <= now,
        or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
    )


def claim_next(sessions: sessionmaker[Session], *, now: datetime, worker_id: str,
               lease: timedelta) -> Notification | None:
    """Claim the oldest due row for ``worker_id``, or None. The UPDATE re-checks the lease, so of
    two senders racing for one row exactly one gets rowcount 1 (PostgreSQL re-evaluates the WHERE
    after the row lock; SQLite serialises writers with BEGIN IMMEDIATE)."""
    for _ in range(5):
        with db.transaction(sessions) as session:
            row_id = session.scalars(
                select(Notification.id).where(*due_filter(now))
                .order_by(func.coalesce(Notification.next_attempt_at, Notification.created_at), Notification.id)
                .limit(1)
            ).first()
            if row_id is None:
                return None
            claimed = session.execute(
                update(Notification)
                .where(Notification.id == row_id, *due_filter(now))
                .values(claimed_by=worker_id, claimed_until=now + lease, attempts=Notification.attempts + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                return session.get(Notification, row_id, populate_existing=True)
    return None


def deliver_due(sessions: sessionmaker[Session], settings: Settings, *, now: datetime, worker_id: str,
                limit: int = 50, rand: random.Random | None = None, clock: Clock | None = None) -> DeliveryResult:
    """Send up to ``limit`` due rows, one claim at a time (a claim never waits behind other sends).

    ``now`` is the time of the first claim; pass ``clock`` (e.g. ``monitor.timeutil.utcnow``) so a
    long batch takes each later claim, and its lease, at the real time.
    """
    rand = rand or random.Random()
    result = DeliveryResult()
    lease = lease_for(settings)
    for n in range(limit):
        if clock is not None and n:
            now = clock()
        row = claim_next(sessions, now=now, worker_id=worker_id, lease=lease)
        if row is None:
            break
        deliver_one(sessions, settings, row, now=now, worker_id=worker_id, result=result, rand=rand)
    return result


def deliver_one(sessions: sessionmaker[Session], settings: Settings, row: Notification, *, now: datetime,
                worker_id: str, result: DeliveryResult, rand: random.Random) -> None:
    context = {"outbox_id": row.id, "ticket_id": row.ticket_id, "message_id": row.message_id,
               "attempt": row.attempts}
    if row.send_started_at is not None:
        result.in_doubt += 1
        log.warning("outbox: previous attempt died during DATA; resending with the same Message-ID",
                    extra={**context, "in_doubt": True})
    data = build_message(row, settings.mail_from).as_bytes()

    data_started = []

    def before_data() -> None:
        _mark_send_started(sessions, row.id, worker_id, now)
        data_started.append(True)

    try:
        refused = smtp.send_message(settings, envelope_sender(settings.mail_from), list(row.recipients), data,
                                    before_data=before_data)
    except Exception as exc:  # noqa: BLE001 - any failure must release the row for a retry
        if not isinstance(exc, smtp.SmtpError):
            log.exception("outbox: unexpected error while sending", extra=context)
            exc = smtp.SmtpError(f"outbox: {type(exc).__name__}: {exc}", after_data=bool(data_started))
        retry_at = next_attempt_at(now, row.attempts, rand=rand.random())
        _mark_failed(sessions, row.id, str(exc), retry_at, in_doubt=exc.after_data)
        result.failed += 1
        result.errors.append(str(exc))
        log.warning("outbox: send failed, will retry", extra={**context, "error": str(exc),
                    "retry_at": retry_at.isoformat(), "after_data": exc.after_data})
        return
    _mark_sent(sessions, row.id, row.ticket_id, now, refused)
    result.sent += 1
    log.info("outbox: sent", extra={**context, "recipients": len(row.recipients) - len(refused)})
    if refused:
        log.warning("outbox: some recipients refused", extra={**context, "refused": sorted(refused)})


def _mark_send_started(sessions: sessionmaker[Session], row_id: int, worker_id: str, now: datetime) -> None:
    with db.transaction(sessions) as session:
        session.execute(update(Notification).where(Notification.id == row_id, Notification.claimed_by == worker_id)
                        .values(send_started_at=now).execution_options(synchronize_session=False))


def _mark_sent(sessions: sessionmaker[Session], row_id: int, ticket_id: int | None, now: datetime,
               refused: dict) -> None:
    # Idempotent: whoever marks first wins; a later mark of the same row changes nothing.
    with db.transaction(sessions) as session:
        session.execute(
            update(Notification).where(Notification.id == row_id, Notification.sent_at.is_(None))
            .values(sent_at=now, send_started_at=None, claimed_until=None,
                    last_error=f"outbox: refused by the server: {', '.join(sorted(refused))}" if refused else None)
            .execution_options(synchronize_session=False)
        )
        if ticket_id is not None:
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(last_notified_at=now)
                            .execution_options(synchronize_session=False))


def _mark_failed(sessions: sessionmaker[Session], row_id: int, error: str, retry_at: datetime, *,
                 in_doubt: bool) -> None:
    # A connection lost after DATA began leaves the outcome unknown: keep send_started_at so the
    # retry is logged as in doubt.
    values = {} if in_doubt else {"send_started_at": None}
    with db.transaction(sessions) as session:
        session.execute(
            update(Notification).where(Notification.id == row_id, Notification.sent_at.is_(None))
            .values(last_error=error[:2000], next_attempt_at=retry_at, claimed_by=None, claimed_until=None,
                    **values)
            .execution_options(synchronize_session=False)
        )


def pending(session: Session, *, limit: int = 100) -> list[Notification]:
    """Unsent rows, oldest first (for ``outbox list``)."""
    return list(session.scalars(select(Notification).where(Notification.sent_at.is_(None))
                                .order_by(Notification.id).limit(limit)))
