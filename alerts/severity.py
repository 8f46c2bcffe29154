"""Severity 1-4 of a detected story: a points table over plain facts, with Vietnamese reasons.

Start at 1 and add one level for each that holds (capped at 4):

- velocity: at least ``FAST_COUNT`` signals and ten times the baseline in the window;
- reach: ``WIDE_OUTLETS`` outlets or more, or weighted reach at least ``WIDE_REACH`` (a national
  outlet's section weighs 1, a forum post less; set per source in feeds.yaml);
- misleading: half the signals or more are misleading, or a known rumour matched;
- category: scams impersonating the agency, misinformation and official misconduct escalate faster;
- official: one of the agency's own channels (``official: true`` in feeds.yaml) is involved.

So a routine complaint of three items from two outlets is level 1, and a false claim about pension
withdrawal of the same volume is level 3.
"""

from __future__ import annotations

from dataclasses import dataclass

from alerts.labels import CATEGORY_LABELS

FAST_CATEGORIES = frozenset({"fraud_scam_impersonation", "misinformation", "official_misconduct"})
FAST_COUNT = 6
WIDE_OUTLETS = 3
WIDE_REACH = 6.0


@dataclass(frozen=True)
class StoryFacts:
    category: str
    signals: int  # negative or misleading items in the window
    expected: float  # baseline expectation in the window
    outlets: int
    weighted_reach: float
    negative_share: float
    misleading_share: float
    rumour: bool = False
    official: bool = False


def assess(facts: StoryFacts) -> tuple[int, list[str]]:
    """The level and, in Vietnamese, each reason that raised it."""
    reasons: list[str] = []
    if facts.signals >= FAST_COUNT and facts.signals >= 10 * max(facts.expected, 1e-9):
        reasons.append(f"lan truyền nhanh: {facts.signals} tin, gấp hơn 10 lần mức nền")
    if facts.outlets >= WIDE_OUTLETS or facts.weighted_reach >= WIDE_REACH:
        reasons.append(f"phạm vi rộng: {facts.outlets} cơ quan báo chí, độ phủ {fmt(facts.weighted_reach)}")
    if facts.rumour:
        reasons.append("khớp tin đồn sai sự thật đã biết")
    elif facts.misleading_share >= 0.5:
        reasons.append(f"tin sai lệch chiếm {facts.misleading_share:.0%}")
    if facts.category in FAST_CATEGORIES:
        reasons.append(f"nhóm “{CATEGORY_LABELS.get(facts.category, facts.category)}” cần xử lý nhanh")
    if facts.official:
        reasons.append("có liên quan đến kênh thông tin chính thức của ngành")
    return min(4, 1 + len(reasons)), reasons


def fmt(value: float, digits: int = 1) -> str:
    """Vietnamese number format: decimal comma (0,3)."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:.0f}"
    return text.replace(".", ",")
