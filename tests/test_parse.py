"""Parsing: our own Vietnamese fixtures paired with the entries they must yield, the quirks of the
six real VnExpress feeds in ../shared (skipped when absent), encodings, and JSON Lines."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.fetch import Document
from monitor.parse import parse_document, parse_feed, parse_jsonl, to_utf8

FEEDS = Path(__file__).parent / "data" / "feeds"


def parse_fixture(name: str):
    return parse_feed((FEEDS / name).read_bytes(), base_url=f"http://feeds.test/{name}")


def test_normal_feed_entries():
    parsed = parse_fixture("normal.xml")
    assert parsed.title == "Báo Mẫu - Xã hội"
    first, second, third = parsed.entries
    # Whitespace inside <title>/<link>/<guid> is trimmed; tracking parameters leave the canonical URL.
    assert first.title == "Hàng nghìn lao động ở Khánh Hòa bị nợ BHXH do doanh nghiệp chậm đóng"
    assert first.guid == "https://baomau.example.vn/no-bhxh-1001.html"
    assert first.url == "https://baomau.example.vn/no-bhxh-1001.html?utm_source=rss&utm_medium=feed"
    assert first.canonical_url == "https://baomau.example.vn/no-bhxh-1001.html"
    assert first.published_at == datetime(2026, 5, 4, 1, 30, tzinfo=timezone.utc)
    # CDATA HTML with unquoted attributes and </br>: only the lead text remains.
    assert first.summary.startswith("Cơ quan bảo hiểm xã hội tỉnh cho biết")
    assert "<" not in first.summary and "img" not in first.summary
    assert second.title == "Hậu trường buổi diễn 'Mưa & Nắng' của nhà hát tuổi trẻ"
    assert third.guid == "baomau-1003"
    assert "alert" not in third.summary and third.summary.startswith("Ứng dụng VssID")
    # The empty item (<title/>, "No Description", no link/guid/date) is skipped with a warning.
    assert len(parsed.entries) == 3
    assert any("entry 4" in w for w in parsed.warnings)


def test_malformed_feed_keeps_what_it_can():
    parsed = parse_fixture("malformed.xml")  # banner before <rss, raw & in an attribute, no </rss>
    assert [e.title for e in parsed.entries] == ["Đề xuất tăng lương hưu từ tháng 7",
                                                 "Giá xăng giảm nhẹ trong kỳ điều hành mới"]
    assert parsed.entries[1].guid == "https://baomau.example.vn/gia-xang-2002.html"  # no <guid>: the link
    assert any("ill-formed" in w for w in parsed.warnings)


def test_atom_and_empty_feeds():
    atom = parse_fixture("atom.xml").entries
    assert atom[0].title == "Hướng dẫn cài đặt VssID - BHXH số"
    assert atom[0].summary.startswith("Video hướng dẫn")
    assert atom[0].canonical_url == "https://www.youtube.com/watch?v=abc123&feature=youtu.be"
    empty = parse_fixture("empty.xml")
    assert empty.entries == [] and empty.warnings == []


@pytest.mark.parametrize("body", [b"", b"\x00\x01garbage", b"<html><body>Trang l\xe1\xbb\x97i</body></html>", b"{}"])
def test_not_a_feed_raises_parse_error_naming_the_url(body):
    with pytest.raises(ParseError, match=r"^parse: http://feeds.test/x"):
        parse_feed(body, base_url="http://feeds.test/x")


def test_encodings_are_settled_before_feedparser():
    text = "<rss version='2.0'><channel><item><title>Chế độ thai sản</title></item></channel></rss>"
    utf8 = text.encode()
    assert to_utf8(utf8, "text/xml; charset=iso-8859-1") == (utf8, "utf-8")  # the header lies
    declared = b'<?xml version="1.0" encoding="windows-1258"?>' + "Ch\u1ebf".encode("utf-8")
    assert to_utf8(declared)[1] == "utf-8"  # valid UTF-8 wins over a wrong declaration
    legacy = "<rss version='2.0'><channel><item><title>Ch\u00ea\u0301 \u0111\u00f4\u0323</title></item></channel></rss>"
    body, encoding = to_utf8(legacy.encode("cp1258"), "text/xml; charset=windows-1258")
    assert encoding == "windows-1258"
    assert parse_feed(body).entries[0].title == "Chế độ"  # combining tone marks composed to NFC
    bom = "\ufeff<rss version='2.0'><channel><item><title>Ốm đau</title></item></channel></rss>".encode("utf-16")
    assert parse_feed(bom).entries[0].title == "Ốm đau"


def test_jsonl_lines_and_bad_lines():
    parsed = parse_jsonl((FEEDS / "backfill.jsonl").read_bytes(), "backfill.jsonl")
    assert [e.guid for e in parsed.entries] == ["bf-1", "bf-2"]
    assert parsed.entries[0].published_at == datetime(2026, 5, 1, 0, 30, tzinfo=timezone.utc)
    assert parsed.warnings == ["parse: backfill.jsonl:2: not a JSON object (Expecting value: line 1 column 1 (char 0))"]
    assert parse_document(Document(b'{"title": "BHXH"}\n', None, "x.jsonl")).entries[0].title == "BHXH"


# --- the six real VnExpress feeds in ../shared/fixtures/feeds (README there lists their quirks) ---

REAL = {
    "vnexpress_tin-moi-nhat_2017-02-18.xml": 25,
    "vnexpress_tin-moi-nhat_2017-04-19.xml": 25,
    "vnexpress_tin-moi-nhat_2017-07-26.xml": 25,
    "vnexpress_tin-moi-nhat_2017-08-30.xml": 25,
    "vnexpress_tin-moi-nhat_2017-11-14.xml": 24,  # 25 items, one of them empty
    "vnexpress_the-gioi_2025-02-06.xml": 1,
}


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(REAL))
def test_real_vnexpress_feeds(shared_dir, name):
    path = shared_dir / "fixtures" / "feeds" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    parsed = parse_feed(path.read_bytes(), base_url=str(path))
    assert len(parsed.entries) == REAL[name]
    for entry in parsed.entries:
        assert entry.title and entry.title == entry.title.strip()
        assert entry.url and entry.url.startswith("http") and not any(c.isspace() for c in entry.url)
        assert entry.canonical_url and entry.canonical_url.startswith(("http://", "https://"))
        assert entry.published_at is not None and entry.published_at.tzinfo is not None
        assert "<" not in entry.summary and "</br>" not in entry.summary and "&amp;" not in entry.title
        assert entry.summary  # the lead after the thumbnail survives
    guids = [e.guid for e in parsed.entries]
    assert len(set(guids)) == len(guids)


@pytest.mark.shared
def test_real_feed_quirks(shared_dir):
    folder = shared_dir / "fixtures" / "feeds"
    if not folder.is_dir():
        pytest.skip("fixtures absent")
    banner = parse_feed((folder / "vnexpress_tin-moi-nhat_2017-11-14.xml").read_bytes(), base_url="2017-11-14")
    assert any("entry" in w and "skipped" in w for w in banner.warnings)  # the empty item
    raw_amp = parse_feed((folder / "vnexpress_the-gioi_2025-02-06.xml").read_bytes(), base_url="2025")
    assert any("ill-formed" in w for w in raw_amp.warnings) and raw_amp.entries[0].summary
    titles = [e.title for e in parse_feed((folder / "vnexpress_tin-moi-nhat_2017-04-19.xml").read_bytes()).entries]
    titles += [e.title for e in parse_feed((folder / "vnexpress_tin-moi-nhat_2017-02-18.xml").read_bytes()).entries]
    assert not any("&amp;" in t for t in titles) and any(" & " in t for t in titles)  # entity decoded
    offsets = parse_feed((folder / "vnexpress_tin-moi-nhat_2017-02-18.xml").read_bytes()).entries
    assert all(e.published_at.utcoffset().total_seconds() == 0 for e in offsets)  # +0700 converted to UTC


def test_google_news_outlet_suffix_is_dropped():
    body = ("<rss version='2.0'><channel><title>\"bảo hiểm xã hội\" - Google Tin tức</title><item>"
            "<title>Chậm đóng BHXH, công nhân thiệt thòi - Báo Mẫu</title>"
            "<link>https://news.google.com/rss/articles/CBMiabc?oc=5</link>"
            "<source url='https://baomau.example.vn'>Báo Mẫu</source></item></channel></rss>").encode()
    entry = parse_feed(body).entries[0]
    assert entry.title == "Chậm đóng BHXH, công nhân thiệt thòi" and entry.extra["outlet"] == "Báo Mẫu"
