"""Pure decisions, table-driven, no I/O: text and URL normalisation, dates, the BHXH prefilter,
near-duplicate signatures, and per-source health (backoff, next check, silence)."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

from monitor import health, neardup, prefilter
from monitor.config import CollectConfig, KeywordsConfig
from monitor.fetch import parse_retry_after
from monitor.normalize import canonical_url, clean_text, html_to_text, parse_iso, plausible_published

T0 = datetime(2026, 5, 6, 5, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, expected", [
    ("HTTPS://VnExpress.NET:443/a-1.html?utm_source=rss&utm_campaign=x#binh-luan", "https://vnexpress.net/a-1.html"),
    ("\n  https://tuoitre.vn/a.htm?fbclid=IwAR&id=7&gclid=z  \n", "https://tuoitre.vn/a.htm?id=7"),
    ("http://Example.VN:8080", "http://example.vn:8080/"),
    ("https://dantri.com.vn/xa-hoi.htm?page=2&UTM_MEDIUM=social", "https://dantri.com.vn/xa-hoi.htm?page=2"),
    ("javascript:alert(1)", None),
    ("ftp://files.example.vn/a", None),
    ("/relative/path", None),
    ("", None),
    ("http://[::1", None),
])
def test_canonical_url(raw, expected):
    assert canonical_url(raw) == expected


@pytest.mark.parametrize("markup, expected", [
    ('<a href="x"><img width=130 height=100 src="a.jpg" ></a></br>Lời dẫn &amp; tin', "Lời dẫn & tin"),
    ("<p>Dòng một</p><p>Dòng hai</p>", "Dòng một\nDòng hai"),
    ("<script>alert('x')</script><style>p{}</style>Nội dung", "Nội dung"),
    ("<img src=x onerror=alert(1)>An toàn", "An toàn"),
    ("Không có thẻ &lt;b&gt;", "Không có thẻ <b>"),  # text, shown escaped by the web page
    ("<!-- chú thích -->Tin", "Tin"),
    (None, ""),
])
def test_html_to_text(markup, expected):
    assert html_to_text(markup) == expected


def test_clean_text_nfc_whitespace_and_mojibake():
    assert clean_text(unicodedata.normalize("NFD", "Bảo  hiểm\u00a0xã hội")) == "Bảo hiểm xã hội"
    assert clean_text("Báº£o hiá»ƒm xÃ£ há»™i") == "Bảo hiểm xã hội"


def test_dates():
    assert parse_iso("2026-05-01T09:00:00") == datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
    assert parse_iso("2026-05-01T09:00:00Z") == datetime(2026, 5, 1, 9, 0, tzinfo=timezone.utc)
    assert parse_iso("hôm qua") is None
    assert plausible_published(T0 + timedelta(days=3), T0) is None  # a feed clock in the future
    assert plausible_published(datetime(1970, 1, 1, tzinfo=timezone.utc), T0) is None
    assert plausible_published(T0 - timedelta(hours=2), T0) == T0 - timedelta(hours=2)


KEYWORDS = KeywordsConfig(include=["bảo hiểm xã hội", "BHXH", "BHYT", "BH XH", "VssID", "lương hưu"],
                          exclude=["mũ bảo hiểm", "bảo hiểm xe"])


@pytest.mark.parametrize("text, expected", [
    ("Chậm đóng BHXH cho người lao động", True),
    ("bao hiem xa hoi tinh Khanh Hoa", True),  # typed without diacritics
    ("Cài ứng dụng vssid để tra cứu", True),
    ("Rút BH  XH một lần", True),
    ("Tăng LƯƠNG HƯU từ tháng 7", True),
    ("Phạt người không đội mũ bảo hiểm", False),
    ("Giá vàng tăng mạnh", False),
    ("Mã BHXHVN123 không phải từ khóa", False),  # whole words only
    ("Đội mũ bảo hiểm khi đi làm, đóng BHYT đầy đủ", True),
])
def test_prefilter(text, expected):
    assert prefilter.passes(text, KEYWORDS) is expected


def test_prefilter_without_keywords_passes_nothing():
    assert prefilter.passes("BHXH", KeywordsConfig()) is False


def test_near_duplicate_signatures():
    a = "Công ty may ở Nha Trang nợ BHXH hơn 12 tỷ đồng, gần 800 công nhân bị ảnh hưởng vì không thể chốt sổ"
    rewrite = "Gần 800 công nhân bị ảnh hưởng vì công ty may ở Nha Trang nợ BHXH hơn 12 tỷ đồng, không thể chốt sổ"
    other = "Giá vàng miếng trong nước tăng thêm 1 triệu đồng mỗi lượng so với cuối tuần trước tại Hà Nội"
    index = neardup.NearDupIndex()
    index.add(1, T0, neardup.signature(a))
    index.add(2, T0, neardup.signature(other))
    assert [key for key, _ in index.similar(neardup.signature(rewrite), T0 + timedelta(hours=3))] == [1]
    assert index.similar(neardup.signature(rewrite), T0 + timedelta(days=30)) == []  # outside the window
    assert neardup.signature("Tin vắn") is None  # too short to judge
    assert neardup.content_hash("BẢO HIỂM, xã hội!", "") == neardup.content_hash("bao hiem xa hoi", "")
    index.remove(1)
    assert index.similar(neardup.signature(a), T0) == []


COLLECT = CollectConfig(min_interval=timedelta(minutes=5), max_interval=timedelta(hours=24), max_backoff=timedelta(hours=6))


@pytest.mark.parametrize("configured, expected", [
    (None, timedelta(minutes=15)), (timedelta(minutes=1), timedelta(minutes=5)), (timedelta(days=3), timedelta(hours=24)),
])
def test_poll_interval_is_clamped(configured, expected):
    assert health.poll_interval(configured, COLLECT) == expected


@pytest.mark.parametrize("failures, jitter, retry_after, expected", [
    (1, 0.0, None, timedelta(minutes=5)),  # half of the first step
    (1, 0.999999, None, timedelta(minutes=10)),
    (3, 0.0, None, timedelta(minutes=20)),
    (10, 0.0, None, timedelta(hours=3)),  # capped at max_backoff (6 h), half of it with no jitter
    (1, 0.0, 3600, timedelta(hours=1)),  # Retry-After wins when longer
    (1, 0.0, 10 * 86400, timedelta(hours=24)),  # ... up to max_interval
])
def test_backoff_delay(failures, jitter, retry_after, expected):
    delay = health.backoff_delay(failures, timedelta(minutes=10), COLLECT, jitter=jitter, retry_after_s=retry_after)
    assert abs(delay - expected) < timedelta(seconds=1)


def test_item_gap_and_silence():
    assert health.updated_item_gap(None, None, T0) is None
    assert health.updated_item_gap(None, T0 - timedelta(hours=1), T0) == 3600
    assert health.updated_item_gap(3600, T0 - timedelta(hours=2), T0) == pytest.approx(0.3 * 7200 + 0.7 * 3600)
    view = health.HealthView(enabled=True, consecutive_failures=0, last_success_at=T0, last_attempt_at=T0,
                             last_new_item_at=T0 - timedelta(hours=5), mean_item_gap_s=1800, interval=timedelta(minutes=15))
    assert health.status(view, T0, silence_factor=6) == "silent"  # 5 h > 6 × 30 min
    view.last_new_item_at = T0 - timedelta(hours=2)
    assert health.status(view, T0, silence_factor=6) == "ok"
    view.mean_item_gap_s = 60  # a busy source: the poll interval (15 min) is the floor, 6 × 15 min = 1.5 h
    assert health.status(view, T0, silence_factor=6) == "silent"
    view.consecutive_failures = 2
    assert health.status(view, T0, silence_factor=6) == "failing"
    view.enabled = False
    assert health.status(view, T0, silence_factor=6) == "disabled"


def test_retry_after_forms():
    assert parse_retry_after("120", T0) == 120
    assert parse_retry_after("Wed, 06 May 2026 06:00:00 GMT", T0) == 3600
    assert parse_retry_after("Wed, 06 May 2026 04:00:00 GMT", T0) == 0
    assert parse_retry_after("soon", T0) is None and parse_retry_after(None, T0) is None
