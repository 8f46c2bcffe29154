"""The sender killed after the SMTP server accepted a message but before the outbox marked it sent.

The sender runs in a real subprocess that SIGKILLs itself as soon as DATA is answered 250. On
restart the row is resent (at-least-once, as Alertmanager): the test shows the second copy is the
same message, byte for byte, with the same Message-ID, and that it is counted as in doubt.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from alerts import outbox
from mail_helpers import SmtpServer
from monitor.models import Notification
from test_outbox import T0, open_ticket, settings_for

HELPER = Path(__file__).with_name("outbox_send_then_die.py")


def test_killed_after_accept_resends_the_same_message_once(any_sessions, any_db_url):
    open_ticket(any_sessions)
    now = T0 + timedelta(minutes=1)
    with SmtpServer() as server:
        settings = settings_for(server.port)
        proc = subprocess.run([sys.executable, str(HELPER), any_db_url, str(server.port), now.isoformat()],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        assert len(server.received) == 1  # the server accepted it before the process died
        with any_sessions() as session:
            row = session.scalars(select(Notification)).one()
            assert row.sent_at is None and row.claimed_by == "doomed"
            assert row.send_started_at == now  # the trace of an interrupted DATA
            lease_end = row.claimed_until

        # Restarted sender: the dead worker's lease holds the row until it expires ...
        assert outbox.deliver_due(any_sessions, settings, now=lease_end - timedelta(seconds=1), worker_id="new").sent == 0
        assert len(server.received) == 1
        # ... then it is resent once, flagged in doubt, and marked.
        result = outbox.deliver_due(any_sessions, settings, now=lease_end + timedelta(seconds=1), worker_id="new")
        assert (result.sent, result.in_doubt) == (1, 1)
        assert outbox.deliver_due(any_sessions, settings, now=lease_end + timedelta(hours=2), worker_id="new").sent == 0

    first, second = server.received
    assert first.message()["Message-ID"] == second.message()["Message-ID"] == row.message_id
    assert first.data == second.data and first.rcpt_tos == second.rcpt_tos
    with any_sessions() as session:
        row = session.scalars(select(Notification)).one()
        assert row.sent_at is not None and row.send_started_at is None and row.attempts == 2


def test_killed_before_data_is_not_in_doubt(any_sessions):
    """A sender that dies before DATA (here: the server is down, the claim is left to expire by a
    crash simulated by claiming without sending) resends without an in-doubt mark."""
    open_ticket(any_sessions)
    now = T0 + timedelta(minutes=1)
    claimed = outbox.claim_next(any_sessions, now=now, worker_id="crashed", lease=timedelta(minutes=5))
    assert claimed is not None
    with SmtpServer() as server:
        settings = settings_for(server.port)
        result = outbox.deliver_due(any_sessions, settings, now=now + timedelta(minutes=6), worker_id="new")
    assert (result.sent, result.in_doubt, len(server.received)) == (1, 0, 1)
