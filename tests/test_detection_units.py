"""Pure detection pieces, table-driven: Poisson tail, EWMA baseline, burst test, severity points,
story choice and counts, rumour matching and registry loading, playbooks."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alerts import bursts, detect, playbooks, rumours
from alerts.features import cosine, vector
from alerts.severity import StoryFacts, assess, fmt
from alerts.stories import OpenStory, StoryItem, choose_story, outlet_of, summarise
from monitor.config import DetectionConfig
from monitor.errors import ConfigError

NOW = datetime(2025, 10, 1, 12, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)


@pytest.mark.parametrize("k,lam,expected", [
    (0, 2.0, 1.0),
    (1, 2.0, 1 - math.exp(-2)),
    (3, 0.5, 1 - math.exp(-0.5) * (1 + 0.5 + 0.125)),
    (2, 0.0, 0.0),
])
def test_poisson_tail(k, lam, expected):
    assert bursts.poisson_tail(k, lam) == pytest.approx(expected)


@pytest.mark.parametrize("counts,expected_per_day", [
    ([], None),
    ([0] * 14, None),
    ([24] * 14, 24.0),
    ([0] * 13 + [48], 48 * (1 - 0.5 ** (1 / 3))),
])
def test_ewma_rate_per_hour(counts, expected_per_day):
    rate = bursts.ewma_rate_per_hour(counts)
    if expected_per_day is None:
        assert rate == bursts.MIN_BASELINE_PER_HOUR
    else:
        assert rate == pytest.approx(expected_per_day / 24)


def _signals(n, outlets, *, start=None, every=timedelta(minutes=20), category="payment_delay", story=1):
    start = start or NOW - (n - 1) * every
    return [bursts.Signal(i, start + i * every, f"outlet-{i % outlets}", category, story) for i in range(n)]


@pytest.mark.parametrize("n,outlets,rate,fired", [
    (2, 2, 0.006, False),   # too few items
    (3, 1, 0.006, False),   # one outlet only
    (3, 2, 0.006, True),    # quiet category: three items from two outlets is a burst
    (3, 2, 0.5, False),     # busy category: three items in six hours is ordinary (p ≈ 0.58)
    (12, 3, 0.5, True),     # ... twelve is not
])
def test_burst_test(n, outlets, rate, fired):
    burst = bursts.check_window(_signals(n, outlets), NOW, window=6 * H, baseline_per_hour=rate, min_items=3, min_outlets=2)
    assert burst.fired is fired
    assert burst.count == n and burst.outlets == min(n, outlets)


def test_burst_ignores_signals_outside_the_window():
    old = _signals(5, 3, start=NOW - 30 * H)
    burst = bursts.check_window(old, NOW, window=6 * H, baseline_per_hour=0.01, min_items=3, min_outlets=2)
    assert not burst.fired and burst.count == 0


def test_category_baseline_excludes_the_current_window():
    history = [bursts.Signal(i, NOW - timedelta(days=1 + i), "a", "payment_delay") for i in range(10)]
    current = _signals(15, 3)
    base = bursts.category_baselines(history + current, NOW, baseline=timedelta(days=14), window=6 * H)
    assert base["payment_delay"] == pytest.approx(bursts.category_baselines(history, NOW, baseline=timedelta(days=14), window=6 * H)["payment_delay"])


@pytest.mark.parametrize("facts,level", [
    (StoryFacts("payment_delay", 3, 0.1, 2, 2.0, 1.0, 0.0), 1),
    (StoryFacts("payment_delay", 8, 0.1, 2, 2.0, 1.0, 0.0), 2),
    (StoryFacts("misinformation", 3, 0.1, 2, 2.0, 0.0, 1.0), 3),
    (StoryFacts("policy_info", 3, 0.1, 2, 2.0, 0.0, 0.0, rumour=True), 2),
    (StoryFacts("fraud_scam_impersonation", 8, 0.1, 4, 9.0, 0.2, 0.6, official=True), 4),
])
def test_severity_points(facts, level):
    got, reasons = assess(facts)
    assert got == level
    assert len(reasons) >= level - 1


def test_numbers_use_a_decimal_comma():
    assert fmt(0.3) == "0,3" and fmt(2.0) == "2" and fmt(6, 0) == "6"


def test_same_story_is_similar_and_other_story_is_not():
    a = vector("Kế toán tham ô 65 tỷ đồng của quỹ bảo hiểm xã hội bằng cách tráo số tài khoản")
    b = vector("Kế toán BHXH tham ô 65 tỉ đồng bị khởi tố")
    c = vector("Ứng dụng VssID bị lỗi, người dân không đăng nhập được")
    assert cosine(a, b) > 0.35 > cosine(a, c)
    stories = [OpenStory(1, a, 1, NOW), OpenStory(2, c, 1, NOW)]
    assert choose_story(b, stories, 0.35).id == 1
    assert choose_story(vector("Giá vàng hôm nay"), stories, 0.35) is None


def test_a_digest_quoting_a_headline_joins_its_story():
    headline = "Kế toán tham ô 65 tỷ đồng của quỹ bảo hiểm xã hội bằng cách tráo số tài khoản"
    digest = ("Điểm tin sáng: Giá vàng tăng mạnh | " + headline + " | Đội tuyển thắng trận giao hữu "
              "| Mưa lớn ở miền Trung | Giá xăng giảm")
    stories = [OpenStory(1, vector(headline), 1, NOW, headline), OpenStory(2, vector("Ứng dụng VssID bị lỗi"), 1, NOW, "Ứng dụng VssID bị lỗi")]
    # A threshold no vector reaches: only the quoted headline can decide.
    assert cosine(vector(digest), stories[0].centroid) < 0.9
    assert choose_story(vector(digest), stories, 0.9, digest).id == 1
    assert choose_story(vector("Kế toán bị bắt"), stories, 0.9, "Kế toán bị bắt") is None


def test_outlet_is_the_publisher_not_the_section():
    assert outlet_of("VnExpress - Kinh Doanh") == outlet_of("VnExpress") == "VnExpress"


def test_story_summary_counts_outlets_reach_and_shares():
    def item(i, outlet, reach, negative, misleading=False, relevant=True, category="payment_delay"):
        return StoryItem(i, f"Tin {i}", f"Tin {i}", outlet, reach, NOW + i * H, relevant, negative, misleading, category)

    s = summarise([item(1, "A", 1.0, True), item(2, "A", 1.0, True), item(3, "B", 0.3, False),
                   item(4, "C", 2.0, False, relevant=False, category="not_relevant")], None)
    assert (s.item_count, s.outlet_count, s.relevant_count, s.negative_count) == (4, 3, 3, 2)
    assert s.weighted_reach == pytest.approx(1.3)
    assert s.category == "payment_delay" and s.title == "Tin 1"
    assert s.first_seen_at == NOW + H and s.last_seen_at == NOW + 4 * H


REGISTRY = [rumours.RumourView(1, "mot-lan", "BHXH một lần bị bãi bỏ", ("bãi bỏ BHXH một lần",), "Không bãi bỏ.")]


@pytest.mark.parametrize("text,matched", [
    ("Tin đồn bãi bỏ BHXH một lần khiến công nhân lo lắng", True),
    ("tin don bai bo bhxh mot lan khien cong nhan lo lang", True),  # no diacritics
    ("TIN ĐỒN BÃI BỎ BẢO HIỂM XÃ HỘI MỘT LẦN", True),  # abbreviation expanded, upper case
    ("Hướng dẫn hồ sơ hưởng BHXH một lần", False),
    ("Giá vàng hôm nay tăng", False),
])
def test_match_rumour_is_diacritics_insensitive(text, matched):
    result = rumours.match_rumour(text, REGISTRY, 0.55)
    assert (result is not None) is matched
    if matched:
        assert result.rumour.key == "mot-lan" and 0.55 <= result.similarity <= 1


def test_shipped_registry_and_playbooks_load():
    registry = rumours.load_rumours()
    assert len(registry) >= 5 and all(r.fact and r.claim for r in registry)
    books = playbooks.load_playbooks()
    for phase in playbooks.PHASES:
        assert playbooks.steps_for("misinformation", phase, books)
        assert playbooks.steps_for("benefit_info", phase, books) == books["default"][phase]
    assert playbooks.steps_for("misinformation", "responding", books) == books["misinformation"]["handle"]


@pytest.mark.parametrize("text,message", [
    ("- key: a\n  claim: x\n", "rumour 1: fact is required"),
    ("- key: a\n  claim: x\n  fact: y\n  colour: red\n", "unknown field"),
    ("- key: a\n  claim: x\n  fact: y\n- key: a\n  claim: z\n  fact: w\n", "duplicate key"),
    ("- key: a\n  claim: x\n  fact: y\n  category: weather\n", "category: unknown"),
    ("key: [", "invalid YAML"),
])
def test_bad_registry_names_file_and_entry(tmp_path: Path, text, message):
    path = tmp_path / "rumours.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        rumours.load_rumours(path)
    assert str(info.value).startswith("rumours: ") and str(path) in str(info.value)


@pytest.mark.parametrize("text,message", [
    ("weather:\n  handle: [x]\n", "unknown category 'weather'"),
    ("misinformation:\n  later: [x]\n", "unknown phase"),
    ("misinformation:\n  handle: x\n", "must be a list"),
])
def test_bad_playbook_names_file_and_key(tmp_path: Path, text, message):
    path = tmp_path / "playbooks.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        playbooks.load_playbooks(path)


def _story(story_id=1, category="payment_delay", *, rumour=None, new_signal=True):
    return detect.StoryState(story_id, "Câu chuyện", category, 3, 3, 2.0, False, rumour=rumour,
                             rumour_id=7 if rumour else None, new_signal=new_signal)


def _sig(i, hours_ago, outlet, category="payment_delay", story=1, reach=1.0):
    return bursts.Signal(i, NOW - hours_ago * H, outlet, category, story, reach=reach)


CFG = DetectionConfig()
CASES = [
    # name, story, signals, expected rule
    ("calm", _story(), [_sig(1, 1, "A")], None),
    ("burst", _story(), [_sig(1, 3, "A"), _sig(2, 2, "B"), _sig(3, 1, "A")], "story_burst"),
    ("sustained", _story(), [_sig(1, 40, "A"), _sig(2, 1, "B")], "sustained"),
    ("sustained needs two outlets", _story(), [_sig(1, 40, "A"), _sig(2, 1, "A")], None),
    ("too old for the story window", _story(), [_sig(1, 80, "A"), _sig(2, 1, "B")], None),
    ("single scam item", _story(category="fraud_scam_impersonation"),
     [_sig(1, 1, "A", "fraud_scam_impersonation")], "single_item"),
    ("single scam item on a forum", _story(category="fraud_scam_impersonation"),
     [_sig(1, 1, "A", "fraud_scam_impersonation", reach=0.3)], None),
    ("known rumour", _story(rumour=("BHXH một lần bị bãi bỏ", "Không bãi bỏ.", 0.8)), [_sig(1, 1, "A")], "known_rumour"),
    ("no new signal", _story(new_signal=False), [_sig(1, 3, "A"), _sig(2, 2, "B"), _sig(3, 1, "A")], None),
    ("category burst goes to the lead story", _story(story_id=1),
     [_sig(i, 0.5 * i, "ABC"[i % 3], story=1 if i < 3 else 100 + i) for i in range(1, 8)], "category_burst"),
]


@pytest.mark.parametrize("name,story,signals,rule", CASES, ids=[c[0] for c in CASES])
def test_detection_rules(name, story, signals, rule):
    (finding,) = detect.detect([story], signals, NOW, CFG)
    assert finding.rule == rule
    assert finding.fired is (rule is not None)
    if rule:
        assert finding.reason.startswith("Quy tắc: ") and "Mức độ" in finding.reason


def test_category_burst_alone_fires_for_the_lead_story():
    # Six scattered single-item stories in one quiet category: none bursts alone, the category does.
    signals = [_sig(i, 0.5 * i, "ABC"[i % 3], story=i) for i in range(1, 7)]
    stories = [_story(story_id=i) for i in (1, 2)]
    cfg = DetectionConfig(sustained_items=5)
    findings = {f.story_id: f for f in detect.detect(stories, signals, NOW, cfg)}
    assert findings[1].rule == "category_burst"
    assert findings[2].rule is None
    assert "cả nhóm chủ đề" in findings[1].reason


@pytest.mark.parametrize("text, expected", [
    ("Công ty may Hòa Phong nợ BHXH, công nhân ở Cam Ranh bức xúc", {"hoa_phong", "cam_ranh"}),
    ("Cty may Hoa Phong tru tien bhxh cua cong nhan", {"hoa_phong"}),  # typed without dấu
    ("Bảo hiểm xã hội Việt Nam thông báo lịch chi trả tại Hà Nội", set()),  # agency and places recur
    ("BHXH TP.HCM nhắc VssID", set()),  # acronyms are not names
    ("Minh Khang nợ BHXH", set()),  # one capitalised syllable after a sentence's first word
])
def test_names_are_distinctive_capitalised_runs(text, expected):
    from alerts.features import names

    assert names(text) == expected


def test_a_shared_name_tells_two_stories_of_the_same_kind_apart():
    from alerts.features import names

    minh_khang = "Công nhân công ty giày Minh Khang bức xúc vì công ty nợ đóng BHXH nhiều tháng"
    hoa_phong = "Công nhân công ty may Hòa Phong bức xúc vì công ty nợ đóng BHXH nhiều tháng"
    paraphrase = "Thanh tra vào cuộc vụ Minh Khang chậm đóng bảo hiểm xã hội cho người lao động"
    stories = [OpenStory(1, vector(hoa_phong), 1, NOW, hoa_phong, frozenset(names(hoa_phong))),
               OpenStory(2, vector(minh_khang), 1, NOW, minh_khang, frozenset(names(minh_khang)))]
    # Without names the paraphrase does not reach the threshold; the shared name decides.
    assert choose_story(vector(paraphrase), stories, 0.35) is None
    assert choose_story(vector(paraphrase), stories, 0.35, paraphrase, names(paraphrase)).id == 2
