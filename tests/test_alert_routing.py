"""Routing, folding and retry timing: pure decisions, table-driven, no database, SMTP or clock."""

from datetime import datetime, timedelta, timezone

import pytest

from alerts.folding import PendingMail, decide, stronger_change
from alerts.retry import backoff
from alerts.routing import AlertFacts, route_recipients
from monitor.config import AlertsConfig

ALERTS = AlertsConfig.model_validate({
    "recipients": ["truc-ban@bhxh.example.vn"],
    "routes": [
        {"name": "lanh-dao", "match": {"severity_gte": 3}, "to": ["giam-doc@bhxh.example.vn"]},
        {"name": "an-ninh", "match": {"categories": ["fraud_scam_impersonation", "service_it_outage"]},
         "to": ["cntt@bhxh.example.vn"]},
        {"name": "mo-lai", "match": {"events": ["reopened"], "severity_gte": 2}, "to": ["pho-gd@bhxh.example.vn"]},
    ],
    "escalation_recipients": ["Giam-Doc@bhxh.example.vn", "van-phong@bhxh.example.vn"],
})


@pytest.mark.parametrize("severity, category, change, expected", [
    (1, "payment_delay", "ticket_opened", ["truc-ban"]),
    (2, "payment_delay", "severity_raised", ["truc-ban"]),
    (3, "payment_delay", "ticket_opened", ["truc-ban", "giam-doc"]),
    (4, "misinformation", "severity_raised", ["truc-ban", "giam-doc"]),
    (1, "fraud_scam_impersonation", "ticket_opened", ["truc-ban", "cntt"]),
    (3, "service_it_outage", "ticket_opened", ["truc-ban", "giam-doc", "cntt"]),
    (2, "payment_delay", "reopened", ["truc-ban", "pho-gd"]),
    (1, "payment_delay", "reopened", ["truc-ban"]),
    # Escalation adds its list; the director (different case) appears once.
    (3, "payment_delay", "escalated", ["truc-ban", "giam-doc", "van-phong"]),
    (1, "payment_delay", "escalated", ["truc-ban", "Giam-Doc", "van-phong"]),
])
def test_route_recipients(severity, category, change, expected):
    got = route_recipients(ALERTS, AlertFacts(severity, category, change))
    assert [address.split("@")[0] for address in got] == expected


def test_unknown_change_is_refused():
    with pytest.raises(ValueError, match="^routing: unknown change"):
        route_recipients(ALERTS, AlertFacts(3, "payment_delay", "closed"))


T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
WAIT, INTERVAL = timedelta(seconds=30), timedelta(minutes=30)


@pytest.mark.parametrize("latest, change, now, fold, not_before", [
    # First mail of a new ticket waits group_wait.
    (None, "ticket_opened", T0, False, T0 + WAIT),
    # Severity raised 10 s later: folds into the waiting mail, which keeps its slot.
    (PendingMail(T0 + WAIT, sent=False, in_flight=False), "severity_raised", T0 + timedelta(seconds=10), True, T0 + WAIT),
    # Sent at its slot; a change 5 min later waits until 30 min after it.
    (PendingMail(T0 + WAIT, sent=True, in_flight=False), "severity_raised", T0 + timedelta(minutes=5), False,
     T0 + WAIT + INTERVAL),
    # A change long after the last mail goes now.
    (PendingMail(T0 + WAIT, sent=True, in_flight=False), "escalated", T0 + timedelta(hours=3), False, T0 + timedelta(hours=3)),
    # A mail being sent right now cannot change: the next one is a new row after the interval.
    (PendingMail(T0 + WAIT, sent=False, in_flight=True), "severity_raised", T0 + WAIT, False, T0 + WAIT + INTERVAL),
    # A queued second mail (not yet due) absorbs further changes.
    (PendingMail(T0 + INTERVAL, sent=False, in_flight=False), "escalated", T0 + timedelta(minutes=20), True, T0 + INTERVAL),
    # Reopened long after: no group_wait (only a new ticket waits).
    (PendingMail(T0, sent=True, in_flight=False), "reopened", T0 + timedelta(days=2), False, T0 + timedelta(days=2)),
])
def test_fold_decision_timeline(latest, change, now, fold, not_before):
    decision = decide(latest, change, now=now, group_wait=WAIT, min_interval=INTERVAL)
    assert (decision.fold, decision.not_before) == (fold, not_before)


def test_interval_counts_from_the_actual_send_when_it_was_late():
    latest = PendingMail(T0, sent=True, in_flight=False)
    late = T0 + timedelta(minutes=20)  # SMTP was down; it went out 20 min after its slot
    decision = decide(latest, "severity_raised", now=late + timedelta(minutes=1), group_wait=WAIT,
                      min_interval=INTERVAL, last_sent_at=late)
    assert decision.not_before == late + INTERVAL


@pytest.mark.parametrize("a, b, stronger", [
    ("ticket_opened", "severity_raised", "ticket_opened"),
    ("severity_raised", "escalated", "escalated"),
    ("reopened", "severity_raised", "reopened"),
])
def test_stronger_change(a, b, stronger):
    assert stronger_change(a, b) == stronger == stronger_change(b, a)


@pytest.mark.parametrize("attempts, rand, seconds", [
    (1, 0.0, 30), (2, 0.0, 60), (3, 0.0, 120), (5, 0.0, 480), (6, 0.0, 900), (40, 0.0, 900),
    (1, 0.5, 30 * 0.875), (6, 0.99, 900 * (1 - 0.25 * 0.99)),
])
def test_backoff_is_capped_exponential_with_jitter(attempts, rand, seconds):
    assert backoff(attempts, rand=rand).total_seconds() == pytest.approx(seconds)


def test_backoff_rejects_nonsense():
    with pytest.raises(ValueError, match="^retry:"):
        backoff(0, rand=0.1)
