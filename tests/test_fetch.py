"""Fetching: the SSRF guard (resolved address checked on every hop, connection pinned to it), request
headers, decoding, and the per-host concurrency bound. Unit tests stub HTTP at the transport; the
others use the real loopback feed server."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta

import brotli
import httpx
import pytest

from feedserver import FeedServer, Reply
from monitor.config import CollectConfig
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.netguard import PinnedTransport, is_blocked_address, resolve_checked

CONFIG = CollectConfig(timeout=timedelta(seconds=2), max_body_bytes=100_000, concurrency=8, per_host_concurrency=2)


@pytest.mark.parametrize("address, blocked", [
    ("127.0.0.1", True), ("10.1.2.3", True), ("172.16.0.9", True), ("192.168.1.1", True), ("169.254.169.254", True),
    ("100.64.0.1", True), ("0.0.0.0", True), ("224.0.0.1", True), ("::1", True), ("fe80::1", True), ("fd00::5", True),
    ("::ffff:127.0.0.1", True), ("::ffff:10.0.0.1", True), ("8.8.8.8", False), ("113.160.92.10", False),
    ("2001:4860:4860::8888", False),
])
def test_blocked_ranges(address, blocked):
    assert is_blocked_address(address) is blocked


async def fake_resolver(host: str, port: int) -> list[str]:
    table = {"bao.example.vn": ["8.8.8.8"], "rebind.example.vn": ["8.8.4.4", "10.0.0.7"], "noi-bo.example.vn": ["192.168.1.5"]}
    if host not in table:
        raise OSError("Name or service not known")
    return table[host]


def test_resolved_addresses_are_checked():
    run = asyncio.run
    assert run(resolve_checked("bao.example.vn", 443, allow_private=False, resolver=fake_resolver)) == "8.8.8.8"
    with pytest.raises(FetchError, match="^netguard: rebind.example.vn resolves to 10.0.0.7"):
        run(resolve_checked("rebind.example.vn", 443, allow_private=False, resolver=fake_resolver))
    assert run(resolve_checked("noi-bo.example.vn", 80, allow_private=True, resolver=fake_resolver)) == "192.168.1.5"
    with pytest.raises(FetchError, match="cannot resolve"):
        run(resolve_checked("khong-co.example.vn", 80, allow_private=False, resolver=fake_resolver))


def test_connection_is_pinned_and_every_redirect_is_checked():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers["host"], request.extensions.get("sni_hostname")))
        if request.url.path == "/rss":
            return httpx.Response(302, headers={"Location": "https://noi-bo.example.vn/admin"})
        return httpx.Response(200, content=b"<rss/>")

    async def go():
        transport = PinnedTransport(httpx.MockTransport(handler), allow_private=False, resolver=fake_resolver)
        async with Fetcher(CONFIG, allow_private=False, transport=transport) as fetcher:
            return await fetcher.fetch("https://bao.example.vn/rss")

    result = asyncio.run(go())
    assert seen == [("8.8.8.8", "bao.example.vn", "bao.example.vn")]  # connected to the checked address
    assert result.outcome == "error" and result.error_kind == "refused"
    assert "noi-bo.example.vn resolves to 192.168.1.5" in result.error


def test_headers_sent_and_brotli_decoded():
    body = "<rss version='2.0'><channel><title>Bảo hiểm</title></channel></rss>".encode()
    with FeedServer() as server:
        url = server.add("/br.xml", reply=Reply(body=brotli.compress(body), headers={"Content-Encoding": "br"}))

        async def go():
            async with Fetcher(CONFIG, allow_private=True) as fetcher:
                return await fetcher.fetch(url)

        result = asyncio.run(go())
        headers = server.requests[-1].headers
    assert result.outcome == "ok" and result.documents[0].body == body
    assert headers["user-agent"].startswith("bhxh-monitor/")
    assert "br" in headers["accept-encoding"] and "gzip" in headers["accept-encoding"]


def test_concurrency_per_host_is_bounded():
    lock, active, peak = threading.Lock(), [0], [0]

    def slow(request):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.1)
        with lock:
            active[0] -= 1
        return Reply(body=b"<rss version='2.0'><channel/></rss>")

    with FeedServer() as server:
        urls = [server.add_handler(f"/f{n}.xml", slow) for n in range(6)]

        async def go():
            async with Fetcher(CONFIG, allow_private=True) as fetcher:
                return await asyncio.gather(*(fetcher.fetch(u) for u in urls))

        results = asyncio.run(go())
    assert all(r.outcome == "ok" for r in results)
    assert peak[0] == 2


def test_refused_by_default_on_real_loopback():
    with FeedServer() as server:
        url = server.add("/a.xml", b"<rss/>")

        async def go(allow):
            async with Fetcher(CONFIG, allow_private=allow) as fetcher:
                return await fetcher.fetch(url)

        refused, allowed = asyncio.run(go(False)), asyncio.run(go(True))
        assert server.hits["/a.xml"] == 1
    assert refused.error_kind == "refused" and allowed.outcome == "ok"
