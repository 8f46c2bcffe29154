"""Parsing fetched documents into ``Entry`` records: RSS/Atom through feedparser (bytes only, never a
URL) and JSON Lines for backfill. Ill-formed feeds keep what can be kept; problems become warnings.

Before feedparser sees a feed, its bytes are made plain UTF-8: junk before the root element is cut
(a browser banner pasted above ``<rss``), and the encoding is settled here because headers lie
(UTF-8 served as ISO-8859-1, or no charset at all; Vietnamese feeds may also be windows-1258).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import time
from dataclasses import dataclass, field

import feedparser

from monitor.entries import Entry
from monitor.errors import ParseError
from monitor.fetch import Document
from monitor.normalize import canonical_url, clean_text, clean_url, from_struct_time, html_to_text, parse_iso

_ROOT = re.compile(rb"<\?xml|<rss[\s>]|<feed[\s>]|<rdf:RDF[\s>]|<RDF[\s>]", re.I)
_XML_DECL = re.compile(rb"^<\?xml[^>]*?>", re.I)
_DECL_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.I)
_PLACEHOLDERS = {"no description", "no title", "none", "null"}


@dataclass
class ParsedFeed:
    entries: list[Entry] = field(default_factory=list)
    title: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParsedDocuments:
    """What the documents of one fetch yielded; ``errors`` lists the documents that were no feed."""

    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents: int = 0
    seconds: float = 0.0


def parse_documents(documents: list[Document]) -> ParsedDocuments:
    """Parse every document of one fetch; never raises (runs in worker processes for big passes)."""
    started = time.process_time()
    result = ParsedDocuments(documents=len(documents))
    for doc in documents:
        try:
            parsed = parse_document(doc)
        except ParseError as exc:
            result.errors.append(str(exc))
            continue
        except Exception as exc:  # a parser bug on hostile input must not stop the pass
            result.errors.append(f"parse: {doc.name}: {type(exc).__name__}: {exc}")
            continue
        result.entries.extend(parsed.entries)
        result.warnings.extend(parsed.warnings)
    result.seconds = time.process_time() - started
    return result


def parse_document(doc: Document) -> ParsedFeed:
    """Entries of one document; ParseError only when nothing in it is a feed."""
    if (doc.content_type or "").startswith(("application/x-ndjson", "application/jsonl")) or doc.name.endswith(
        (".jsonl", ".jsonl.gz", ".json")
    ):
        return parse_jsonl(doc.body, doc.name)
    return parse_feed(doc.body, content_type=doc.content_type, base_url=doc.name)


def to_utf8(body: bytes, content_type: str | None = None) -> tuple[bytes, str]:
    """The feed as UTF-8 bytes starting at its root element, and the encoding it was read as.

    UTF-8 that decodes cleanly wins over a declared charset (a wrong header is common, a byte
    sequence that is valid UTF-8 by accident is not); otherwise the XML declaration, then the
    HTTP charset, then windows-1258 (the Vietnamese Windows code page)."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if body.startswith(bom):
            text = body.decode(name, errors="replace").lstrip("\ufeff")
            return _strip_decl(_cut_junk(text.encode("utf-8"))), name
    body = _cut_junk(body)
    try:
        body.decode("utf-8")
        return _strip_decl(body), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates = []
    decl = _XML_DECL.match(body)
    if decl and (m := _DECL_ENCODING.search(decl.group(0))):
        candidates.append(m.group(1).decode("ascii"))
    if content_type and (m := _HEADER_CHARSET.search(content_type)):
        candidates.append(m.group(1))
    candidates.append("windows-1258")
    for name in candidates:
        try:
            codecs.lookup(name)
            if name.lower().replace("_", "-") in ("utf-8", "utf8"):
                continue  # it said UTF-8 but is not: fall through to a single-byte guess
            return _strip_decl(body.decode(name, errors="replace").encode("utf-8")), name
        except LookupError:
            continue
    return _strip_decl(body.decode("windows-1258", errors="replace").encode("utf-8")), "windows-1258"


def _cut_junk(body: bytes) -> bytes:
    match = _ROOT.search(body, 0, 4096)
    return body[match.start():] if match and match.start() > 0 else body


def _strip_decl(body: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>' + body[m.end():] if (m := _XML_DECL.match(body)) else body


def parse_feed(body: bytes, *, content_type: str | None = None, base_url: str = "") -> ParsedFeed:
    """RSS/Atom bytes to entries. feedparser's bozo flag becomes a warning when entries survive."""
    utf8, encoding = to_utf8(body, content_type)
    parsed = feedparser.parse(
        io.BytesIO(utf8),
        response_headers={"content-type": "application/xml; charset=utf-8", "content-location": base_url},
        sanitize_html=False,  # we strip all HTML ourselves (monitor.normalize.html_to_text)
        resolve_relative_uris=False,
    )
    result = ParsedFeed(title=html_to_text(parsed.feed.get("title", "")))
    if encoding != "utf-8":
        result.warnings.append(f"parse: {base_url}: read as {encoding}")
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        if not parsed.entries and not parsed.feed and not parsed.get("version"):
            raise ParseError(f"parse: {base_url}: not a feed ({type(exc).__name__}: {exc})")
        result.warnings.append(f"parse: {base_url}: ill-formed feed, kept what could be read ({type(exc).__name__}: {exc})")
    elif not parsed.get("version") and not parsed.entries:
        raise ParseError(f"parse: {base_url}: not an RSS or Atom feed")
    for index, raw in enumerate(parsed.entries, start=1):
        entry = _entry(raw)
        if entry is None:
            result.warnings.append(f"parse: {base_url}: entry {index} has no title, link or text; skipped")
        else:
            result.entries.append(entry)
    return result


def _entry(raw: dict) -> Entry | None:
    title = html_to_text(raw.get("title"))
    summary = html_to_text(raw.get("summary"))
    if summary.lower() in _PLACEHOLDERS:
        summary = ""
    body = None
    contents = raw.get("content") or []
    if contents:
        text = html_to_text(contents[0].get("value"))
        if len(text) > len(summary) + 20:
            body = text
    url = clean_url(raw.get("link"))
    if not title and not url and not summary:
        return None
    guid = "".join((raw.get("id") or "").split()) or url or _hash_guid(title, summary)
    published = from_struct_time(raw.get("published_parsed") or raw.get("updated_parsed"))
    extra = {}
    if (source := raw.get("source")) and source.get("title"):
        extra["outlet"] = clean_text(source["title"])  # Google News names the original outlet here
        # ... and appends it to the headline ("Tiêu đề - Báo X"): drop it so copies match the outlet's item.
        title = title.removesuffix(f" - {extra['outlet']}")
    return Entry(guid=guid[:1000], title=title, summary=summary, url=url, canonical_url=canonical_url(url),
                 published_at=published, author=clean_text(raw.get("author")) or None, body=body, extra=extra)


def _hash_guid(title: str, summary: str) -> str:
    return "sha256:" + hashlib.sha256(f"{title}\n{summary}".encode()).hexdigest()


def parse_jsonl(body: bytes, name: str = "") -> ParsedFeed:
    """One JSON object a line: ``id``/``guid``, ``title``, ``summary``, ``link``/``url``,
    ``published`` (ISO 8601; without an offset it is taken as Vietnam time). Bad lines are skipped."""
    result = ParsedFeed()
    for number, line in enumerate(body.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            result.warnings.append(f"parse: {name}:{number}: not a JSON object ({exc})")
            continue
        title = html_to_text(str(obj.get("title") or ""))
        summary = html_to_text(str(obj.get("summary") or obj.get("description") or ""))
        url = clean_url(obj.get("link") or obj.get("url"))
        if not title and not url and not summary:
            result.warnings.append(f"parse: {name}:{number}: no title, link or text; skipped")
            continue
        guid = str(obj.get("guid") or obj.get("id") or url or _hash_guid(title, summary))
        published = parse_iso(obj.get("published") or obj.get("published_at"))
        extra = {k: obj[k] for k in ("source", "category") if obj.get(k)}
        result.entries.append(Entry(guid=guid[:1000], title=title, summary=summary, url=url,
                                    canonical_url=canonical_url(url), published_at=published,
                                    author=obj.get("author"), body=obj.get("body"), extra=extra))
    return result
