"""A short-lived in-process cache of the two pages strangers load most.

The public badge page (``/credentials/<award>``) and the verification of a
URL (``GET /verify?url=…``) are what every share link, QR scan and "Verify
this badge" click opens.  Both are the same for every anonymous visitor, and
both are costly to build (a QR code, an itemised verification with its schema,
signature and status checks).  This WSGI middleware keeps each such answer for
``BADGER_PAGE_CACHE_SECONDS`` (default 10 s) per worker process: the
"microcaching" web servers do in front of applications.

What makes it safe:

* Only anonymous requests: no ``Cookie`` and no ``Authorization`` header.  A
  signed-in owner always sees the live page; nothing personal is ever stored.
* Only answers that set no cookie, with status 200 and a body of at most
  256 KiB, keyed by host, path, query and the ``Accept`` header (the credential URL
  negotiates HTML, JSON-LD or a JWT by ``Accept``).  Conditional requests
  (``If-None-Match``/``If-Modified-Since``) go to the app, which answers 304.
* Bounded: at most 1,024 entries and 32 MiB per process, least recently used
  first out, so unique query strings cannot grow it.
* Staleness is bounded by the TTL: a revocation, a suspension or a learner
  hiding the badge shows on these two pages within that many seconds (the
  status lists themselves are cached for five minutes by clients, see
  :mod:`badger.web.documents`).  ``BADGER_PAGE_CACHE_SECONDS=0`` turns it off.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask

MAX_ENTRIES = 1024
MAX_BODY = 256 * 1024
MAX_TOTAL = 32 * 1024 * 1024
HIT_HEADER = "X-Badger-Cache"

# /credentials/<award> (not its files: those have ETags and a day of caching).
_CREDENTIAL_PAGE = re.compile(r"^/credentials/[A-Za-z0-9-]{1,64}$")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class _Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    expires: float


def _cacheable_request(environ: Environ) -> bool:
    if environ.get("REQUEST_METHOD") != "GET":
        return False
    if any(
        environ.get(h)
        for h in (
            "HTTP_COOKIE",
            "HTTP_AUTHORIZATION",
            "HTTP_IF_NONE_MATCH",
            "HTTP_IF_MODIFIED_SINCE",
        )
    ):
        return False
    path = environ.get("PATH_INFO", "")
    if path == "/verify":
        return "url=" in environ.get("QUERY_STRING", "")
    return bool(_CREDENTIAL_PAGE.match(path))


class MicroCache:
    """WSGI middleware: serve a recent identical anonymous answer, else ask the app."""

    def __init__(self, app: WSGIApp, ttl: float, *, clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.ttl = ttl
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str, str, str], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if not _cacheable_request(environ):
            return self.app(environ, start_response)
        key = (
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT", ""),
        )
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > now:
                self._entries.move_to_end(key)
            else:
                entry = None
        if entry is not None:
            start_response(entry.status, [*entry.headers, (HIT_HEADER, "hit")])
            return [entry.body]
        return self._fill(key, environ, start_response, now)

    def _fill(
        self,
        key: tuple[str, str, str, str],
        environ: Environ,
        start_response: StartResponse,
        now: float,
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Nothing has been sent yet, so a second call (with exc_info) simply replaces the first.
            captured["status"], captured["headers"] = status, headers
            return written.append

        result = self.app(environ, capture)
        try:
            body = b"".join([*written, *result])
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = captured["status"], list(captured["headers"])
        if self._storable(status, headers, body):
            self._store(key, _Entry(status, headers, body, now + self.ttl))
        start_response(status, [*headers, (HIT_HEADER, "miss")])
        return [body]

    @staticmethod
    def _storable(status: str, headers: list[tuple[str, str]], body: bytes) -> bool:
        if not status.startswith("200") or len(body) > MAX_BODY:
            return False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "set-cookie":
                return False
            if lowered == "cache-control" and ("private" in value or "no-store" in value):
                return False
        return True

    def _store(self, key: tuple[str, str, str, str], entry: _Entry) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._entries[key] = entry
            self._bytes += len(entry.body)
            while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_TOTAL:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)


def init_app(app: Flask, ttl: float) -> None:
    """Wrap the app's WSGI callable when ``ttl`` > 0 (``BADGER_PAGE_CACHE_SECONDS``)."""
    if ttl > 0:
        app.wsgi_app = MicroCache(app.wsgi_app, ttl)  # type: ignore[method-assign]
        app.extensions["badger.microcache"] = app.wsgi_app
