"""Security plumbing of the web page: the session secret, security headers on every response, and
the login gate in front of every page but a few public paths."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import quote

from monitor.settings import Settings

# Paths anyone may request: the login form, static files, and the service's probes.
PUBLIC_PREFIXES = ("/static/",)
PUBLIC_PATHS = ("/login", "/healthz", "/metrics", "/favicon.ico")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def session_secret(settings: Settings) -> str:
    """``settings.secret_key``, else a key generated once into ``<data_dir>/secret_key`` (0600)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text().strip()
        if len(key) < 32:
            raise RuntimeError(f"web.security: {path} holds no usable key; delete it to regenerate")
        return key
    with os.fdopen(fd, "w") as handle:
        key = secrets.token_urlsafe(48)
        handle.write(key + "\n")
    return key


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (other hosts, ``//x``) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


SERVER_ERROR = "Lỗi máy chủ: yêu cầu chưa được xử lý. Vui lòng thử lại sau hoặc báo quản trị viên.\n"


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, referrer and framing headers to every HTTP response (pure ASGI).

    An unhandled exception would otherwise reach Starlette's outermost error middleware, whose 500
    page is sent past this one without the headers; so this middleware answers such a request itself
    (plain text, Vietnamese, headers on) and re-raises, and the server still logs the traceback."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        is_static = scope["path"].startswith("/static/")
        started = False

        async def send_with_headers(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() not in dict(HEADERS)]
                headers += HEADERS
                if not is_static and not any(h[0].lower() == b"cache-control" for h in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                body = SERVER_ERROR.encode()
                await send_with_headers({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
            raise


class LoginRequiredMiddleware:
    """Refuses anonymous requests: pages redirect to /login, other methods get 403 (pure ASGI,
    inside SessionMiddleware so ``scope['session']`` is set). Whether the user still exists and is
    active is checked by ``monitor.web.auth.current_user`` on each page."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or is_public(scope["path"]) or scope.get("session", {}).get("uid"):
            return await self.app(scope, receive, send)
        if scope["method"] in ("GET", "HEAD"):
            target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope["query_string"] else "")
            location = "/login?next=" + quote(target, safe="")
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location.encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        body = "web.security: đăng nhập để tiếp tục (login required)".encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
