"""Tickets board (open tickets by severity, then deadline) and the ticket page: story timeline,
items, playbook checklist, lifecycle buttons and notes. Changes go through ``alerts.tickets`` (which
records a TicketEvent) and are also written to the audit log."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import and_, select

from alerts import tickets as ticket_ops
from monitor.models import AuditLog, Classification, Item, Rumour, Source, Ticket
from monitor.search import latest_classification
from monitor.web.deps import Officer, current_user, reading, writing
from monitor.web.render import flash, render

router = APIRouter()
STORY_ITEMS_SHOWN = 200

# Buttons of the lifecycle, in plan order: target state -> Vietnamese verb.
ACTIONS = {
    "acknowledged": "Tiếp nhận",
    "responding": "Đang xử lý",
    "monitoring": "Chuyển sang theo dõi",
    "closed": "Đóng phiếu",
    "new": "Mở lại",
}


@router.get("/tickets")
def board(request: Request, user: Officer = Depends(current_user)):
    now = datetime.now(timezone.utc)
    with reading(request) as session:
        open_tickets = session.scalars(select(Ticket).where(Ticket.state != "closed")
                                       .order_by(Ticket.severity.desc(), Ticket.deadline_at, Ticket.id)).all()
        closed = session.scalars(select(Ticket).where(Ticket.state == "closed")
                                 .order_by(Ticket.closed_at.desc()).limit(20)).all()
        return render(request, "tickets.html", title="Phiếu khủng hoảng", open_tickets=open_tickets,
                      closed=closed, now=now, steps_done=ticket_ops.steps_done)


@router.get("/tickets/{ticket_id}")
def ticket_page(request: Request, ticket_id: int, user: Officer = Depends(current_user)):
    now = datetime.now(timezone.utc)
    with reading(request) as session:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None:
            raise HTTPException(status_code=404, detail="web.tickets: không tìm thấy phiếu")
        rows = []
        if ticket.story_id:
            join = and_(Classification.item_id == Item.id, latest_classification())
            rows = session.execute(
                select(Item, Classification, Source.name).select_from(Item).outerjoin(Classification, join)
                .join(Source, Source.id == Item.source_id).where(Item.story_id == ticket.story_id)
                .order_by(Item.published_at).limit(STORY_ITEMS_SHOWN)).all()
        rumour = session.get(Rumour, ticket.rumour_id) if ticket.rumour_id else None
        actions = [(state, label) for state, label in ACTIONS.items()
                   if state in ticket_ops.TRANSITIONS.get(ticket.state, ())]
        return render(request, "ticket.html", title=f"Phiếu #{ticket.id}", ticket=ticket, story=ticket.story,
                      rows=rows, events=list(ticket.events), rumour=rumour, actions=actions, now=now,
                      steps_done=ticket_ops.steps_done(ticket))


def _change(request: Request, ticket_id: int, user: Officer, action: str, apply) -> RedirectResponse:
    now = datetime.now(timezone.utc)
    try:
        with writing(request) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise HTTPException(status_code=404, detail="web.tickets: không tìm thấy phiếu")
            before = ticket.state
            detail = apply(session, ticket, now) or {}
            session.add(AuditLog(at=now, actor=user.username, action=action, target=f"ticket:{ticket_id}",
                                 detail={"from_state": before, "to_state": ticket.state, **detail}))
    except ticket_ops.TicketError as exc:
        flash(request, f"Không thực hiện được: {exc}")
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/state")
def change_state(request: Request, ticket_id: int, to_state: str = Form(...), note: str = Form(""),
                 user: Officer = Depends(current_user)):
    def apply(session, ticket, now):
        ticket_ops.change_state(session, ticket, to_state, actor=user.username, now=now,
                                note=note.strip()[:2000] or None)
        return {"note": note.strip()[:2000]} if note.strip() else {}
    return _change(request, ticket_id, user, "ticket_state", apply)


@router.post("/tickets/{ticket_id}/notes")
def add_note(request: Request, ticket_id: int, text: str = Form(""), user: Officer = Depends(current_user)):
    def apply(session, ticket, now):
        ticket_ops.add_note(session, ticket, text[:5000], actor=user.username, now=now)
        return {"note": text.strip()[:5000]}
    return _change(request, ticket_id, user, "ticket_note", apply)


@router.post("/tickets/{ticket_id}/steps/{index}")
def set_step(request: Request, ticket_id: int, index: int, done: str = Form("0"),
             user: Officer = Depends(current_user)):
    def apply(session, ticket, now):
        ticket_ops.set_step(session, ticket, index, done == "1", actor=user.username, now=now)
        return {"step": index, "done": done == "1"}
    return _change(request, ticket_id, user, "ticket_step", apply)
