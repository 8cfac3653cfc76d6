"""Public pages, health, errors and security headers."""

import pytest

from badger.domain.achievements import AchievementSpec
from badger.services import catalog


def test_home_lists_the_issuer_and_its_achievements(client, initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics <Unit>",
            description="Required ethics unit",
            criteria_narrative="Pass the quiz",
            credits_available=__import__("decimal").Decimal("2"),
            credit_category="ethics",
        ),
    )
    html = client.get("/").get_data(as_text=True)
    assert "Test Institute" in html
    # User-supplied text is escaped, never rendered as markup.
    assert "Ethics &lt;Unit&gt;" in html
    assert "2 CEU" in html


def test_home_explains_an_uninitialised_instance(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "badger init" in response.get_data(as_text=True)


def test_healthz_is_ok_when_ready(client, initialized):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_is_503_before_init(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "badger init" in response.json["reason"]


def test_every_response_carries_security_headers(client):
    headers = client.get("/").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://badges.example.org")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("accept", "kind"), [("application/json", "application/json"), ("text/html", "text/html")]
)
def test_not_found_answers_in_the_requested_format(client, accept, kind):
    response = client.get("/no/such/page", headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == kind


def test_method_not_allowed_lists_allowed_methods(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_500_without_internals(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret database password in message")

    response = client.get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json["error"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
    assert "unhandled error" in caplog.text


def test_oversized_upload_is_413(client, settings):
    response = client.post("/login", data=b"x" * (settings.max_upload_bytes + 1))
    assert response.status_code == 413


@pytest.mark.parametrize("accept", ["application/ld+json", "application/vc+ld+json"])
def test_json_ld_clients_get_json_errors(client, accept):
    response = client.get(
        "/credentials/00000000-0000-0000-0000-000000000000", headers={"Accept": accept}
    )
    assert response.status_code == 404
    assert response.mimetype == "application/json"
