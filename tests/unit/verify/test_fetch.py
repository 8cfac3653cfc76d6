"""The SSRF-safe fetcher: refusals happen before any connection; limits hold on a real server.

Refusal tests replace ``socket.create_connection`` with a tripwire, so a test
fails if the fetcher so much as tries to connect. Behaviour tests run a stdlib
``http.server`` on 127.0.0.1 in a thread and allow exactly that network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from badger.verify.fetch import (
    USER_AGENT,
    MemoryFetcher,
    SafeFetcher,
    is_forbidden_address,
    parse_networks,
)
from badger.verify.ports import FetchError

LOCAL = ["127.0.0.1/32"]


# ---------------------------------------------------------------- tripwires


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection attempt fails the test."""

    def tripwire(address: Any, *args: Any, **kwargs: Any) -> Any:
        pytest.fail(f"the fetcher tried to connect to {address}")

    monkeypatch.setattr(socket, "create_connection", tripwire)


def fake_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, list[str]]) -> list[str]:
    """Resolve names from ``table``; returns the list of names looked up."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in table:
            return real(host, port, *args, **kwargs)
        looked_up.append(host)
        out = []
        for address in table[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return looked_up


def refused(fetcher: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetcher.get(url)
    return info.value


# ---------------------------------------------------------------- refusals without connecting


@pytest.mark.usefixtures("no_connections")
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.8.9.10:8080/x",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://100.127.255.254/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[2002:7f00:1::]/",
        "http://[::]/",
    ],
)
def test_private_and_reserved_addresses_are_refused_without_connecting(url: str) -> None:
    error = refused(SafeFetcher(), url)
    assert error.code == "forbidden_address"
    assert "private or reserved" in error.message


@pytest.mark.usefixtures("no_connections")
def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"intranet.example.com": ["10.0.0.5"]})

    error = refused(SafeFetcher(), "https://intranet.example.com/keys/1")

    assert error.code == "forbidden_address"
    assert "10.0.0.5" in error.message


@pytest.mark.usefixtures("no_connections")
def test_a_name_with_any_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"rebind.example.com": ["93.184.216.34", "127.0.0.1"]})

    assert refused(SafeFetcher(), "http://rebind.example.com/").code == "forbidden_address"


@pytest.mark.usefixtures("no_connections")
def test_numeric_host_spellings_are_resolved_then_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"2130706433": ["127.0.0.1"], "0x7f.1": ["127.0.0.1"]})

    for url in ("http://2130706433/", "http://0x7f.1/"):
        assert refused(SafeFetcher(), url).code == "forbidden_address"


@pytest.mark.usefixtures("no_connections")
@pytest.mark.parametrize(
    "url",
    [
        "ftp://issuer.example/key",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://issuer.example:11211/",
        "data:application/json,{}",
        "//issuer.example/a",
        "http:///no-host",
        "http://user:secret@issuer.example/",
        "http://issuer.example:99999/",
        "http://issuer.example:0/",
        "http://issuer example/",
        "http://issuer.example/\r\nX-Injected: 1",
        "http://" + "a" * 70 + ".example/",
        "http://[::1/",
    ],
)
def test_malformed_and_non_http_urls_are_bad_urls(url: str) -> None:
    assert refused(SafeFetcher(), url).code == "bad_url"


@pytest.mark.usefixtures("no_connections")
def test_a_url_must_be_a_string() -> None:
    assert refused(SafeFetcher(), b"http://x/").code == "bad_url"  # type: ignore[arg-type]


def test_a_public_address_is_pinned_and_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up = fake_dns(monkeypatch, {"issuer.example": ["93.184.216.34"]})
    attempts: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        raise ConnectionRefusedError("refused")

    monkeypatch.setattr(socket, "create_connection", create_connection)

    error = refused(SafeFetcher(), "https://issuer.example/badge.json")

    assert error.code == "connection_failed"
    assert attempts == [("93.184.216.34", 443)]
    assert looked_up == ["issuer.example"]


def test_every_checked_address_is_tried_in_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, {"issuer.example": ["2606:4700::1111", "93.184.216.34"]})
    attempts: list[tuple[str, int]] = []

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        raise OSError("unreachable")

    monkeypatch.setattr(socket, "create_connection", create_connection)

    assert refused(SafeFetcher(), "http://issuer.example/").code == "connection_failed"
    assert attempts == [("2606:4700::1111", 80), ("93.184.216.34", 80)]


def test_unresolvable_names_are_dns_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    assert refused(SafeFetcher(), "https://nowhere.invalid/").code == "dns_failed"


# ---------------------------------------------------------------- address rules


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("8.8.8.8", False),
        ("93.184.216.34", False),
        ("2606:4700::1111", False),
        ("::ffff:8.8.8.8", False),
        ("127.0.0.1", True),
        ("100.64.0.0", True),
        ("198.18.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("64:ff9b::808:808", True),
        ("fec0::1", True),
    ],
)
def test_address_rules(address: str, forbidden: bool) -> None:
    assert is_forbidden_address(ipaddress.ip_address(address)) is forbidden


def test_an_allowed_network_overrides_the_rules() -> None:
    allow = parse_networks(["127.0.0.1/32", "fd00::/8"])

    assert not is_forbidden_address(ipaddress.ip_address("127.0.0.1"), allow)
    assert not is_forbidden_address(ipaddress.ip_address("::ffff:127.0.0.1"), allow)
    assert not is_forbidden_address(ipaddress.ip_address("fd00::5"), allow)
    assert is_forbidden_address(ipaddress.ip_address("127.0.0.2"), allow)


def test_networks_parse_from_a_setting_string() -> None:
    assert parse_networks("127.0.0.1/32, ::1  10.0.0.0/8") == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.0/8"),
    )
    assert parse_networks(None) == ()
    with pytest.raises(ValueError, match="does not appear"):
        parse_networks("localhost")


# ---------------------------------------------------------------- a real local server


class Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def send(
        self, status: int, body: bytes, content_type: str = "application/json", **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str, status: int = 302, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def do_GET(self) -> None:
        with self.lock:
            self.hits[self.path] = self.hits.get(self.path, 0) + 1
            count = self.hits[self.path]
        path = self.path.split("?", 1)[0]
        if path == "/doc":
            self.send(200, b'{"id": "doc"}', "application/ld+json")
        elif path == "/count":
            self.send(200, json.dumps({"count": count}).encode())
        elif path == "/gone":
            self.send(410, b'{"revoked": true}')
        elif path == "/error":
            self.send(503, b"later", "text/plain")
        elif path == "/echo":
            self.send(200, json.dumps(dict(self.headers.items())).encode())
        elif path == "/big":
            self.send(200, b"x" * 5000)
        elif path == "/big-stream":
            # HTTP/1.0 without Content-Length: the body ends when the server closes.
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 100)
        elif path.startswith("/redirect/"):
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                self.send(200, b'{"arrived": true}')
            else:
                self.redirect(f"/redirect/{left - 1}")
        elif path == "/to-private":
            self.redirect("http://10.0.0.1/steal")
        elif path == "/to-metadata":
            self.redirect("http://169.254.169.254/latest/meta-data/", status=307)
        elif path == "/to-ftp":
            self.redirect("ftp://127.0.0.1/file")
        elif path == "/set-cookie":
            self.redirect("/echo", Set_Cookie="session=abc; Path=/")
        elif path == "/slow":
            time.sleep(1.5)
            self.send(200, b"{}")
        elif path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(30):
                self.wfile.write(b"z")
                self.wfile.flush()
                time.sleep(0.05)
        else:
            self.send(404, b"not found", "text/plain")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeouts, size limits) is expected here."""


def serve(server: QuietServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"{server.server_address[0]}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def server() -> Iterator[str]:
    Handler.hits = {}
    yield from serve(QuietServer(("127.0.0.1", 0), Handler))


@pytest.fixture
def fetcher() -> SafeFetcher:
    return SafeFetcher(allow_networks=LOCAL, max_bytes=1000, total_timeout=3)


def test_allow_listed_local_server_is_fetched(fetcher: SafeFetcher, server: str) -> None:
    document = fetcher.get(f"http://{server}/doc")

    assert document.status == 200
    assert document.content_type == "application/ld+json"
    assert json.loads(document.body) == {"id": "doc"}
    assert document.url == f"http://{server}/doc"


def test_an_ipv4_mapped_url_reaches_the_ipv4_address(
    fetcher: SafeFetcher, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)
    port = int(server.rsplit(":", 1)[1])

    document = fetcher.get(f"http://[::ffff:127.0.0.1]:{port}/doc?x=1")

    assert document.status == 200
    assert attempts == [("127.0.0.1", port)]
    assert Handler.hits == {"/doc?x=1": 1}


def test_the_same_server_is_refused_without_the_allow_list(server: str) -> None:
    assert refused(SafeFetcher(), f"http://{server}/doc").code == "forbidden_address"


def test_error_statuses_are_returned_not_raised(fetcher: SafeFetcher, server: str) -> None:
    assert fetcher.get(f"http://{server}/gone").status == 410
    assert fetcher.get(f"http://{server}/missing").status == 404


def test_requests_identify_badger_and_carry_no_cookies(fetcher: SafeFetcher, server: str) -> None:
    document = fetcher.get(f"http://{server}/set-cookie", accept="application/ld+json")
    headers = {k.lower(): v for k, v in json.loads(document.body).items()}

    assert headers["user-agent"] == USER_AGENT
    assert headers["accept"] == "application/ld+json"
    assert headers["accept-encoding"] == "identity"
    assert "cookie" not in headers


def test_proxy_environment_variables_are_ignored(
    fetcher: SafeFetcher, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")

    assert fetcher.get(f"http://{server}/doc").status == 200


def test_bodies_over_the_size_limit_are_refused(fetcher: SafeFetcher, server: str) -> None:
    declared = refused(fetcher, f"http://{server}/big")
    streamed = refused(fetcher, f"http://{server}/big-stream")

    assert declared.code == streamed.code == "too_large"
    assert "1000" in streamed.message


def test_up_to_three_redirects_are_followed(fetcher: SafeFetcher, server: str) -> None:
    document = fetcher.get(f"http://{server}/redirect/3")

    assert json.loads(document.body) == {"arrived": True}
    assert document.url == f"http://{server}/redirect/0"


def test_a_fourth_redirect_is_refused(fetcher: SafeFetcher, server: str) -> None:
    assert refused(fetcher, f"http://{server}/redirect/4").code == "too_many_redirects"
    assert Handler.hits.get("/redirect/0") is None


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/to-private", "forbidden_address"),
        ("/to-metadata", "forbidden_address"),
        ("/to-ftp", "bad_url"),
    ],
)
def test_redirects_are_checked_like_the_first_url(
    fetcher: SafeFetcher, server: str, path: str, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    real = socket.create_connection

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        attempts.append(address[0])
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", create_connection)

    assert refused(fetcher, f"http://{server}{path}").code == code
    assert attempts == ["127.0.0.1"]


def test_a_slow_server_times_out(server: str) -> None:
    fetcher = SafeFetcher(allow_networks=LOCAL, total_timeout=0.4)
    started = time.monotonic()

    error = refused(fetcher, f"http://{server}/slow")

    assert error.code == "timeout"
    assert time.monotonic() - started < 1.4


def test_a_dripping_server_cannot_outlast_the_total_deadline(server: str) -> None:
    fetcher = SafeFetcher(allow_networks=LOCAL, total_timeout=0.4)
    started = time.monotonic()

    assert refused(fetcher, f"http://{server}/drip").code == "timeout"
    assert time.monotonic() - started < 1.4


def test_a_closed_port_is_a_connection_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    error = refused(SafeFetcher(allow_networks=LOCAL), f"http://127.0.0.1:{port}/")
    assert error.code == "connection_failed"


def test_answers_are_cached_per_url_and_accept(server: str) -> None:
    now = [1000.0]
    fetcher = SafeFetcher(allow_networks=LOCAL, cache_ttl=300, clock=lambda: now[0])
    url = f"http://{server}/count"

    first = fetcher.get(url)
    again = fetcher.get(url)
    other_accept = fetcher.get(url, accept="application/ld+json")
    now[0] += 301
    after_ttl = fetcher.get(url)

    assert first.body == again.body == b'{"count": 1}'
    assert other_accept.body == b'{"count": 2}'
    assert after_ttl.body == b'{"count": 3}'


def test_server_errors_are_not_cached_and_the_cache_is_bounded(server: str) -> None:
    fetcher = SafeFetcher(allow_networks=LOCAL, cache_size=1)

    fetcher.get(f"http://{server}/error")
    fetcher.get(f"http://{server}/error")
    fetcher.get(f"http://{server}/count")
    fetcher.get(f"http://{server}/doc")  # evicts /count
    fetcher.get(f"http://{server}/count")

    assert Handler.hits["/error"] == 2
    assert Handler.hits["/count"] == 2


# ---------------------------------------------------------------- https with a pinned address


def self_signed(tmp_path: Path, name: str) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, cert_pem


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    cert_path, key_path, cert_pem = self_signed(tmp_path, "badges.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = QuietServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for address in serve(server):
        yield int(address.rsplit(":", 1)[1]), cert_pem


def client_context(cert_pem: bytes) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=cert_pem.decode())


def test_https_connects_to_the_pinned_address_and_checks_the_host_name(
    tls_server: tuple[int, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert_pem = tls_server
    looked_up = fake_dns(monkeypatch, {"badges.test": ["127.0.0.1"]})
    fetcher = SafeFetcher(allow_networks=LOCAL, ssl_context=client_context(cert_pem))

    document = fetcher.get(f"https://badges.test:{port}/doc")

    assert json.loads(document.body) == {"id": "doc"}
    assert looked_up == ["badges.test"]


def test_https_certificate_for_another_name_is_refused(
    tls_server: tuple[int, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, cert_pem = tls_server
    fake_dns(monkeypatch, {"other.test": ["127.0.0.1"]})
    fetcher = SafeFetcher(allow_networks=LOCAL, ssl_context=client_context(cert_pem))

    assert refused(fetcher, f"https://other.test:{port}/doc").code == "tls_failed"


# ---------------------------------------------------------------- the in-memory fetcher


def test_memory_fetcher_serves_records_and_fails_like_the_real_one() -> None:
    fetcher = MemoryFetcher(
        {
            "https://a.example/doc": (200, "application/json", {"id": 1}),
            "https://a.example/text": (200, "text/plain", "héllo"),
            "https://a.example/down": FetchError("timeout", "slow"),
        }
    )
    fetcher.add("https://a.example/gone", b"", status=410)

    assert json.loads(fetcher.get("https://a.example/doc").body) == {"id": 1}
    assert fetcher.get("https://a.example/text").body == "héllo".encode()
    assert fetcher.get("https://a.example/gone").status == 410
    with pytest.raises(FetchError) as down:
        fetcher.get("https://a.example/down")
    assert down.value.code == "timeout"
    with pytest.raises(FetchError) as unknown:
        fetcher.get("https://a.example/nothing")
    assert unknown.value.code == "connection_failed"
    assert fetcher.requests == [
        "https://a.example/doc",
        "https://a.example/text",
        "https://a.example/gone",
        "https://a.example/down",
        "https://a.example/nothing",
    ]
