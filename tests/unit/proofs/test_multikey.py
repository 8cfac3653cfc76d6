"""Ed25519 Multikey and did:key encoding (VC-DI-EdDSA §2.1.1, did:key §3.1)."""

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.proofs.multikey import (
    ED25519_MULTICODEC,
    did_key_from_ed25519_public,
    did_key_verification_method,
    ed25519_public_to_multibase,
    multibase_to_ed25519_public,
)

# The 1EdTech OB 3.0 implementation guide key pair (FACTS §2.11).
VECTOR_PUBLIC = bytes.fromhex("4bdeafde2ea8beefadd8c699b5c7e0704cf51154d52e17b20b71337ca04cc5a5")
VECTOR_MULTIBASE = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"


def test_published_key_encodes_to_published_multikey():
    assert ed25519_public_to_multibase(VECTOR_PUBLIC) == VECTOR_MULTIBASE


def test_published_multikey_decodes_to_published_key():
    assert multibase_to_ed25519_public(VECTOR_MULTIBASE) == VECTOR_PUBLIC


def test_did_key_forms_reuse_the_multikey_value():
    assert did_key_from_ed25519_public(VECTOR_PUBLIC) == f"did:key:{VECTOR_MULTIBASE}"
    assert (
        did_key_verification_method(VECTOR_PUBLIC)
        == f"did:key:{VECTOR_MULTIBASE}#{VECTOR_MULTIBASE}"
    )


@given(st.binary(min_size=32, max_size=32))
def test_every_ed25519_key_round_trips_through_a_z6mk_value(raw):
    value = ed25519_public_to_multibase(raw)
    assert value.startswith("z6Mk")
    assert multibase_to_ed25519_public(value) == raw


@given(st.binary().filter(lambda b: len(b) != 32))
def test_encoding_refuses_anything_but_32_bytes(raw):
    with pytest.raises(ValueError, match="32 bytes"):
        ed25519_public_to_multibase(raw)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("", "must start with 'z'", id="empty"),
        pytest.param(
            "u7QFL3q_eLqi-763YxpmTx-BwTPURVNUuF7ILcTN8oEzFpQ",
            "must start with 'z'",
            id="base64url-multibase",
        ),
        pytest.param("f" + VECTOR_PUBLIC.hex(), "must start with 'z'", id="base16-multibase"),
        pytest.param(VECTOR_MULTIBASE[1:], "must start with 'z'", id="no-multibase-prefix"),
        pytest.param("z0OIl", "base58", id="non-base58-characters"),
        pytest.param(
            "z" + base58.b58encode(b"\xe7\x01" + b"\x02" * 33).decode(),
            "0xed01",
            id="secp256k1-multicodec",
        ),
        pytest.param(
            "z" + base58.b58encode(b"\x12\x20" + VECTOR_PUBLIC).decode(),
            "0xed01",
            id="sha256-multihash",
        ),
        pytest.param(
            "z" + base58.b58encode(ED25519_MULTICODEC + VECTOR_PUBLIC[:31]).decode(),
            "32 bytes",
            id="short-key",
        ),
        pytest.param(
            "z" + base58.b58encode(ED25519_MULTICODEC + VECTOR_PUBLIC + b"\x00").decode(),
            "32 bytes",
            id="long-key",
        ),
        pytest.param("zé", "base58", id="non-ascii"),
    ],
)
def test_decoding_rejects_what_is_not_an_ed25519_multikey(value, message):
    with pytest.raises(ValueError, match=message):
        multibase_to_ed25519_public(value)


def test_decoding_rejects_non_strings():
    with pytest.raises(ValueError, match="must start with 'z'"):
        multibase_to_ed25519_public(VECTOR_MULTIBASE.encode())  # type: ignore[arg-type]


@given(st.text())
def test_decoding_arbitrary_text_either_yields_32_bytes_or_raises_value_error(value):
    try:
        raw = multibase_to_ed25519_public(value)
    except ValueError:
        return
    assert len(raw) == 32
    assert ed25519_public_to_multibase(raw) == value
