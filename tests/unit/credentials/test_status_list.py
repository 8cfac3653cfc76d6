"""W3C Bitstring Status List v1.0: bitstring, encoding and documents (FACTS §2.8 B, §5.5)."""

from __future__ import annotations

import base64
import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from badger.credentials.status_list import (
    DEFAULT_LENGTH,
    MAX_DECODED_BYTES,
    MIN_LENGTH,
    Bitstring,
    StatusListError,
    choose_index,
    decode_list,
    encode_list,
    status_entry,
    status_list_credential,
)
from tests.conftest import spec_path


def fixture_list_credential() -> dict:
    path = (
        spec_path()
        / "ob_v3p0"
        / "fixtures-1edtech-validator"
        / "bitstring-status-list-credential.json"
    )
    if not path.is_file():
        pytest.skip(f"1EdTech validator fixture not available at {path} (set BADGER_SPEC_DIR)")
    return json.loads(path.read_text(encoding="utf-8"))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ------------------------------------------------------------- bitstring


def test_a_new_list_has_the_minimum_length_and_nothing_set() -> None:
    bits = Bitstring()
    assert len(bits) == DEFAULT_LENGTH == MIN_LENGTH == 131_072
    assert bits.to_bytes() == bytes(16_384)
    assert bits.count() == 0
    assert repr(bits) == "Bitstring(length=131072, set=0)"


@pytest.mark.parametrize("length", [0, 8, MIN_LENGTH - 8])
def test_a_list_shorter_than_the_minimum_is_a_length_error(length: int) -> None:
    with pytest.raises(StatusListError, match="at least 131,072") as caught:
        Bitstring(length)
    assert caught.value.code == "STATUS_LIST_LENGTH_ERROR"


def test_a_list_length_must_be_whole_bytes() -> None:
    with pytest.raises(StatusListError, match="whole number of bytes"):
        Bitstring(MIN_LENGTH + 3)


@pytest.mark.parametrize(
    ("index", "byte", "value"),
    [
        (0, 0, 0x80),
        (1, 0, 0x40),
        (7, 0, 0x01),
        (8, 1, 0x80),
        (23, 2, 0x01),
        (131_071, 16_383, 0x01),
    ],
)
def test_bit_order_is_most_significant_bit_first(index: int, byte: int, value: int) -> None:
    bits = Bitstring()
    bits.set(index, True)
    raw = bits.to_bytes()
    assert raw[byte] == value
    assert sum(raw) == value
    assert bits.get(index) is True
    assert list(bits.set_indices()) == [index]


def test_set_false_clears_only_that_bit() -> None:
    bits = Bitstring.with_set({3, 4, 5})
    bits.set(4, False)
    bits.set(4, False)
    assert list(bits.set_indices()) == [3, 5]
    assert bits.get(4) is False


@pytest.mark.parametrize("index", [-1, MIN_LENGTH, 10**9])
def test_an_index_outside_the_list_is_a_range_error(index: int) -> None:
    bits = Bitstring()
    with pytest.raises(StatusListError, match="outside the status list") as caught:
        bits.get(index)
    assert caught.value.code == "RANGE_ERROR"
    with pytest.raises(StatusListError):
        bits.set(index, True)


@pytest.mark.parametrize("index", [True, "5", 1.0])
def test_an_index_must_be_an_integer(index: object) -> None:
    with pytest.raises(TypeError, match="integer"):
        Bitstring().get(index)  # type: ignore[arg-type]


def test_bitstrings_compare_by_content_and_are_unhashable() -> None:
    assert Bitstring.with_set({1}) == Bitstring.with_set({1})
    assert Bitstring.with_set({1}) != Bitstring.with_set({2})
    assert Bitstring() != b"\x00" * 16_384
    with pytest.raises(TypeError):
        hash(Bitstring())


# -------------------------------------------------------------- encoding


def test_encoding_is_u_prefixed_unpadded_base64url_of_gzip() -> None:
    encoded = encode_list(Bitstring.with_set({0, 23, 99_999}))
    assert encoded.startswith("uH4sI")  # 'u' + base64 of the GZIP magic 1f 8b 08
    assert "=" not in encoded
    assert "+" not in encoded
    assert "/" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == 16_384
    assert raw[0] == 0x80


def test_encoding_is_deterministic() -> None:
    assert encode_list(Bitstring.with_set({5})) == encode_list(Bitstring.with_set({5}))


def test_the_1edtech_fixture_list_has_exactly_bit_23_set() -> None:
    credential = fixture_list_credential()
    bits = decode_list(credential["credentialSubject"]["encodedList"])
    assert len(bits) == 131_072
    assert list(bits.set_indices()) == [23]
    assert bits.get(23)
    assert not bits.get(22)
    assert decode_list(encode_list(bits)) == bits


def test_decoding_tolerates_a_missing_prefix_padding_and_standard_base64() -> None:
    bits = Bitstring.with_set({7, 64, 1000})
    compressed = gzip.compress(bits.to_bytes())
    padded = base64.urlsafe_b64encode(compressed).decode()
    standard = base64.b64encode(compressed).decode()
    for variant in (
        "u" + b64url(compressed),
        b64url(compressed),
        "u" + padded,
        padded,
        standard,
        f"  u{padded}\n",
    ):
        assert decode_list(variant) == bits


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("z3yZe7d", "base58btc"),
        ("u!!!not-base64!!!", "not valid base64url"),
        ("u" + b64url(b"plain bytes, not gzip"), "GZIP"),
        ("u" + b64url(gzip.compress(bytes(16_384), mtime=0)[:-30]), "truncated"),
        ("u" + b64url(b"\x1f\x8b" + b"\x08" + b"\xff" * 40), "damaged"),
    ],
)
def test_malformed_encoded_lists_are_explained(encoded: str, message: str) -> None:
    with pytest.raises(StatusListError, match=message) as caught:
        decode_list(encoded)
    assert caught.value.code == "MALFORMED_VALUE_ERROR"
    assert caught.value.reason == str(caught.value)


def test_a_non_string_encoded_list_is_malformed() -> None:
    with pytest.raises(StatusListError, match="empty"):
        decode_list(None)  # type: ignore[arg-type]


def test_a_decoded_list_below_the_minimum_is_a_length_error() -> None:
    short = "u" + b64url(gzip.compress(bytes(1024)))
    with pytest.raises(StatusListError, match="8,192 entries; at least 131,072") as caught:
        decode_list(short)
    assert caught.value.code == "STATUS_LIST_LENGTH_ERROR"
    assert len(decode_list(short, min_length=8192)) == 8192


def test_a_gzip_bomb_is_refused_without_inflating_it_all() -> None:
    bomb = "u" + b64url(gzip.compress(bytes(MAX_DECODED_BYTES + 1), compresslevel=9))
    assert len(bomb) < 40_000
    with pytest.raises(StatusListError, match="more than 16,777,216 bytes") as caught:
        decode_list(bomb)
    assert caught.value.code == "STATUS_LIST_LENGTH_ERROR"
    with pytest.raises(StatusListError, match="more than 16,384 bytes"):
        decode_list(encode_list(Bitstring(MIN_LENGTH * 2)), max_bytes=16_384)


@settings(max_examples=50, deadline=None)
@given(
    indices=st.sets(st.integers(min_value=0, max_value=MIN_LENGTH * 2 - 1), max_size=64),
    extra_bytes=st.integers(min_value=0, max_value=MIN_LENGTH // 8),
)
def test_encode_decode_round_trips_any_set_of_bits(indices: set[int], extra_bytes: int) -> None:
    length = MIN_LENGTH * 2 + extra_bytes * 8
    bits = Bitstring.with_set(indices, length)
    decoded = decode_list(encode_list(bits))
    assert decoded == bits
    assert len(decoded) == length
    assert list(decoded.set_indices()) == sorted(indices)
    assert decoded.count() == len(indices)


@settings(max_examples=50, deadline=None)
@given(
    changes=st.dictionaries(st.integers(0, MIN_LENGTH // 8 - 1), st.integers(0, 255), max_size=32)
)
def test_get_agrees_with_the_msb_first_formula_for_any_bytes(changes: dict[int, int]) -> None:
    raw = bytearray(MIN_LENGTH // 8)
    for position, value in changes.items():
        raw[position] = value
    bits = Bitstring.from_bytes(bytes(raw))
    for position in changes:
        for index in range(position * 8, position * 8 + 8):
            assert bits.get(index) == bool((raw[index // 8] >> (7 - index % 8)) & 1)
    assert decode_list(encode_list(bits)).to_bytes() == raw


# ----------------------------------------------------------- index choice


def test_chosen_indices_are_free_random_and_not_sequential() -> None:
    used: set[int] = set()
    for _ in range(50):
        index = choose_index(used)
        assert 0 <= index < DEFAULT_LENGTH
        assert index not in used
        used.add(index)
    ordered = sorted(used)
    assert len(used) == 50
    # Sequential assignment would give 0..49; random ones spread over the list.
    assert ordered != list(range(ordered[0], ordered[0] + 50))
    assert ordered[-1] - ordered[0] > 1000


def test_choose_index_finds_the_last_free_entry_and_refuses_a_full_list() -> None:
    assert choose_index(set(range(16)) - {11}, length=16) == 11
    # So full that random draws all miss: the scan must find the one free index.
    assert choose_index(range(999_999), length=1_000_000) == 999_999
    with pytest.raises(StatusListError, match="All 16 entries") as caught:
        choose_index(set(range(16)), length=16)
    assert caught.value.code == "RANGE_ERROR"
    with pytest.raises(StatusListError, match="no entries"):
        choose_index(set(), length=0)


# -------------------------------------------------------------- documents


def test_status_list_credential_has_the_bitstring_status_list_shape() -> None:
    encoded = encode_list(Bitstring.with_set({94567}))
    credential = status_list_credential(
        "https://issuer.example/status/1",
        "https://issuer.example/issuers/1",
        "revocation",
        encoded,
        "2025-01-01T00:00:00Z",
    )
    assert credential == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://issuer.example/status/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "https://issuer.example/issuers/1",
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://issuer.example/status/1#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }


def test_status_list_credential_matches_the_1edtech_fixture_apart_from_the_proof() -> None:
    fixture = fixture_list_credential()
    subject = fixture["credentialSubject"]
    built = status_list_credential(
        fixture["id"],
        fixture["issuer"],
        subject["statusPurpose"],
        subject["encodedList"],
        fixture["validFrom"],
    )
    expected = {k: v for k, v in fixture.items() if k != "proof"}
    # The fixture's subject id names a different path than its credential id.
    expected["credentialSubject"] = {**subject, "id": fixture["id"] + "#list"}
    assert built == expected


def test_status_list_credential_takes_an_issuer_object_valid_until_and_ttl() -> None:
    issuer = {"id": "did:example:issuer", "type": ["Profile"], "name": "Example"}
    credential = status_list_credential(
        "https://issuer.example/status/2",
        issuer,
        "suspension",
        encode_list(Bitstring()),
        "2025-01-01T00:00:00+01:00",
        "2026-01-01T00:00:00Z",
        ttl_ms=300_000,
    )
    assert credential["issuer"] == issuer
    assert credential["issuer"] is not issuer
    assert credential["validUntil"] == "2026-01-01T00:00:00Z"
    assert credential["credentialSubject"]["ttl"] == 300_000
    assert list(credential) == [
        "@context",
        "id",
        "type",
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSubject",
    ]


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"purpose": "revoked"}, ValueError, "Unknown statusPurpose"),
        ({"issuer": {"name": "no id"}}, ValueError, "needs an 'id'"),
        ({"valid_from": "2025-01-01T00:00:00"}, ValueError, "time zone"),
        ({"valid_from": "yesterday"}, ValueError, "ISO 8601"),
        ({"valid_until": "2025-13-01T00:00:00Z"}, ValueError, "ISO 8601"),
        ({"encoded_list": "u" + b64url(gzip.compress(bytes(8)))}, StatusListError, "at least"),
        ({"ttl_ms": -1}, ValueError, "ttl"),
        ({"ttl_ms": True}, ValueError, "ttl"),
    ],
)
def test_status_list_credential_refuses_bad_input(
    overrides: dict, error: type[Exception], message: str
) -> None:
    arguments = {
        "list_id": "https://issuer.example/status/1",
        "issuer": "https://issuer.example/issuers/1",
        "purpose": "revocation",
        "encoded_list": encode_list(Bitstring()),
        "valid_from": "2025-01-01T00:00:00Z",
    } | overrides
    with pytest.raises(error, match=message):
        status_list_credential(**arguments)


def test_status_entry_matches_the_facts_example() -> None:
    assert status_entry("https://issuer.example/status/1", 94567, "revocation") == {
        "id": "https://issuer.example/status/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://issuer.example/status/1",
    }


@pytest.mark.parametrize(
    ("index", "purpose", "message"),
    [
        (-1, "revocation", "non-negative"),
        ("5", "revocation", "non-negative"),
        (True, "revocation", "non-negative"),
        (5, "nope", "Unknown"),
    ],
)
def test_status_entry_refuses_bad_input(index: object, purpose: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        status_entry("https://issuer.example/status/1", index, purpose)  # type: ignore[arg-type]


def test_the_1edtech_revoked_credential_points_at_the_set_bit() -> None:
    fixture = fixture_list_credential()
    path = (
        spec_path()
        / "ob_v3p0"
        / "fixtures-1edtech-validator"
        / "bitstring-status-revoked-credential.json"
    )
    status = json.loads(path.read_text(encoding="utf-8"))["credentialStatus"]
    bits = decode_list(fixture["credentialSubject"]["encodedList"])
    assert bits.get(int(status["statusListIndex"]))
