"""Public documents: what a verifier fetches is there, exact, typed and cacheable."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import select

from badger.credentials.status_list import decode_list
from badger.domain.achievements import AchievementSpec
from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key, verify_proof
from badger.proofs.jws import PRIVATE_JWK_MEMBERS
from badger.proofs.multikey import multibase_to_ed25519_public
from badger.services import catalog, issue, status
from badger.services.issue import IssueRequest
from badger.services.validation import schema_names
from badger.store.models import Award, Issuer

BASE = "https://badges.example.org"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB2 = "https://w3id.org/openbadges/v2"


# ---------------------------------------------------------------- helpers


def path(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE) :]


def b64json(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def jws_parts(token: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _signature = token.decode("ascii").split(".")
    return b64json(header), b64json(payload)


def stored(ctx, award_id: str, fmt: str) -> bytes:
    return issue.get_document(ctx, award_id, fmt).content


def credential(ctx, award_id: str) -> dict[str, Any]:
    return json.loads(stored(ctx, award_id, "ob3-ldp"))


def set_id_method(ctx, method: str) -> None:
    with ctx.uow() as uow:
        uow.session.scalar(select(Issuer).where(Issuer.slug == "default")).id_method = method


def make_achievement(ctx, slug: str = "ethics", name: str = "Ethics <Unit>", **extra: Any):
    return catalog.create_achievement(
        ctx,
        issuer_slug="default",
        spec=AchievementSpec(
            slug=slug,
            name=name,
            description="Required <b>ethics</b> unit",
            criteria_narrative="Pass the quiz",
            credits_available=Decimal("2"),
            **extra,
        ),
    )


def award_to(ctx, achievement: str = "ethics", recipient: str = "learner@example.org"):
    return issue.issue_award(
        ctx, IssueRequest(achievement=achievement, recipient=recipient), actor="test"
    )


@pytest.fixture
def achievement(initialized):
    return make_achievement(initialized)


@pytest.fixture
def award(initialized, achievement):
    return award_to(initialized)


def status_bit(client, ctx, award_id: str) -> tuple[bool, dict[str, Any], Any]:
    entry = credential(ctx, award_id)["credentialStatus"]
    response = client.get(path(entry["statusListCredential"]))
    assert response.status_code == 200
    document = response.get_json(force=True)
    bits = decode_list(document["credentialSubject"]["encodedList"])
    return bits.get(int(entry["statusListIndex"])), document, response


# ---------------------------------------------------------------- stored renderings


@pytest.mark.parametrize("fmt", sorted(issue.AWARD_FORMATS))
def test_every_format_is_served_byte_for_byte_with_its_media_type(client, initialized, award, fmt):
    response = client.get(f"/credentials/{award.public_id}/{fmt}.{issue.FILE_EXTENSIONS[fmt]}")
    document = issue.get_document(initialized, award.public_id, fmt)
    assert response.status_code == 200
    assert response.content_type == issue.FORMATS[fmt]
    assert response.data == document.content
    assert response.headers["ETag"] == f'"{document.sha256}"'
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in response.headers


def test_format_urls_issued_with_the_award_all_resolve(client, award):
    for fmt, url in award.formats.items():
        response = client.get(path(url))
        assert response.status_code == 200, fmt


def test_a_stored_document_answers_304_to_its_etag(client, award):
    url = f"/credentials/{award.public_id}/ob3-ldp.json"
    etag = client.get(url).headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_download_makes_an_attachment_named_after_the_achievement(client, award):
    response = client.get(f"/credentials/{award.public_id}/ob3-png.png?download=1")
    assert response.headers["Content-Disposition"] == 'attachment; filename="ethics-ob3-png.png"'


def test_svg_keeps_the_global_csp_and_nosniff(client, award):
    response = client.get(f"/credentials/{award.public_id}/ob3-svg.svg")
    assert response.content_type == "image/svg+xml"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["ob3-ldp.png", "ob3-ldp.jwt", "ob9-ldp.json", "ob3-ldp", ".json"])
def test_an_unknown_format_or_extension_is_404(client, award, name):
    response = client.get(f"/credentials/{award.public_id}/{name}")
    assert response.status_code == 404


# ---------------------------------------------------------------- the credential URL


@pytest.mark.parametrize(
    "accept", ["application/vc+ld+json", "application/ld+json", "application/json"]
)
def test_credential_url_serves_the_signed_json_to_json_clients(client, initialized, award, accept):
    response = client.get(f"/credentials/{award.public_id}", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.content_type == accept
    assert response.data == stored(initialized, award.public_id, "ob3-ldp")
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_credential_url_serves_the_vc_jwt_to_jwt_clients(client, initialized, award):
    response = client.get(
        f"/credentials/{award.public_id}", headers={"Accept": "application/vc+jwt"}
    )
    assert response.content_type == "application/vc+jwt"
    assert response.data == stored(initialized, award.public_id, "ob3-jwt")


def test_credential_page_shows_the_award_to_people(client, award):
    response = client.get(
        f"/credentials/{award.public_id}",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<h1 id="credential-title">Ethics &lt;Unit&gt;</h1>' in html
    assert "Ethics <Unit>" not in html
    assert "Required &lt;b&gt;ethics&lt;/b&gt; unit" in html
    assert 'alt="Badge image for Ethics &lt;Unit&gt;"' in html
    assert f'src="/credentials/{award.public_id}/ob3-png.png"' in html
    assert "Test Institute" in html
    assert '<time datetime="2026-03-14T15:09:26+00:00">14 March 2026</time>' in html
    assert "Active" in html
    for fmt in issue.AWARD_FORMATS:
        ext = issue.FILE_EXTENSIONS[fmt]
        assert f"/credentials/{award.public_id}/{fmt}.{ext}?download=1" in html
    assert "<script" not in html
    assert "style=" not in html


def test_credential_page_shows_revocation_with_its_reason(client, initialized, award):
    status.revoke(initialized, award.public_id, reason="Issued <by mistake>", actor="test")
    html = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert "Revoked" in html
    assert "Issued &lt;by mistake&gt;" in html


def test_credential_page_shows_suspension(client, initialized, award):
    status.suspend(initialized, award.public_id, reason="Under review", actor="test")
    html = client.get(f"/credentials/{award.public_id}").get_data(as_text=True)
    assert "Suspended" in html
    assert "Under review" in html


def test_a_private_award_has_no_page_but_its_files_still_verify(client, initialized, award):
    with initialized.uow() as uow:
        uow.session.scalar(
            select(Award).where(Award.public_id == award.public_id)
        ).is_public = False
    assert client.get(f"/credentials/{award.public_id}").status_code == 404
    assert client.get(f"/credentials/{award.public_id}/ob3-ldp.json").status_code == 200
    assert client.get(f"/ob2/assertions/{award.public_id}").status_code == 200


# ---------------------------------------------------------------- OB 2.0


def test_hosted_assertion_is_the_stored_bytes_as_json_ld(client, initialized, award):
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assert response.status_code == 200
    assert response.content_type == "application/ld+json"
    assert response.data == stored(initialized, award.public_id, "ob2-hosted")
    assert response.get_json(force=True)["id"] == f"{BASE}/ob2/assertions/{award.public_id}"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag = response.headers["ETag"]
    again = client.get(f"/ob2/assertions/{award.public_id}", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/json", "application/json"),
        ("application/ld+json", "application/ld+json"),
        ("application/json, application/ld+json", "application/ld+json"),
        ("*/*", "application/ld+json"),
    ],
)
def test_ob2_documents_are_plain_json_only_when_that_is_all_the_client_accepts(
    client, award, achievement, accept, media_type
):
    for url in (
        f"/ob2/assertions/{award.public_id}",
        "/ob2/issuers/default",
        f"/ob2/badges/{achievement.public_id}",
        "/ob2/issuers/default/revocations",
    ):
        response = client.get(url, headers={"Accept": accept})
        assert response.content_type == media_type, url


def test_a_revoked_hosted_assertion_is_410_gone_with_the_reason(client, initialized, award):
    status.revoke(initialized, award.public_id, reason="Issued by mistake", actor="test")
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assert response.status_code == 410
    assert response.content_type == "application/ld+json"
    assert response.get_json(force=True) == {
        "@context": OB2,
        "id": f"{BASE}/ob2/assertions/{award.public_id}",
        "revoked": True,
        "revocationReason": "Issued by mistake",
    }
    assert "ETag" not in response.headers


def test_a_suspended_hosted_assertion_still_answers(client, initialized, award):
    status.suspend(initialized, award.public_id, reason="Under review", actor="test")
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assert response.status_code == 200
    assert response.data == stored(initialized, award.public_id, "ob2-hosted")


def test_revocation_list_names_the_signed_assertion_once_revoked(client, initialized, award):
    _header, payload = jws_parts(stored(initialized, award.public_id, "ob2-signed"))
    url = "/ob2/issuers/default/revocations"
    before = client.get(url).get_json(force=True)
    assert before["type"] == "RevocationList"
    assert before["revokedAssertions"] == []

    status.revoke(initialized, award.public_id, reason="Issued by mistake", actor="test")
    after = client.get(url).get_json(force=True)
    assert after["id"] == f"{BASE}{url}"
    assert after["issuer"] == f"{BASE}/ob2/issuers/default"
    assert after["revokedAssertions"] == [
        {"id": payload["id"], "revocationReason": "Issued by mistake"}
    ]
    assert payload["id"] == f"urn:uuid:{award.public_id}"


def test_ob2_profile_publishes_the_key_that_signed_the_jws(client, initialized, award):
    header, payload = jws_parts(stored(initialized, award.public_id, "ob2-signed"))
    assert header["alg"] == "RS256"
    creator = payload["verification"]["creator"]

    profile = client.get("/ob2/issuers/default").get_json(force=True)
    assert profile["@context"] == OB2
    assert profile["type"] == "Issuer"
    assert profile["id"] == f"{BASE}/ob2/issuers/default"
    assert creator in profile["publicKey"]
    assert profile["revocationList"] == f"{BASE}/ob2/issuers/default/revocations"

    response = client.get(path(creator))
    assert response.status_code == 200
    assert response.content_type == "application/ld+json"
    key = response.get_json(force=True)
    assert key["type"] == "CryptographicKey"
    assert key["id"] == creator
    assert key["owner"] == profile["id"]
    assert key["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "PRIVATE" not in response.get_data(as_text=True)


def test_ob2_profile_keeps_retired_rsa_keys(client, initialized, award):
    _header, payload = jws_parts(stored(initialized, award.public_id, "ob2-signed"))
    initialized.keystore.rotate("default", "RS256")
    profile = client.get("/ob2/issuers/default").get_json(force=True)
    assert payload["verification"]["creator"] in profile["publicKey"]
    assert len(profile["publicKey"]) >= 2
    assert client.get(path(payload["verification"]["creator"])).status_code == 200


def test_only_rsa_keys_are_ob2_cryptographic_keys(client, initialized, award):
    ed25519 = initialized.keystore.active_key("default", "Ed25519")
    assert client.get(f"/ob2/issuers/default/keys/{ed25519.kid}").status_code == 404


def test_ob2_badge_class_is_hosted_at_its_id(client, award, achievement):
    url = f"/ob2/badges/{achievement.public_id}"
    badge = client.get(url).get_json(force=True)
    assert badge["type"] == "BadgeClass"
    assert badge["id"] == f"{BASE}{url}"
    assert badge["name"] == "Ethics <Unit>"
    assert badge["issuer"] == f"{BASE}/ob2/issuers/default"
    assert client.get(path(badge["image"])).content_type == "image/png"


# ---------------------------------------------------------------- status lists


def test_status_list_flips_the_awards_bit_on_revocation_and_stays_signed(
    client, initialized, award
):
    was_set, _document, before = status_bit(client, initialized, award.public_id)
    assert was_set is False
    assert before.content_type == "application/vc+ld+json"
    assert before.headers["Cache-Control"] == "public, max-age=300"
    assert before.headers["Access-Control-Allow-Origin"] == "*"
    old_etag = before.headers["ETag"]

    status.revoke(initialized, award.public_id, reason="Issued by mistake", actor="test")
    is_set, document, after = status_bit(client, initialized, award.public_id)
    assert is_set is True
    assert document["credentialSubject"]["statusPurpose"] == "revocation"
    assert after.headers["ETag"] != old_etag
    result = verify_proof(document, resolve_did_key)
    assert result.verified, result.reason

    url = path(credential(initialized, award.public_id)["credentialStatus"]["statusListCredential"])
    assert client.get(url, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-None-Match": old_etag}).status_code == 200


# ---------------------------------------------------------------- OB 3.0 profile and achievement


def test_ob3_profile_is_a_standalone_json_ld_document(client, initialized, award):
    response = client.get("/issuers/default", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.content_type == "application/ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    profile = response.get_json(force=True)
    issued = credential(initialized, award.public_id)["issuer"]
    assert profile["@context"] == [VC_V2, OB3]
    assert profile["type"] == ["Profile"]
    assert profile["id"] == issued["id"]
    assert profile["name"] == "Test Institute"
    assert "verificationMethod" not in profile  # a did:key is its own key document


def test_a_url_issuers_profile_is_the_controller_document_of_its_keys(client, initialized):
    set_id_method(initialized, "url")
    make_achievement(initialized)
    award = award_to(initialized)
    proof = credential(initialized, award.public_id)["proof"][0]

    profile = client.get("/issuers/default", headers={"Accept": "application/json"}).get_json()
    assert profile["id"] == f"{BASE}/issuers/default"
    assert proof["verificationMethod"] in profile["assertionMethod"]
    methods = {m["id"]: m for m in profile["verificationMethod"]}
    method = methods[proof["verificationMethod"]]
    assert method["type"] == "Multikey"
    assert method["controller"] == profile["id"]

    def from_profile(verification_method: str) -> Ed25519PublicKey:
        raw = multibase_to_ed25519_public(methods[verification_method]["publicKeyMultibase"])
        return Ed25519PublicKey.from_public_bytes(raw)

    result = verify_proof(credential(initialized, award.public_id), from_profile)
    assert result.verified, result.reason


def test_ob3_achievement_is_served_at_its_id(client, initialized, award, achievement):
    url = f"/achievements/{achievement.public_id}"
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.content_type == "application/json"
    document = response.get_json()
    subject = credential(initialized, award.public_id)["credentialSubject"]["achievement"]
    assert document["@context"] == [VC_V2, OB3]
    assert document["id"] == f"{BASE}{url}" == subject["id"]
    assert document["type"] == ["Achievement"]
    assert document["creditsAvailable"] == 2
    assert {k: v for k, v in document.items() if k != "@context"} == subject


@pytest.mark.parametrize(("fmt", "media_type"), [("png", "image/png"), ("svg", "image/svg+xml")])
def test_achievement_images_are_served(client, achievement, fmt, media_type):
    response = client.get(f"/achievements/{achievement.public_id}/image.{fmt}")
    assert response.status_code == 200
    assert response.content_type == media_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    url = f"/achievements/{achievement.public_id}/image.{fmt}"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_an_unknown_image_format_is_404(client, achievement):
    assert client.get(f"/achievements/{achievement.public_id}/image.gif").status_code == 404


def test_issuer_page_lists_public_achievements_escaped(client, initialized, achievement):
    make_achievement(initialized, slug="hidden", name="Hidden one")
    with initialized.uow() as uow:
        from badger.store.models import Achievement

        uow.session.scalar(
            select(Achievement).where(Achievement.slug == "hidden")
        ).is_public = False
    response = client.get("/issuers/default", headers={"Accept": "text/html"})
    html = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert '<h1 id="issuer-name">Test Institute</h1>' in html
    assert "Ethics &lt;Unit&gt;" in html
    assert f'href="/achievements/{achievement.public_id}"' in html
    assert "Hidden one" not in html


def test_achievement_page_shows_the_criteria_escaped(client, initialized):
    made = make_achievement(initialized, criteria_url="javascript:alert(1)")
    html = client.get(f"/achievements/{made.public_id}").get_data(as_text=True)
    assert '<h1 id="achievement-name">Ethics &lt;Unit&gt;</h1>' in html
    assert 'alt="Badge image for Ethics &lt;Unit&gt;"' in html
    assert "Pass the quiz" in html
    assert "javascript:" not in html


# ---------------------------------------------------------------- keys


def test_did_json_is_only_published_for_did_web_issuers(client, award):
    assert client.get("/issuers/default/did.json").status_code == 404


def test_did_web_document_lists_the_keys_that_signed_the_credential(client, initialized):
    set_id_method(initialized, "did:web")
    make_achievement(initialized)
    award = award_to(initialized)
    issued = credential(initialized, award.public_id)
    did = issued["issuer"]["id"]
    assert did == "did:web:badges.example.org:issuers:default"

    response = client.get("/issuers/default/did.json")
    assert response.status_code == 200
    assert response.content_type == "application/did+ld+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    document = response.get_json(force=True)
    assert document["id"] == did
    assert all(m["controller"] == did for m in document["verificationMethod"])
    assert issued["proof"][0]["verificationMethod"] in document["assertionMethod"]
    jwt_header, _payload = jws_parts(stored(initialized, award.public_id, "ob3-jwt"))
    assert jwt_header["kid"] in document["assertionMethod"]
    for method in document["verificationMethod"]:
        assert not PRIVATE_JWK_MEMBERS & set(method.get("publicKeyJwk", {}))

    plain = client.get("/issuers/default/did.json", headers={"Accept": "application/did+json"})
    assert plain.content_type == "application/did+json"
    assert plain.data == response.data


@pytest.mark.parametrize("url", ["/issuers/default/jwks.json", "/.well-known/jwks.json"])
def test_jwks_publish_public_keys_only_with_their_issuer(client, initialized, award, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.content_type == "application/jwk-set+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    keys = response.get_json(force=True)["keys"]
    issuer_id = credential(initialized, award.public_id)["issuer"]["id"]
    assert keys
    for key in keys:
        assert not PRIVATE_JWK_MEMBERS & set(key), key
        assert key["iss"] == issuer_id
    jwt_header, _payload = jws_parts(stored(initialized, award.public_id, "ob3-jwt"))
    assert jwt_header["kid"].rsplit("/", 1)[-1] in {k["kid"] for k in keys}


def test_the_vc_jwt_kid_resolves_to_its_public_jwk(client, initialized, award):
    jwt_header, _payload = jws_parts(stored(initialized, award.public_id, "ob3-jwt"))
    response = client.get(path(jwt_header["kid"]))
    assert response.status_code == 200
    assert response.content_type == "application/jwk+json"
    jwk = response.get_json(force=True)
    assert jwk["kid"] == jwt_header["kid"].rsplit("/", 1)[-1]
    assert jwk["alg"] == jwt_header["alg"]
    assert not PRIVATE_JWK_MEMBERS & set(jwk)


# ---------------------------------------------------------------- unknown ids


UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    "url",
    [
        f"/ob2/assertions/{UNKNOWN}",
        f"/ob2/badges/{UNKNOWN}",
        "/ob2/issuers/nobody",
        "/ob2/issuers/nobody/revocations",
        "/ob2/issuers/default/keys/nokey",
        f"/credentials/{UNKNOWN}",
        f"/credentials/{UNKNOWN}/ob3-ldp.json",
        f"/achievements/{UNKNOWN}",
        f"/achievements/{UNKNOWN}/image.png",
        "/issuers/nobody",
        "/issuers/nobody/did.json",
        "/issuers/nobody/jwks.json",
        "/issuers/default/keys/nokey",
        f"/status/{UNKNOWN}",
    ],
)
@pytest.mark.parametrize(
    ("accept", "kind"), [("application/json", "application/json"), ("text/html", "text/html")]
)
def test_unknown_ids_are_404_in_the_requested_format(client, initialized, url, accept, kind):
    response = client.get(url, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == kind


# ---------------------------------------------------------------- input schemas


def test_the_input_schemas_are_served_and_resolve_each_other_there(client, initialized):
    assert set(schema_names()) >= {"achievement", "rules", "event", "renewal-policy"}
    served = {}
    for name in schema_names():
        response = client.get(f"/schemas/{name}.json")
        assert response.status_code == 200, name
        assert response.mimetype == "application/schema+json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        schema = json.loads(response.data)
        assert schema["$id"] == f"https://badges.example.org/schemas/{name}.json"
        served[schema["$id"]] = Resource.from_contents(schema)
    # achievement.json's rules are a $ref to rules.json: resolved among the served ones
    registry = Registry().with_resources(served.items())
    achievement = served["https://badges.example.org/schemas/achievement.json"].contents
    validator = Draft202012Validator(achievement, registry=registry)
    good = {"slug": "a", "name": "A", "description": "d", "criteria_narrative": "c"}
    assert validator.is_valid({**good, "rules": {"earned": "b"}})
    assert not validator.is_valid({**good, "rules": {"all_of": []}})


@pytest.mark.parametrize("name", ["nope", "..%2Fpyproject", "achievement.json"])
def test_an_unknown_schema_is_404(client, initialized, name):
    assert client.get(f"/schemas/{name}.json").status_code == 404
