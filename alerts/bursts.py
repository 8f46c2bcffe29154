"""Burst detection: is the recent volume of negative or misleading items unusual?

Method (pure functions over plain data; parameters in ``DetectionConfig``):

1. **Signals** are relevant items that are negative or misleading.
2. **Baseline** per category: an exponentially weighted moving average (EWMA) of daily signal counts
   over ``detection.baseline`` (default 14 days, half-life ``BASELINE_HALFLIFE_DAYS`` = 3 days),
   turned into a rate per hour and floored at ``MIN_BASELINE_PER_HOUR`` (one item a week), so a
   category that has been silent is not "infinitely surprised" by one item.
3. **Test**: in the last ``detection.window`` (default 6 hours) a story (or a whole category) has
   ``k`` signals from ``m`` outlets. It is a burst when ``k >= min_items``, ``m >= min_outlets`` and
   the Poisson tail ``P(X >= k | λ = baseline × window)`` is at most ``ALPHA`` (0.01). A story is
   tested against its category's baseline: "this one story alone is more than the whole category
   usually produces". A category burst needs twice ``min_items``.

The Poisson test is what keeps a busy category (employer debts are reported most days) from opening
tickets on its ordinary volume while a normally quiet one (misinformation) fires on a few items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

BASELINE_HALFLIFE_DAYS = 3.0
MIN_BASELINE_PER_HOUR = 1 / (7 * 24)
ALPHA = 0.01
CATEGORY_FACTOR = 2


@dataclass(frozen=True)
class Signal:
    """One negative or misleading relevant item, as detection sees it."""

    item_id: int
    at: datetime
    outlet: str
    category: str
    story_id: int | None = None
    misleading: bool = False
    reach: float = 1.0


@dataclass(frozen=True)
class Burst:
    fired: bool
    rule: str  # story_burst | category_burst
    count: int
    outlets: int
    span_hours: float  # from the first to the last signal in the window
    baseline_per_hour: float
    expected: float  # baseline × window
    p_value: float
    window_hours: float


def poisson_tail(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    term = math.exp(-lam)
    below = term
    for i in range(1, k):
        term *= lam / i
        below += term
    return max(0.0, 1.0 - below)


def ewma_rate_per_hour(daily_counts: list[int], halflife_days: float = BASELINE_HALFLIFE_DAYS,
                       floor: float = MIN_BASELINE_PER_HOUR) -> float:
    """EWMA of daily counts (oldest first) as a rate per hour, at least ``floor``."""
    if not daily_counts:
        return floor
    alpha = 1 - 0.5 ** (1 / halflife_days)
    level = float(daily_counts[0])
    for count in daily_counts[1:]:
        level = alpha * count + (1 - alpha) * level
    return max(level / 24.0, floor)


def daily_counts(times: list[datetime], start: datetime, end: datetime) -> list[int]:
    """Counts per whole day from ``start`` to ``end`` (oldest first)."""
    days = max(1, math.ceil((end - start) / timedelta(days=1)))
    counts = [0] * days
    for t in times:
        if start <= t < end:
            counts[min(days - 1, int((t - start) / timedelta(days=1)))] += 1
    return counts


def check_window(signals: list[Signal], now: datetime, *, window: timedelta, baseline_per_hour: float,
                min_items: int, min_outlets: int, rule: str = "story_burst", alpha: float = ALPHA) -> Burst:
    """Apply the burst test to the signals of one story or category (see the module docstring)."""
    recent = [s for s in signals if now - window < s.at <= now]
    hours = window / timedelta(hours=1)
    expected = baseline_per_hour * hours
    k = len(recent)
    outlets = len({s.outlet for s in recent})
    p = poisson_tail(k, expected)
    span = (max(s.at for s in recent) - min(s.at for s in recent)) / timedelta(hours=1) if recent else 0.0
    fired = k >= min_items and outlets >= min_outlets and p <= alpha
    return Burst(fired, rule, k, outlets, span, baseline_per_hour, expected, p, hours)


def category_baselines(signals: list[Signal], now: datetime, *, baseline: timedelta,
                       window: timedelta) -> dict[str, float]:
    """Baseline rate per hour for every category seen in ``signals``, learnt from the history
    before the current window (so a burst does not raise its own baseline)."""
    start, end = now - baseline, now - window
    by_category: dict[str, list[datetime]] = {}
    for s in signals:
        by_category.setdefault(s.category, []).append(s.at)
    return {c: ewma_rate_per_hour(daily_counts(ts, start, end)) for c, ts in by_category.items()}
