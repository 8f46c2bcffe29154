"""A real HTTP feed server on 127.0.0.1 for tests and benchmarks (no mocks of httpx).

    with FeedServer() as server:
        server.add("/a.xml", feed_bytes, etag='"v1"')            # static, conditional GET answered
        server.add("/slow.xml", reply=Reply(delay=5))              # or a fixed Reply
        server.add_handler("/dyn", lambda req: Reply(body=b"..."))  # or a function of the request
        server.add_dir("/feeds/", some_directory)                 # every file under a prefix
        url = server.url("/a.xml"); server.hits["/a.xml"]; server.requests[-1].headers

It listens on port 0 (a free port) in a daemon thread, speaks HTTP/1.1 with keep-alive, and counts
requests per path. ``python tests/feedserver.py DIR`` serves a directory from a separate process
(the collector benchmark uses this so the server does not share the collector's GIL).
"""

from __future__ import annotations

import gzip as gzip_module
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

RSS_TYPE = "application/rss+xml; charset=utf-8"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = RSS_TYPE
    delay: float = 0.0  # seconds before the status line (timeouts)
    chunk_size: int = 0  # >0: send the body in chunks of this size ...
    chunk_delay: float = 0.0  # ... with this pause between them (a trickling server)
    send_length: bool = True  # False: no Content-Length, close the connection to end the body


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
        owner = self.server.owner
        owner._record(request)
        reply = owner._reply_for(request)
        try:
            self._send(reply)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(self, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        self.send_response(reply.status)
        if reply.content_type and reply.status != 304:
            self.send_header("Content-Type", reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if reply.send_length:
            self.send_header("Content-Length", str(len(reply.body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if reply.status == 304:
            return
        if reply.chunk_size:
            for start in range(0, len(reply.body), reply.chunk_size):
                self.wfile.write(reply.body[start:start + reply.chunk_size])
                self.wfile.flush()
                time.sleep(reply.chunk_delay)
        else:
            self.wfile.write(reply.body)

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    owner: FeedServer


class FeedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._routes: dict[str, Callable[[Request], Reply]] = {}
        self._prefixes: list[tuple[str, Path]] = []
        self._lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.requests: list[Request] = []
        self._httpd = _Server((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, path: str, body: bytes | str = b"", *, reply: Reply | None = None, etag: str | None = None,
            last_modified: str | None = None, gzip: bool = False, **reply_fields) -> str:
        """Serve a fixed reply at ``path``; with ``etag``/``last_modified`` a matching conditional
        GET gets 304. Returns the URL."""
        if reply is None:
            data = body.encode("utf-8") if isinstance(body, str) else body
            reply = Reply(body=data, **reply_fields)
            if gzip:
                reply.body = gzip_module.compress(data)
                reply.headers["Content-Encoding"] = "gzip"
            if etag:
                reply.headers["ETag"] = etag
            if last_modified:
                reply.headers["Last-Modified"] = last_modified

        def handler(request: Request) -> Reply:
            if (etag and request.headers.get("if-none-match") == etag) or (
                    last_modified and not etag and request.headers.get("if-modified-since") == last_modified):
                return Reply(status=304, headers={k: v for k, v in reply.headers.items() if k in ("ETag", "Last-Modified")})
            return reply

        return self.add_handler(path, handler)

    def add_handler(self, path: str, handler: Callable[[Request], Reply]) -> str:
        with self._lock:
            self._routes[path] = handler
        return self.url(path)

    def add_dir(self, prefix: str, directory: Path) -> None:
        """Serve the files of ``directory`` under ``prefix`` (e.g. "/feeds/")."""
        with self._lock:
            self._prefixes.append((prefix, Path(directory)))

    def _record(self, request: Request) -> None:
        with self._lock:
            self.hits[request.path] += 1
            self.requests.append(request)

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            handler = self._routes.get(request.path)
            prefixes = list(self._prefixes)
        if handler is not None:
            return handler(request)
        for prefix, directory in prefixes:
            if request.path.startswith(prefix):
                name = request.path[len(prefix):].split("?")[0]
                candidate = (directory / name).resolve()
                if candidate.is_file() and directory.resolve() in candidate.parents:
                    return Reply(body=candidate.read_bytes())
        return Reply(status=404, body=b"not found", content_type="text/plain")

    def start(self) -> FeedServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":  # python tests/feedserver.py DIR: serve DIR under / and print the port
    server = FeedServer()
    server.add_dir("/", Path(sys.argv[1]))
    print(server.port, flush=True)
    server._httpd.serve_forever(poll_interval=0.2)
