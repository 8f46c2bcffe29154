"""Officers (admins only): list accounts, add one, change a role, disable or enable. Passwords are
hashed by ``monitor.users`` (Argon2id); every change is in the audit log."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from monitor.errors import MonitorError
from monitor.models import AuditLog, User
from monitor.users import ROLES, create_user
from monitor.web.deps import Officer, admin_user, reading, writing
from monitor.web.render import flash, render

router = APIRouter()


@router.get("/users")
def users_page(request: Request, user: Officer = Depends(admin_user)):
    with reading(request) as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        return render(request, "users.html", title="Người dùng", users=users, roles=ROLES, error=None)


@router.post("/users")
def add_user(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form("reviewer"),
             password: str = Form(""), user: Officer = Depends(admin_user)):
    username = username.strip()[:100]
    try:
        if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
            raise MonitorError("users: tên đăng nhập chỉ gồm chữ, số, dấu chấm, gạch ngang, gạch dưới")
        with writing(request) as session:
            create_user(session, username, password, role, display_name.strip()[:200], actor=user.username)
    except MonitorError as exc:
        with reading(request) as session:
            users = session.scalars(select(User).order_by(User.username)).all()
            return render(request, "users.html", status_code=400, title="Người dùng", users=users, roles=ROLES,
                          error=str(exc))
    flash(request, f"Đã thêm người dùng {username}.")
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{user_id}")
def update_user(request: Request, user_id: int, role: str = Form(...), active: str = Form("1"),
                user: Officer = Depends(admin_user)):
    if role not in ROLES:
        raise HTTPException(status_code=400, detail="web.users: vai trò không hợp lệ")
    if user_id == user.id and (role != "admin" or active != "1"):
        raise HTTPException(status_code=400, detail="web.users: không thể tự bỏ quyền quản trị hoặc tự khóa tài khoản")
    now = datetime.now(timezone.utc)
    with writing(request) as session:
        target = session.get(User, user_id)
        if target is None:
            raise HTTPException(status_code=404, detail="web.users: không tìm thấy người dùng")
        before = {"role": target.role, "active": target.active}
        target.role, target.active = role, active == "1"
        session.add(AuditLog(at=now, actor=user.username, action="user_changed", target=f"user:{target.username}",
                             detail={"before": before, "after": {"role": target.role, "active": target.active}}))
    flash(request, "Đã cập nhật người dùng.")
    return RedirectResponse("/users", status_code=303)
