"""The short anonymous cache in front of the badge page and /verify?url=."""

from __future__ import annotations

import dataclasses

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from badger.web import microcache
from badger.web.app import build_app

CREDENTIAL = "/credentials/0b6c9d1e-5f7a-4c3b-9a8e-2d1f0c4b7e6a"


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingApp:
    """A WSGI app that answers with a counter, so a cached answer is visible."""

    def __init__(self, **response_kw) -> None:
        self.calls = 0
        self.response_kw = response_kw

    def __call__(self, environ, start_response):
        self.calls += 1
        accept = environ.get("HTTP_ACCEPT", "")
        response = Response(f"answer {self.calls} for {accept}", **self.response_kw)
        return response(environ, start_response)


@pytest.fixture
def ticks():
    return Ticks()


def _client(app, ticks, ttl=10):
    return Client(microcache.MicroCache(app, ttl, clock=ticks), use_cookies=False)


def test_an_anonymous_badge_page_is_answered_from_the_cache_within_the_ttl(ticks):
    app = CountingApp()
    client = _client(app, ticks)
    first = client.get(CREDENTIAL)
    second = client.get(CREDENTIAL)
    assert first.get_data() == second.get_data() == b"answer 1 for "
    assert first.headers[microcache.HIT_HEADER] == "miss"
    assert second.headers[microcache.HIT_HEADER] == "hit"
    assert app.calls == 1


def test_the_answer_is_built_again_after_the_ttl(ticks):
    app = CountingApp()
    client = _client(app, ticks, ttl=10)
    client.get(CREDENTIAL)
    ticks.now += 10.5
    assert client.get(CREDENTIAL).get_data() == b"answer 2 for "


def test_verify_with_a_url_is_cached_per_url(ticks):
    app = CountingApp()
    client = _client(app, ticks)
    client.get("/verify?url=https://a.example/1")
    client.get("/verify?url=https://a.example/1")
    client.get("/verify?url=https://a.example/2")
    assert app.calls == 2


def test_each_accept_header_has_its_own_entry(ticks):
    app = CountingApp()
    client = _client(app, ticks)
    html = client.get(CREDENTIAL, headers={"Accept": "text/html"})
    jwt = client.get(CREDENTIAL, headers={"Accept": "application/vc+jwt"})
    assert html.get_data() != jwt.get_data()
    assert client.get(CREDENTIAL, headers={"Accept": "application/vc+jwt"}).get_data() == (
        jwt.get_data()
    )
    assert app.calls == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Cookie": "session=abc"},
        {"Authorization": "Bearer bdg_x_y"},
        {"If-None-Match": '"abc"'},
        {"If-Modified-Since": "Tue, 01 Dec 2026 00:00:00 GMT"},
    ],
)
def test_signed_in_and_conditional_requests_always_reach_the_app(ticks, headers):
    app = CountingApp()
    client = _client(app, ticks)
    client.get(CREDENTIAL)
    client.get(CREDENTIAL, headers=headers)
    assert app.calls == 2


@pytest.mark.parametrize(
    "path", ["/", "/verify", "/dashboard", f"{CREDENTIAL}/ob3-ldp.json", "/credentials/a/b"]
)
def test_other_pages_are_never_cached(ticks, path):
    app = CountingApp()
    client = _client(app, ticks)
    client.get(path)
    client.get(path)
    assert app.calls == 2


def test_posts_are_never_cached(ticks):
    app = CountingApp()
    client = _client(app, ticks)
    client.post("/verify?url=x")
    client.post("/verify?url=x")
    assert app.calls == 2


@pytest.mark.parametrize(
    "response_kw",
    [
        {"status": 404},
        {"status": 500},
        {"headers": {"Set-Cookie": "session=new"}},
        {"headers": {"Cache-Control": "private"}},
        {"headers": {"Cache-Control": "no-store"}},
    ],
)
def test_errors_cookies_and_private_answers_are_not_stored(ticks, response_kw):
    app = CountingApp(**response_kw)
    client = _client(app, ticks)
    client.get(CREDENTIAL)
    client.get(CREDENTIAL)
    assert app.calls == 2


def test_the_cache_is_bounded(ticks, monkeypatch):
    monkeypatch.setattr(microcache, "MAX_ENTRIES", 3)
    cache = microcache.MicroCache(CountingApp(), 10, clock=ticks)
    client = Client(cache)
    for n in range(10):
        client.get(f"/verify?url=https://a.example/{n}")
    assert len(cache) == 3


def test_a_large_body_is_not_stored(ticks, monkeypatch):
    monkeypatch.setattr(microcache, "MAX_BODY", 5)
    app = CountingApp()
    client = _client(app, ticks)
    client.get(CREDENTIAL)
    client.get(CREDENTIAL)
    assert app.calls == 2


def test_the_cached_answer_keeps_the_security_headers(ticks):
    app = CountingApp(headers={"Content-Security-Policy": "default-src 'self'"})
    client = _client(app, ticks)
    client.get(CREDENTIAL)
    hit = client.get(CREDENTIAL)
    assert hit.headers["Content-Security-Policy"] == "default-src 'self'"


# ---------------------------------------------------------------- in the real app


@pytest.fixture
def cached_app(initialized):
    settings = dataclasses.replace(initialized.settings, page_cache_seconds=10)
    return build_app(context=dataclasses.replace(initialized, settings=settings))


def test_the_app_is_wrapped_only_when_the_ttl_is_positive(app, cached_app):
    assert "badger.microcache" not in app.extensions
    assert isinstance(cached_app.extensions["badger.microcache"], microcache.MicroCache)


def test_an_anonymous_verify_of_a_url_sets_no_cookie_and_is_reused(cached_app):
    client = cached_app.test_client(use_cookies=False)
    url = "/verify?url=https://badges.example.org/credentials/nope"
    first = client.get(url)
    assert first.status_code == 200
    assert "Set-Cookie" not in first.headers
    second = client.get(url)
    assert second.headers[microcache.HIT_HEADER] == "hit"
    assert second.get_data() == first.get_data()


def test_the_verify_form_posts_without_a_csrf_token(client, initialized):
    response = client.post("/verify", data={"text": "not a badge"})
    assert response.status_code == 200
    assert "Result: unusable" in response.get_data(as_text=True)
