"""Audit log (admins): who corrected which labels, changed which tickets and rumours, and when."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select

from monitor.models import AuditLog
from monitor.web.deps import Officer, admin_user, reading
from monitor.web.render import render

router = APIRouter()
PAGE_SIZE = 100
ACTION_LABELS = {
    "label_confirmed": "Xác nhận nhãn", "label_corrected": "Sửa nhãn", "ticket_state": "Đổi trạng thái phiếu",
    "ticket_note": "Ghi chú phiếu", "ticket_step": "Bước xử lý", "rumour_added": "Thêm tin đồn",
    "rumour_edited": "Sửa tin đồn", "rumour_retired": "Ngừng theo dõi tin đồn",
    "rumour_restored": "Theo dõi lại tin đồn", "retrain_started": "Huấn luyện lại mô hình",
    "login": "Đăng nhập", "user_added": "Thêm người dùng", "user_changed": "Đổi vai trò, trạng thái người dùng",
}
FIELD_LABELS = {"relevant": "liên quan", "sentiment": "sắc thái", "misleading": "sai lệch", "category": "chủ đề"}


@router.get("/audit")
def audit_page(request: Request, page: int = 1, actor: str = "", user: Officer = Depends(admin_user)):
    page = max(1, min(page, 10_000))
    with reading(request) as session:
        stmt = select(AuditLog)
        if actor:
            stmt = stmt.where(AuditLog.actor == actor[:100])
        rows = session.scalars(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc())
                               .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        return render(request, "audit.html", title="Nhật ký thao tác", rows=rows, total=total or 0, page=page,
                      page_size=PAGE_SIZE, actor=actor, labels=ACTION_LABELS,
                      fields=FIELD_LABELS)
