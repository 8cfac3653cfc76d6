"""A stdlib HTTP server on 127.0.0.1 that serves whatever a test puts in it.

Used by the interop fixtures (conftest.py ``badge_server``) so that every badge
object has an ``http://127.0.0.1:<port>/...`` id that validator-core can fetch
while the machine is offline. Paths not routed answer 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


class BadgeServer:
    """Routes path → (status, content type, body); records the paths fetched."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.fetched: list[str] = []

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve(self, path: str, body: bytes, content_type: str, status: int = 200) -> str:
        """Serve ``body`` at ``path`` (replacing any earlier route); return its URL."""
        self.routes[path] = (status, content_type, body)
        return self.url(path)

    def serve_json(
        self,
        path: str,
        document: dict[str, Any],
        status: int = 200,
        content_type: str = "application/ld+json",
    ) -> str:
        return self.serve(path, json.dumps(document).encode(), content_type, status)


def _handler_for(server: BadgeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            server.fetched.append(path)
            status, content_type, body = server.routes.get(
                path, (HTTPStatus.NOT_FOUND, "application/json", b'{"error": "not found"}')
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet; `fetched` records what matters

    return Handler


@contextmanager
def serve_badges() -> Iterator[BadgeServer]:
    """Run a BadgeServer on a free 127.0.0.1 port for the duration of the block."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server = BadgeServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    httpd.RequestHandlerClass = _handler_for(server)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, name="badge-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
