"""Input sniffing: every input gets a kind, hostile ones a reason, and nothing raises."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from badger.credentials.baking import BakeKind, bake_png, bake_svg
from badger.verify.sniff import MAX_DEPTH, MAX_TEXT_BYTES, Detected, InputKind, detect

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SVG_NS = "http://www.w3.org/2000/svg"
OB2 = "https://w3id.org/openbadges/v2"
VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"

OB2_ASSERTION = {
    "@context": OB2,
    "type": "Assertion",
    "id": "https://issuer.example/assertions/1",
    "recipient": {"type": "email", "hashed": False, "identity": "a@example.org"},
    "badge": "https://issuer.example/badges/1",
    "verification": {"type": "hosted"},
    "issuedOn": "2026-01-01T00:00:00Z",
}
OB3_CREDENTIAL = {
    "@context": [VC2, OB3],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "id": "urn:uuid:2f6a8c1e-0f0e-4c55-9a57-6f1d1b3c4d5e",
    "credentialSubject": {"type": ["AchievementSubject"]},
}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(payload: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    head = json.dumps(header or {"alg": "RS256"}).encode()
    return f"{b64(head)}.{b64(json.dumps(payload).encode())}.{b64(b'signature')}"


def make_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (4, 4), 0).save(buffer, "PNG")
    return buffer.getvalue()


def make_svg() -> bytes:
    return f'<svg xmlns="{SVG_NS}" width="4" height="4"><rect width="4" height="4"/></svg>'.encode()


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


PNG = make_png()
SVG = make_svg()


# ---------------------------------------------------------------- text kinds


@pytest.mark.parametrize(
    "text", ["https://issuer.example/assertions/1", "  http://issuer.example/a?b=c\n"]
)
def test_http_urls_are_urls(text: str) -> None:
    found = detect(text)
    assert found.kind is InputKind.URL
    assert found.payload == text.strip()


@pytest.mark.parametrize(
    "text", ["ftp://issuer.example/a", "file:///etc/passwd", "javascript://x%0aalert(1)"]
)
def test_other_schemes_are_unusable_with_a_reason(text: str) -> None:
    found = detect(text)
    assert found.kind is InputKind.UNUSABLE
    assert "http and https" in found.reason


def test_ob2_signed_token_is_an_ob2_jws() -> None:
    found = detect(token({**OB2_ASSERTION, "id": "urn:uuid:1"}))
    assert found.kind is InputKind.OB2_JWS
    assert isinstance(found.payload, str)


@pytest.mark.parametrize(
    "payload",
    [
        {"iss": "did:web:x", "vc": {"type": ["VerifiableCredential"]}},
        {"@context": [VC2, OB3], "type": ["VerifiableCredential", "OpenBadgeCredential"]},
        {"credentialSubject": {"id": "did:example:1"}},
    ],
)
def test_vc_jwt_forms_are_vc_jwts(payload: dict[str, Any]) -> None:
    assert detect(token(payload, {"alg": "ES256", "kid": "k"})).kind is InputKind.VC_JWT


def test_token_with_a_foreign_payload_is_unusable() -> None:
    found = detect(token({"sub": "someone", "exp": 1}))
    assert found.kind is InputKind.UNUSABLE
    assert "neither" in found.reason


@pytest.mark.parametrize(
    "text",
    [
        "eyJhbGciOiJSUzI1NiJ9.!!!.c2ln",
        "eyJhbGciOiJSUzI1NiJ9.eyJhIjo.c2ln",
        "eyJhbGciOiJSUzI1NiJ9..c2ln",
        f"eyJhbGciOiJSUzI1NiJ9.{b64(b'[1,2]')}.c2ln",
    ],
)
def test_truncated_or_broken_tokens_are_unusable(text: str) -> None:
    assert detect(text).kind is InputKind.UNUSABLE


def test_ob2_assertion_json_is_an_ob2_assertion() -> None:
    found = detect(json.dumps(OB2_ASSERTION))
    assert found.kind is InputKind.OB2_ASSERTION
    assert found.payload == OB2_ASSERTION


def test_revoked_hosted_stub_is_still_an_ob2_assertion() -> None:
    stub = {"@context": OB2, "id": "https://x.example/a", "revoked": True}
    assert detect(json.dumps(stub)).kind is InputKind.OB2_ASSERTION


def test_ob2_badge_class_is_unusable_with_a_hint() -> None:
    found = detect(json.dumps({"@context": OB2, "type": "BadgeClass", "id": "https://x/b"}))
    assert found.kind is InputKind.UNUSABLE
    assert "BadgeClass" in found.reason


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        (OB3_CREDENTIAL, InputKind.OB3_CREDENTIAL),
        (
            {**OB3_CREDENTIAL, "type": ["VerifiableCredential", "AchievementCredential"]},
            InputKind.OB3_CREDENTIAL,
        ),
        (
            {**OB3_CREDENTIAL, "type": ["VerifiableCredential", "EndorsementCredential"]},
            InputKind.OB3_CREDENTIAL,
        ),
        ({**OB3_CREDENTIAL, "@context": [VC1, OB3]}, InputKind.OB3_CREDENTIAL),
        ({**OB3_CREDENTIAL, "type": ["VerifiableCredential", "ClrCredential"]}, InputKind.CLR),
    ],
)
def test_verifiable_credentials_are_told_apart_by_type(
    document: dict[str, Any], kind: InputKind
) -> None:
    assert detect(json.dumps(document)).kind is kind


def test_legacy_vc_form_is_named_in_the_reason() -> None:
    found = detect(json.dumps({**OB3_CREDENTIAL, "@context": [VC1, OB3]}))
    assert "VC 1.1" in found.reason


def test_other_verifiable_credentials_are_unusable() -> None:
    found = detect(json.dumps({"@context": [VC2], "type": ["VerifiableCredential", "Passport"]}))
    assert found.kind is InputKind.UNUSABLE
    assert "Passport" in found.reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("[1, 2, 3]", "an array"),
        ("42", "not a badge"),
        ("null", "not a badge"),
        ('{"hello": "world"}', "neither"),
        ('{"a": NaN}', "not valid JSON"),
        ('{"a": 1', "not valid JSON"),
        ('"just a string"', "not a badge"),
        ("hello world", "not a badge"),
    ],
)
def test_other_text_is_unusable_with_a_reason(text: str, words: str) -> None:
    found = detect(text)
    assert found.kind is InputKind.UNUSABLE
    assert words in found.reason


def test_json_string_holding_a_url_is_read_as_that_url() -> None:
    assert detect('"https://issuer.example/a"').kind is InputKind.URL


def test_utf8_bytes_with_a_bom_are_text() -> None:
    raw = b"\xef\xbb\xbf" + json.dumps(OB2_ASSERTION).encode()
    assert detect(raw).kind is InputKind.OB2_ASSERTION


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00{", b"\x80abc", b"\xc3(", bytes(range(256))])
def test_invalid_utf8_is_unusable(raw: bytes) -> None:
    found = detect(raw)
    assert found.kind is InputKind.UNUSABLE
    assert "UTF-8" in found.reason


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting_is_refused_before_parsing(opener: str) -> None:
    deep = opener * 100_000
    found = detect(deep)
    assert found.kind is InputKind.UNUSABLE
    assert f"deeper than {MAX_DEPTH}" in found.reason


def test_nesting_within_the_limit_is_read() -> None:
    nested: Any = "leaf"
    for _ in range(MAX_DEPTH - 2):
        nested = {"x": nested}
    document = {**OB3_CREDENTIAL, "extra": nested}
    assert detect(json.dumps(document)).kind is InputKind.OB3_CREDENTIAL


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    document = {**OB2_ASSERTION, "narrative": "[" * 1000 + '\\"{' * 100}
    assert detect(json.dumps(document)).kind is InputKind.OB2_ASSERTION


def test_huge_input_is_refused_by_size() -> None:
    huge = json.dumps({**OB2_ASSERTION, "narrative": "x" * MAX_TEXT_BYTES})
    assert detect(huge).kind is InputKind.UNUSABLE
    assert "larger than" in detect(huge.encode()).reason


def test_many_unterminated_escaped_quotes_are_rejected_quickly() -> None:
    # Quadratic scanning here would take minutes; linear takes well under a second.
    found = detect('["' + '\\"' * 900_000)
    assert found.kind is InputKind.UNUSABLE


def test_non_text_non_bytes_is_unusable() -> None:
    assert detect(12).kind is InputKind.UNUSABLE  # type: ignore[arg-type]


# ---------------------------------------------------------------- baked images


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (json.dumps(OB2_ASSERTION), InputKind.OB2_ASSERTION),
        ("https://issuer.example/assertions/1", InputKind.URL),
        (token({**OB2_ASSERTION, "id": "urn:uuid:1"}), InputKind.OB2_JWS),
    ],
)
def test_baked_ob2_png_payloads_are_detected_recursively(payload: str, kind: InputKind) -> None:
    found = detect(bake_png(PNG, payload, BakeKind.OB2))
    assert found.kind is kind
    assert found.image_format == "png"
    assert "PNG" in found.reason
    assert found.notes == ()


def test_baked_ob3_svg_is_an_ob3_credential() -> None:
    found = detect(bake_svg(SVG, json.dumps(OB3_CREDENTIAL), BakeKind.OB3))
    assert found.kind is InputKind.OB3_CREDENTIAL
    assert found.image_format == "svg"
    assert found.payload == OB3_CREDENTIAL


def test_baked_hosted_ob2_svg_gives_the_assertion_json() -> None:
    svg = bake_svg(SVG, json.dumps(OB2_ASSERTION), BakeKind.OB2, verify=OB2_ASSERTION["id"])
    found = detect(svg)
    assert found.kind is InputKind.OB2_ASSERTION


def test_pasted_svg_markup_is_read_as_an_image() -> None:
    svg = bake_svg(SVG, json.dumps(OB3_CREDENTIAL), BakeKind.OB3).decode()
    assert detect(svg).kind is InputKind.OB3_CREDENTIAL
    assert detect("<html><body>hi</body></html>").kind is InputKind.UNUSABLE
    assert detect("<svg \ud800").kind is InputKind.UNUSABLE


def test_payload_in_the_wrong_kind_of_chunk_is_noted() -> None:
    found = detect(bake_png(PNG, json.dumps(OB3_CREDENTIAL), BakeKind.OB2))
    assert found.kind is InputKind.OB3_CREDENTIAL
    assert any("Open Badges 2.0" in note for note in found.notes)


def test_legacy_text_chunk_url_is_a_url() -> None:
    chunk = png_chunk(b"tEXt", b"openbadges\x00https://issuer.example/a/1")
    found = detect(PNG[:-12] + chunk + PNG[-12:])
    assert found.kind is InputKind.URL
    assert found.notes


def test_image_without_a_baked_badge_is_unusable() -> None:
    for image in (PNG, SVG):
        found = detect(image)
        assert found.kind is InputKind.UNUSABLE
        assert "no baked" in found.reason


def test_baked_garbage_is_unusable_with_the_image_named() -> None:
    found = detect(bake_png(PNG, "hello there", BakeKind.OB2))
    assert found.kind is InputKind.UNUSABLE
    assert "PNG image's baked payload" in found.reason


def test_compressed_chunk_bomb_is_a_clean_error() -> None:
    bomb = zlib.compress(b"\x00" * (8 * 1024 * 1024), 9)
    png = PNG[:-12] + png_chunk(b"iTXt", b"openbadges\x00\x01\x00\x00\x00" + bomb) + PNG[-12:]
    found = detect(png)
    assert found.kind is InputKind.UNUSABLE
    assert "PNG image cannot be read" in found.reason


@pytest.mark.parametrize("name", ["billion-laughs.svg", "external-entity.svg", "external-dtd.svg"])
def test_hostile_svgs_are_clean_errors(name: str) -> None:
    path = ASSETS / "svg" / name
    found = detect(path.read_bytes())
    assert found.kind is InputKind.UNUSABLE
    assert "SVG" in found.reason


@pytest.mark.parametrize("cut", [9, 20, 40, -13])
def test_truncated_pngs_are_clean_errors(cut: int) -> None:
    baked = bake_png(PNG, json.dumps(OB2_ASSERTION), BakeKind.OB2)
    assert detect(baked[:cut]).kind is InputKind.UNUSABLE


# ---------------------------------------------------------------- properties

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(
            st.sampled_from(["@context", "type", "vc", "credentialSubject", "recipient", "id"])
            | st.text(max_size=8),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


def assert_sane(found: Detected) -> None:
    assert isinstance(found, Detected)
    assert isinstance(found.kind, InputKind)
    assert found.reason
    if found.kind is InputKind.UNUSABLE:
        assert found.payload is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert_sane(detect(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes_after_a_png_or_svg_signature_never_raise(data: bytes) -> None:
    assert_sane(detect(b"\x89PNG\r\n\x1a\n" + data))
    assert_sane(detect(b"<svg " + data))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=512))
def test_random_text_never_raises(text: str) -> None:
    assert_sane(detect(text))
    assert_sane(detect(text.encode("utf-8", "surrogatepass")))


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_random_json_never_raises(value: Any) -> None:
    text = json.dumps(value)
    assert_sane(detect(text))
    assert_sane(detect(token(value if isinstance(value, dict) else {"x": value})))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400), st.sampled_from(["[", "{", '{"a":', '["x",']))
def test_any_nesting_depth_never_raises(depth: int, opener: str) -> None:
    assert_sane(detect(opener * depth))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_truncated_tokens_never_raise(data: st.DataObject) -> None:
    full = token({**OB2_ASSERTION, "id": "urn:uuid:1"})
    cut = data.draw(st.integers(min_value=0, max_value=len(full)))
    assert_sane(detect(full[:cut]))
