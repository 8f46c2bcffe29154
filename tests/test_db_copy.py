"""``db copy``: every row arrives, ids and time zones intact, and new rows get fresh ids afterwards."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from monitor import db
from monitor.db_copy import copy_database
from monitor.errors import MonitorError
from monitor.models import Item, Source, Ticket

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def _fill(sessions) -> None:
    with sessions.begin() as session:
        source = Source(name="Nguồn thử", kind="rss", url="https://example.vn/rss")
        session.add(source)
        first = Item(source=source, guid="a", title="Nợ đóng BHXH", published_at=T0, content_hash="a")
        session.add(first)
        session.flush()
        session.add(Item(source=source, guid="b", title="Nợ đóng BHXH (đăng lại)", published_at=T0,
                         content_hash="b", near_duplicate_of_id=first.id))
        session.add(Ticket(group_key="story:1", severity=2, category="contribution_debt_evasion",
                           title="Nợ đóng BHXH", opened_at=T0, deadline_at=T0))


def test_copy_sqlite_to_any_backend(sqlite_url, any_db_url, tmp_path):
    if any_db_url == sqlite_url:
        any_db_url = f"sqlite:///{tmp_path / 'copy.db'}"
    source = db.make_engine(sqlite_url)
    db.upgrade(source)
    _fill(db.session_factory(source))
    target = db.make_engine(any_db_url)
    counts = copy_database(source, target)
    assert counts["items"] == 2 and counts["sources"] == 1 and counts["tickets"] == 1
    sessions = db.session_factory(target)
    with sessions() as session:
        copied = session.scalars(select(Item).order_by(Item.id)).all()
        assert [i.title for i in copied] == ["Nợ đóng BHXH", "Nợ đóng BHXH (đăng lại)"]
        assert copied[1].near_duplicate_of_id == copied[0].id
        assert copied[0].published_at == T0
    with sessions.begin() as session:  # sequences moved past the copied ids
        session.add(Item(source_id=copied[0].source_id, guid="c", title="mới", published_at=T0, content_hash="c"))
    with sessions() as session:
        assert session.scalar(select(func.max(Item.id))) == 3
    with pytest.raises(MonitorError, match="not empty"):
        copy_database(source, target)
    source.dispose()
    target.dispose()


def test_backup_command_writes_a_readable_copy(sqlite_url, tmp_path):
    from click.testing import CliRunner

    from monitor.cli import cli

    engine = db.make_engine(sqlite_url)
    db.upgrade(engine)
    _fill(db.session_factory(engine))
    engine.dispose()
    target = tmp_path / "backup.db"
    result = CliRunner().invoke(cli, ["db", "backup", str(target), "--database", sqlite_url])
    assert result.exit_code == 0, result.output
    copy = db.make_engine(f"sqlite:///{target}")
    with db.session_factory(copy)() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 2
    copy.dispose()
    again = CliRunner().invoke(cli, ["db", "backup", str(target), "--database", sqlite_url])
    assert again.exit_code != 0 and "exists" in again.output
