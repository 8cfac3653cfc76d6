"""The one outbound HTTP client badger has (STYLE habit 12): SSRF-safe by construction.

A verifier fetches whatever URLs an untrusted badge names (assertion, BadgeClass,
issuer profile, key, revocation list). Without care that is a server-side
request forgery hole: ``http://169.254.169.254/`` (cloud metadata),
``http://127.0.0.1:5432/``, a hostname that resolves to ``10.0.0.1``, or a public
URL that redirects into any of those. :class:`SafeFetcher` closes it like lemur's
``_validate_revocation_url``/``_pin_url_to_ip`` (``lemur/certificates/verify.py``)
and goes further, since lemur pins only plain http:

1. only ``http`` and ``https`` URLs, without user-info, are fetched;
2. the host is resolved once (``socket.getaddrinfo``) and *every* address it
   resolves to must lie outside the forbidden ranges below, unless an operator
   explicitly allowed its network (``allow_networks``; tests and
   ``BADGER_VERIFY_ALLOW_NETWORKS`` use it);
3. the connection goes to that checked address: no second DNS lookup can swap
   in another one (DNS rebinding). For https the TLS handshake still uses the
   original host name for SNI and certificate checking;
4. time is capped twice (connect timeout; a total deadline enforced by a
   watchdog that shuts the socket, so a server dripping one byte at a time
   cannot hold a worker), and the body is read in chunks up to a size cap;
5. at most ``max_redirects`` redirects are followed, each target checked by
   steps 1-3 again;
6. no cookies, no ``*_proxy`` environment variables (``http.client`` reads
   neither), no content decoding (``Accept-Encoding: identity``, so no gzip
   bombs), ``User-Agent: badger-verifier``.

Answers are cached in memory for a few minutes (a CLR names the same issuer
and keys many times; the web verifier sees the same badges again).

Nothing else in badger opens a socket.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias
from urllib.parse import urljoin, urlsplit

from badger.verify.ports import FetchedDocument, FetchError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "FORBIDDEN_NETWORKS",
    "USER_AGENT",
    "MemoryFetcher",
    "SafeFetcher",
    "is_forbidden_address",
    "parse_networks",
]

USER_AGENT = "badger-verifier"
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never fetched unless allow-listed (IANA special-purpose registries, RFC 6890 and
#: successors). Listed explicitly rather than relying on ``ipaddress.is_global``,
#: whose answers changed between Python versions; the ``is_*`` checks in
#: :func:`is_forbidden_address` are a second net under this list.
FORBIDDEN_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        # IPv4
        "0.0.0.0/8",  # "this network", includes the unspecified 0.0.0.0
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata 169.254.169.254
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes broadcast 255.255.255.255
        # IPv6
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::ffff:0:0/96",  # IPv4-mapped (judged by the mapped address first, see below)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments (Teredo, ORCHID, ...)
        "2001:db8::/32",  # documentation
        "2002::/16",  # 6to4: tunnels to an embedded IPv4 address
        "3fff::/20",  # documentation
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
# NAT64 well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_networks(values: Iterable[str | IPNetwork] | str | None) -> tuple[IPNetwork, ...]:
    """Networks from CIDR strings (a list, or one comma/space separated string).

    ``"127.0.0.1/32, ::1"`` → two networks. A bare address is a one-address network.
    Raises ``ValueError`` for anything that is not a network, so a typo in
    ``BADGER_VERIFY_ALLOW_NETWORKS`` stops the application at start.
    """
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    networks: list[IPNetwork] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(value)
        else:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
    return tuple(networks)


def _nat64_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 address (RFC 6052 well-known prefix) reaches."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_forbidden_address(ip: IPAddress, allow: Iterable[IPNetwork] = ()) -> bool:
    """Whether badger must not connect to ``ip`` (private, loopback, link-local, ...).

    An address in ``allow`` is always permitted. An IPv4-mapped IPv6 address
    (``::ffff:127.0.0.1``) is judged as the IPv4 address it is; other IPv6
    addresses that embed one (NAT64) are judged by both.
    """
    judged: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        judged = [ip.ipv4_mapped]
    elif (embedded := _nat64_ipv4(ip)) is not None:
        judged.append(embedded)
    if any(_in_any(address, allow) for address in (ip, *judged)):
        return False
    return any(
        _in_any(address, FORBIDDEN_NETWORKS)
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        for address in judged
    )


def _in_any(address: IPAddress, networks: Iterable[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


# ---------------------------------------------------------------- pinned connections


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already checked IP; ``host`` stays the name (Host header)."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pinned_ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._pinned_ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to an already checked IP, with SNI and certificate checks for the host name."""

    def __init__(
        self, host: str, port: int, ip: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_ip = ip
        self._tls_context = context

    def connect(self) -> None:
        sock = socket.create_connection((self._pinned_ip, self.port), self.timeout)
        try:
            self.sock = self._tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


# ---------------------------------------------------------------- the fetcher


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system trust store with hostname checking, loaded once per process.

    Loading the trust store costs ~40 ms, and a fetcher is made per
    verification; an SSLContext is safe to share between threads.
    """
    return ssl.create_default_context()


class SafeFetcher:
    """The SSRF-safe :class:`~badger.verify.ports.Fetcher` (see the module docstring).

    ``allow_networks`` lists networks that may be reached although they are in a
    forbidden range (``["127.0.0.1/32"]`` for tests against a local server).
    ``ssl_context`` defaults to the system trust store with hostname checking.
    Thread-safe: one instance can serve every request of a web process.
    """

    def __init__(
        self,
        *,
        allow_networks: Iterable[str | IPNetwork] | str | None = None,
        connect_timeout: float = 5.0,
        total_timeout: float = 15.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = 3,
        cache_ttl: float = 300.0,
        cache_size: int = 256,
        ssl_context: ssl.SSLContext | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow = parse_networks(allow_networks)
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.cache_ttl = cache_ttl
        self.cache_size = cache_size
        self._ssl_context = ssl_context or _default_ssl_context()
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], tuple[float, FetchedDocument]] = OrderedDict()
        self._lock = threading.Lock()

    # -- public API

    def get(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        """GET ``url`` safely; non-2xx answers are returned, refusals raise :class:`FetchError`."""
        if not isinstance(url, str):
            raise FetchError("bad_url", "a URL must be a string")
        key = (url, accept)
        cached = self._cached(key)
        if cached is not None:
            return cached
        deadline = self._clock() + self.total_timeout
        current = url
        for hop in range(self.max_redirects + 1):
            document, location = self._get_once(current, accept, deadline)
            if location is None:
                self._store(key, document)
                return document
            if hop == self.max_redirects:
                break
            try:
                current = urljoin(current, location)
            except ValueError:
                raise FetchError("bad_url", f"{current} redirected to an invalid URL") from None
        raise FetchError(
            "too_many_redirects", f"{url} redirected more than {self.max_redirects} times"
        )

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- cache

    def _cached(self, key: tuple[str, str]) -> FetchedDocument | None:
        if self.cache_ttl <= 0 or self.cache_size <= 0:
            return None
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            expires, document = entry
            if expires <= self._clock():
                del self._cache[key]
                return None
            self._cache.move_to_end(key)
            return document

    def _store(self, key: tuple[str, str], document: FetchedDocument) -> None:
        # Server errors are transient: never pin them for minutes.
        if self.cache_ttl <= 0 or self.cache_size <= 0 or document.status >= 500:
            return
        with self._lock:
            self._cache[key] = (self._clock() + self.cache_ttl, document)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    # -- one request

    def _check_url(self, url: str) -> tuple[str, str, int, str]:
        """(scheme, host, port, path+query) of an acceptable URL, else ``bad_url``."""
        if len(url) > 8192 or any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in url):
            raise FetchError(
                "bad_url", "the URL is too long or contains spaces or control characters"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchError("bad_url", f"not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"}:
            raise FetchError(
                "bad_url", f"only http and https URLs are fetched, not {scheme or 'this'!r}"
            )
        if parts.username is not None or parts.password is not None:
            raise FetchError("bad_url", "URLs with user names or passwords are not fetched")
        host = parts.hostname
        if not host:
            raise FetchError("bad_url", "the URL has no host")
        if not _is_ip_literal(host):
            try:
                # One ASCII spelling for DNS, the Host header and SNI alike.
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise FetchError("bad_url", f"{host!r} is not a valid host name") from None
        if port is None:
            port = 443 if scheme == "https" else 80
        if port == 0:
            raise FetchError("bad_url", "port 0 cannot be fetched")
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        return scheme, host, port, path

    def _resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` resolves to, after checking all of them."""
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError) as exc:
                raise FetchError("dns_failed", f"could not resolve {host}: {exc}") from None
            addresses = []
            for info in infos:
                raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
                try:
                    address = ipaddress.ip_address(raw)
                except ValueError:
                    continue
                if address not in addresses:
                    addresses.append(address)
            if not addresses:
                raise FetchError("dns_failed", f"{host} did not resolve to any address")
        for address in addresses:
            if is_forbidden_address(address, self.allow):
                raise FetchError(
                    "forbidden_address",
                    f"{host} resolves to {address}, a private or reserved address; not fetched",
                )
        # Connect to what the address really is: ::ffff:a.b.c.d as a.b.c.d.
        return [str(_embedded_v4_if_mapped(a)) for a in addresses]

    def _get_once(
        self, url: str, accept: str, deadline: float
    ) -> tuple[FetchedDocument, str | None]:
        scheme, host, port, path = self._check_url(url)
        addresses = self._resolve(host, port)
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": accept,
            "Accept-Encoding": "identity",
            "Connection": "close",
        }
        last_error = FetchError("connection_failed", f"could not connect to {url}")
        for ip in addresses:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise FetchError("timeout", f"{url} took longer than {self.total_timeout} s")
            conn = self._connection(scheme, host, port, ip, min(self.connect_timeout, remaining))
            try:
                return self._exchange(conn, url, path, headers, deadline)
            except _ConnectFailed as exc:
                last_error = exc.error  # try the host's next address
            finally:
                conn.close()
        raise last_error

    def _connection(
        self, scheme: str, host: str, port: int, ip: str, timeout: float
    ) -> http.client.HTTPConnection:
        if scheme == "https":
            return _PinnedHTTPSConnection(host, port, ip, timeout, self._ssl_context)
        return _PinnedHTTPConnection(host, port, ip, timeout)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        url: str,
        path: str,
        headers: Mapping[str, str],
        deadline: float,
    ) -> tuple[FetchedDocument, str | None]:
        try:
            conn.connect()
        except TimeoutError:
            raise _ConnectFailed(FetchError("timeout", f"connecting to {url} timed out")) from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise FetchError("tls_failed", f"TLS with {url} failed: {exc}") from None
        except OSError as exc:
            raise _ConnectFailed(
                FetchError("connection_failed", f"could not connect to {url}: {exc}")
            ) from None

        sock = conn.sock
        if sock is None:  # pragma: no cover - connect() either sets it or raises
            raise FetchError("connection_failed", f"could not connect to {url}")
        watchdog = _Watchdog(sock, deadline - self._clock())
        response: http.client.HTTPResponse | None = None
        try:
            conn.request("GET", path, headers=dict(headers))
            response = conn.getresponse()
            status = response.status
            content_type = response.getheader("Content-Type", "") or ""
            location = response.getheader("Location") if status in _REDIRECTS else None
            body = b"" if location else self._read_body(response, url)
        except FetchError:
            raise
        except (TimeoutError, OSError, http.client.HTTPException, ValueError) as exc:
            if watchdog.fired:
                raise FetchError(
                    "timeout", f"{url} took longer than {self.total_timeout} s"
                ) from None
            if isinstance(exc, TimeoutError):
                raise FetchError("timeout", f"{url} stopped answering") from None
            raise FetchError("bad_response", f"{url} answered badly: {exc}") from None
        finally:
            watchdog.cancel()
            if response is not None:
                # The response owns the socket once the server said it will close.
                response.close()
        if watchdog.fired:
            raise FetchError("timeout", f"{url} took longer than {self.total_timeout} s")
        return FetchedDocument(url, status, content_type, body), location

    def _read_body(self, response: http.client.HTTPResponse, url: str) -> bytes:
        declared = response.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            raise FetchError(
                "too_large", f"{url} is {int(declared)} bytes; the limit is {self.max_bytes}"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError("too_large", f"{url} is larger than {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _embedded_v4_if_mapped(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


class _ConnectFailed(Exception):
    """Internal: this address could not be reached; the next one may be."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(error.message)
        self.error = error


class _Watchdog:
    """Shuts the connection's socket at the deadline, waking any blocked read.

    A per-read socket timeout alone does not bound the total: a server sending
    one byte just inside each timeout could hold the request for hours.
    """

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self.fired = False
        self._sock = sock
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        with contextlib.suppress(OSError):
            # The plain socket's shutdown, also for TLS: SSLSocket.shutdown would
            # drop the TLS state under the reading thread's feet.
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


# ---------------------------------------------------------------- tests and offline use

MemoryEntry: TypeAlias = tuple[int, str, bytes | str | Mapping[str, Any] | list[Any]] | FetchError


class MemoryFetcher:
    """A :class:`~badger.verify.ports.Fetcher` serving a fixed dict of documents.

    ``documents`` maps a URL to ``(status, content_type, body)``; a ``dict`` or
    ``list`` body is serialised as JSON and a ``str`` encoded as UTF-8 for
    convenience. A :class:`FetchError` value is raised for that URL; an unknown
    URL raises ``FetchError("connection_failed", …)``. ``requests`` records every
    URL asked for, in order.
    """

    def __init__(self, documents: Mapping[str, MemoryEntry] | None = None) -> None:
        self.documents: dict[str, MemoryEntry] = dict(documents or {})
        self.requests: list[str] = []

    def add(
        self,
        url: str,
        body: bytes | str | Mapping[str, Any] | list[Any],
        *,
        status: int = 200,
        content_type: str = "application/ld+json",
    ) -> None:
        self.documents[url] = (status, content_type, body)

    def get(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        self.requests.append(url)
        entry = self.documents.get(url)
        if entry is None:
            raise FetchError("connection_failed", f"could not connect to {url}")
        if isinstance(entry, FetchError):
            raise entry
        status, content_type, body = entry
        if isinstance(body, str):
            raw = body.encode("utf-8")
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode("utf-8")
        return FetchedDocument(url, status, content_type, raw)
