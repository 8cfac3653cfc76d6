import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.domain.errors import ValidationError
from badger.domain.recipients import (
    IdentifierKind,
    identity_hash,
    identity_matches,
    normalize_email,
    parse_identifier,
)


def test_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Alice@Example.ORG ") == "alice@example.org"


@pytest.mark.parametrize("bad", ["", "alice", "a@b", "a b@example.org", "@example.org"])
def test_malformed_email_names_the_field(bad):
    with pytest.raises(ValidationError) as info:
        normalize_email(bad)
    assert info.value.field == "email"


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("did:key:z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi", "did", None),
        ("https://learner.example.org/me", "url", None),
        ("tel:+1 (555) 010-9999", "telephone", "+15550109999"),
        ("mailto:Bob@Example.org", "email", "bob@example.org"),
    ],
)
def test_identifier_kind_is_guessed_and_value_normalised(raw, kind, value):
    ident = parse_identifier(raw)
    assert ident.kind == IdentifierKind(kind)
    assert ident.value == (value or raw)


def test_unknown_identifier_kind_is_refused():
    with pytest.raises(ValidationError, match="unknown identifier kind"):
        parse_identifier("x@example.org", kind="fax")


def test_identity_hash_is_sha256_of_identifier_plus_salt():
    expected = hashlib.sha256(b"alice@example.orgdeadsea").hexdigest()
    assert identity_hash("alice@example.org", "deadsea") == f"sha256${expected}"


def test_identity_matches_accepts_upper_case_hex_and_rejects_others():
    published = identity_hash("alice@example.org", "s1").upper().replace("SHA256$", "sha256$")
    assert identity_matches("alice@example.org", published, "s1", hashed=True)
    assert not identity_matches("bob@example.org", published, "s1", hashed=True)
    assert not identity_matches("alice@example.org", "md5$abc", "s1", hashed=True)
    assert identity_matches("alice@example.org", "alice@example.org", None, hashed=False)


@given(st.emails())
def test_any_valid_email_round_trips_through_normalisation(email):
    once = normalize_email(email)
    assert normalize_email(once) == once
    assert identity_matches(once, identity_hash(once, "salt"), "salt", hashed=True)
