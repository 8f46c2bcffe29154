"""Jinja2 environment for emails and reports: autoescape on, Vietnamese time, http(s)-only links."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from monitor.timeutil import format_local

TEMPLATES = Path(__file__).resolve().parent / "templates"


def safe_url(url: str | None) -> str:
    """The URL if it is http or https, else "" (feed links are untrusted: no javascript:, data:)."""
    if not url:
        return ""
    url = url.strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def signed(value: float | int | None, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:+.0f}{suffix}" if isinstance(value, float) else f"{value:+d}{suffix}"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # Autoescape HTML templates only; .txt templates are plain text parts.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["local"] = format_local
    env.filters["safe_url"] = safe_url
    env.filters["percent"] = percent
    env.filters["signed"] = signed
    return env


def render(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
