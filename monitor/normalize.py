"""Normalising feed text: Unicode NFC, HTML stripped to plain text, entities decoded, canonical URLs
and timezone-aware dates. Pure functions, no I/O."""

from __future__ import annotations

import html
import re
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

from classifiers.text import nfc

# Query parameters that only track the reader (campaign tags, click ids); they never select content.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "zarsrc", "zalo_source", "vn_source", "vn_medium", "vn_campaign", "ito", "refsrc",
})
TRACKING_PREFIXES = ("utm_", "__twitter", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}

_BLOCK_TAGS = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|tr|h[1-6]|blockquote|section|article|figure|figcaption)\b[^>]*>", re.I)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_NEWLINES = re.compile(r"\s*\n\s*")
# Mojibake of UTF-8 Vietnamese read as Latin-1/cp1252 ("Báº£o hiá»ƒm"): only then pay for ftfy.
_MOJIBAKE = re.compile(r"[ÃÂáº»Æ][\u0080-\u00ff\u2010-\u203a\u0152\u0153\u0160\u0161\u017d\u017e\u0178]")


def clean_text(text: str | None) -> str:
    """Plain text: entities decoded, NFC, runs of whitespace collapsed, mojibake repaired."""
    if not text:
        return ""
    text = html.unescape(text)
    if _MOJIBAKE.search(text):
        import ftfy

        text = ftfy.fix_text(text)
    text = nfc(text)
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


def html_to_text(markup: str | None) -> str:
    """Strip HTML to text safely (nh3 drops every tag, and script/style with their content);
    block tags become line breaks so words do not run together."""
    if not markup:
        return ""
    if "<" not in markup:
        return clean_text(markup)
    spaced = _BLOCK_TAGS.sub("\n", markup)
    stripped = nh3.clean(spaced, tags=set(), attributes={}, strip_comments=True)
    return clean_text(stripped)


def canonical_url(url: str | None) -> str | None:
    """A stable form of an http(s) URL for de-duplication: whitespace trimmed, scheme and host
    lower-cased, default port and fragment dropped, tracking parameters removed. None if not http(s)."""
    if not url:
        return None
    url = "".join(url.split())  # pasted feeds hold "\n https://…\n"; a URL never contains whitespace
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def clean_url(url: str | None) -> str | None:
    """The link as given, with whitespace removed; None unless it is http(s)."""
    if not url:
        return None
    url = "".join(url.split())
    return url if urlsplit(url).scheme.lower() in _DEFAULT_PORTS else None


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC struct_time; make them aware datetimes."""
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def parse_iso(value: str | None, *, default_tz: timezone = timezone(timedelta(hours=7))) -> datetime | None:
    """ISO 8601 to an aware datetime; a time without offset is taken as Vietnam time (UTC+7)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed.astimezone(timezone.utc)


def plausible_published(published: datetime | None, fetched_at: datetime) -> datetime | None:
    """The published time unless it is missing or in the future (a bad feed clock); None means
    "estimate it from the fetch time"."""
    if published is None or published > fetched_at + timedelta(days=1):
        return None
    if published.year < 1995:  # before Vietnamese news was online: an unset date field
        return None
    return published
