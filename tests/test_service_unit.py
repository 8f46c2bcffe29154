"""Service plumbing without the network: guarded jobs, the first admin, the scheduler's job table."""

from __future__ import annotations

import logging
import stat

from sqlalchemy import select

from monitor import metrics
from monitor.cli_common import Context
from monitor.jobs import JOB_DEFAULTS, guarded
from monitor.models import User
from monitor.service import ensure_admin
from monitor.settings import Settings
from monitor.users import authenticate


def test_guarded_job_logs_and_survives_an_exception(caplog):
    calls = []

    def broken():
        calls.append(1)
        raise RuntimeError("feed exploded")

    before = metrics.JOB_FAILURES.labels("unit-test")._value.get()
    with caplog.at_level(logging.ERROR, logger="monitor.jobs"):
        assert guarded("unit-test", broken)() is None
    assert calls == [1]
    assert metrics.JOB_FAILURES.labels("unit-test")._value.get() == before + 1
    record = next(r for r in caplog.records if r.getMessage() == "job failed")
    assert record.job == "unit-test" and "feed exploded" in record.exc_text


def test_guarded_job_returns_the_result():
    assert guarded("unit-ok", lambda: 42)() == 42


def test_scheduler_defaults_never_drop_late_runs_silently():
    assert JOB_DEFAULTS["misfire_grace_time"] >= 60
    assert JOB_DEFAULTS["max_instances"] == 1 and JOB_DEFAULTS["coalesce"] is True


def test_first_start_creates_one_admin_with_a_private_password_file(engine, sessions, tmp_path):
    ctx = Context(Settings(data_dir=tmp_path), engine, sessions)
    ensure_admin(ctx)
    ensure_admin(ctx)  # a second start creates nobody
    path = tmp_path / "initial-admin-password"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = path.read_text().strip()
    with sessions.begin() as session:
        assert len(session.scalars(select(User)).all()) == 1
        admin = authenticate(session, "admin", password)
        assert admin is not None and admin.role == "admin"
        assert authenticate(session, "admin", password + "x") is None
