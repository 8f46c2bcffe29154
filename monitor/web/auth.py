"""Login and logout. Passwords are checked by ``monitor.users.authenticate`` (Argon2id); a login
starts a fresh session (new CSRF token) so a planted session cannot be reused."""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict, deque

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from monitor.models import AuditLog
from monitor.users import authenticate
from monitor.web.deps import writing
from monitor.web.render import render
from monitor.web.security import safe_next

log = logging.getLogger(__name__)
router = APIRouter()

# Failed logins per user name: at most MAX_FAILURES within WINDOW_S, then wait (slows guessing).
MAX_FAILURES = 10
WINDOW_S = 300.0
_failures: dict[str, deque[float]] = defaultdict(deque)


def _throttled(username: str) -> bool:
    if len(_failures) > 10_000:  # bound memory against floods of made-up user names
        _failures.clear()
    recent = _failures[username]
    now = time.monotonic()
    while recent and now - recent[0] > WINDOW_S:
        recent.popleft()
    return len(recent) >= MAX_FAILURES


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", title="Đăng nhập", next=safe_next(next), error=None, username="")


@router.post("/login")
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")):
    username = username.strip()[:100]
    error = None
    if _throttled(username):
        error = "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút."
    else:
        with writing(request) as session:
            user = authenticate(session, username, password) if username and password else None
            if user is None:
                _failures[username].append(time.monotonic())
                error = "Sai tên đăng nhập hoặc mật khẩu."
            else:
                uid, role = user.id, user.role
                session.add(AuditLog(actor=user.username, action="login", target=f"user:{user.username}"))
    if error:
        log.warning("login failed", extra={"username": username})
        return render(request, "login.html", status_code=400, title="Đăng nhập", next=safe_next(next),
                      error=error, username=username)
    _failures.pop(username, None)
    request.session.clear()
    request.session.update(uid=uid, role=role, csrf=secrets.token_urlsafe(32))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
