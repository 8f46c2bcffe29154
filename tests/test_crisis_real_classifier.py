"""Integration: the synthetic streams replayed with the real shipped classifier (no test double):
calm background opens nothing, a debt burst opens one ticket, and a known false claim opens a
misinformation ticket with the official correction and a higher severity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.replay import replay
from crisis_streams import DEBT_BURST, RUMOUR_BURST, START, burst, calm
from monitor.config import FeedsConfig
from monitor.settings import Settings


@pytest.fixture(scope="module")
def classifier():
    from classifiers.model import load_classifier

    try:
        return load_classifier()
    except Exception as exc:  # no artifact in this checkout
        pytest.skip(f"no classifier artifact: {exc}")


def test_real_classifier_end_to_end(any_sessions, classifier):
    t = START + timedelta(days=2, hours=3)
    records = calm(days=4) + burst(DEBT_BURST, t, 50_000) + burst(RUMOUR_BURST, t + timedelta(days=1), 50_100)
    tickets = replay(records, any_sessions, FeedsConfig(), classifier, Settings())
    by_category = {ticket["category"]: ticket for ticket in tickets}
    assert sorted(by_category) == ["contribution_debt_evasion", "misinformation"]
    debt, rumour = by_category["contribution_debt_evasion"], by_category["misinformation"]
    assert {r["id"] for r in burst(DEBT_BURST, t, 50_000)} <= set(debt["item_ids"])
    assert rumour["severity"] > debt["severity"]
    assert any("Luật Bảo hiểm xã hội 2024" in step for step in rumour["steps"])
