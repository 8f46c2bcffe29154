"""Run by tests/test_outbox_faults.py in a subprocess: deliver due mail, but SIGKILL this process the
moment the SMTP server has accepted a message (DATA answered 250), before the outbox marks it sent.

Usage: python outbox_send_then_die.py DATABASE_URL SMTP_PORT NOW_ISO
"""

import os
import signal
import sys
from datetime import datetime

from alerts import outbox, smtp
from monitor import db
from monitor.settings import Settings

url, port, now = sys.argv[1], int(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
_real_send = smtp.send_message


def send_then_die(*args, **kwargs):
    _real_send(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)


smtp.send_message = send_then_die
engine = db.make_engine(url)
settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_s=5, mail_from="Cảnh báo BHXH <canhbao@bhxh.example.vn>")
outbox.deliver_due(db.session_factory(engine), settings, now=now, worker_id="doomed")
print("not killed")
