"""Learners sign up, confirm addresses, reset passwords and manage identifiers."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from badger.domain.achievements import AchievementSpec
from badger.proofs.multikey import did_key_from_ed25519_public
from badger.services import accounts, catalog, issue
from badger.services.issue import IssueRequest
from tests.conftest import PASSWORD

BASE = "https://badges.example.org"
NEW_PASSWORD = "another fine long password"


def link_in(mailer, prefix: str) -> str:
    """The path of the last mailed link that starts with ``BASE + prefix``."""
    for message in reversed(mailer.sent):
        found = re.search(re.escape(BASE + prefix) + r"\S+", message.body)
        if found:
            return found.group(0)[len(BASE) :]
    raise AssertionError(f"no {prefix} link mailed")


def sign_up(client, email="new@example.org", name="Nora New", password=PASSWORD):
    return client.submit("/signup", {"display_name": name, "email": email, "password": password})


# ---------------------------------------------------------------- sign-up


def test_sign_up_creates_an_account_and_mails_a_verification_link(client, initialized, mailer):
    response = sign_up(client)
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert mailer.sent[-1].to == "new@example.org"
    path = link_in(mailer, "/email/verify/")

    assert client.login("new@example.org").headers["Location"] == "/dashboard"
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Please confirm your address" in dashboard
    confirm = client.submit(path, {})
    assert confirm.status_code == 302
    page = client.get("/account/identifiers").get_data(as_text=True)
    assert "new@example.org" in page
    assert "verified" in page
    assert "Please confirm" not in client.get("/dashboard").get_data(as_text=True)


def test_sign_up_with_a_taken_address_answers_the_same_and_mails_the_owner(
    client, initialized, mailer, create_account
):
    create_account("taken@example.org")
    mailer.sent.clear()
    fresh = sign_up(client, email="fresh@example.org")
    taken = sign_up(client, email="TAKEN@example.org")
    assert fresh.status_code == taken.status_code == 200
    assert fresh.get_data(as_text=True) == taken.get_data(as_text=True)
    to_owner = mailer.sent[-1]
    assert to_owner.to == "taken@example.org"
    assert "already has one" in to_owner.body
    assert "/email/verify/" not in to_owner.body
    # The intruder's password does not open the account.
    assert client.login("taken@example.org", "intruder password 123").status_code == 401


def test_sign_up_errors_name_the_field(client, initialized):
    response = sign_up(client, email="not-an-address", password="short")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html
    assert 'aria-describedby="email-help email-error"' in html


def test_sign_up_escapes_the_name(client, initialized, mailer):
    sign_up(client, name="<script>alert(1)</script>")
    client.login("new@example.org")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_verification_link_expires_and_belongs_to_its_account(
    client, initialized, mailer, clock, create_account
):
    sign_up(client)
    path = link_in(mailer, "/email/verify/")
    create_account("other@example.org")
    client.login("other@example.org")
    assert client.get(path).status_code == 404
    assert client.submit(path, {}, page="/dashboard").status_code == 404
    client.post("/logout", data={"csrf_token": client.csrf_token("/dashboard")})
    client.login("new@example.org")
    assert "new@example.org" in client.get(path).get_data(as_text=True)
    clock.now += accounts.EMAIL_LINK_TTL + timedelta(minutes=1)
    response = client.submit(path, {}, page="/dashboard")
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.submit("/email/verify/forged.token", {}, page="/dashboard").status_code == 404


def test_verifying_an_address_brings_the_badges_sent_to_it(client, initialized, mailer):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics Unit",
            description="d",
            criteria_narrative="c",
            credits_available=Decimal(1),
        ),
    )
    early = issue.issue_award(
        initialized, IssueRequest(achievement="ethics", recipient="new@example.org"), actor="t"
    )
    sign_up(client)
    client.login("new@example.org")
    assert (
        "Ethics Unit"
        not in client.get("/dashboard").get_data(as_text=True).split("Waiting to be claimed")[0]
    )
    client.submit(link_in(mailer, "/email/verify/"), {})
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"/badges/{early.public_id}" in html


# ---------------------------------------------------------------- password reset


def test_password_reset_sets_a_new_password_once(client, initialized, mailer, create_account):
    create_account("pat@example.org")
    response = client.submit("/password/forgot", {"email": "pat@example.org"})
    assert "Check your inbox" in response.get_data(as_text=True)
    path = link_in(mailer, "/password/reset/")
    assert client.get(path).status_code == 200
    reset = client.submit(path, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reset.status_code == 302
    assert client.login("pat@example.org", PASSWORD).status_code == 401
    assert client.login("pat@example.org", NEW_PASSWORD).status_code == 302
    # Spent: the password hash it was made for is gone.
    assert client.get(path).status_code == 404
    again = client.submit(
        path,
        {"password": "yet another password", "confirm": "yet another password"},
        page="/password/forgot",
    )
    assert again.status_code == 404


def test_a_password_reset_signs_out_every_other_session(
    app, client, initialized, mailer, create_account
):
    create_account("pat@example.org")
    elsewhere = app.test_client()
    assert elsewhere.login("pat@example.org", PASSWORD).status_code == 302
    assert elsewhere.get("/dashboard").status_code == 200
    client.submit("/password/forgot", {"email": "pat@example.org"})
    client.submit(
        link_in(mailer, "/password/reset/"), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    signed_out = elsewhere.get("/dashboard")
    assert signed_out.status_code == 302
    assert "/login" in signed_out.headers["Location"]
    assert elsewhere.login("pat@example.org", NEW_PASSWORD).status_code == 302
    assert elsewhere.get("/dashboard").status_code == 200


def test_reset_link_dies_when_the_password_changes_otherwise(
    client, initialized, mailer, create_account
):
    create_account("pat@example.org")
    client.submit("/password/forgot", {"email": "pat@example.org"})
    first = link_in(mailer, "/password/reset/")
    client.submit("/password/forgot", {"email": "pat@example.org"})
    second = link_in(mailer, "/password/reset/")
    client.submit(second, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get(first).status_code == 404


def test_reset_link_expires(client, initialized, mailer, clock, create_account):
    create_account("pat@example.org")
    client.submit("/password/forgot", {"email": "pat@example.org"})
    path = link_in(mailer, "/password/reset/")
    clock.now += accounts.RESET_LINK_TTL + timedelta(seconds=1)
    assert client.get(path).status_code == 400


def test_forgot_password_answers_the_same_for_unknown_addresses(
    client, initialized, mailer, create_account
):
    create_account("pat@example.org")
    mailer.sent.clear()
    known = client.submit("/password/forgot", {"email": "pat@example.org"})
    unknown = client.submit("/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert [m.to for m in mailer.sent] == ["pat@example.org"]


def test_reset_form_errors_name_the_field(client, initialized, mailer, create_account):
    create_account("pat@example.org")
    client.submit("/password/forgot", {"email": "pat@example.org"})
    path = link_in(mailer, "/password/reset/")
    response = client.submit(path, {"password": "short", "confirm": "short"})
    assert response.status_code == 400
    assert 'id="password-error"' in response.get_data(as_text=True)
    mismatch = client.submit(path, {"password": NEW_PASSWORD, "confirm": "different one here"})
    assert 'id="confirm-error"' in mismatch.get_data(as_text=True)


# ---------------------------------------------------------------- identifiers


def test_pages_need_sign_in(client, initialized):
    for url in (
        "/dashboard",
        "/account/identifiers",
        "/submit/evidence",
        "/submit/activity",
        "/submit/proposal",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_another_email_counts_after_its_link_is_followed(
    client, initialized, mailer, create_account
):
    create_account("pat@example.org")
    client.login("pat@example.org")
    response = client.submit(
        "/account/identifiers/email", {"email": "pat@work.example"}, page="/account/identifiers"
    )
    assert response.status_code == 302
    assert mailer.sent[-1].to == "pat@work.example"
    page = client.get("/account/identifiers").get_data(as_text=True)
    assert '<td class="token">pat@work.example' not in page  # not stored until proved
    client.submit(link_in(mailer, "/email/verify/"), {})
    page = client.get("/account/identifiers").get_data(as_text=True)
    assert '<td class="token">pat@work.example' in page

    # Make it primary: it becomes the sign-in address.
    client.submit(
        "/account/identifiers/primary",
        {"identifier": "email:pat@work.example"},
        page="/account/identifiers",
    )
    client.post("/logout", data={"csrf_token": client.csrf_token("/dashboard")})
    assert client.login("pat@work.example").status_code == 302
    # The old address can go now; the last verified one cannot.
    client.submit(
        "/account/identifiers/remove",
        {"identifier": "email:pat@example.org"},
        page="/account/identifiers",
    )
    page = client.get("/account/identifiers").get_data(as_text=True)
    assert '<td class="token">pat@example.org' not in page
    refused = client.submit(
        "/account/identifiers/remove",
        {"identifier": "email:pat@work.example"},
        page="/account/identifiers",
    )
    assert refused.status_code == 400


def test_another_learners_identifier_cannot_be_touched(client, initialized, create_account):
    create_account("pat@example.org")
    create_account("sam@example.org")
    client.login("pat@example.org")
    response = client.submit(
        "/account/identifiers/remove",
        {"identifier": "email:sam@example.org"},
        page="/account/identifiers",
    )
    assert response.status_code == 404


def _did_key_pair():
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, did_key_from_ed25519_public(raw)


def _jws(private, payload: dict) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "EdDSA"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = private.sign(f"{head}.{body}".encode())
    return f"{head}.{body}.{b64(signature)}"


def _challenge(html: str) -> str:
    return re.search(r'name="challenge" type="hidden" value="([^"]+)"', html).group(1)


def test_a_did_key_is_added_only_with_a_signed_challenge(client, initialized, create_account):
    create_account("pat@example.org")
    client.login("pat@example.org")
    private, did = _did_key_pair()
    page = client.submit("/account/identifiers/did", {"did": did}, page="/account/identifiers")
    assert page.status_code == 200
    challenge = _challenge(page.get_data(as_text=True))

    other, _ = _did_key_pair()
    wrong_key = client.submit(
        "/account/identifiers/did/prove",
        {"challenge": challenge, "proof": _jws(other, {"nonce": challenge})},
        page="/account/identifiers",
    )
    assert wrong_key.status_code == 400
    assert 'id="proof-error"' in wrong_key.get_data(as_text=True)
    wrong_nonce = client.submit(
        "/account/identifiers/did/prove",
        {"challenge": challenge, "proof": _jws(private, {"nonce": "something else"})},
        page="/account/identifiers",
    )
    assert wrong_nonce.status_code == 400
    assert did not in client.get("/account/identifiers").get_data(as_text=True)

    proved = client.submit(
        "/account/identifiers/did/prove",
        {"challenge": challenge, "proof": _jws(private, {"nonce": challenge})},
        page="/account/identifiers",
    )
    assert proved.status_code == 302
    assert did in client.get("/account/identifiers").get_data(as_text=True)


def test_a_did_other_than_did_key_is_refused_not_stored(client, initialized, create_account):
    create_account("pat@example.org")
    client.login("pat@example.org")
    response = client.submit(
        "/account/identifiers/did", {"did": "did:web:example.org"}, page="/account/identifiers"
    )
    assert response.status_code == 400
    assert "only did:key" in response.get_data(as_text=True)


@pytest.mark.parametrize("did", ["not a did", "did:key:zNotAKey"])
def test_bad_dids_name_the_field(client, initialized, create_account, did):
    create_account("pat@example.org")
    client.login("pat@example.org")
    response = client.submit("/account/identifiers/did", {"did": did}, page="/account/identifiers")
    assert response.status_code == 400
    assert 'id="did-error"' in response.get_data(as_text=True)
