"""Storage round trips on SQLite and PostgreSQL: migrations from empty, inserts, unique constraints,
time zones, and that the migration matches the ORM models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from monitor import db
from monitor.models import Base, Classification, Item, Notification, Source, Story, Ticket, TicketEvent

T0 = datetime(2026, 5, 4, 1, 30, tzinfo=timezone.utc)


def _source(session, name="VnExpress - Thời sự") -> Source:
    source = Source(name=name, kind="rss", url="https://vnexpress.net/rss/thoi-su.rss")
    session.add(source)
    session.flush()
    return source


def _item(source, guid="g1", url="https://vnexpress.net/a-1.html", **kw) -> Item:
    return Item(source=source, guid=guid, url=url, canonical_url=url, title=kw.pop("title", "Bảo hiểm xã hội"),
                published_at=kw.pop("published_at", T0), content_hash="h" + guid, **kw)


def test_migrations_create_every_table_from_empty(any_engine):
    tables = set(inspect(any_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables
    assert db.current_revision(any_engine) is not None


def test_upgrade_is_idempotent(any_engine):
    before = db.current_revision(any_engine)
    db.upgrade(any_engine)
    assert db.current_revision(any_engine) == before


def _not_search_index(obj, name, type_, reflected, compare_to) -> bool:
    # Full-text objects of migration 0002 (SQLite FTS5 table and its shadow tables, PostgreSQL GIN
    # expression index) are raw DDL, not ORM models.
    return not (name or "").startswith(("items_fts", "ix_items_search_tsv"))


def test_migration_matches_models(any_engine):
    with any_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _not_search_index})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_item_round_trip_keeps_vietnamese_and_utc(any_sessions):
    local = timezone(timedelta(hours=7))
    with any_sessions.begin() as session:
        source = _source(session)
        session.add(_item(source, title="Chậm đóng BHXH: hàng nghìn lao động bị ảnh hưởng",
                          published_at=datetime(2026, 5, 4, 8, 30, tzinfo=local)))
    with any_sessions() as session:
        item = session.scalars(select(Item)).one()
        assert item.title == "Chậm đóng BHXH: hàng nghìn lao động bị ảnh hưởng"
        assert item.published_at == T0
        assert item.published_at.tzinfo is not None
        assert item.source.name == "VnExpress - Thời sự"


def test_naive_datetime_is_rejected(any_sessions):
    with pytest.raises(Exception, match="naive datetime"):
        with any_sessions.begin() as session:
            session.add(_item(_source(session), published_at=datetime(2026, 5, 4, 8, 30)))


def test_same_guid_in_one_source_is_stored_once(any_sessions):
    with any_sessions.begin() as session:
        source = _source(session)
        session.add(_item(source, guid="g1", url="https://a.vn/1"))
    with pytest.raises(IntegrityError):
        with any_sessions.begin() as session:
            source = session.scalars(select(Source)).one()
            session.add(_item(source, guid="g1", url="https://a.vn/2"))
    with any_sessions() as session:
        assert session.scalar(select(Item.url)) == "https://a.vn/1"


def test_same_canonical_url_across_sources_is_stored_once(any_sessions):
    with any_sessions.begin() as session:
        session.add(_item(_source(session, "A"), guid="a", url="https://a.vn/1"))
    with pytest.raises(IntegrityError):
        with any_sessions.begin() as session:
            session.add(_item(_source(session, "B"), guid="b", url="https://a.vn/1"))


def test_items_without_link_may_coexist(any_sessions):
    with any_sessions.begin() as session:
        source = _source(session)
        session.add(_item(source, guid="x", url=None))
        session.add(_item(source, guid="y", url=None))
    with any_sessions() as session:
        assert len(session.scalars(select(Item)).all()) == 2


def test_ticket_story_classification_outbox_round_trip(any_sessions):
    with any_sessions.begin() as session:
        source = _source(session)
        story = Story(title="Nợ đóng BHXH", first_seen_at=T0, last_seen_at=T0)
        item = _item(source, story=story)
        session.add(Classification(item=item, model_version="v1", relevant=True, relevance=0.97,
                                   sentiment="negative", sentiment_scores={"negative": 0.8, "neutral": 0.15, "positive": 0.05},
                                   misleading=False, misleading_score=0.02, category="contribution_debt_evasion",
                                   reasons=["nợ đóng", "chậm đóng"]))
        ticket = Ticket(group_key="story:1", story=story, severity=3, category="contribution_debt_evasion",
                        title=story.title, opened_at=T0, deadline_at=T0 + timedelta(hours=4),
                        steps=[{"stage": "respond", "text": "Xác minh", "done": False}])
        ticket.events.append(TicketEvent(at=T0, actor="system", kind="opened", to_state="new"))
        session.add(ticket)
        session.add(Notification(dedup_key="ticket:1:opened", kind="ticket_opened",
                                 message_id="<t1@bhxh-monitor>", recipients=["a@b.vn"],
                                 subject="[Mức 3] Nợ đóng BHXH", body_text="Nội dung"))
    with any_sessions() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.story.items[0].classifications[0].sentiment_scores["negative"] == 0.8
        assert ticket.events[0].kind == "opened"
        assert ticket.steps[0]["text"] == "Xác minh"
    with pytest.raises(IntegrityError):
        with any_sessions.begin() as session:
            session.add(Notification(dedup_key="ticket:1:opened", kind="ticket_opened",
                                     message_id="<t2@bhxh-monitor>", recipients=[], subject="x", body_text="x"))
