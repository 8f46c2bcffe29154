"""Fetching feeds over HTTP (httpx) and from local files, within limits, never raising per source.

Limits follow RELIABILITY.md (Miniflux): one overall deadline per fetch (a trickling server cannot hold
a slot forever), a body cap counted after decompression (gzip bombs), a redirect limit with loop
detection, bounded concurrency overall and per host, conditional GET (ETag / Last-Modified, RFC 9110
§13.1), a descriptive User-Agent, and the SSRF guard of ``monitor.netguard`` on every hop.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from monitor.config import CollectConfig
from monitor.errors import FetchError
from monitor.netguard import PinnedTransport, Resolver, system_resolver

_REDIRECTS = (301, 302, 303, 307, 308)
FEED_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".jsonl", ".jsonl.gz", ".json")


@dataclass
class Document:
    """One fetched document: a feed body and how to read it."""

    body: bytes
    content_type: str | None = None
    name: str = ""  # URL or file path, for error messages


@dataclass
class FetchResult:
    url: str
    outcome: str = "ok"  # ok | not_modified | error
    documents: list[Document] = field(default_factory=list)
    status: int | None = None
    error: str | None = None
    error_kind: str | None = None  # timeout | http | too_large | redirect | refused | network | file
    retry_after_s: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    bytes_read: int = 0
    seconds: float = 0.0


class Fetcher:
    """An async HTTP client shared by one collection pass. Use as ``async with Fetcher(...) as f``."""

    def __init__(self, config: CollectConfig, *, allow_private: bool, transport: httpx.AsyncBaseTransport | None = None,
                 resolver: Resolver = system_resolver, now=lambda: datetime.now(timezone.utc)):
        self.config = config
        self._now = now
        timeout_s = config.timeout.total_seconds()
        inner = transport or httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=config.concurrency, max_keepalive_connections=config.concurrency),
            retries=0,
        )
        # An injected transport (unit tests) answers for made-up host names: do not resolve them.
        guarded = inner if transport is not None else PinnedTransport(inner, allow_private=allow_private, resolver=resolver)
        self._client = httpx.AsyncClient(
            transport=guarded, timeout=httpx.Timeout(timeout_s), follow_redirects=False,
            headers={"User-Agent": config.user_agent,
                     "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"},
        )
        self._all = asyncio.Semaphore(config.concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(config.per_host_concurrency))

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        """GET ``url`` (or read a local file/directory); failures are returned, never raised."""
        if urlsplit(url).scheme in ("", "file"):
            return await asyncio.to_thread(read_local, url, last_modified)
        host = (urlsplit(url).hostname or "").lower()
        async with self._all, self._hosts[host]:
            started = time.perf_counter()
            result = FetchResult(url=url)
            try:
                async with asyncio.timeout(self.config.timeout.total_seconds()):
                    await self._get(url, etag, last_modified, result)
            except TimeoutError:
                _fail(result, "timeout", f"fetch: {url}: no complete answer within {self.config.timeout.total_seconds():g} s")
            except httpx.TimeoutException as exc:
                _fail(result, "timeout", f"fetch: {url}: timed out ({type(exc).__name__})")
            except FetchError as exc:
                _fail(result, "refused" if str(exc).startswith("netguard") else "network", str(exc))
            except (httpx.HTTPError, OSError) as exc:
                _fail(result, "network", f"fetch: {url}: {type(exc).__name__}: {exc}")
            result.seconds = time.perf_counter() - started
            return result

    async def _get(self, url: str, etag: str | None, last_modified: str | None, result: FetchResult) -> None:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        seen = {url}
        for _hop in range(self.config.max_redirects + 1):
            async with self._client.stream("GET", url, headers=headers) as response:
                result.status = response.status_code
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = str(response.url.join(response.headers["location"]))
                    if url in seen:
                        return _fail(result, "redirect", f"fetch: {result.url}: redirect loop at {url}")
                    seen.add(url)
                    continue
                return await self._finish(response, result)
        _fail(result, "redirect", f"fetch: {result.url}: more than {self.config.max_redirects} redirects")

    async def _finish(self, response: httpx.Response, result: FetchResult) -> None:
        # RFC 9111 §4.3.4: a 304 may carry new validators; keep them.
        result.etag = response.headers.get("etag")
        result.last_modified = response.headers.get("last-modified")
        if response.status_code == 304:
            result.outcome = "not_modified"
            return
        if response.status_code >= 400 or response.status_code < 200:
            result.retry_after_s = parse_retry_after(response.headers.get("retry-after"), self._now())
            return _fail(result, "http", f"fetch: {result.url}: HTTP {response.status_code}")
        limit = self.config.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return _fail(result, "too_large", f"fetch: {result.url}: body of {declared} bytes exceeds the {limit}-byte limit")
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():  # decoded: the cap also stops gzip/brotli bombs
            size += len(chunk)
            if size > limit:
                result.bytes_read = size
                return _fail(result, "too_large", f"fetch: {result.url}: body exceeds the {limit}-byte limit (after decompression)")
            chunks.append(chunk)
        result.bytes_read = size
        result.documents = [Document(b"".join(chunks), response.headers.get("content-type"), str(response.url))]


def _fail(result: FetchResult, kind: str, message: str) -> None:
    result.outcome, result.error_kind, result.error = "error", kind, message
    result.documents = []


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def local_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(unquote(parts.path)) if parts.scheme == "file" else Path(url)


def read_local(url: str, last_signature: str | None = None) -> FetchResult:
    """Read a feed/JSONL file, or every such file in a directory (backfill, offline replay).
    The files' sizes and modification times stand in for Last-Modified."""
    path = local_path(url)
    result = FetchResult(url=url)
    started = time.perf_counter()
    try:
        files = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(FEED_SUFFIXES)) \
            if path.is_dir() else [path]
        stats = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
        signature = "files:" + hashlib.sha256(repr(stats).encode()).hexdigest()[:24]
        result.last_modified = signature
        if last_signature == signature:
            result.outcome = "not_modified"
            return result
        for p in files:
            body = p.read_bytes()
            if p.name.lower().endswith(".gz"):
                body = gzip.decompress(body)
            result.bytes_read += len(body)
            result.documents.append(Document(body, "application/x-ndjson" if ".jsonl" in p.name.lower() else None, str(p)))
    except (OSError, EOFError) as exc:
        _fail(result, "file", f"fetch: {path}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    result.seconds = time.perf_counter() - started
    return result
