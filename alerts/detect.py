"""Detection: from a batch's touched stories and recent signals to findings (fired or not, severity,
and the Vietnamese reason a ticket shows). Pure: plain data in, plain data out.

Rules, in order (the first that fires names the ticket's reason; parameters in ``DetectionConfig``):

- ``story_burst``: the story's signals pass the burst test (``alerts.bursts``);
- ``known_rumour``: an item of the story repeats or answers a known false claim (``alerts.rumours``);
- ``category_burst``: the story's category as a whole passes the burst test with twice ``min_items``;
  the ticket goes to the story with most signals in the window (the lead story);
- ``sustained``: ``sustained_items`` signals from ``min_outlets`` outlets within ``story_window``:
  national outlets cover a BHXH story two or three times over days, rarely three times in six hours;
- ``single_item``: one signal in a category that cannot wait (``single_item_categories``: scams,
  misinformation, misconduct) from an outlet of reach at least ``single_item_min_reach``.

Tuned on the real Aug 2025 - Jan 2026 stream: there, no story ever had three signals within six
hours, so the burst rules alone would have stayed silent on every labelled crisis (see README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts import bursts
from alerts.labels import CATEGORY_LABELS, SEVERITY_LABELS
from alerts.severity import StoryFacts, assess, fmt

MAX_TOP_ITEMS = 3


@dataclass(frozen=True)
class TopItem:
    title: str
    outlet: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class StoryState:
    """What detection needs of one touched story."""

    story_id: int
    title: str
    category: str
    relevant_count: int
    negative_count: int
    weighted_reach: float
    official: bool
    rumour: tuple[str, str, float] | None = None  # (claim, fact, similarity) of a matched rumour
    rumour_id: int | None = None
    top_items: tuple[TopItem, ...] = ()
    # A negative or misleading item arrived in this batch: only new activity can fire a rule (old
    # signals must not reopen a ticket an officer closed when a neutral item joins the story).
    new_signal: bool = True


@dataclass
class Finding:
    story_id: int
    fired: bool
    rule: str | None
    severity: int
    category: str
    title: str
    reason: str
    rumour_id: int | None = None
    numbers: dict = field(default_factory=dict)


def detect(stories: list[StoryState], signals: list[bursts.Signal], now: datetime, detection) -> list[Finding]:
    """One finding per touched story (see the module docstring for the rules); ``detection`` is a
    ``monitor.config.DetectionConfig``."""
    window, baseline = detection.window, detection.baseline
    min_items, min_outlets = detection.min_items, detection.min_outlets
    baselines = bursts.category_baselines(signals, now, baseline=baseline, window=window)
    floor = bursts.MIN_BASELINE_PER_HOUR
    by_story: dict[int, list[bursts.Signal]] = {}
    for s in signals:
        by_story.setdefault(s.story_id, []).append(s)
    lead = _category_leads(stories, signals, baselines, now, window, min_items, min_outlets)
    findings = []
    for story in stories:
        rate = baselines.get(story.category, floor)
        burst = bursts.check_window(by_story.get(story.story_id, []), now, window=window, baseline_per_hour=rate,
                                    min_items=min_items, min_outlets=min_outlets)
        rule = "story_burst" if burst.fired else None
        if rule is None and story.rumour is not None:
            rule = "known_rumour"
        if rule is None and story.story_id in lead:
            burst, rule = lead[story.story_id], "category_burst"
        if rule is None:
            burst, rule = _slow_rules(story, by_story.get(story.story_id, []), rate, now, detection)
        if not story.new_signal:
            rule = None
        findings.append(_finding(story, burst, rule, by_story.get(story.story_id, []), now, window))
    return findings


def _slow_rules(story: StoryState, story_signals: list[bursts.Signal], rate: float, now: datetime,
                detection) -> tuple[bursts.Burst, str | None]:
    """The ``sustained`` and ``single_item`` rules, reported in the same numbers as a burst."""
    span = detection.story_window
    burst = bursts.check_window(story_signals, now, window=span, baseline_per_hour=rate,
                                min_items=detection.sustained_items, min_outlets=detection.min_outlets,
                                rule="sustained", alpha=1.0)
    if burst.fired:
        return burst, "sustained"
    recent = [s for s in story_signals if now - detection.window < s.at <= now]
    if any(s.category in detection.single_item_categories and s.reach >= detection.single_item_min_reach for s in recent):
        single = bursts.check_window(recent, now, window=detection.window, baseline_per_hour=rate,
                                     min_items=1, min_outlets=1, rule="single_item", alpha=1.0)
        return single, "single_item"
    return burst, None


def _category_leads(stories, signals, baselines, now, window, min_items, min_outlets) -> dict[int, bursts.Burst]:
    leads: dict[int, bursts.Burst] = {}
    for category in {s.category for s in stories}:
        cat = [s for s in signals if s.category == category]
        burst = bursts.check_window(cat, now, window=window, baseline_per_hour=baselines.get(category, bursts.MIN_BASELINE_PER_HOUR),
                                    min_items=bursts.CATEGORY_FACTOR * min_items, min_outlets=min_outlets,
                                    rule="category_burst")
        if not burst.fired:
            continue
        recent = [s for s in cat if now - window < s.at <= now and s.story_id is not None]
        counts: dict[int, int] = {}
        for s in recent:
            counts[s.story_id] = counts.get(s.story_id, 0) + 1
        if counts:
            leads[max(counts, key=lambda k: (counts[k], -k))] = burst
    return leads


def _finding(story: StoryState, burst: bursts.Burst, rule: str | None, story_signals, now, window) -> Finding:
    recent = [s for s in story_signals if now - window < s.at <= now]
    misleading_share = sum(s.misleading for s in recent) / len(recent) if recent else 0.0
    facts = StoryFacts(
        category=story.category, signals=len(recent), expected=burst.expected, outlets=len({s.outlet for s in recent}),
        weighted_reach=story.weighted_reach,
        negative_share=story.negative_count / story.relevant_count if story.relevant_count else 0.0,
        misleading_share=misleading_share, rumour=story.rumour is not None, official=story.official,
    )
    level, level_reasons = assess(facts)
    numbers = {"count": burst.count, "outlets": burst.outlets, "span_hours": round(burst.span_hours, 2),
               "window_hours": burst.window_hours, "baseline_per_hour": round(burst.baseline_per_hour, 4),
               "expected": round(burst.expected, 3), "p_value": burst.p_value, "rule": rule}
    reason = describe(story, burst, rule, level, level_reasons) if rule else ""
    return Finding(story.story_id, rule is not None, rule, level, story.category, story.title, reason,
                   story.rumour_id, numbers)


RULE_LABELS = {
    "story_burst": "bùng phát tin tiêu cực/sai lệch trong một câu chuyện",
    "known_rumour": "khớp tin đồn sai sự thật đã biết",
    "category_burst": "bùng phát tin tiêu cực/sai lệch trong cả nhóm chủ đề",
    "sustained": "câu chuyện tiêu cực kéo dài, được nhiều cơ quan báo chí đưa tin",
    "single_item": "tin tiêu cực/sai lệch thuộc nhóm cần xử lý ngay, trên kênh có độ phủ lớn",
}


def describe(story: StoryState, burst: bursts.Burst, rule: str, level: int, level_reasons: list[str]) -> str:
    """Why the ticket opened, in Vietnamese: the rule and its numbers, the severity and why, and the
    classifier's reasons for the top items."""
    lines = [f"Quy tắc: {RULE_LABELS[rule]}."]
    category = CATEGORY_LABELS.get(story.category, story.category)
    where = "nhóm này" if rule == "category_burst" else "câu chuyện"
    if burst.count > 1:
        volume = (f"{burst.count} tin tiêu cực hoặc sai lệch từ {burst.outlets} cơ quan báo chí trong "
                  f"{fmt(burst.span_hours)} giờ ({where}, cửa sổ {fmt(burst.window_hours, 0)} giờ)")
    else:
        volume = f"{burst.count} tin tiêu cực hoặc sai lệch trong {fmt(burst.window_hours, 0)} giờ qua"
    p_value = f"{burst.p_value:.1e}".replace(".", ",")
    lines.append(f"{volume}, so với mức nền {fmt(burst.baseline_per_hour, 3)} tin/giờ của nhóm “{category}” "
                 f"(kỳ vọng {fmt(burst.expected, 2)} tin; p = {p_value}).")
    if story.rumour is not None:
        claim, fact, similarity = story.rumour
        lines.append(f"Tin đồn đã biết: “{claim}” (độ tương đồng {fmt(similarity, 2)}). Thông tin chính thức: {fact}")
    why = "; ".join(level_reasons) if level_reasons else "mức cơ bản"
    lines.append(f"Mức độ {level} ({SEVERITY_LABELS[level]}): {why}.")
    if story.top_items:
        lines.append("Tin tiêu biểu:")
        for top in story.top_items[:MAX_TOP_ITEMS]:
            because = "; ".join(top.reasons) if top.reasons else "không có giải thích của mô hình"
            lines.append(f"- “{top.title}” ({top.outlet}): {because}")
    return "\n".join(lines)
