"""Campaign windows against the same-length period before them (the plan's evidence): pure."""

from __future__ import annotations

from dataclasses import dataclass

from alerts import stats
from alerts.periods import Period


@dataclass
class CampaignComparison:
    name: str
    during: Period
    baseline: Period
    during_figures: stats.Figures
    baseline_figures: stats.Figures

    def change(self, sentiment: str | None = None) -> int:
        if sentiment is None:
            return self.during_figures.relevant - self.baseline_figures.relevant
        return self.during_figures.sentiment[sentiment] - self.baseline_figures.sentiment[sentiment]

    def share_change(self, sentiment: str) -> float | None:
        """Percentage points of ``sentiment`` share, during minus before."""
        a, b = self.during_figures.share(sentiment), self.baseline_figures.share(sentiment)
        return None if a is None or b is None else (a - b) * 100


def compare_campaigns(pairs: list[tuple[Period, Period]], items: list[stats.ItemRow],
                      tickets: list[stats.TicketRow]) -> list[CampaignComparison]:
    return [CampaignComparison(during.label, during, baseline, stats.figures(items, tickets, during),
                               stats.figures(items, tickets, baseline)) for during, baseline in pairs]
