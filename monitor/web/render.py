"""Templates: one Jinja2 environment with autoescape always on, Vietnamese labels and the filters
that keep feed content inert (``safe_url``, ``plain``)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse

from alerts.labels import (CATEGORY_LABELS, SENTIMENT_LABELS, SEVERITY_LABELS, STATE_LABELS,
                           category_label, severity_label, state_label)
from monitor.timeutil import format_local
from monitor.web import csrf

TEMPLATES = Path(__file__).resolve().parent / "templates"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL with a host, else None (render it as text)."""
    if not url or any(c in url for c in "\x00\r\n\t "):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.strip()


def plain(value: str | None, limit: int | None = None) -> str:
    """Feed HTML reduced to its text (tags and script/style content dropped); escaped on output."""
    text = html.unescape(nh3.clean(value or "", tags=set()))
    text = " ".join(text.split())
    if limit and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def sentiment_label(value: str | None) -> str:
    return SENTIMENT_LABELS.get(value or "", value or "")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(local_time=format_local, safe_url=safe_url, plain=plain,
                       category=category_label, severity=severity_label, state=state_label,
                       sentiment=sentiment_label, urlencode_params=lambda p: urlencode(p))
    env.globals.update(CATEGORY_LABELS=CATEGORY_LABELS, SENTIMENT_LABELS=SENTIMENT_LABELS,
                       SEVERITY_LABELS=SEVERITY_LABELS, STATE_LABELS=STATE_LABELS)
    return env


ENV = _environment()


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page with the signed-in user, this session's CSRF token and the current path."""
    context.setdefault("user", getattr(request.state, "user", None))
    context.setdefault("title", "")
    context.setdefault("flash", request.session.pop("flash", None) if "session" in request.scope else None)
    context.update(csrf_token=csrf.token(request), path=request.url.path)
    body = ENV.get_template(name).render(**context)
    return HTMLResponse(body, status_code=status_code)


def flash(request: Request, message: str) -> None:
    """A one-line message shown on the next page."""
    request.session["flash"] = message
