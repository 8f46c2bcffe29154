"""``bhxh-monitor outbox list|send``, ``digest`` and ``report`` through the real command group."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner

from mail_helpers import SmtpServer
from monitor import db
from monitor.cli import cli
from test_digest import MONDAY_8, seed
from test_outbox import T0, open_ticket

FEEDS = """\
digest:
  recipients: [lanh-dao@bhxh.example.vn]
campaigns:
  - {name: Tháng vận động BHXH, start: 2026-05-01, end: 2026-05-31, recurring: true}
"""


def run(*args, env=None):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result


def test_outbox_list_and_send(sqlite_url, engine):
    sessions = db.session_factory(engine)
    open_ticket(sessions)
    listed = run("outbox", "list", "--database", sqlite_url, env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "1 message(s)" in listed.output and "ticket_opened" in listed.output
    with SmtpServer() as server:
        env = {"BHXH_SMTP_HOST": "127.0.0.1", "BHXH_SMTP_PORT": str(server.port), "BHXH_LOG_LEVEL": "WARNING"}
        sent = run("outbox", "send", "--database", sqlite_url, "--now", (T0 + timedelta(minutes=1)).isoformat(), env=env)
        assert sent.exit_code == 0 and "sent 1, failed 0" in sent.output
    assert len(server.received) == 1
    assert "0 message(s)" in run("outbox", "list", "--database", sqlite_url).output
    assert "1 message(s)" in run("outbox", "list", "--all", "--database", sqlite_url).output


def test_digest_output_send_and_report(sqlite_url, engine, tmp_path):
    seed(db.session_factory(engine))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(FEEDS, encoding="utf-8")
    page = tmp_path / "tuan47.html"
    out = run("digest", "--week", "2026-W47", "--output", str(page), "--feeds", str(feeds), "--database", sqlite_url,
              "--now", MONDAY_8.isoformat())
    assert out.exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert "Tuần 47 (16/11–22/11/2026)" in html and 'src="data:image/png;base64,' in html
    text = run("digest", "--week", "2026-W47", "--feeds", str(feeds), "--database", sqlite_url).output
    assert "SỐ LƯỢNG VÀ SẮC THÁI" in text
    bad = CliRunner().invoke(cli, ["digest", "--week", "2026-W60", "--feeds", str(feeds), "--database", sqlite_url])
    assert bad.exit_code == 2 and "no such ISO week" in bad.output

    with SmtpServer() as server:
        env = {"BHXH_SMTP_HOST": "127.0.0.1", "BHXH_SMTP_PORT": str(server.port), "BHXH_LOG_LEVEL": "WARNING"}
        for _ in range(2):
            sent = run("digest", "--send", "--feeds", str(feeds), "--database", sqlite_url, "--now", MONDAY_8.isoformat(), env=env)
            assert sent.exit_code == 0, sent.output
    assert len(server.received) == 1 and server.received[0].rcpt_tos == ["lanh-dao@bhxh.example.vn"]

    report = tmp_path / "bao-cao.html"
    assert run("report", "--year", "2026", "--output", str(report), "--feeds", str(feeds), "--database", sqlite_url).exit_code == 0
    assert "Tháng vận động BHXH" in report.read_text(encoding="utf-8")
