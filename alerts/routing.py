"""Alert routing: which addresses a ticket change is mailed to (pure; like Alertmanager routes).

Every ticket alert goes to ``alerts.recipients``; each route whose matcher holds adds its ``to``
(routes do not stop at the first match); an escalation also goes to ``escalation_recipients``.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.config import AlertsConfig, RouteMatch

CHANGES = ("ticket_opened", "severity_raised", "escalated", "reopened")


@dataclass(frozen=True)
class AlertFacts:
    """What routing looks at: the ticket's current severity and category, and the change."""

    severity: int
    category: str
    change: str


def matches(match: RouteMatch, facts: AlertFacts) -> bool:
    """True when every condition the matcher sets holds (an empty matcher matches everything)."""
    if match.severity_gte is not None and facts.severity < match.severity_gte:
        return False
    if match.categories is not None and facts.category not in match.categories:
        return False
    if match.events is not None and facts.change not in match.events:
        return False
    return True


def route_recipients(alerts: AlertsConfig, facts: AlertFacts) -> list[str]:
    """The addresses for this change, in config order, each once (compared case-insensitively)."""
    if facts.change not in CHANGES:
        raise ValueError(f"routing: unknown change {facts.change!r}; one of {', '.join(CHANGES)}")
    addresses = list(alerts.recipients)
    for route in alerts.routes:
        if matches(route.match, facts):
            addresses += route.to
    if facts.change == "escalated":
        addresses += alerts.escalation_recipients
    return unique_addresses(addresses)


def unique_addresses(addresses: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            result.append(address.strip())
    return result
