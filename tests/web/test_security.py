"""Security of the pages: headers, cookies, escaping and rate limits."""

from __future__ import annotations

import dataclasses
import socket
import uuid

import pytest

from badger.config import RATE_LIMIT_NAMES, ConfigError, load_settings
from badger.web import security
from badger.web.app import build_app
from tests.conftest import ADMIN_EMAIL, CsrfClient

# ---------------------------------------------------------------- helpers


@pytest.fixture
def make_client(initialized):
    """A client of an app whose settings differ from the test defaults (limits on)."""

    def make(**changes):
        settings = dataclasses.replace(initialized.settings, **changes)
        context = dataclasses.replace(initialized, settings=settings)
        app = build_app(context=context)
        app.test_client_class = CsrfClient
        return app.test_client()

    return make


def _wrong_login(client, **kw):
    return client.post(
        "/login",
        data={"csrf_token": client.csrf_token(), "email": ADMIN_EMAIL, "password": "wrong"},
        **kw,
    )


# ---------------------------------------------------------------- headers


def test_pages_carry_a_strict_csp_without_inline_code(client):
    csp = client.get("/login").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp


def test_pages_refuse_framing_and_sniffing(client):
    headers = client.get("/").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]


def test_error_pages_carry_the_headers_too(client):
    headers = client.get("/no/such/page").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_over_https_and_never_over_http(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://badges.example.org")
    assert secure.headers["Strict-Transport-Security"] == security.HSTS


# ---------------------------------------------------------------- cookies


def _session_cookie(response):
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie was set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(client, initialized):
    cookie = _session_cookie(client.login(ADMIN_EMAIL))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain-http development; see the next test


def test_session_cookie_is_secure_when_configured(make_client):
    client = make_client(session_cookie_secure=True)
    cookie = _session_cookie(client.login(ADMIN_EMAIL))
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


def test_production_settings_always_make_the_cookie_secure(tmp_path):
    settings = load_settings(
        environ={
            "BADGER_ENV": "production",
            "BADGER_BASE_URL": "https://badges.example.org",
            "BADGER_KEY_PASSPHRASE": "p" * 20,
            **{f"BADGER_SECRET_{p}": "s" * 20 for p in ("SESSION", "CLAIM", "EMAIL", "API_TOKEN")},
        },
        overrides={"instance_dir": tmp_path / "i", "keys_dir": tmp_path / "k"},
    )
    assert settings.session_cookie_secure is True


# ---------------------------------------------------------------- escaping


def test_a_display_name_with_markup_is_escaped_on_every_page(client, create_account):
    create_account("mallory@example.org", name='<script>alert("x")</script>')
    client.login("mallory@example.org")
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html


# ---------------------------------------------------------------- account enumeration


def _without_tokens(html):
    import re

    return re.sub(r'name="csrf_token"[^>]*>', "", html)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/password/forgot", {}),
        ("/signup", {"display_name": "Someone", "password": "a long enough passphrase"}),
    ],
)
def test_no_page_reveals_whether_an_email_has_an_account(client, initialized, path, fields):
    known = client.submit(path, {"email": ADMIN_EMAIL, **fields})
    unknown = client.submit(path, {"email": "nobody-here@example.org", **fields})
    assert known.status_code == unknown.status_code == 200
    assert _without_tokens(known.get_data(as_text=True)) == _without_tokens(
        unknown.get_data(as_text=True)
    )


# ---------------------------------------------------------------- rate limits


def test_the_sixth_login_attempt_in_a_minute_gets_429_with_retry_after(make_client):
    client = make_client(rate_limits="")  # the built-in limits
    for _ in range(5):
        assert _wrong_login(client).status_code == 401
    response = _wrong_login(client)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html
    assert "try again" in html
    assert response.mimetype == "text/html"
    # The limit holds for a correct password as well: guessing cannot go on.
    assert client.login(ADMIN_EMAIL).status_code == 429


def test_a_throttled_client_gets_429_before_the_csrf_check(make_client):
    client = make_client(rate_limits="login=1/minute")
    assert _wrong_login(client).status_code == 401
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": "x"})
    assert response.status_code == 429


def test_showing_the_sign_in_form_is_not_counted(make_client):
    client = make_client(rate_limits="login=2/minute")
    for _ in range(5):
        assert client.get("/login").status_code == 200
    assert _wrong_login(client).status_code == 401


def test_limits_count_per_client_address(make_client):
    client = make_client(rate_limits="login=1/minute")
    assert _wrong_login(client).status_code == 401
    assert _wrong_login(client).status_code == 429
    other = {"REMOTE_ADDR": "192.0.2.7"}
    assert _wrong_login(client, environ_base=other).status_code == 401


def test_verify_api_is_limited_with_a_json_answer(make_client):
    client = make_client(rate_limits="verify=2/minute")
    for _ in range(2):
        assert client.post("/api/verify", json={"input": "not a badge"}).status_code == 200
    response = client.post("/api/verify", json={"input": "not a badge"})
    assert response.status_code == 429
    assert response.json["error"] == "rate_limited"
    assert "wait" in response.json["message"]
    assert int(response.headers["Retry-After"]) > 0


def test_the_verify_page_and_api_share_one_budget(make_client):
    client = make_client(rate_limits="verify=2/minute")
    assert client.get("/verify?url=https://example.org/badge.json").status_code == 200
    assert client.post("/api/verify", json={"input": "x"}).status_code == 200
    assert client.get("/verify?url=https://example.org/badge.json").status_code == 429
    # The empty form costs nothing to show.
    assert client.get("/verify").status_code == 200


def test_claim_links_are_limited(make_client):
    client = make_client(rate_limits="claim=1/minute")
    client.login(ADMIN_EMAIL)
    token = client.csrf_token("/account")
    first = client.post(f"/claim/{uuid.uuid4().hex}", data={"csrf_token": token})
    assert first.status_code != 429
    second = client.post(f"/claim/{uuid.uuid4().hex}", data={"csrf_token": token})
    assert second.status_code == 429


def test_requests_that_send_a_confirmation_mail_share_the_signup_budget(make_client):
    client = make_client(rate_limits="signup=1/minute")
    form = {"display_name": "Someone", "password": "a long enough passphrase"}
    assert client.submit("/signup", {"email": "one@example.org", **form}).status_code == 200
    client.login(ADMIN_EMAIL)
    token = client.csrf_token("/account/identifiers")
    response = client.post(
        "/account/identifiers/email", data={"csrf_token": token, "email": "two@example.org"}
    )
    assert response.status_code == 429


def test_limits_can_be_turned_off(make_client):
    client = make_client(rate_limits="off")
    for _ in range(8):
        assert _wrong_login(client).status_code == 401


def test_every_guarded_url_rule_exists_in_the_app(app):
    """A renamed route must not silently fall out of its rate limit."""
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    missing = [g.rule for g in security.GUARDED if g.rule not in rules]
    assert not missing, f"rate-limited routes not found in the app: {missing}"


def test_every_limit_group_has_a_built_in_limit():
    assert set(security.DEFAULT_RATE_LIMITS) == set(RATE_LIMIT_NAMES)
    assert {g.group for g in security.GUARDED} == set(RATE_LIMIT_NAMES)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", security.DEFAULT_RATE_LIMITS),
        ("off", None),
        ("OFF", None),
        ("login=2/minute", {**security.DEFAULT_RATE_LIMITS, "login": "2/minute"}),
        (
            "login=2/minute;10/hour, verify=5 per second",
            {**security.DEFAULT_RATE_LIMITS, "login": "2/minute;10/hour", "verify": "5 per second"},
        ),
    ],
)
def test_rate_limit_setting_overrides_groups(settings, value, expected):
    assert security.rate_limits(dataclasses.replace(settings, rate_limits=value)) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("logins=5/minute", "NAME one of login"),
        ("login", "NAME=LIMIT"),
        ("login=five a minute", "'five a minute' for login"),
        ("login=5/fortnight", "not a limit"),
    ],
)
def test_a_bad_rate_limit_setting_names_the_variable(tmp_path, value, message):
    with pytest.raises(ConfigError, match="BADGER_RATE_LIMITS") as excinfo:
        load_settings(
            environ={"BADGER_RATE_LIMITS": value},
            overrides={"instance_dir": tmp_path / "i", "keys_dir": tmp_path / "k"},
        )
    assert message in str(excinfo.value)


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.redis
def test_workers_share_their_counters_in_redis(make_client):
    if not _redis_up():
        pytest.skip("Redis is not listening on 127.0.0.1:6379")
    from redis import Redis

    url = "redis://127.0.0.1:6379/14"  # a database of its own, flushed before and after
    Redis.from_url(url).flushdb()
    try:
        # Two apps stand for two gunicorn workers: one budget between them.
        first = make_client(rate_limits="login=1/minute", redis_url=url)
        second = make_client(rate_limits="login=1/minute", redis_url=url)
        assert _wrong_login(first).status_code == 401
        assert _wrong_login(second).status_code == 429
        assert Redis.from_url(url).keys("*badger-ratelimit*")
    finally:
        Redis.from_url(url).flushdb()


def test_an_unreachable_redis_does_not_take_sign_in_down(make_client):
    # Nothing listens on port 9 (discard) of the loopback; the limiter falls back to memory.
    client = make_client(rate_limits="login=1/minute", redis_url="redis://127.0.0.1:9/0")
    assert _wrong_login(client).status_code == 401
    assert _wrong_login(client).status_code == 429
