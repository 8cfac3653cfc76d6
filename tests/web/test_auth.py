"""Sign-in, sign-out, CSRF, roles and API tokens."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from badger.services import accounts
from badger.store.models import CompletionEvent
from tests.conftest import ADMIN_EMAIL, PASSWORD


def test_login_and_logout(client, initialized):
    response = client.login(ADMIN_EMAIL)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    token = client.csrf_token("/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, initialized):
    wrong = client.login(ADMIN_EMAIL, "not the password")
    unknown = client.login("nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "Email or password is not right."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)


def test_login_form_without_csrf_token_is_rejected(client, initialized):
    response = client.post("/login", data={"email": ADMIN_EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_redirects_only_to_local_paths(client, initialized):
    csrf = client.csrf_token()
    response = client.post(
        "/login?next=https://evil.example.com/",
        data={"csrf_token": csrf, "email": ADMIN_EMAIL, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout", data={"csrf_token": client.csrf_token("/account")})
    csrf = client.csrf_token()
    response = client.post(
        "/login?next=/admin/",
        data={"csrf_token": csrf, "email": ADMIN_EMAIL, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/admin/"


def test_anonymous_visitor_is_sent_to_sign_in(client, initialized):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/admin/")


def test_learner_gets_403_on_admin_pages(client, create_account):
    create_account("learner@example.org")
    client.login("learner@example.org")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "admin role" in response.get_data(as_text=True)


def test_admin_sees_the_console(client, initialized):
    client.login(ADMIN_EMAIL)
    html = client.get("/admin/").get_data(as_text=True)
    assert "Admin console" in html
    assert "account.create" in html  # the audit log shows the admin's creation


def test_token_created_on_the_account_page_authenticates_the_api(client, initialized):
    client.login(ADMIN_EMAIL)
    response = client.submit(
        "/account/tokens", {"name": "LMS sync", "valid_days": "30"}, page="/account"
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    token = html.split('<code class="token">')[1].split("</code>")[0]
    client.post("/logout", data={"csrf_token": client.csrf_token("/account")})

    api = client.application.test_client()
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json["email"] == ADMIN_EMAIL
    assert me.json["roles"] == ["admin", "learner", "reviewer"]


def test_token_form_errors_name_the_field(client, initialized):
    client.login(ADMIN_EMAIL)
    response = client.submit("/account/tokens", {"name": "", "valid_days": "0"}, page="/account")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html
    assert 'id="valid_days-error"' in html


def test_api_rejects_bad_revoked_and_expired_tokens(client, initialized, clock):
    view = accounts.find_account(initialized, ADMIN_EMAIL)
    token = accounts.create_api_token(
        initialized, account_public_id=view.public_id, name="t", valid_days=1
    )
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 200
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    )
    assert (
        client.get("/api/v1/me", headers={"Authorization": "Bearer bdg_short_x"}).status_code == 401
    )
    clock.now += timedelta(days=2)
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    clock.now -= timedelta(days=2)
    prefix = token.split("_")[1]
    accounts.revoke_api_token(initialized, account_public_id=view.public_id, prefix=prefix)
    response = client.get("/api/v1/me", headers=auth)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def test_token_use_is_recorded(initialized, clock):
    view = accounts.find_account(initialized, ADMIN_EMAIL)
    token = accounts.create_api_token(initialized, account_public_id=view.public_id, name="t")
    assert accounts.authenticate_token(initialized, token).email == ADMIN_EMAIL
    (info,) = accounts.list_api_tokens(initialized, view.public_id)
    assert info.last_used_at == clock.now


def test_api_writes_need_a_token_not_the_session_cookie(client, initialized):
    client.login(ADMIN_EMAIL)
    response = client.post("/api/v1/achievements", json={})
    assert response.status_code == 401
    assert "API token" in response.json["message"]


def test_api_me_needs_authentication(client, initialized):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/json"


def test_api_lists_achievements_and_issuer(client, initialized):
    assert client.get("/api/v1/achievements").json == {"achievements": []}
    assert client.get("/api/v1/issuer").json["name"] == "Test Institute"


def test_revoking_someone_elses_token_is_not_found(initialized, create_account):
    other = create_account("other@example.org")
    admin = accounts.find_account(initialized, ADMIN_EMAIL)
    token = accounts.create_api_token(initialized, account_public_id=admin.public_id, name="t")
    with pytest.raises(accounts.NotFound):
        accounts.revoke_api_token(
            initialized, account_public_id=other.public_id, prefix=token.split("_")[1]
        )


def test_duplicate_account_is_a_conflict(initialized):
    with pytest.raises(accounts.Conflict):
        accounts.create_account(
            initialized, email=ADMIN_EMAIL.upper(), password=PASSWORD, display_name="Again"
        )


def test_deactivated_account_cannot_sign_in(client, initialized):
    from sqlalchemy import update

    from badger.store.models import Account

    with initialized.uow() as uow:
        uow.session.execute(update(Account).values(is_active=False))
    assert client.login(ADMIN_EMAIL).status_code == 401


def _admin_token(ctx):
    view = accounts.find_account(ctx, ADMIN_EMAIL)
    return accounts.create_api_token(ctx, account_public_id=view.public_id, name="admin")


ETHICS = {
    "slug": "ethics",
    "name": "Ethics",
    "description": "Required ethics unit",
    "criteria_narrative": "Pass the quiz",
    "credits_available": 1.5,
    "credit_category": "ethics",
}


def test_admin_token_defines_an_achievement(client, initialized):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    response = client.post("/api/v1/achievements", json=ETHICS, headers=auth)
    assert response.status_code == 201
    assert response.json["credits_available"] == 1.5
    listed = client.get("/api/v1/achievements").json["achievements"]
    assert [a["slug"] for a in listed] == ["ethics"]
    again = client.post("/api/v1/achievements", json=ETHICS, headers=auth)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "Not A Slug"}, "slug"),
        ({"name": None}, "name"),
        ({"credits_available": "lots"}, "credits_available"),
        (
            {"alignments": [{"target_name": "x", "target_url": "ftp://x"}]},
            "alignments[0].target_url",
        ),
        ({"colour": "blue"}, "colour"),
        ({"achievement_type": "Trophy"}, "achievement_type"),
    ],
)
def test_bad_achievement_json_is_400_naming_the_field(client, initialized, change, field):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    body = {**ETHICS, **change}
    response = client.post("/api/v1/achievements", json=body, headers=auth)
    assert response.status_code == 400
    assert field in response.json["errors"]


def test_missing_required_field_is_named(client, initialized):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    body = {k: v for k, v in ETHICS.items() if k != "description"}
    response = client.post("/api/v1/achievements", json=body, headers=auth)
    assert response.status_code == 400
    assert "description" in response.json["errors"]


def test_non_json_body_is_415(client, initialized):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    response = client.post("/api/v1/achievements", data="slug=x", headers=auth)
    assert response.status_code == 415


def test_learner_token_cannot_define_achievements(client, create_account, initialized):
    view = create_account("learner@example.org")
    token = accounts.create_api_token(initialized, account_public_id=view.public_id, name="t")
    response = client.post(
        "/api/v1/achievements", json=ETHICS, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403


def test_events_api_records_once_and_awards(client, initialized):
    rules = {"event": "course.completed", "where": [{"field": "score", "op": "gte", "value": 80}]}
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    body = {**ETHICS, "rules": rules}
    assert client.post("/api/v1/achievements", json=body, headers=auth).status_code == 201
    event = {"recipient": "ada@example.org", "kind": "course.completed", "data": {"score": 92}}
    first = client.post("/api/v1/events", json=event, headers={**auth, "Idempotency-Key": "lms-1"})
    assert first.status_code == 201
    assert [a["achievement"] for a in first.json["awards"]] == ["ethics"]
    again = client.post("/api/v1/events", json=event, headers={**auth, "Idempotency-Key": "lms-1"})
    assert again.status_code == 200
    assert again.json == {"event": first.json["event"], "recorded": False, "awards": []}


def test_events_api_needs_a_key_a_token_and_valid_json(client, initialized, create_account):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    event = {"recipient": "ada@example.org", "kind": "course.completed"}
    assert client.post("/api/v1/events", json=event, headers=auth).status_code == 400
    bad = client.post(
        "/api/v1/events", json={"kind": "x"}, headers={**auth, "Idempotency-Key": "k"}
    )
    assert bad.status_code == 400
    assert "recipient" in bad.json["errors"]
    learner = create_account("l@example.org")
    token = accounts.create_api_token(initialized, account_public_id=learner.public_id, name="t")
    denied = client.post(
        "/api/v1/events",
        json=event,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k"},
    )
    assert denied.status_code == 403


def test_learner_submits_evidence_and_a_reviewer_approves_it_through_the_api(
    client, initialized, create_account
):
    admin = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    portfolio = {**ETHICS, "slug": "portfolio", "rules": {"evidence_approved": "portfolio"}}
    assert client.post("/api/v1/achievements", json=portfolio, headers=admin).status_code == 201
    learner = create_account("lena@example.org", name="Lena")
    token = accounts.create_api_token(initialized, account_public_id=learner.public_id, name="t")
    mine = {"Authorization": f"Bearer {token}"}
    sent = client.post(
        "/api/v1/submissions",
        json={
            "kind": "evidence",
            "achievement": "portfolio",
            "url": "https://lena.example.org/work",
        },
        headers=mine,
    )
    assert sent.status_code == 201, sent.json
    assert client.get("/api/v1/review/queue", headers=mine).status_code == 403
    queue = client.get("/api/v1/review/queue", headers=admin).json["queue"]
    assert [q["id"] for q in queue] == [sent.json["id"]]
    decided = client.post(
        f"/api/v1/review/{sent.json['id']}", json={"decision": "approve"}, headers=admin
    )
    assert decided.status_code == 200
    assert [a["achievement"] for a in decided.json["awarded"]] == ["portfolio"]
    assert (
        client.get("/api/v1/submissions", headers=mine).json["submissions"][0]["status"]
        == "approved"
    )
    bad = client.post("/api/v1/submissions", json={"kind": "poem"}, headers=mine)
    assert bad.status_code == 400
    assert "kind" in bad.json["errors"]


def test_claim_link_needs_sign_in_then_binds_the_badge(client, initialized, create_account, mailer):
    import re

    admin = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    client.post("/api/v1/achievements", json=ETHICS, headers=admin)
    from badger.services.issue import IssueRequest, issue_award

    issue_award(initialized, IssueRequest("ethics", "newcomer@example.org"), actor="t")
    link = re.search(r"/claim/([A-Za-z0-9_-]+)", mailer.sent[-1].body).group(0)
    assert client.get(link).headers["Location"].startswith("/login?next=")
    create_account("someone@example.org")
    client.login("someone@example.org")
    assert "Claim your badge" in client.get(link).get_data(as_text=True)
    claimed = client.submit(link, {}, page=link)
    assert claimed.status_code == 302
    assert claimed.headers["Location"].startswith("/credentials/")
    again = client.submit(link, {}, page=link)
    assert again.status_code == 409


def test_achievement_images_must_be_png_or_svg_and_svg_is_sanitised(client, initialized):
    import base64

    from tests.unit.credentials.test_baking import make_png as png_bytes

    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    png = base64.b64encode(png_bytes()).decode()
    ok = client.post(
        "/api/v1/achievements",
        json={**ETHICS, "image_uri": f"data:image/png;base64,{png}"},
        headers=auth,
    )
    assert ok.status_code == 201, ok.json
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><circle r="4"/></svg>'
    cleaned = client.post(
        "/api/v1/achievements",
        json={
            **ETHICS,
            "slug": "svg-one",
            "image_uri": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
        },
        headers=auth,
    )
    assert cleaned.status_code == 201
    assert "script" not in base64.b64decode(cleaned.json["image_uri"].split(",", 1)[1]).decode()
    html_as_png = base64.b64encode(b"<html><script>x</script></html>").decode()
    refused = client.post(
        "/api/v1/achievements",
        json={**ETHICS, "slug": "evil", "image_uri": f"data:image/png;base64,{html_as_png}"},
        headers=auth,
    )
    assert refused.status_code == 400
    assert "image_uri" in refused.json["errors"]
    plain = client.post(
        "/api/v1/achievements",
        json={**ETHICS, "slug": "ftp", "image_uri": "ftp://x/y.png"},
        headers=auth,
    )
    assert plain.status_code == 400


def test_bulk_upload_reports_bad_rows_then_issues(client, initialized):
    from io import BytesIO

    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    client.post("/api/v1/achievements", json=ETHICS, headers=auth)
    csv = b"recipient,achievement\na@example.org,ethics\nnot-an-email,ethics\n"

    def send(**form):
        return client.post(
            "/api/v1/bulk",
            data={"file": (BytesIO(csv), "rows.csv"), **form},
            headers=auth,
            content_type="multipart/form-data",
        )

    refused = send()
    assert refused.status_code == 400
    assert refused.json["rows"] == [
        {"row": 3, "field": "recipient", "message": refused.json["rows"][0]["message"]}
    ]
    done = send(skip_invalid="true", wait="true")
    assert done.status_code == 200
    assert (done.json["issued"], done.json["status"]) == (1, "done")
    shown = client.get(f"/api/v1/bulk/{done.json['id']}", headers=auth)
    assert shown.json["rows"][0]["status"] == "issued"
    assert client.post("/api/v1/bulk", headers=auth).status_code == 400


def test_evidence_can_be_uploaded_as_a_file(client, initialized, create_account):
    from io import BytesIO

    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    client.post("/api/v1/achievements", json=ETHICS, headers=auth)
    learner = create_account("fi@example.org")
    token = accounts.create_api_token(initialized, account_public_id=learner.public_id, name="t")
    sent = client.post(
        "/api/v1/submissions",
        data={
            "kind": "evidence",
            "achievement": "ethics",
            "file": (BytesIO(b"%PDF-1.4\n%%EOF\n"), "cert.pdf"),
        },
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 201, sent.json


def test_account_page_lists_the_learners_badges_and_submissions(
    client, initialized, create_account
):
    from badger.services.issue import IssueRequest, issue_award

    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    client.post("/api/v1/achievements", json={**ETHICS, "name": "Ethics <Unit>"}, headers=auth)
    learner = create_account("page@example.org")
    issue_award(initialized, IssueRequest("ethics", "page@example.org"), actor="t")
    from badger.services import review

    review.submit_activity(
        initialized,
        learner_public_id=learner.learner_public_id,
        title="Local meetup talk",
        credits=__import__("decimal").Decimal("1"),
        category="content-strategy",
        actor="t",
    )
    client.login("page@example.org")
    html = client.get("/account").get_data(as_text=True)
    assert "Your badges" in html
    assert "Ethics &lt;Unit&gt;" in html
    assert "Local meetup talk" in html


def test_events_api_takes_a_date_alone_and_names_a_time_without_a_zone(client, initialized):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    day = (initialized.now() - timedelta(days=3)).date().isoformat()
    event = {"recipient": "ada@example.org", "kind": "webinar.attended", "occurred_at": day}
    recorded = client.post("/api/v1/events", json=event, headers={**auth, "Idempotency-Key": "d1"})
    assert recorded.status_code == 201, recorded.json
    with initialized.uow() as uow:
        (occurred,) = uow.session.scalars(select(CompletionEvent.occurred_at))
    assert occurred.isoformat().startswith(f"{day}T00:00:00")
    naive = {**event, "occurred_at": f"{day}T09:00"}
    refused = client.post("/api/v1/events", json=naive, headers={**auth, "Idempotency-Key": "d2"})
    assert refused.status_code == 400
    assert "time zone" in " ".join(refused.json["errors"]["occurred_at"])


def test_admin_token_changes_a_definition_and_each_change_is_a_new_version(
    client, initialized, create_account
):
    auth = {"Authorization": f"Bearer {_admin_token(initialized)}"}
    created = client.post("/api/v1/achievements", json=ETHICS, headers=auth).json
    assert created["version"] == 1
    body = {k: v for k, v in ETHICS.items() if k != "slug"}  # the URL names it
    changed = client.put(
        "/api/v1/achievements/ethics", json={**body, "name": "Ethics 2027"}, headers=auth
    )
    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["version"]) == ("Ethics 2027", 2)
    by_id = client.put(
        f"/api/v1/achievements/{created['public_id']}",
        json={**body, "name": "Ethics 2027"},
        headers=auth,
    )
    assert by_id.json["version"] == 2  # nothing differed
    renamed = client.put(
        "/api/v1/achievements/ethics", json={**body, "slug": "ethics-2"}, headers=auth
    )
    assert renamed.status_code == 400
    assert "slug" in renamed.json["errors"]
    bad = client.put(
        "/api/v1/achievements/ethics", json={**body, "credits_available": "lots"}, headers=auth
    )
    assert bad.status_code == 400
    assert "credits_available" in bad.json["errors"]
    assert client.put("/api/v1/achievements/nope", json=body, headers=auth).status_code == 404
    assert client.put("/api/v1/achievements/ethics", data="x", headers=auth).status_code == 415
    learner = create_account("l@example.org")
    token = accounts.create_api_token(initialized, account_public_id=learner.public_id, name="t")
    denied = client.put(
        "/api/v1/achievements/ethics", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert denied.status_code == 403
    assert client.get("/api/v1/achievements").json["achievements"][0]["name"] == "Ethics 2027"
