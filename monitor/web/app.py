"""The web application: ``create_app(settings, sessions, config)`` wires middleware (security
headers → signed session cookie → login gate), the app-wide CSRF check and one router per page."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException
from fastapi.responses import PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from monitor.settings import Settings
from monitor.web import (audit, auth, csrf, dashboard, model_page, review, rumours, search_page, tickets,
                         users_page)
from monitor.web.counts import CountCache
from monitor.web.deps import LoginRequired, current_user
from monitor.web.model_page import RetrainStatus
from monitor.web.render import render
from monitor.web.security import LoginRequiredMiddleware, SecurityHeadersMiddleware, session_secret

STATIC = Path(__file__).resolve().parent / "static"
SESSION_MAX_AGE_S = 12 * 3600  # one working day


def create_app(settings: Settings, sessions: sessionmaker[Session], config=None) -> FastAPI:
    app = FastAPI(title="bhxh-monitor", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf.verify)])
    app.state.settings, app.state.sessions, app.state.config = settings, sessions, config
    app.state.retrain = RetrainStatus()
    app.state.counts = CountCache()
    app.state.charts = {}  # days -> (monotonic time drawn, PNG bytes)
    # Added innermost first: headers wrap everything, the session is decoded before the login gate.
    app.add_middleware(LoginRequiredMiddleware)
    app.add_middleware(SessionMiddleware, secret_key=session_secret(settings), session_cookie="bhxh_session",
                       max_age=SESSION_MAX_AGE_S, same_site="lax", https_only=settings.secure_cookies)
    app.add_middleware(SecurityHeadersMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, dashboard, review, tickets, search_page, rumours, model_page, audit, users_page):
        app.include_router(module.router)
    _add_error_pages(app)
    return app


def _add_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        if request.method in ("GET", "HEAD"):
            return RedirectResponse("/login", status_code=303)
        return PlainTextResponse("web.auth: đăng nhập để tiếp tục", status_code=403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        message = exc.detail if isinstance(exc.detail, str) else "Yêu cầu không hợp lệ"
        if exc.status_code == 404 and message == "Not Found":
            message = "Không tìm thấy trang."
        if "text/html" not in request.headers.get("accept", "") or "session" not in request.scope:
            return PlainTextResponse(message, status_code=exc.status_code, headers=exc.headers)
        if request.session.get("uid") and getattr(request.state, "user", None) is None:
            with contextlib.suppress(LoginRequired):
                current_user(request)  # so the error page keeps its navigation
        return render(request, "error.html", status_code=exc.status_code, title="Lỗi", message=message,
                      status=exc.status_code)
