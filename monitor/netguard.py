"""SSRF guard: refuse feed addresses in private, loopback, link-local and other internal ranges.

The check is on the resolved IP address, not the host name, and happens for every request, so every
redirect hop is checked too. The request is then sent to the address that was checked (the URL's host
is replaced by the IP; the Host header and TLS SNI keep the name), so a second DNS answer cannot
point the connection elsewhere (DNS rebinding; Miniflux and changedetection.io do the same).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Awaitable, Callable

import httpx

from monitor.errors import FetchError

Resolver = Callable[[str, int], Awaitable[list[str]]]

# Ranges that are not the public internet (RELIABILITY.md, "SSRF").
_BLOCKED_NETWORKS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8",
)]


def is_blocked_address(address: str) -> bool:
    """True for any address a feed must not make us connect to (IPv4-mapped IPv6 unwrapped)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (not ip.is_global) or any(ip in net for net in _BLOCKED_NETWORKS)


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


async def resolve_checked(host: str, port: int, *, allow_private: bool, resolver: Resolver = system_resolver) -> str:
    """The address to connect to for ``host``; FetchError if it cannot be resolved or is refused."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except OSError as exc:
            raise FetchError(f"netguard: cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchError(f"netguard: {host} has no address")
    if not allow_private:
        blocked = [a for a in addresses if is_blocked_address(a)]
        if blocked:
            raise FetchError(
                f"netguard: {host} resolves to {blocked[0]}, a private/loopback/link-local address; "
                "refused (set allow_private_addresses: true in feeds.yaml to allow it)"
            )
    return addresses[0]


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks each request's resolved address and connects to that address."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, allow_private: bool, resolver: Resolver = system_resolver):
        self._inner = inner
        self._allow_private = allow_private
        self._resolver = resolver

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve_checked(host, port, allow_private=self._allow_private, resolver=self._resolver)
        if address != host:
            request.url = url.copy_with(host=address)
            request.headers.setdefault("Host", url.netloc.decode("ascii"))
            if url.scheme == "https":
                request.extensions = {**request.extensions, "sni_hostname": host}
        response = await self._inner.handle_async_request(request)
        request.url = url  # redirects are resolved against the name, not the address
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()
