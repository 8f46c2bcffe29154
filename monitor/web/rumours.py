"""Known rumours: officers add and edit entries of the known-rumour registry, admins retire (or
restore) them, and each entry lists the items whose newest classification matched it."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import and_, func, select

from monitor.config import CATEGORIES
from monitor.models import AuditLog, Classification, Item, Rumour, Source
from monitor.search import latest_classification
from monitor.web.deps import Officer, admin_user, current_user, reading, writing
from monitor.web.render import flash, render, safe_url

router = APIRouter()
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{1,99}$")
MATCHES_SHOWN = 200


def _match_counts(session) -> dict[int, int]:
    return dict(session.execute(select(Classification.rumour_id, func.count())
                                .where(Classification.rumour_id.is_not(None), latest_classification())
                                .group_by(Classification.rumour_id)).all())


@router.get("/rumours")
def rumour_list(request: Request, user: Officer = Depends(current_user)):
    with reading(request) as session:
        rumours = session.scalars(select(Rumour).order_by(Rumour.active.desc(), Rumour.key)).all()
        return render(request, "rumours.html", title="Tin đồn đã biết", rumours=rumours,
                      counts=_match_counts(session))


@router.get("/rumours/new")
def new_form(request: Request, user: Officer = Depends(current_user)):
    return render(request, "rumour_form.html", title="Thêm tin đồn", rumour=None, form={}, errors=[])


@router.get("/rumours/{rumour_id}")
def rumour_page(request: Request, rumour_id: int, user: Officer = Depends(current_user)):
    with reading(request) as session:
        rumour = session.get(Rumour, rumour_id)
        if rumour is None:
            raise HTTPException(status_code=404, detail="web.rumours: không tìm thấy tin đồn")
        rows = session.execute(
            select(Item, Classification, Source.name).select_from(Item).join(Classification, and_(
                Classification.item_id == Item.id, latest_classification()))
            .join(Source, Source.id == Item.source_id).where(Classification.rumour_id == rumour_id)
            .order_by(Item.published_at.desc()).limit(MATCHES_SHOWN)).all()
        return render(request, "rumour.html", title=f"Tin đồn: {rumour.key}", rumour=rumour, rows=rows,
                      total=_match_counts(session).get(rumour_id, 0))


@router.get("/rumours/{rumour_id}/edit")
def edit_form(request: Request, rumour_id: int, user: Officer = Depends(current_user)):
    with reading(request) as session:
        rumour = session.get(Rumour, rumour_id)
        if rumour is None:
            raise HTTPException(status_code=404, detail="web.rumours: không tìm thấy tin đồn")
        form = {"key": rumour.key, "claim": rumour.claim, "variants": "\n".join(rumour.variants or []),
                "fact": rumour.fact, "correction_url": rumour.correction_url or "",
                "correction_date": rumour.correction_date or "", "category": rumour.category}
        return render(request, "rumour_form.html", title="Sửa tin đồn", rumour=rumour, form=form, errors=[])


def _validate(form: dict) -> list[str]:
    errors = []
    if not _KEY.match(form["key"]):
        errors.append("Mã chỉ gồm chữ thường không dấu, số, gạch ngang hoặc gạch dưới (2–100 ký tự).")
    if not form["claim"]:
        errors.append("Cần nêu nội dung tin đồn.")
    if not form["fact"]:
        errors.append("Cần nêu thông tin chính thức bác bỏ.")
    if form["correction_url"] and not safe_url(form["correction_url"]):
        errors.append("Đường dẫn đính chính phải bắt đầu bằng http:// hoặc https://.")
    if form["category"] not in CATEGORIES:
        errors.append("Chủ đề không hợp lệ.")
    return errors


def _form(key, claim, variants, fact, correction_url, correction_date, category) -> dict:
    return {"key": key.strip().lower()[:100], "claim": claim.strip()[:2000], "fact": fact.strip()[:4000],
            "variants": [v.strip()[:500] for v in variants.splitlines() if v.strip()][:50],
            "correction_url": correction_url.strip()[:1000], "correction_date": correction_date.strip()[:20],
            "category": category.strip()}


@router.post("/rumours")
@router.post("/rumours/{rumour_id}")
def save(request: Request, rumour_id: int | None = None, key: str = Form(""), claim: str = Form(""),
         variants: str = Form(""), fact: str = Form(""), correction_url: str = Form(""),
         correction_date: str = Form(""), category: str = Form("misinformation"),
         user: Officer = Depends(current_user)):
    form = _form(key, claim, variants, fact, correction_url, correction_date, category)
    now = datetime.now(timezone.utc)
    errors = _validate(form)
    with writing(request) as session:
        rumour = session.get(Rumour, rumour_id) if rumour_id else Rumour(created_at=now, active=True)
        if rumour is None:
            raise HTTPException(status_code=404, detail="web.rumours: không tìm thấy tin đồn")
        clash = session.scalar(select(Rumour.id).where(Rumour.key == form["key"]))
        if clash and clash != rumour_id:
            errors.append("Mã này đã có trong danh sách.")
        if not errors:
            for field in ("key", "claim", "variants", "fact", "category"):
                setattr(rumour, field, form[field])
            rumour.correction_url = form["correction_url"] or None
            rumour.correction_date = form["correction_date"] or None
            rumour.updated_at, rumour.updated_by = now, user.username
            session.add(rumour)
            session.flush()
            session.add(AuditLog(at=now, actor=user.username, action="rumour_edited" if rumour_id else "rumour_added",
                                 target=f"rumour:{rumour.id}", detail={"key": rumour.key}))
            saved_id = rumour.id
    if errors:
        form["variants"] = "\n".join(form["variants"])
        return render(request, "rumour_form.html", status_code=400, title="Tin đồn", form=form, errors=errors,
                      rumour={"id": rumour_id} if rumour_id else None)
    flash(request, "Đã lưu tin đồn.")
    return RedirectResponse(f"/rumours/{saved_id}", status_code=303)


@router.post("/rumours/{rumour_id}/active")
def set_active(request: Request, rumour_id: int, active: str = Form("0"), user: Officer = Depends(admin_user)):
    now = datetime.now(timezone.utc)
    with writing(request) as session:
        rumour = session.get(Rumour, rumour_id)
        if rumour is None:
            raise HTTPException(status_code=404, detail="web.rumours: không tìm thấy tin đồn")
        rumour.active = active == "1"
        rumour.updated_at, rumour.updated_by = now, user.username
        session.add(AuditLog(at=now, actor=user.username, action="rumour_restored" if rumour.active else "rumour_retired",
                             target=f"rumour:{rumour_id}", detail={"key": rumour.key}))
    flash(request, "Đã khôi phục tin đồn." if active == "1" else "Đã ngừng theo dõi tin đồn.")
    return RedirectResponse(f"/rumours/{rumour_id}", status_code=303)
