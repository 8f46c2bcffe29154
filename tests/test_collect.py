"""Collection passes against a real HTTP server on 127.0.0.1: every way a feed misbehaves, with the
other sources still collected, nothing stored lost, and the health record saying what happened.
Runs on SQLite and PostgreSQL (``any_sessions``); time is injected, never slept on."""

from __future__ import annotations

import gzip
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from feedserver import FeedServer, Reply
from monitor.collect import collect_once
from monitor.config import FeedsConfig
from monitor.models import FetchAttempt, Item, Source, Story

FEEDS = Path(__file__).parent / "data" / "feeds"
T0 = datetime(2026, 5, 6, 5, 0, tzinfo=timezone.utc)
KEYWORDS = {"include": ["bảo hiểm xã hội", "BHXH", "BHYT", "VssID", "lương hưu"], "exclude": ["mũ bảo hiểm"]}


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def make_config(sources: list[dict], **collect) -> FeedsConfig:
    return FeedsConfig.model_validate({
        "allow_private_addresses": True, "keywords": KEYWORDS,
        "collect": {"timeout": 1, "max_body_bytes": 1_000_000, **collect}, "sources": sources,
    })


def source_row(sessions, name: str) -> Source:
    with sessions() as session:
        return session.scalars(select(Source).where(Source.name == name)).one()


def item_count(sessions, name: str | None = None) -> int:
    with sessions() as session:
        query = select(func.count(Item.id))
        if name:
            query = query.join(Source).where(Source.name == name)
        return session.scalar(query)


BIG = b"<rss version='2.0'><channel><title>x</title>" + b"<!-- " + b"x" * 1_200_000 + b" --></channel></rss>"

# name -> (reply, expected outcome, text expected in the health record's last_error)
SCENARIOS = {
    "http_500": (Reply(status=500, body=b"Internal Server Error", content_type="text/plain"), "error", "HTTP 500"),
    "timeout": (Reply(body=feed("outlet_a.xml"), delay=2.0), "error", "within 1 s"),
    "trickle": (Reply(body=feed("normal.xml"), chunk_size=200, chunk_delay=0.15), "error", "within 1 s"),
    "oversized": (Reply(body=BIG), "error", "exceeds the 1000000-byte limit"),
    "oversized_no_length": (Reply(body=BIG, send_length=False), "error", "after decompression"),
    "gzip_bomb": (Reply(body=gzip.compress(b"\0" * 30_000_000), headers={"Content-Encoding": "gzip"}), "error",
                  "after decompression"),
    "not_xml": (Reply(body=b"\x00\x01\x02 <<<>>> garbage", content_type="application/rss+xml"), "error", "parse:"),
    "html_page": (Reply(body="<html><body><p>Trang bảo trì</p></body></html>".encode(), content_type="text/html"),
                  "error", "parse:"),
    "malformed_xml": (Reply(body=feed("malformed.xml")), "ok", None),
    "empty_feed": (Reply(body=feed("empty.xml")), "ok", None),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_misbehaving_source_fails_alone(any_sessions, scenario):
    reply, expected, error_text = SCENARIOS[scenario]
    with FeedServer() as server:
        current = {"bad": Reply(body=feed("outlet_a.xml")), "good": Reply(body=feed("outlet_b.xml"))}
        bad = server.add_handler("/bad.xml", lambda req: current["bad"])
        good = server.add_handler("/good.xml", lambda req: current["good"])
        config = make_config([{"name": "Nguồn lỗi", "url": bad}, {"name": "Nguồn tốt", "url": good}])

        first = collect_once(any_sessions, config, now=T0)
        assert [o.outcome for o in first.outcomes] == ["ok", "ok"]
        stored_before = item_count(any_sessions, "Nguồn lỗi")
        assert stored_before == 2

        current["bad"] = reply
        current["good"] = Reply(body=feed("outlet_c.xml"))
        later = T0 + timedelta(minutes=20)
        second = collect_once(any_sessions, config, now=later)

    outcomes = {o.source: o for o in second.outcomes}
    assert outcomes["Nguồn tốt"].outcome == "ok" and outcomes["Nguồn tốt"].new_items == 2
    assert outcomes["Nguồn lỗi"].outcome == expected
    assert item_count(any_sessions, "Nguồn lỗi") >= stored_before  # nothing stored is lost
    health = source_row(any_sessions, "Nguồn lỗi")
    assert health.last_attempt_at == later
    if expected == "error":
        assert error_text in health.last_error
        assert health.consecutive_failures == 1 and health.last_error_at == later
        assert health.last_success_at == T0
        assert health.next_check_at > later
    else:
        assert health.consecutive_failures == 0 and health.last_success_at == later
    with any_sessions() as session:
        attempts = session.scalars(select(FetchAttempt).where(FetchAttempt.source_id == health.id)
                                   .order_by(FetchAttempt.started_at)).all()
    assert [a.outcome for a in attempts] == ["ok", expected]


def test_not_modified_costs_no_parsing_and_keeps_validators(any_sessions):
    with FeedServer() as server:
        url = server.add("/a.xml", feed("normal.xml"), etag='"v1"', last_modified="Wed, 06 May 2026 01:00:00 GMT")
        config = make_config([{"name": "A", "url": url}])
        first = collect_once(any_sessions, config, now=T0)
        second = collect_once(any_sessions, config, now=T0 + timedelta(minutes=15))
        sent = server.requests[-1].headers
    assert first.outcomes[0].new_items == 3
    assert second.outcomes[0].outcome == "not_modified" and second.outcomes[0].entries == 0
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "Wed, 06 May 2026 01:00:00 GMT"
    health = source_row(any_sessions, "A")
    assert health.etag == '"v1"' and health.consecutive_failures == 0
    assert health.last_success_at == T0 + timedelta(minutes=15)


def test_items_repeated_across_polls_are_stored_once(any_sessions):
    polls = [feed("outlet_a.xml"), feed("outlet_a.xml").replace(
        b"<item>", "<item><title>Tin mới: chi trả lương hưu sớm</title><link>https://bao-a.example.vn/moi-5003.html</link>"
                   "<pubDate>Wed, 06 May 2026 11:00:00 +0700</pubDate></item><item>".encode(), 1)]
    with FeedServer() as server:
        url = server.add_handler("/a.xml", lambda req: Reply(body=polls[min(server.hits["/a.xml"], 2) - 1]))
        config = make_config([{"name": "A", "url": url}])
        first = collect_once(any_sessions, config, now=T0)
        second = collect_once(any_sessions, config, now=T0 + timedelta(minutes=15))
    assert (first.new_items, first.duplicates) == (2, 0)
    assert (second.new_items, second.duplicates) == (1, 2)
    assert item_count(any_sessions) == 3


def test_wrong_and_missing_charset_keep_vietnamese(any_sessions):
    title = "Người lao động được hưởng BHXH một lần khi nào?"
    body = f"<rss version='2.0'><channel><title>Báo Mẫu</title><item><title>{title}</title>" \
           f"<link>https://baomau.example.vn/{{n}}.html</link></item></channel></rss>"
    with FeedServer() as server:
        sources = [
            {"name": "sai charset", "url": server.add("/1.xml", body.format(n=1).encode(), content_type="text/xml; charset=iso-8859-1")},
            {"name": "không charset", "url": server.add("/2.xml", body.format(n=2).encode(), content_type="text/xml")},
            {"name": "windows-1258", "url": server.add(
                "/3.xml", b'<?xml version="1.0" encoding="windows-1258"?>' + encode_1258(body.format(n=3)),
                content_type="application/xml")},
            {"name": "NFD", "url": server.add("/4.xml", __import__("unicodedata").normalize("NFD", body.format(n=4)).encode())},
        ]
        summary = collect_once(any_sessions, make_config(sources), now=T0)
    assert summary.count("ok") == 4
    with any_sessions() as session:
        titles = session.scalars(select(Item.title).order_by(Item.id)).all()
    assert titles == [title] * 4


def encode_1258(text: str) -> bytes:
    """windows-1258 keeps base letters precomposed and writes tone marks as combining characters."""
    import unicodedata

    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = unicodedata.normalize("NFD", char)
            tone = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
            rest = unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tone))
            out += (rest + "".join(tone)).encode("cp1258")
    return bytes(out)


def test_redirect_loop_and_redirect_limit(any_sessions):
    with FeedServer() as server:
        server.add("/loop1", reply=Reply(status=302, headers={"Location": "/loop2"}))
        server.add("/loop2", reply=Reply(status=301, headers={"Location": "/loop1"}))
        for n in range(8):
            server.add(f"/hop{n}", reply=Reply(status=307, headers={"Location": f"/hop{n + 1}"}))
        server.add("/moved", reply=Reply(status=301, headers={"Location": "/final.xml"}))
        server.add("/final.xml", feed("outlet_b.xml"))
        sources = [{"name": "vòng lặp", "url": server.url("/loop1")}, {"name": "quá xa", "url": server.url("/hop0")},
                   {"name": "đã chuyển", "url": server.url("/moved")}]
        summary = collect_once(any_sessions, make_config(sources, max_redirects=5), now=T0)
    outcomes = {o.source: o for o in summary.outcomes}
    assert "redirect loop" in outcomes["vòng lặp"].error
    assert "more than 5 redirects" in outcomes["quá xa"].error
    assert outcomes["đã chuyển"].outcome == "ok" and outcomes["đã chuyển"].new_items == 1


def test_private_address_is_refused_unless_allowed(any_sessions):
    with FeedServer() as server:
        url = server.add("/a.xml", feed("outlet_b.xml"))
        by_name = url.replace("127.0.0.1", "localhost")
        config = make_config([{"name": "IP", "url": url}, {"name": "tên", "url": by_name}])
        config.allow_private_addresses = False
        refused = collect_once(any_sessions, config, now=T0)
        assert server.hits["/a.xml"] == 0
        config.allow_private_addresses = True
        allowed = collect_once(any_sessions, config, now=T0 + timedelta(minutes=15))
    assert [o.error_kind for o in refused.outcomes] == ["refused", "refused"]
    assert "private/loopback/link-local" in source_row(any_sessions, "IP").last_error
    assert allowed.count("ok") == 2 and item_count(any_sessions) == 1


def test_syndicated_copies_from_three_outlets_become_one_story(any_sessions):
    with FeedServer() as server:
        sources = [{"name": f"Báo {x.upper()}", "url": server.add(f"/{x}.xml", feed(f"outlet_{x}.xml"))} for x in "abc"]
        summary = collect_once(any_sessions, make_config(sources), now=T0 + timedelta(hours=5))
    assert summary.new_items == 5
    with any_sessions() as session:
        copies = session.scalars(select(Item).where(Item.title.contains("công ty may") | Item.title.contains("công nhân"))
                                 .order_by(Item.published_at)).all()
        others = session.scalars(select(Item).where(Item.story_id.is_(None))).all()
        stories = session.scalars(select(Story)).all()
        assert len(copies) == 3 and len({c.source_id for c in copies}) == 3
        assert len(stories) == 1 and {c.story_id for c in copies} == {stories[0].id}
        # Sources are stored as their fetches complete: the copy stored first is the original.
        originals = [c for c in copies if c.near_duplicate_of_id is None]
        assert len(originals) == 1
        assert sorted(c.near_duplicate_of_id for c in copies if c is not originals[0]) == [originals[0].id] * 2
        assert {o.title for o in others} == {"Khánh Hòa khai trương tuyến xe buýt điện đầu tiên",
                                             "Giá vàng miếng tăng mạnh phiên đầu tuần"}
        assert stories[0].first_seen_at == copies[0].published_at  # the earliest published copy


def test_backoff_grows_and_honours_retry_after_then_resets(any_sessions):
    with FeedServer() as server:
        state = {"reply": Reply(status=503, body=b"busy", content_type="text/plain")}
        url = server.add_handler("/a.xml", lambda req: state["reply"])
        config = make_config([{"name": "A", "url": url, "interval": "10m"}], max_backoff="2h")
        rng = random.Random(7)
        delays, now = [], T0
        for _ in range(6):
            collect_once(any_sessions, config, now=now, rng=rng)
            health = source_row(any_sessions, "A")
            delays.append(health.next_check_at - now)
            now = health.next_check_at
        assert health.consecutive_failures == 6
        assert delays[1] > delays[0] and delays[2] > delays[1]
        assert all(d <= timedelta(hours=2) for d in delays)
        state["reply"] = Reply(status=429, body=b"slow down", headers={"Retry-After": "7200"}, content_type="text/plain")
        collect_once(any_sessions, config, now=now, rng=rng)
        assert source_row(any_sessions, "A").next_check_at - now >= timedelta(hours=2)
        state["reply"] = Reply(body=feed("outlet_b.xml"))
        collect_once(any_sessions, config, now=now + timedelta(hours=2), rng=rng)
    health = source_row(any_sessions, "A")
    assert health.consecutive_failures == 0
    assert health.next_check_at == now + timedelta(hours=2, minutes=10)


def test_due_only_skips_sources_in_backoff(any_sessions):
    with FeedServer() as server:
        bad = server.add("/bad", reply=Reply(status=500))
        good = server.add("/good", feed("outlet_b.xml"))
        config = make_config([{"name": "bad", "url": bad, "interval": "15m"}, {"name": "good", "url": good, "interval": "5m"}])
        collect_once(any_sessions, config, now=T0)
        # The failed source backs off at least half its interval (7.5 min); the good one is due at 5 min.
        due = collect_once(any_sessions, config, now=T0 + timedelta(minutes=6), due_only=True)
    assert [o.source for o in due.outcomes] == ["good"]


def test_local_file_and_directory_sources(any_sessions, tmp_path):
    (tmp_path / "a.xml").write_bytes(feed("outlet_a.xml"))
    (tmp_path / "b.jsonl").write_bytes(feed("backfill.jsonl"))
    (tmp_path / "notes.txt").write_text("bỏ qua")
    config = make_config([{"name": "thư mục", "url": tmp_path.as_uri()},
                          {"name": "tệp", "url": str(FEEDS / "outlet_c.xml")},
                          {"name": "thiếu", "url": str(tmp_path / "missing.xml")}])
    first = collect_once(any_sessions, config, now=T0)
    second = collect_once(any_sessions, config, now=T0 + timedelta(minutes=15))
    outcomes = {o.source: o for o in first.outcomes}
    assert outcomes["thư mục"].new_items == 4 and any(":2:" in w for w in outcomes["thư mục"].warnings)
    assert outcomes["tệp"].new_items == 2
    assert outcomes["thiếu"].outcome == "error"
    assert [o.outcome for o in second.outcomes] == ["not_modified", "not_modified", "error"]
    with any_sessions() as session:
        item = session.scalars(select(Item).where(Item.guid == "bf-2")).one()
    assert item.published_at == datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)  # no offset: Vietnam time


def test_silent_source_is_flagged(any_sessions):
    from monitor.feeds_cli import source_health

    with FeedServer() as server:
        url = server.add("/a.xml", feed("outlet_b.xml"))
        config = make_config([{"name": "A", "url": url, "interval": "10m"}])
        collect_once(any_sessions, config, now=T0)
        quiet = T0 + timedelta(hours=3)
        assert collect_once(any_sessions, config, now=T0 + timedelta(minutes=20)).outcomes[0].silent is False
        assert collect_once(any_sessions, config, now=quiet).outcomes[0].silent is True
    with any_sessions() as session:
        assert source_health(session, config, T0 + timedelta(minutes=30))[0]["status"] == "ok"
        assert source_health(session, config, quiet)[0]["status"] == "silent"


def test_removed_source_is_disabled_not_deleted(any_sessions):
    with FeedServer() as server:
        a, b = server.add("/a.xml", feed("outlet_a.xml")), server.add("/b.xml", feed("outlet_b.xml"))
        collect_once(any_sessions, make_config([{"name": "A", "url": a}, {"name": "B", "url": b}]), now=T0)
        summary = collect_once(any_sessions, make_config([{"name": "B", "url": b}]), now=T0 + timedelta(minutes=15))
    assert [o.source for o in summary.outcomes] == ["B"]
    assert source_row(any_sessions, "A").enabled is False
    assert item_count(any_sessions, "A") == 2


def test_article_text_is_fetched_for_prefiltered_items(sessions):
    page = ("<html><head><title>Nợ BHXH</title></head><body><nav>Trang chủ | Xã hội</nav><article><h1>Nợ BHXH</h1>"
            + "".join(f"<p>Đoạn {n}: doanh nghiệp chậm đóng bảo hiểm xã hội khiến người lao động gặp khó khăn khi "
                      f"làm thủ tục hưởng chế độ, cơ quan BHXH đã đôn đốc nhiều lần.</p>" for n in range(6))
            + "</article><footer>Bản quyền</footer></body></html>")
    with FeedServer() as server:
        article_url = server.add("/bai-viet.html", page.encode(), content_type="text/html; charset=utf-8")
        rss = (f"<rss version='2.0'><channel><title>x</title><item><title>Nợ BHXH kéo dài</title>"
               f"<link>{article_url}</link></item><item><title>Giá vàng</title><link>{server.url('/vang.html')}</link>"
               f"</item></channel></rss>")
        url = server.add("/a.xml", rss.encode())
        summary = collect_once(sessions, make_config([{"name": "A", "url": url}], fetch_article_text=True), now=T0)
        assert server.hits["/vang.html"] == 0  # not about BHXH: not fetched
    assert summary.new_items == 2
    with sessions() as session:
        item = session.scalars(select(Item).where(Item.title == "Nợ BHXH kéo dài")).one()
    assert "Đoạn 5: doanh nghiệp chậm đóng" in item.body and "Bản quyền" not in item.body
    assert "doanh nghiep cham dong" in item.search_text


def test_collect_once_cli_prints_json(tmp_path):
    from monitor.cli import cli

    with FeedServer() as server:
        url = server.add("/a.xml", feed("normal.xml"))
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(f"allow_private_addresses: true\nkeywords:\n  include: [BHXH]\nsources:\n"
                         f"  - name: Báo Mẫu\n    url: {url}\n  - name: Hỏng\n    url: {server.url('/missing.xml')}\n",
                         encoding="utf-8")
        database = f"sqlite:///{tmp_path / 'cli.db'}"
        result = CliRunner().invoke(cli, ["collect", "--once", "--json", "--feeds", str(feeds), "--database", database])
        text = CliRunner().invoke(cli, ["collect", "--once", "--feeds", str(feeds), "--database", database])
        status = CliRunner().invoke(cli, ["feeds", "status", "--json", "--feeds", str(feeds), "--database", database])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["ok"], data["failed"], data["new_items"]) == (1, 1, 3)
    assert "1 ok" in text.stdout and "3 duplicates" in text.stdout and "HTTP 404" in text.stdout
    rows = {row["name"]: row for row in json.loads(status.stdout)}
    assert rows["Hỏng"]["status"] == "failing" and rows["Báo Mẫu"]["status"] == "ok"


def test_a_store_failure_fails_that_source_only(any_sessions, monkeypatch):
    import monitor.collect as collect

    real = collect.store_entries

    def flaky(session, source, entries, **kwargs):
        if source.name == "hỏng":
            raise RuntimeError("disk full")
        return real(session, source, entries, **kwargs)

    monkeypatch.setattr(collect, "store_entries", flaky)
    with FeedServer() as server:
        config = make_config([{"name": "hỏng", "url": server.add("/a.xml", feed("outlet_a.xml"))},
                              {"name": "tốt", "url": server.add("/b.xml", feed("outlet_b.xml"))}])
        summary = collect_once(any_sessions, config, now=T0)
    outcomes = {o.source: o for o in summary.outcomes}
    assert outcomes["hỏng"].outcome == "error" and "disk full" in outcomes["hỏng"].error
    assert outcomes["tốt"].new_items == 1
    assert item_count(any_sessions, "hỏng") == 0
    assert source_row(any_sessions, "hỏng").consecutive_failures == 1


def test_many_sources_parse_in_worker_processes(sessions, monkeypatch):
    import monitor.collect as collect

    monkeypatch.setattr(collect, "PARALLEL_PARSE_MIN_SOURCES", 3)
    with FeedServer() as server:
        names = ["a", "b", "c", "empty", "malformed"]
        files = ["outlet_a.xml", "outlet_b.xml", "outlet_c.xml", "empty.xml", "malformed.xml"]
        config = make_config([{"name": n, "url": server.add(f"/{n}.xml", feed(f))} for n, f in zip(names, files)])
        summary = collect_once(sessions, config, now=T0, parse_workers=2)
    assert [o.source for o in summary.outcomes] == names  # reported in feeds.yaml order
    assert [o.new_items for o in summary.outcomes] == [2, 1, 2, 0, 2]
    assert summary.as_dict()["near_duplicates"] == 2


@pytest.mark.shared
def test_real_feed_directory_as_a_file_source(sessions, shared_dir):
    folder = shared_dir / "fixtures" / "feeds"
    if not any(folder.glob("*.xml")):
        pytest.skip("real feed fixtures absent")
    config = make_config([{"name": "VnExpress (lưu trữ)", "url": folder.as_uri()}])
    summary = collect_once(sessions, config, now=datetime(2026, 1, 1, tzinfo=timezone.utc))
    outcome = summary.outcomes[0]
    assert outcome.outcome == "ok"
    assert outcome.new_items + outcome.duplicates == 125  # 6 files, 126 items, one of them empty
    assert any("ill-formed" in w for w in outcome.warnings)  # the raw & in the 2025 file
    assert outcome.near_duplicates >= 1  # the near-identical test-folder items of 2017-11-14
    with sessions() as session:
        urls = session.scalars(select(Item.canonical_url)).all()
    assert all(u and u == u.strip() and "#" not in u for u in urls)


def test_retry_after_holds_back_one_source_not_its_host(any_sessions):
    with FeedServer() as server:  # both sources on 127.0.0.1
        busy = server.add("/busy.xml", reply=Reply(status=429, headers={"Retry-After": "3600"}, content_type="text/plain"))
        fine = server.add("/fine.xml", feed("outlet_b.xml"))
        config = make_config([{"name": "bận", "url": busy, "interval": "5m"}, {"name": "ổn", "url": fine, "interval": "5m"}])
        collect_once(any_sessions, config, now=T0)
        later = collect_once(any_sessions, config, now=T0 + timedelta(minutes=6), due_only=True)
    assert [o.source for o in later.outcomes] == ["ổn"]
    assert source_row(any_sessions, "bận").next_check_at == T0 + timedelta(hours=1)
