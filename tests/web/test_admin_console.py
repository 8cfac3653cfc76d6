"""Admin console: access control, issuer keys, achievements (create, edit, live validation,
images), rules dry run."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest

from badger.proofs.keystore import MemoryKeyStore
from badger.services import audit_views, catalog
from tests.conftest import ADMIN_EMAIL

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'

ADMIN_PAGES = [
    "/admin/",
    "/admin/keys",
    "/admin/keys/Ed25519/rotate",
    "/admin/achievements",
    "/admin/achievements/new",
    "/admin/awards",
    "/admin/awards/new",
    "/admin/bulk",
    "/admin/policies",
    "/admin/reports",
    "/admin/achievements/export.json",
    "/admin/reports/credits-by-category.csv",
]


@pytest.fixture
def keystore() -> MemoryKeyStore:
    """Rotation changes keys: this module's tests get their own key store."""
    return MemoryKeyStore()


@pytest.fixture
def admin(client, initialized):
    client.login(ADMIN_EMAIL)
    return client


def _fields(**overrides):
    data = {
        "slug": "ethics",
        "name": "Ethics <Unit>",
        "description": "The required ethics unit",
        "criteria_narrative": "Pass the quiz",
        "achievement_type": "MicroCredential",
        "tags": "ethics, required",
        "alignments": "Code of Ethics | https://example.org/code | E1",
        "credits_available": "2.5",
        "credit_category": "ethics",
        "provider": "Ethics Board",
        "series": "",
        "validity_days": "365",
        "rules": "",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, initialized, page):
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("page", [*ADMIN_PAGES, "/admin/review"])
def test_learners_get_403(client, create_account, page):
    create_account("learner@example.org")
    client.login("learner@example.org")
    assert client.get(page).status_code == 403


# Every other route, with ids that do not exist: the role check comes first.
OTHER_ROUTES = [
    ("POST", "/admin/keys/Ed25519/rotate"),
    ("POST", "/admin/achievements/new"),
    ("GET", "/admin/achievements/x"),
    ("POST", "/admin/achievements/x"),
    ("POST", "/admin/achievements/validate"),
    ("POST", "/admin/achievements/import"),
    ("GET", "/admin/awards/x"),
    ("GET", "/admin/achievements/x/rules"),
    ("POST", "/admin/achievements/x/rules"),
    ("GET", "/admin/review/x"),
    ("POST", "/admin/review/x"),
    ("GET", "/admin/review/files/x"),
    ("POST", "/admin/awards/new"),
    ("POST", "/admin/bulk"),
    ("GET", "/admin/bulk/x"),
    ("GET", "/admin/awards/x/revoke"),
    ("POST", "/admin/awards/x/suspend"),
    ("POST", "/admin/policies"),
    ("GET", "/admin/cycles/requests/x"),
    ("POST", "/admin/cycles/requests/x"),
    ("POST", "/admin/cycles/review/x"),
    ("GET", "/admin/reports/at-risk.csv"),
]


@pytest.mark.parametrize(("method", "url"), OTHER_ROUTES)
def test_every_route_refuses_anonymous_visitors_and_learners(client, create_account, method, url):
    anonymous = client.open(url, method=method, data={"csrf_token": client.csrf_token()})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")
    create_account("learner@example.org")
    client.login("learner@example.org")
    refused = client.open(url, method=method, data={"csrf_token": client.csrf_token("/admin/")})
    assert refused.status_code == 403


def test_reviewers_see_the_queue_but_not_admin_pages(client, create_account):
    create_account("rev@example.org", roles=["reviewer"])
    client.login("rev@example.org")
    assert client.get("/admin/review").status_code == 200
    assert client.get("/admin/achievements").status_code == 403
    assert "/admin/review" in client.get("/").get_data(as_text=True)  # nav link


def test_admin_pages_render_with_the_admin_nav(admin):
    for page in ADMIN_PAGES[:-2]:  # the last two are files
        html = admin.get(page).get_data(as_text=True)
        assert 'aria-label="Admin"' in html, page
        assert "<script>" not in html, page
        assert " style=" not in html, page


# ---------------------------------------------------------------- keys


def test_keys_page_lists_active_keys_per_algorithm(admin, initialized):
    html = admin.get("/admin/keys").get_data(as_text=True)
    for alg in ("Ed25519", "RS256", "ES256"):
        assert f"<caption>{alg}</caption>" in html
    assert html.count("<td>active</td>") == 3
    assert "Test Institute" in html


def test_rotation_needs_the_confirmation_box(admin, initialized):
    before = {k.kid for k in initialized.keystore.public_keys("default")}
    refused = admin.submit("/admin/keys/RS256/rotate", {})
    assert refused.status_code == 400
    assert "tick the box" in refused.get_data(as_text=True)
    assert {k.kid for k in initialized.keystore.public_keys("default")} == before


def test_rotation_retires_the_old_key_and_is_audited(admin, initialized):
    old = next(k for k in initialized.keystore.public_keys("default") if k.alg.value == "RS256")
    done = admin.submit("/admin/keys/RS256/rotate", {"understood": "y"})
    assert done.status_code == 302
    html = admin.get("/admin/keys").get_data(as_text=True)
    assert "was rotated" in html
    assert html.count("<td>retired</td>") == 1
    assert old.kid in html  # still listed (published)
    assert any(e.action == "key.rotate" for e in audit_views.recent_entries(initialized))


def test_admin_edits_the_issuer_profile_and_the_published_profile_follows(
    admin, initialized, client
):
    form = admin.get("/admin/issuer").get_data(as_text=True)
    assert 'for="url"' in form
    done = admin.submit(
        "/admin/issuer",
        {
            "name": "Institute <Renamed>",
            "url": "https://renamed.example.org",
            "email": "Office@Renamed.example.org",
            "description": "Certifies strategists.",
        },
        page="/admin/issuer",
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    profile = client.get("/ob2/issuers/default").get_json()
    assert (profile["name"], profile["url"], profile["email"]) == (
        "Institute <Renamed>",
        "https://renamed.example.org",
        "office@renamed.example.org",
    )
    page = admin.get("/admin/keys").get_data(as_text=True)
    assert "Institute &lt;Renamed&gt;" in page
    assert any(e.action == "issuer.update" for e in audit_views.recent_entries(initialized))


def test_a_bad_issuer_profile_is_refused_with_the_field_named(admin, initialized, client):
    before = client.get("/ob2/issuers/default").get_json()
    refused = admin.submit(
        "/admin/issuer",
        {"name": "Still here", "url": "ftp://nowhere", "email": "office@example.org"},
        page="/admin/issuer",
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert 'id="url-error"' in html
    assert "must be an http(s) URL" in html
    assert client.get("/ob2/issuers/default").get_json() == before


def test_unknown_algorithm_is_404(admin):
    assert admin.get("/admin/keys/DSA/rotate").status_code == 404


# ---------------------------------------------------------------- achievements


def test_admin_creates_an_achievement_with_every_field(admin, initialized):
    response = admin.submit(
        "/admin/achievements/new", _fields(evidence_required="y"), page="/admin/achievements/new"
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [definition] = catalog.export_definitions(initialized)
    assert definition == {
        "slug": "ethics",
        "name": "Ethics <Unit>",
        "description": "The required ethics unit",
        "criteria_narrative": "Pass the quiz",
        "achievement_type": "MicroCredential",
        "tags": ["ethics", "required"],
        "alignments": [
            {
                "target_name": "Code of Ethics",
                "target_url": "https://example.org/code",
                "target_code": "E1",
            }
        ],
        "credits_available": 2.5,
        "credit_category": "ethics",
        "provider": "Ethics Board",
        "validity_days": 365,
        "rules": {"evidence_approved": "ethics"},
    }
    listing = admin.get("/admin/achievements").get_data(as_text=True)
    assert "Ethics &lt;Unit&gt;" in listing  # escaped
    assert "2.5" in listing


def test_bad_fields_are_shown_beside_each_input(admin, initialized):
    response = admin.submit(
        "/admin/achievements/new",
        _fields(
            slug="Bad Slug",
            name="",
            credits_available="lots",
            rules='{"all_of": []}',
            alignments="Code | ftp://nope",
        ),
        page="/admin/achievements/new",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="slug-error" aria-live="polite"><p>use 1-80 lower-case letters' in html
    assert 'id="name-error" aria-live="polite"><p>' in html
    assert "&#39;lots&#39; is not a number" in html
    assert 'id="rules-error" aria-live="polite"><p>rules.all_of' in html
    assert "alignments[0].target_url" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="slug-help slug-error"' in html
    assert catalog.export_definitions(initialized) == []


def test_rules_that_are_not_json_say_where(admin):
    response = admin.submit(
        "/admin/achievements/new", _fields(rules="{nope"), page="/admin/achievements/new"
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.get_data(as_text=True)


def test_rules_naming_an_unknown_achievement_are_shown_on_the_rules_field(admin, initialized):
    response = admin.submit(
        "/admin/achievements/new",
        _fields(rules='{"earned": "not-defined-yet"}'),
        page="/admin/achievements/new",
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="rules-error" aria-live="polite"><p>' in html
    assert "names no achievement &#39;not-defined-yet&#39;" in html
    assert catalog.export_definitions(initialized) == []


def test_duplicate_slug_is_shown_on_the_slug_field(admin):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    again = admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    assert again.status_code == 409
    assert "already exists" in again.get_data(as_text=True)


def test_live_validation_answers_field_errors_as_json(admin, initialized):
    token = admin.csrf_token("/admin/achievements/new")
    bad = admin.post(
        "/admin/achievements/validate",
        data={"csrf_token": token, **_fields(validity_days="soon", credit_category="Bad!")},
    )
    assert bad.status_code == 200
    assert bad.json["valid"] is False
    assert set(bad.json["errors"]) == {"validity_days", "credit_category"}
    good = admin.post("/admin/achievements/validate", data={"csrf_token": token, **_fields()})
    assert good.json == {"valid": True, "errors": {}}
    assert catalog.export_definitions(initialized) == []  # nothing saved


def test_live_validation_reports_a_taken_slug_for_new_achievements_only(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    view = catalog.get_definition(initialized, "ethics")
    token = admin.csrf_token("/admin/achievements/new")
    taken = admin.post("/admin/achievements/validate", data={"csrf_token": token, **_fields()})
    assert taken.json["errors"] == {"slug": ["achievement 'ethics' already exists"]}
    editing = admin.post(
        "/admin/achievements/validate",
        data={"csrf_token": token, "editing": view.public_id, **_fields()},
    )
    assert editing.json == {"valid": True, "errors": {}}


def test_live_validation_needs_csrf_and_the_admin_role(client, create_account):
    create_account("l@example.org")
    client.login("l@example.org")
    assert client.post("/admin/achievements/validate", data=_fields()).status_code in (400, 403)


def test_the_form_page_loads_the_validation_script(admin):
    html = admin.get("/admin/achievements/new").get_data(as_text=True)
    assert 'src="/static/admin-validate.js"' in html
    assert 'data-validate-url="/admin/achievements/validate"' in html
    script = admin.get("/static/admin-validate.js")
    assert script.status_code == 200
    assert b"textContent" in script.data  # messages are inserted as text, never HTML
    script.close()


def test_edit_changes_future_awards_only_and_keeps_the_slug(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    [view] = catalog.list_achievements(initialized, public_only=False)
    page = admin.get(f"/admin/achievements/{view.public_id}").get_data(as_text=True)
    assert "awards issued from now on" in page
    assert 'value="Ethics &lt;Unit&gt;"' in page  # pre-filled and escaped
    saved = admin.submit(
        f"/admin/achievements/{view.public_id}",
        _fields(slug="renamed", name="Ethics 2", credits_available="3", rules='{"event": "quiz"}'),
    )
    assert saved.status_code == 302
    definition = catalog.get_definition(initialized, view.public_id)
    assert definition.data["slug"] == "ethics"
    assert definition.data["name"] == "Ethics 2"
    assert definition.data["credits_available"] == 3.0
    assert definition.data["rules"] == {"event": "quiz"}
    assert definition.version == 2
    entry = next(
        e for e in audit_views.recent_entries(initialized) if e.action == "achievement.update"
    )
    assert entry.subject == f"achievement:{view.public_id}"


def test_edit_leaves_credentials_already_issued_unchanged(admin, initialized):
    from badger.services import issue

    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    [view] = catalog.list_achievements(initialized, public_only=False)
    before = issue.issue_award(
        initialized, issue.IssueRequest("ethics", "grace@example.org"), actor="test"
    )
    issued = issue.get_document(initialized, before.public_id, "ob3-ldp").content
    admin.submit(f"/admin/achievements/{view.public_id}", _fields(name="Ethics, renamed"))
    assert issue.get_document(initialized, before.public_id, "ob3-ldp").content == issued
    assert b"Ethics, renamed" not in issued
    after = issue.issue_award(
        initialized, issue.IssueRequest("ethics", "ada@example.org"), actor="test"
    )
    assert b"Ethics, renamed" in issue.get_document(initialized, after.public_id, "ob3-ldp").content


def test_edit_with_bad_input_is_400_and_changes_nothing(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    [view] = catalog.list_achievements(initialized, public_only=False)
    bad = admin.submit(
        f"/admin/achievements/{view.public_id}", _fields(credit_category="x", credits_available="")
    )
    assert bad.status_code == 400
    assert "credits_available" in bad.get_data(as_text=True)
    assert catalog.get_definition(initialized, view.public_id).version == 1


def test_unknown_achievement_is_404(admin):
    assert admin.get("/admin/achievements/nope").status_code == 404


def test_image_upload_is_checked_and_sanitised(admin, initialized):
    svg = (ASSETS / "svg" / "script-laden.svg").read_bytes()
    created = admin.submit(
        "/admin/achievements/new",
        {**_fields(), "image": (BytesIO(svg), "badge.svg")},
        page="/admin/achievements/new",
        content_type="multipart/form-data",
    )
    assert created.status_code == 302
    [view] = catalog.list_achievements(initialized, public_only=False)
    assert view.image_uri.startswith("data:image/svg+xml;base64,")
    import base64

    stored = base64.b64decode(view.image_uri.split(",", 1)[1])
    assert b"<script" not in stored.lower()


def test_an_image_that_is_not_png_or_svg_is_refused_on_the_image_field(admin, initialized):
    response = admin.submit(
        "/admin/achievements/new",
        {**_fields(), "image": (BytesIO(b"%PDF-1.4\n%%EOF\n"), "badge.pdf")},
        page="/admin/achievements/new",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert 'id="image-error" aria-live="polite"><p>' in response.get_data(as_text=True)
    assert catalog.export_definitions(initialized) == []


def test_image_can_be_replaced_and_removed(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    [view] = catalog.list_achievements(initialized, public_only=False)
    url = f"/admin/achievements/{view.public_id}"
    admin.submit(
        url, {**_fields(), "image": (BytesIO(SVG), "b.svg")}, content_type="multipart/form-data"
    )
    assert catalog.get_definition(initialized, view.public_id).image_uri
    admin.submit(url, _fields())  # no new file: kept
    assert catalog.get_definition(initialized, view.public_id).image_uri
    admin.submit(url, _fields(remove_image="y"))
    assert catalog.get_definition(initialized, view.public_id).image_uri is None


# ---------------------------------------------------------------- rules dry run


def test_rules_dry_run_lists_who_would_gain_and_saves_nothing(admin, initialized):
    from badger.services import issue

    admin.submit(
        "/admin/achievements/new",
        _fields(slug="intro", name="Intro", credit_category="", credits_available=""),
        page="/admin/achievements/new",
    )
    admin.submit(
        "/admin/achievements/new",
        _fields(slug="advanced", name="Advanced", credit_category="", credits_available=""),
        page="/admin/achievements/new",
    )
    issue.issue_award(initialized, issue.IssueRequest("intro", "grace@example.org"), actor="test")
    advanced = catalog.get_definition(initialized, "advanced")
    url = f"/admin/achievements/{advanced.public_id}/rules"
    assert admin.get(url).status_code == 200
    result = admin.submit(url, {"rules": json.dumps({"earned": "intro"})})
    assert result.status_code == 200
    html = result.get_data(as_text=True)
    assert "grace@example.org" in html
    assert "would gain it" in html
    assert catalog.get_definition(initialized, "advanced").data.get("rules") is None


def test_rules_dry_run_shows_schema_errors_inline(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    view = catalog.get_definition(initialized, "ethics")
    bad = admin.submit(
        f"/admin/achievements/{view.public_id}/rules", {"rules": '{"at_least": 0, "of": []}'}
    )
    assert bad.status_code == 400
    assert 'id="rules-error" aria-live="polite"><p>rules.' in bad.get_data(as_text=True)


# ---------------------------------------------------------------- definitions in a file


def _import(admin, content: bytes, **form):
    return admin.submit(
        "/admin/achievements/import",
        {"file": (BytesIO(content), "defs.json"), **form},
        page="/admin/achievements",
        content_type="multipart/form-data",
    )


def test_definitions_are_exported_and_imported_again_from_the_console(admin, initialized):
    admin.submit("/admin/achievements/new", _fields(), page="/admin/achievements/new")
    exported = admin.get("/admin/achievements/export.json")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="achievements.json"'
    definitions = exported.json
    assert [d["slug"] for d in definitions] == ["ethics"]

    stack = {
        "slug": "ethics-plus",
        "name": "Ethics Plus",
        "description": "d",
        "criteria_narrative": "c",
        "rules": {"earned": "ethics"},
    }
    changed = [{**definitions[0], "name": "Ethics 2027"}, stack]
    refused = _import(admin, json.dumps(changed).encode())
    assert refused.status_code == 409
    assert "achievement &#39;ethics&#39; already exists: nothing imported" in refused.get_data(
        as_text=True
    )
    assert [a.slug for a in catalog.list_achievements(initialized, public_only=False)] == ["ethics"]

    done = _import(admin, json.dumps(changed).encode(), update="y")
    assert done.status_code == 302
    page = admin.get(done.headers["Location"]).get_data(as_text=True)
    assert "Imported 2 definitions: 1 new, 1 changed, 0 unchanged." in page
    assert catalog.get_definition(initialized, "ethics").version == 2
    again = _import(admin, exported.data, update="y")
    assert again.status_code == 302
    # The export from before the change: it changes the name back (version 3).
    assert catalog.get_definition(initialized, "ethics").data["name"] == _fields()["name"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{nope", "file: is not JSON"),
        (b"\xff\xfe", "file: is not JSON"),
        (b"[]", "file: holds no definitions"),
        (b'[{"slug": "x"}]', "item 0: name: &#39;name&#39; is a required property"),
        (
            b'{"slug": "x", "name": "X", "description": "d", "criteria_narrative": "c",'
            b' "rules": {"earned": "nope"}}',
            "names no achievement &#39;nope&#39;",
        ),
    ],
)
def test_a_definitions_file_that_cannot_be_imported_says_why(admin, initialized, content, message):
    refused = _import(admin, content)
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert message in html
    assert 'id="file-error"' in html
    assert catalog.list_achievements(initialized, public_only=False) == []


def test_importing_needs_a_file(admin):
    refused = admin.submit("/admin/achievements/import", {}, page="/admin/achievements")
    assert refused.status_code == 400
    assert "choose a JSON file" in refused.get_data(as_text=True)
