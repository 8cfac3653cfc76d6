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


def _issued(initialized):
    from badger.services.issue import IssueRequest, get_document, issue_award

    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(slug="ethics", name="Ethics", description="d", criteria_narrative="c"),
    )
    award = issue_award(initialized, IssueRequest("ethics", "ada@example.org"), actor="t")
    return award, get_document(initialized, award.public_id, "ob3-jwt").content.decode()


def test_verify_api_takes_json_raw_jwt_and_uploads(client, initialized):
    award, token = _issued(initialized)
    as_json = client.post("/api/verify", json={"input": token, "recipient": "ada@example.org"})
    assert as_json.status_code == 200
    assert as_json.json["verdict"] == "valid"
    raw = client.post("/api/verify", data=token, content_type="text/plain")
    assert raw.json["verdict"] == "valid"
    from io import BytesIO

    from badger.services.issue import get_document

    png = get_document(initialized, award.public_id, "ob3-png").content
    upload = client.post(
        "/api/verify",
        data={"file": (BytesIO(png), "badge.png")},
        content_type="multipart/form-data",
    )
    assert upload.json["verdict"] == "valid"
    assert upload.json["checks"][0]["code"] == "baked_image"
    assert client.post("/api/verify", data=b"").status_code == 400
    assert client.post("/api/verify", data=b"\x00garbage").json["verdict"] == "unusable"


def test_verify_page_shows_an_itemised_report(client, initialized):
    _, token = _issued(initialized)
    assert "Verify a badge" in client.get("/verify").get_data(as_text=True)
    # Verifying changes nothing, so its form carries no CSRF token (web/security.py).
    response = client.post("/verify", data={"text": token, "recipient": "ada@example.org"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Result: valid" in html
    assert "✓ passed" in html
    empty = client.post("/verify", data={})
    assert empty.status_code == 400


def test_public_badge_page_links_to_its_own_verification(client, initialized):
    award, _ = _issued(initialized)
    page = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert "/verify?url=" in page
    link = page.split('href="/verify?url=')[1].split('"')[0]
    from html import unescape

    result = client.get("/verify?url=" + unescape(link)).get_data(as_text=True)
    assert "Result: valid" in result
