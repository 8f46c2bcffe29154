"""store_entries on SQLite and PostgreSQL: exact duplicates stored once (also under a lost race),
derived fields, and near-duplicate linking through the lazily rebuilt in-memory index."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from monitor import store
from monitor.config import KeywordsConfig
from monitor.entries import Entry
from monitor.models import Item, Source, Story
from monitor.store import forget_index, store_entries

T0 = datetime(2026, 5, 6, 5, 0, tzinfo=timezone.utc)
KEYWORDS = KeywordsConfig(include=["bảo hiểm xã hội", "BHXH"], exclude=["mũ bảo hiểm"])
STORY = ("Theo Bảo hiểm xã hội tỉnh Khánh Hòa, một công ty may tại Nha Trang đã chậm đóng bảo hiểm xã hội cho gần "
         "800 công nhân suốt 14 tháng, số tiền nợ hơn 12 tỷ đồng.")


def entry(n: int, *, title: str | None = None, summary: str = "", url: str | None = "auto", published=T0) -> Entry:
    link = f"https://bao.example.vn/tin-{n}.html" if url == "auto" else url
    return Entry(guid=f"g{n}", title=title or f"Tin số {n} về thời tiết miền Trung tuần này", summary=summary,
                 url=link, canonical_url=link, published_at=published)


def add_source(session, name: str) -> Source:
    source = Source(name=name, kind="rss", url=f"https://{name}.example.vn/rss", consecutive_failures=0)
    session.add(source)
    session.flush()
    return source


def count(sessions, model=Item) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_exact_duplicates_are_stored_once(any_sessions):
    with any_sessions.begin() as session:
        a, b = add_source(session, "a"), add_source(session, "b")
        first = store_entries(session, a, [entry(1), entry(2), entry(2)], now=T0, keywords=KEYWORDS)
        again = store_entries(session, a, [entry(1), entry(3)], now=T0, keywords=KEYWORDS)
        other = entry(9, url="https://BAO.example.vn/tin-1.html?utm_source=fb")  # same canonical URL, other source
        other.canonical_url = "https://bao.example.vn/tin-1.html"
        cross = store_entries(session, b, [other, entry(1, url=None)], now=T0, keywords=KEYWORDS)
    assert (len(first.new_items), first.duplicates) == (2, 1)
    assert (len(again.new_items), again.duplicates) == (1, 1)
    assert (len(cross.new_items), cross.duplicates) == (1, 1)  # g1 in source b is new; the URL is not
    assert count(any_sessions) == 4


def test_a_lost_race_counts_as_duplicate_and_keeps_the_rest(any_sessions, monkeypatch):
    with any_sessions.begin() as session:
        source = add_source(session, "a")
        store_entries(session, source, [entry(1)], now=T0, keywords=KEYWORDS)
    # Another writer stored g1 after our lookup: the lookup sees nothing, the constraint decides.
    monkeypatch.setattr(store, "_existing", lambda *args, **kwargs: set())
    with any_sessions.begin() as session:
        source = session.scalars(select(Source)).one()
        result = store_entries(session, source, [entry(1), entry(2)], now=T0, keywords=KEYWORDS)
    assert [i.guid for i in result.new_items] == ["g2"] and result.duplicates == 1
    assert count(any_sessions) == 2


def test_derived_fields(any_sessions):
    with any_sessions.begin() as session:
        source = add_source(session, "a")
        result = store_entries(session, source, [
            entry(1, title="Chậm đóng BHXH", summary=STORY),
            entry(2, title="Không đội mũ bảo hiểm", published=None),
            entry(3, title="Lịch cúp điện", published=T0 + timedelta(days=30)),
        ], now=T0, keywords=KEYWORDS)
    bhxh, helmet, future = result.new_items
    assert bhxh.passed_prefilter and not helmet.passed_prefilter
    assert bhxh.search_text.startswith("cham dong bhxh\ntheo bao hiem xa hoi tinh khanh hoa")
    assert len(bhxh.minhash) == 64 and helmet.minhash is None  # a bare headline is too short to sign
    assert len(bhxh.content_hash) == 64
    assert not bhxh.published_estimated and bhxh.published_at == T0
    assert helmet.published_estimated and helmet.published_at == T0
    assert future.published_estimated and future.published_at == T0


def test_near_duplicates_join_one_story_across_batches_and_index_rebuilds(any_sessions):
    with any_sessions.begin() as session:
        a, b, c = (add_source(session, n) for n in "abc")
        store_entries(session, a, [entry(1, title="Công ty may nợ BHXH 12 tỷ", summary=STORY)], now=T0, keywords=KEYWORDS)
    forget_index_for(any_sessions)  # a restart: the next store rebuilds the index from the table
    with any_sessions.begin() as session:
        b = session.scalars(select(Source).where(Source.name == "b")).one()
        copy = store_entries(session, b, [entry(2, title="Nợ BHXH 12 tỷ ở công ty may", summary=STORY,
                                                published=T0 + timedelta(hours=1))], now=T0, keywords=KEYWORDS)
    with any_sessions.begin() as session:
        c = session.scalars(select(Source).where(Source.name == "c")).one()
        rewrite = STORY.replace("chậm đóng", "không đóng").replace("suốt", "trong")
        third = store_entries(session, c, [entry(3, title="Công nhân chưa thể chốt sổ", summary=rewrite,
                                                 published=T0 + timedelta(hours=2)),
                                           entry(4, summary="Trời nắng nóng, nhiệt độ cao nhất 38 độ, người dân nên hạn chế ra đường.")],
                               now=T0, keywords=KEYWORDS)
    assert copy.near_duplicates == 1 and third.near_duplicates == 1
    with any_sessions() as session:
        items = session.scalars(select(Item).order_by(Item.id)).all()
        story = session.scalars(select(Story)).one()
        assert [i.story_id for i in items] == [story.id, story.id, story.id, None]
        assert [i.near_duplicate_of_id for i in items] == [None, items[0].id, items[0].id, None]
        assert (story.item_count, story.outlet_count) == (3, 3)
        assert story.first_seen_at == T0 and story.last_seen_at == T0 + timedelta(hours=2)


def forget_index_for(sessions) -> None:
    with sessions() as session:
        forget_index(session)


def test_rolled_back_items_are_not_linked(any_sessions):
    with any_sessions.begin() as session:
        source = add_source(session, "a")
    with pytest.raises(RuntimeError):
        with any_sessions.begin() as session:
            source = session.scalars(select(Source)).one()
            store_entries(session, source, [entry(1, summary=STORY)], now=T0, keywords=KEYWORDS)
            raise RuntimeError("the caller's transaction fails after the store")
    with any_sessions.begin() as session:
        source = session.scalars(select(Source)).one()
        result = store_entries(session, source, [entry(2, summary=STORY)], now=T0, keywords=KEYWORDS)
    assert result.near_duplicates == 0 and result.new_items[0].near_duplicate_of_id is None
    assert count(any_sessions) == 1


def test_identical_text_without_a_signature_links_by_content_hash(any_sessions):
    with any_sessions.begin() as session:
        a, b = add_source(session, "a"), add_source(session, "b")
        title = "Khánh Hòa: nợ BHXH tăng mạnh"  # five words, too short for MinHash
        store_entries(session, a, [entry(1, title=title)], now=T0, keywords=KEYWORDS)
        result = store_entries(session, b, [entry(2, title=title.upper()), entry(3, title="Tin vắn")], now=T0,
                               keywords=KEYWORDS)
        short = store_entries(session, a, [entry(4, title="Tin vắn")], now=T0, keywords=KEYWORDS)
    assert result.near_duplicates == 1 and short.near_duplicates == 0
