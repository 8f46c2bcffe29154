"""The ticket alert email: facts gathered from a ticket (one read), then Vietnamese text and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.labels import PHASE_LABELS, category_label, severity_label, state_label
from alerts.playbooks import STATE_PHASE
from alerts.templating import render, safe_url
from monitor.models import Classification, Item, Ticket
from monitor.timeutil import format_local

CHANGE_LABELS = {
    "ticket_opened": "Phiếu khủng hoảng mới",
    "severity_raised": "Tăng mức độ",
    "escalated": "Quá hạn, chuyển cấp trên",
    "reopened": "Mở lại",
}
TOP_ITEMS = 5
SUMMARY_CHARS = 300


@dataclass
class AlertItem:
    title: str
    outlet: str
    published_at: datetime
    url: str
    sentiment: str
    misleading: bool


@dataclass
class AlertView:
    """Everything the alert templates show, as plain data."""

    ticket_id: int
    change: str
    changes: list[str]
    title: str
    severity: int
    category: str
    state: str
    opened_at: datetime
    deadline_at: datetime
    reason: str
    summary: str
    item_count: int
    outlet_count: int
    negative_share: float | None
    misleading_share: float | None
    recent_count: int
    previous_count: int
    window_hours: int
    items: list[AlertItem] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    stage: str = ""
    steps: list[dict] = field(default_factory=list)
    link: str = ""


def latest_classification(item: Item) -> Classification | None:
    if not item.classifications:
        return None
    return max(item.classifications, key=lambda c: (c.created_at, c.id or 0))


def reason_text(reason) -> str:
    """Classifier reasons may be strings or small dicts; show each as one short line."""
    if isinstance(reason, str):
        return reason
    if isinstance(reason, dict):
        for key in ("text", "label", "reason", "phrase", "term"):
            if reason.get(key):
                return str(reason[key])
    return str(reason)


def current_steps(steps: list[dict], state: str) -> tuple[str, list[dict]]:
    """The playbook steps for the phase the ticket's state belongs to (alerts.playbooks), else the
    first phase with an unfinished step."""
    stages = [s.get("stage", "") for s in steps]
    phase = STATE_PHASE.get(state, state)
    if phase in stages:
        stage = phase
    else:
        stage = next((s.get("stage", "") for s in steps if not s.get("done")), "")
    return stage, [s for s in steps if s.get("stage", "") == stage]


def stage_label(stage: str) -> str:
    """Vietnamese name of a playbook phase (``prevent`` → ``Dự báo, phòng ngừa``)."""
    return next((PHASE_LABELS[s] for s, p in STATE_PHASE.items() if p == stage and s in PHASE_LABELS), stage)


def gather(ticket: Ticket, change: str, changes: list[str], *, base_url: str, now: datetime,
           window: timedelta = timedelta(hours=6)) -> AlertView:
    """Read the ticket, its story and items into an ``AlertView``."""
    items = list(ticket.story.items) if ticket.story else []
    items.sort(key=lambda i: i.published_at, reverse=True)
    labelled = [(item, latest_classification(item)) for item in items]
    negative = sum(1 for _, c in labelled if c and c.sentiment == "negative")
    misleading = sum(1 for _, c in labelled if c and c.misleading)
    outlets = {item.source.name for item in items if item.source}
    recent = sum(1 for i in items if now - window <= i.published_at <= now)
    previous = sum(1 for i in items if now - 2 * window <= i.published_at < now - window)
    reasons: list[str] = []
    for _, c in labelled:
        for r in (c.reasons if c else []) or []:
            text = reason_text(r)
            if text and text not in reasons:
                reasons.append(text)
    # Negative and misleading items first, newest first within each.
    ranked = sorted(labelled, key=lambda ic: (not (ic[1] and (ic[1].misleading or ic[1].sentiment == "negative")),
                                              -ic[0].published_at.timestamp()))
    summary = next((i.summary for i, _ in ranked if i.summary), "")
    stage, steps = current_steps(list(ticket.steps or []), ticket.state)
    return AlertView(
        ticket_id=ticket.id, change=change, changes=changes, title=ticket.title,
        severity=ticket.severity, category=ticket.category, state=ticket.state,
        opened_at=ticket.opened_at, deadline_at=ticket.deadline_at, reason=ticket.reason or "",
        summary=_shorten(summary, SUMMARY_CHARS),
        item_count=len(items), outlet_count=len(outlets),
        negative_share=negative / len(items) if items else None,
        misleading_share=misleading / len(items) if items else None,
        recent_count=recent, previous_count=previous, window_hours=round(window.total_seconds() / 3600),
        items=[AlertItem(title=i.title, outlet=i.source.name if i.source else "", published_at=i.published_at,
                         url=safe_url(i.url), sentiment=c.sentiment if c else "",
                         misleading=bool(c and c.misleading))
               for i, c in ranked[:TOP_ITEMS]],
        reasons=reasons[:8], stage=stage, steps=steps,
        link=f"{base_url.rstrip('/')}/tickets/{ticket.id}",
    )


def subject(view: AlertView) -> str:
    """E.g. ``[BHXH][Khẩn cấp] Tăng mức độ: <title>``; short enough for a phone's list view."""
    return (f"[BHXH][{severity_label(view.severity)}] {CHANGE_LABELS[view.change]}: "
            f"{_shorten(view.title, 90)}")


def render_alert(view: AlertView) -> tuple[str, str, str]:
    """(subject, plain text, HTML)."""
    context = dict(
        v=view, subject=subject(view), change_labels=CHANGE_LABELS,
        severity=severity_label(view.severity), category=category_label(view.category),
        state=state_label(view.state), trend=_trend(view.recent_count, view.previous_count, view.window_hours),
        deadline=format_local(view.deadline_at), opened=format_local(view.opened_at),
        stage=stage_label(view.stage),
    )
    return context["subject"], render("alert.txt", **context), render("alert.html", **context)


def _trend(recent: int, previous: int, hours: int) -> str:
    """Items in the last window against the window before it."""
    span = f"{hours} giờ gần nhất so với {hours} giờ trước đó"
    if recent > previous:
        return f"đang tăng: {recent} tin trong {span} ({previous} tin)"
    if recent < previous:
        return f"đang giảm: {recent} tin trong {span} ({previous} tin)"
    return f"đi ngang: {recent} tin trong {span}"


def _shorten(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
