"""Any change to a signed credential is detected (property tests over the issued shapes)."""

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from badger.credentials import ob2, ob3
from badger.credentials.model import AchievementInfo, AwardInfo, IssuerInfo, RecipientInfo
from badger.proofs.di_eddsa_rdfc_2022 import resolve_did_key, verify_proof
from badger.proofs.errors import ProofError
from badger.proofs.jsonld import undefined_terms
from badger.proofs.jws import verify_compact_jws
from badger.proofs.keystore import KeyAlgorithm, MemoryKeyStore
from badger.proofs.signing import add_data_integrity_proof, sign_ob2_jws, sign_vc_jwt
from badger.proofs.vc_jwt import verify_vc_jwt

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AWARD_ID = "4f0e8f4c-7b2a-4e5e-9a53-2d5f0f8a9b11"


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    store = MemoryKeyStore()
    ed, rsa, _ = store.ensure_keys("isms")
    issuer_id = f"did:key:{ed.multibase}"
    key_url = f"https://badges.example.org/ob2/issuers/isms/keys/{rsa.kid}"
    issuer = IssuerInfo(
        id=issuer_id,
        ob2_profile_url="https://badges.example.org/ob2/issuers/isms",
        name="Institute of Social Media Strategists",
        url="https://isms.example.org",
        email="office@isms.example.org",
        ob2_public_key_urls=(key_url,),
        ob2_revocation_list_url="https://badges.example.org/ob2/issuers/isms/revocations",
    )
    achievement = AchievementInfo(
        id="https://badges.example.org/achievements/ethics",
        ob2_badgeclass_url="https://badges.example.org/ob2/badges/ethics",
        name="Ethics and Disclosure",
        description="The required ethics unit.",
        criteria_narrative="Pass the quiz.",
        image_url="https://badges.example.org/achievements/ethics/image.png",
        achievement_type="MicroCredential",
        credits_available=Decimal("1.5"),
    )
    award = AwardInfo(
        public_id=AWARD_ID,
        ob2_assertion_url=f"https://badges.example.org/ob2/assertions/{AWARD_ID}",
        ob3_credential_id=f"urn:uuid:{AWARD_ID}",
        issued_on=NOW,
        valid_from=NOW,
        valid_until=NOW + timedelta(days=365),
        credits_earned=Decimal("1.5"),
        revocation=("https://badges.example.org/status/r", 4242),
    )
    recipient = RecipientInfo(salt=secrets.token_hex(8), email="ada@example.org")
    credential = ob3.open_badge_credential(award, achievement, issuer, recipient)
    payload = ob2.signed_assertion(award, achievement, issuer, recipient, creator=key_url)
    return {
        "ldp": add_data_integrity_proof(
            credential, store, "isms", f"{issuer_id}#{ed.multibase}", NOW
        ),
        "jwt": sign_vc_jwt(
            credential, store, "isms", "RS256", f"https://badges.example.org/k/{rsa.kid}"
        ),
        "jws": sign_ob2_jws(payload, store, "isms"),
        "rsa_pem": store.active_key("isms", KeyAlgorithm.RS256).public_pem,
    }


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def _set(doc: Any, path: tuple, new: Any) -> None:
    for part in path[:-1]:
        doc = doc[part]
    doc[path[-1]] = new


def _changed(old: Any, salt: str) -> Any:
    if isinstance(old, bool):
        return not old
    if isinstance(old, int | float):
        return old + 1
    return f"{old}{salt}"


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_untouched_credentials_verify(signed):
    assert verify_proof(signed["ldp"], resolve_did_key).verified
    result = verify_vc_jwt(signed["jwt"], lambda kid, jwk: signed["rsa_pem"], NOW)
    assert result.code == "verified"
    assert verify_compact_jws(signed["jws"], signed["rsa_pem"])["id"] == f"urn:uuid:{AWARD_ID}"


@FUZZ
@given(data=st.data())
def test_changing_any_signed_value_is_caught_by_the_proof_or_the_context_check(signed, data):
    document = json.loads(json.dumps(signed["ldp"]))
    paths = [p for p in _leaves(document) if p[0] not in {"proof", "@context"}]
    path = data.draw(st.sampled_from(paths))
    old = document
    for part in path:
        old = old[part]
    _set(document, path, _changed(old, data.draw(st.text(min_size=1, max_size=3))))
    # Either the proof fails, or the change made a term undefined (e.g. type
    # "Profile " with a trailing space, which pyld expands to the same RDF):
    # that is why verifiers must run the undefined-term check as well.
    assert not verify_proof(document, resolve_did_key).verified or undefined_terms(document)


@FUZZ
@given(data=st.data())
def test_changing_any_byte_of_a_jwt_or_jws_breaks_it(signed, data):
    for name in ("jwt", "jws"):
        token = signed[name]
        header, payload, signature = token.split(".")
        raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
        forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        tampered = f"{header}.{forged}.{signature}"
        if name == "jwt":
            result = verify_vc_jwt(tampered, lambda kid, jwk: signed["rsa_pem"], NOW)
            assert result.code != "verified"
        else:
            with pytest.raises(ProofError):
                verify_compact_jws(tampered, signed["rsa_pem"])


def test_expired_jwt_is_reported_expired(signed):
    result = verify_vc_jwt(
        signed["jwt"], lambda kid, jwk: signed["rsa_pem"], NOW + timedelta(days=400)
    )
    assert result.code == "expired"


def test_a_different_issuer_key_does_not_verify(signed):
    other = MemoryKeyStore()
    other.ensure_keys("other")
    pem = other.active_key("other", KeyAlgorithm.RS256).public_pem
    assert verify_vc_jwt(signed["jwt"], lambda kid, jwk: pem, NOW).code != "verified"
    with pytest.raises(ProofError):
        verify_compact_jws(signed["jws"], pem)
