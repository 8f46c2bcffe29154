"""Shared fixtures: databases (SQLite always; PostgreSQL when BHXH_TEST_POSTGRES_URL is set, which
scripts/with-test-services.sh does), paths to ../shared, and a place for test output."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor import db

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUTPUT = ROOT / "tests" / "output"
REQUIRE_SERVICES = os.environ.get("BHXH_REQUIRE_SERVICES") == "1"


def _postgres_admin_url() -> str | None:
    url = os.environ.get("BHXH_TEST_POSTGRES_URL")
    if not url and REQUIRE_SERVICES:
        pytest.fail("BHXH_REQUIRE_SERVICES=1 but no PostgreSQL server (BHXH_TEST_POSTGRES_URL unset)")
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    admin_url = _postgres_admin_url()
    if not admin_url:
        pytest.skip("no PostgreSQL server (set BHXH_TEST_POSTGRES_URL or run ./dev.sh test)")
    name = f"bhxh_test_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_url(request) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def engine(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def any_engine(any_db_url):
    engine = db.make_engine(any_db_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


@pytest.fixture
def any_sessions(any_engine):
    return db.session_factory(any_engine)


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
