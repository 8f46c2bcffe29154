"""CSRF protection: one random token per session, required on every state-changing request as the
``csrf_token`` form field or the ``X-CSRF-Token`` header (synchronizer token pattern, OWASP)."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token(request: Request) -> str:
    """This session's token, created on first use."""
    value = request.session.get("csrf")
    if not value:
        value = request.session["csrf"] = secrets.token_urlsafe(32)
    return value


async def verify(request: Request) -> None:
    """App-wide dependency: refuse an unsafe request whose token is missing or wrong (403)."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(FIELD)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(status_code=403, detail="web.csrf: thiếu hoặc sai mã CSRF; tải lại trang và thử lại")
