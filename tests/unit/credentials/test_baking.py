"""Baking and extracting credentials in PNG and SVG badge images (FACTS §1.12, §2.13, §3.2)."""

from __future__ import annotations

import io
import json
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image, PngImagePlugin

from badger.credentials.baking import (
    DEFAULT_LIMITS,
    BakeKind,
    BakingError,
    Limits,
    bake_image,
    bake_png,
    bake_svg,
    extract_image,
    extract_png,
    extract_svg,
    sanitize_svg,
    sniff_image,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
SVG_NS = "http://www.w3.org/2000/svg"

OB3_JSON = json.dumps(
    {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:2f6a8c1e-0f0e-4c55-9a57-6f1d1b3c4d5e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": 'Crème brûlée <safety> & "quotes" ]]> done',
    },
    ensure_ascii=False,
)
OB2_HOSTED = json.dumps(
    {
        "@context": "https://w3id.org/openbadges/v2",
        "type": "Assertion",
        "id": "https://issuer.example/assertions/1",
    }
)
JWS = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl"


def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def make_png(size: tuple[int, int] = (8, 8), mode: str = "RGBA", pnginfo=None) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 0).save(buffer, "PNG", pnginfo=pnginfo)
    return buffer.getvalue()


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def chunk_types(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, read independently of the module under test."""
    out, pos = [], 8
    while pos < len(png):
        (length,) = struct.unpack_from(">I", png, pos)
        out.append((png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return out


def make_svg(body: str = '<rect width="10" height="10"/>') -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="{SVG_NS}" '
        f'xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10">{body}</svg>'
    ).encode()


PNG = make_png()
SVG = make_svg()


# ------------------------------------------------------------------- PNG


@pytest.mark.parametrize("kind", list(BakeKind))
def test_png_round_trip_for_each_kind(kind: BakeKind) -> None:
    baked = bake_png(PNG, OB3_JSON, kind)
    found = extract_png(baked)
    assert found is not None
    assert (found.kind, found.image_format, found.payload) == (kind, "png", OB3_JSON)
    assert not found.legacy
    assert found.notes == ()


@pytest.mark.parametrize(
    ("kind", "keyword"),
    [
        (BakeKind.OB2, b"openbadges"),
        (BakeKind.OB3, b"openbadgecredential"),
        (BakeKind.CLR2, b"clrcredential"),
    ],
)
def test_png_chunk_is_uncompressed_itxt_with_the_spec_layout(
    kind: BakeKind, keyword: bytes
) -> None:
    baked = bake_png(PNG, JWS, kind)
    itxt = [data for ctype, data in chunk_types(baked) if ctype == b"iTXt"]
    # FACTS §1.12: keyword NUL, flag 0, method 0, empty lang NUL, empty tkey NUL, text.
    assert itxt == [keyword + b"\x00\x00\x00\x00\x00" + JWS.encode()]


def test_png_baking_keeps_original_bytes_and_inserts_before_iend() -> None:
    baked = bake_png(PNG, OB3_JSON, BakeKind.OB3)
    iend = png_chunk(b"IEND", b"")
    assert PNG.endswith(iend)
    assert baked.startswith(PNG[: -len(iend)])
    assert baked.endswith(iend)
    assert [t for t, _ in chunk_types(baked)][-2:] == [b"iTXt", b"IEND"]


def test_pillow_still_opens_the_baked_png_and_reads_the_same_text() -> None:
    baked = bake_png(PNG, OB3_JSON, BakeKind.OB3)
    with Image.open(io.BytesIO(baked)) as image:
        image.load()
        assert image.size == (8, 8)
        assert image.text["openbadgecredential"] == OB3_JSON


def test_rebaking_replaces_the_chunk_rather_than_adding_a_second() -> None:
    once = bake_png(PNG, "first", BakeKind.OB3)
    twice = bake_png(once, "second", BakeKind.OB3)
    itxt = [data for ctype, data in chunk_types(twice) if ctype == b"iTXt"]
    assert len(itxt) == 1
    found = extract_png(twice)
    assert found is not None
    assert found.payload == "second"


def test_rebaking_one_kind_keeps_another_kinds_chunk() -> None:
    both = bake_png(bake_png(PNG, OB2_HOSTED, BakeKind.OB2), OB3_JSON, BakeKind.OB3)
    ob2 = extract_png(both, BakeKind.OB2)
    ob3 = extract_png(both, BakeKind.OB3)
    assert ob2 is not None
    assert ob3 is not None
    assert (ob2.payload, ob3.payload) == (OB2_HOSTED, OB3_JSON)
    first = extract_png(both)
    assert first is not None
    assert first.kind is BakeKind.OB2  # first matching chunk in file order


def test_baking_removes_stale_text_chunks_with_the_same_keyword() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("openbadges", "https://issuer.example/old")
    info.add_itxt("openbadges", "old", zip=True)
    info.add_text("Comment", "kept")
    baked = bake_png(make_png(pnginfo=info), OB2_HOSTED, BakeKind.OB2)
    keywords = [
        data.split(b"\x00", 1)[0]
        for ctype, data in chunk_types(baked)
        if ctype in (b"tEXt", b"iTXt", b"zTXt")
    ]
    assert keywords == [b"Comment", b"openbadges"]


def test_extract_reads_the_first_of_duplicate_chunks_and_says_so() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadgecredential", "one")
    info.add_itxt("openbadgecredential", "two")
    found = extract_png(make_png(pnginfo=info))
    assert found is not None
    assert found.payload == "one"
    assert any("2 'openbadgecredential'" in note for note in found.notes)


def test_extract_reads_a_compressed_itxt_but_notes_the_deviation() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("openbadgecredential", OB3_JSON, zip=True)
    found = extract_png(make_png(pnginfo=info))
    assert found is not None
    assert found.payload == OB3_JSON
    assert any("compressed" in note for note in found.notes)


def test_extract_refuses_a_compressed_itxt_bomb() -> None:
    bomb = zlib.compress(b"\x00" * (DEFAULT_LIMITS.max_payload_bytes + 1024), 9)
    data = b"openbadgecredential\x00\x01\x00\x00\x00" + bomb
    png = PNG[:-12] + png_chunk(b"iTXt", data) + PNG[-12:]
    with pytest.raises(BakingError, match="expands beyond"):
        extract_png(png)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"openbadgecredential\x00\x01\x01\x00\x00x", "unknown compression method"),
        (b"openbadgecredential\x00\x02\x00\x00\x00x", "invalid compression flag"),
        (b"openbadgecredential\x00\x01\x00\x00\x00not zlib", "damaged"),
        (b"openbadgecredential\x00\x00", "malformed"),
        (b"openbadgecredential\x00\x00\x00\x00\x00\xff\xfe", "not valid UTF-8"),
    ],
)
def test_extract_explains_a_malformed_credential_chunk(data: bytes, message: str) -> None:
    png = PNG[:-12] + png_chunk(b"iTXt", data) + PNG[-12:]
    with pytest.raises(BakingError, match=message):
        extract_png(png)


def test_bake_kinds_carry_the_spec_names() -> None:
    assert [
        (k.png_keyword, k.svg_namespace, k.svg_prefix, k.svg_element, k.label) for k in BakeKind
    ] == [
        ("openbadges", "http://openbadges.org", "openbadges", "assertion", "Open Badges 2.0"),
        (
            "openbadgecredential",
            "https://purl.imsglobal.org/ob/v3p0",
            "openbadges",
            "credential",
            "Open Badges 3.0",
        ),
        ("clrcredential", "https://purl.imsglobal.org/clr/v2p0", "clr", "credential", "CLR 2.0"),
    ]


def test_extract_reads_a_legacy_text_chunk_as_an_ob2_url() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("openbadges", "https://issuer.example/assertions/1")
    found = extract_png(make_png(pnginfo=info))
    assert found is not None
    assert found.kind is BakeKind.OB2
    assert found.payload == "https://issuer.example/assertions/1"
    assert found.legacy
    assert extract_png(make_png(pnginfo=info), BakeKind.OB3) is None


def test_extract_returns_none_for_an_unbaked_png() -> None:
    assert extract_png(PNG) is None


def test_extract_refuses_an_empty_chunk() -> None:
    png = PNG[:-12] + png_chunk(b"iTXt", b"openbadgecredential\x00\x00\x00\x00\x00") + PNG[-12:]
    with pytest.raises(BakingError, match="is empty"):
        extract_png(png)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a" + b"\x00" * 32, "not a PNG"),
        (b"", "not a PNG"),
        (PNG[:-20], "truncated"),
        (PNG[:10], "truncated"),
        (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IDAT", b""), "IHDR"),
        (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", b"\x00" * 13)[:-4] + b"\x00\x00\x00\x00", "CRC"),
        (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IH1R", b"\x00" * 13), "invalid type"),
    ],
)
def test_a_non_png_or_damaged_png_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(BakingError, match=message):
        bake_png(data, OB3_JSON, BakeKind.OB3)
    with pytest.raises(BakingError, match=message):
        extract_png(data)


def test_a_png_whose_pixels_pillow_cannot_decode_is_not_baked() -> None:
    chunks = chunk_types(PNG)
    rebuilt = b"\x89PNG\r\n\x1a\n" + b"".join(
        png_chunk(t, b"not zlib data" if t == b"IDAT" else d) for t, d in chunks
    )
    with pytest.raises(BakingError, match="not a readable PNG"):
        bake_png(rebuilt, OB3_JSON, BakeKind.OB3)


@pytest.mark.parametrize("ihdr", [struct.pack(">IIBBBBB", 0, 8, 8, 6, 0, 0, 0), b"\x00" * 12])
def test_a_png_with_a_broken_header_is_rejected(ihdr: bytes) -> None:
    png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")
    with pytest.raises(BakingError, match="damaged"):
        bake_png(png, OB3_JSON, BakeKind.OB3)


def test_a_decompression_bomb_png_is_rejected_before_decoding() -> None:
    # 100,000 x 100,000 pixels declared; a few hundred bytes on disk.
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 100_001 * 4, 9)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )
    assert len(bomb) < 2048
    with pytest.raises(BakingError, match="pixels; the limit is"):
        bake_png(bomb, OB3_JSON, BakeKind.OB3)


def test_a_real_pillow_made_bomb_is_rejected_by_the_pixel_limit() -> None:
    bomb = make_png((5000, 5000), mode="1")
    assert len(bomb) < 100_000
    with pytest.raises(BakingError, match="5,000 x 5,000"):
        bake_png(bomb, OB3_JSON, BakeKind.OB3)


@pytest.mark.parametrize("pillow_limit", [40, 20])
def test_pillows_own_bomb_check_becomes_a_baking_error(
    monkeypatch: pytest.MonkeyPatch, pillow_limit: int
) -> None:
    # 8x8 = 64 pixels: above 40 Pillow warns, above 2x20 it raises.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pillow_limit)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(BakingError, match="too large to decode"):
            bake_png(PNG, OB3_JSON, BakeKind.OB3)


def test_byte_size_limits_apply_to_image_and_payload() -> None:
    assert len(PNG) > 40
    with pytest.raises(BakingError, match="the limit is 40 bytes"):
        bake_png(PNG, OB3_JSON, BakeKind.OB3, limits=Limits(max_png_bytes=40))
    with pytest.raises(BakingError, match="the limit is 40 bytes"):
        extract_png(PNG, limits=Limits(max_png_bytes=40))
    with pytest.raises(BakingError, match="payload is"):
        bake_png(PNG, "x" * 101, BakeKind.OB3, limits=Limits(max_payload_bytes=100))
    with pytest.raises(BakingError, match="baked image would be"):
        bake_png(PNG, "x" * 100, BakeKind.OB3, limits=Limits(max_png_bytes=len(PNG) + 50))
    with pytest.raises(BakingError, match="baked image would be"):
        bake_svg(SVG, "x" * 100, BakeKind.OB3, limits=Limits(max_svg_bytes=len(SVG) + 50))


@pytest.mark.parametrize("payload", ["", "   ", "\n\t"])
def test_an_empty_payload_is_refused(payload: str) -> None:
    with pytest.raises(BakingError, match="nothing to bake"):
        bake_png(PNG, payload, BakeKind.OB3)
    with pytest.raises(BakingError, match="nothing to bake"):
        bake_svg(SVG, payload, BakeKind.OB3)


def test_a_payload_that_is_not_unicode_text_is_refused() -> None:
    with pytest.raises(BakingError, match="not valid Unicode"):
        bake_png(PNG, "lone \ud800 surrogate", BakeKind.OB3)


def test_data_after_iend_is_dropped_when_baking() -> None:
    baked = bake_png(PNG + b"PK\x03\x04 polyglot tail", JWS, BakeKind.OB3)
    assert b"polyglot" not in baked
    assert baked.endswith(png_chunk(b"IEND", b""))


@settings(max_examples=60, deadline=None)
@given(payload=st.text(min_size=1).filter(str.strip), kind=st.sampled_from(list(BakeKind)))
def test_png_bake_extract_round_trips_any_unicode_text(payload: str, kind: BakeKind) -> None:
    found = extract_png(bake_png(PNG, payload, kind))
    assert found is not None
    assert (found.kind, found.payload) == (kind, payload)


# ------------------------------------------------------------------- SVG


def parse(svg: bytes) -> etree._Element:
    return etree.fromstring(svg, etree.XMLParser(resolve_entities=False, no_network=True))


@pytest.mark.parametrize(
    ("kind", "namespace", "prefix", "local"),
    [
        (BakeKind.OB3, "https://purl.imsglobal.org/ob/v3p0", "openbadges", "credential"),
        (BakeKind.CLR2, "https://purl.imsglobal.org/clr/v2p0", "clr", "credential"),
    ],
)
def test_svg_json_round_trip_puts_cdata_in_a_first_child_with_no_verify(
    kind: BakeKind, namespace: str, prefix: str, local: str
) -> None:
    baked = bake_svg(SVG, OB3_JSON, kind)
    root = parse(baked)
    assert root.nsmap[prefix] == namespace  # declared on <svg> itself
    assert root[0].tag == f"{{{namespace}}}{local}"
    assert root[0].get("verify") is None
    assert f"<{prefix}:{local}><![CDATA[".encode() in baked
    found = extract_svg(baked)
    assert found is not None
    assert (found.kind, found.image_format, found.payload, found.verify) == (
        kind,
        "svg",
        OB3_JSON,
        None,
    )


@pytest.mark.parametrize("kind", list(BakeKind))
def test_svg_jws_goes_in_verify_on_an_empty_element(kind: BakeKind) -> None:
    baked = bake_svg(SVG, JWS, kind)
    element = parse(baked)[0]
    assert element.get("verify") == JWS
    assert element.text is None
    found = extract_svg(baked)
    assert found is not None
    assert (found.kind, found.payload, found.verify) == (kind, JWS, JWS)


def test_ob2_hosted_svg_has_the_url_in_verify_and_the_assertion_in_cdata() -> None:
    baked = bake_svg(SVG, OB2_HOSTED, BakeKind.OB2)
    root = parse(baked)
    assert root.nsmap["openbadges"] == "http://openbadges.org"
    assert root[0].tag == "{http://openbadges.org}assertion"
    assert root[0].get("verify") == "https://issuer.example/assertions/1"
    found = extract_svg(baked)
    assert found is not None
    assert (found.payload, found.verify) == (OB2_HOSTED, "https://issuer.example/assertions/1")


def test_ob2_hosted_svg_takes_an_explicit_verify_url() -> None:
    payload = json.dumps({"type": "Assertion"})
    found = extract_svg(bake_svg(SVG, payload, BakeKind.OB2, verify="https://issuer.example/a/2"))
    assert found is not None
    assert (found.payload, found.verify) == (payload, "https://issuer.example/a/2")


def test_ob2_url_only_svg_is_a_self_closing_element() -> None:
    url = "https://issuer.example/assertions/1"
    baked = bake_svg(SVG, url, BakeKind.OB2)
    assert f'<openbadges:assertion verify="{url}"/>'.encode() in baked
    found = extract_svg(baked)
    assert found is not None
    assert (found.payload, found.verify) == (url, url)


@pytest.mark.parametrize(
    ("payload", "kind", "verify", "message"),
    [
        (json.dumps({"type": "Assertion"}), BakeKind.OB2, None, "needs a 'verify' URL"),
        ("not json", BakeKind.OB2, None, "needs a 'verify' URL"),
        (OB2_HOSTED, BakeKind.OB2, "not a url", "must be its HTTP"),
        (OB3_JSON, BakeKind.OB3, "https://issuer.example/x", "without a 'verify'"),
        (JWS, BakeKind.OB3, "https://issuer.example/x", "its own 'verify'"),
        ("bad \x00 char", BakeKind.OB3, None, "XML cannot carry"),
    ],
)
def test_svg_refuses_payloads_the_spec_cannot_express(
    payload: str, kind: BakeKind, verify: str | None, message: str
) -> None:
    with pytest.raises(BakingError, match=message):
        bake_svg(SVG, payload, kind, verify=verify)


def test_svg_rebaking_replaces_the_element_and_keeps_other_kinds() -> None:
    once = bake_svg(SVG, OB2_HOSTED, BakeKind.OB2)
    both = bake_svg(once, OB3_JSON, BakeKind.OB3)
    again = bake_svg(both, JWS, BakeKind.OB3)
    root = parse(again)
    ob3 = root.findall("{https://purl.imsglobal.org/ob/v3p0}credential")
    ob2 = root.findall("{http://openbadges.org}assertion")
    assert (len(ob3), len(ob2)) == (1, 1)
    assert ob3[0].get("verify") == JWS
    assert root[0] is not None
    assert again.count(b"\n\n") == 0  # no blank lines pile up
    ob2_found = extract_svg(again, BakeKind.OB2)
    assert ob2_found is not None
    assert ob2_found.payload == OB2_HOSTED


def test_svg_baking_keeps_the_rest_of_the_document() -> None:
    svg = make_svg(
        '<!-- art --><style><![CDATA[rect{fill:red}]]></style><rect inkscape:label="x" xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"/>'
    )
    baked = bake_svg(svg, OB3_JSON, BakeKind.OB3)
    for fragment in (
        b"<!-- art -->",
        b"<![CDATA[rect{fill:red}]]>",
        b'inkscape:label="x"',
        b"xmlns:xlink=",
    ):
        assert fragment in baked


def test_extract_svg_strips_pretty_printing_around_cdata() -> None:
    svg = make_svg(
        '\n  <openbadges:assertion xmlns:openbadges="http://openbadges.org" '
        'verify="https://issuer.example/assertions/1">\n    <![CDATA[\n'
        + OB2_HOSTED
        + "\n    ]]>\n  </openbadges:assertion>"
    )
    found = extract_svg(svg)
    assert found is not None
    assert found.payload == OB2_HOSTED
    assert found.notes == ()


def test_extract_svg_reads_the_first_element_and_notes_oddities() -> None:
    ns = 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"'
    svg = make_svg(
        f'<g><openbadges:credential {ns} verify="a.b.c">{{"x": 1}}</openbadges:credential></g>'
        f"<openbadges:credential {ns}>second</openbadges:credential>"
    )
    found = extract_svg(svg)
    assert found is not None
    assert found.payload == '{"x": 1}'
    assert len(found.notes) == 3


def test_extract_svg_returns_none_without_a_credential_and_refuses_an_empty_one() -> None:
    assert extract_svg(SVG) is None
    empty = make_svg(
        '<openbadges:credential xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"/>'
    )
    with pytest.raises(BakingError, match="SVG element is empty"):
        extract_svg(empty)


@pytest.mark.parametrize(
    "name", ["svg/billion-laughs.svg", "svg/external-entity.svg", "svg/external-dtd.svg"]
)
def test_hostile_svg_gives_a_clean_baking_error_everywhere(name: str) -> None:
    data = asset(name)
    assert sniff_image(data) == "svg"
    for action in (
        lambda: extract_svg(data),
        lambda: bake_svg(data, OB3_JSON, BakeKind.OB3),
        lambda: sanitize_svg(data),
        lambda: extract_image(data),
    ):
        with pytest.raises(BakingError, match="DTD"):
            action()


def test_an_inline_entity_without_a_dtd_is_not_well_formed() -> None:
    with pytest.raises(BakingError, match="not well-formed"):
        extract_svg(make_svg("<text>&lol;</text>"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>", "not well-formed"),
        (b"<html xmlns='http://www.w3.org/1999/xhtml'/>", "root element is not <svg>"),
        (b"<svg/>", "root element is not <svg>"),  # no SVG namespace
    ],
)
def test_malformed_or_foreign_xml_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(BakingError, match=message):
        extract_svg(data)
    with pytest.raises(BakingError, match=message):
        bake_svg(data, OB3_JSON, BakeKind.OB3)


def test_svg_size_limit() -> None:
    with pytest.raises(BakingError, match="the limit is 50 bytes"):
        extract_svg(SVG, limits=Limits(max_svg_bytes=50))


XML_CHARS = st.one_of(
    st.sampled_from(list("\t\n\r]>\"'<&")),
    st.characters(
        min_codepoint=0x20, exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"
    ),
)


@settings(max_examples=80, deadline=None)
@given(
    payload=st.text(XML_CHARS, min_size=1).filter(str.strip),
    kind=st.sampled_from([BakeKind.OB3, BakeKind.CLR2]),
)
def test_svg_bake_extract_round_trips_any_xml_text(payload: str, kind: BakeKind) -> None:
    found = extract_svg(bake_svg(SVG, payload, kind))
    assert found is not None
    # Surrounding XML whitespace is not significant (pretty-printed CDATA).
    assert (found.kind, found.payload) == (kind, payload.strip(" \t\r\n"))


@settings(max_examples=40, deadline=None)
@given(name=st.text(XML_CHARS))
def test_svg_ob2_hosted_round_trips_any_assertion_json(name: str) -> None:
    payload = json.dumps(
        {"id": "https://issuer.example/a/1", "name": name + "]]>"}, ensure_ascii=False
    )
    found = extract_svg(bake_svg(SVG, payload, BakeKind.OB2))
    assert found is not None
    assert (found.payload, found.verify) == (payload, "https://issuer.example/a/1")


# -------------------------------------------------------- dispatch, sniff


def test_sniff_image() -> None:
    assert sniff_image(PNG) == "png"
    assert sniff_image(SVG) == "svg"
    assert sniff_image(b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'/>") == "svg"
    assert sniff_image("<svg xmlns='http://www.w3.org/2000/svg'/>".encode("utf-16")) == "svg"
    assert sniff_image(b"<html><body>svg</body></html>") is None
    assert sniff_image(b"GIF89a") is None
    assert sniff_image(b"") is None


def test_bake_image_and_extract_image_dispatch_on_the_format() -> None:
    for image in (PNG, SVG):
        found = extract_image(bake_image(image, JWS, BakeKind.OB3))
        assert found is not None
        assert found.payload == JWS
    hosted = extract_image(bake_image(SVG, '{"a": 1}', BakeKind.OB2, verify="https://i.example/1"))
    assert hosted is not None
    assert hosted.verify == "https://i.example/1"
    with pytest.raises(BakingError, match="only applies to SVG"):
        bake_image(PNG, JWS, BakeKind.OB2, verify="https://i.example/1")
    with pytest.raises(BakingError, match="neither a PNG nor an SVG"):
        bake_image(b"GIF89a", JWS, BakeKind.OB3)
    with pytest.raises(BakingError, match="neither a PNG nor an SVG"):
        extract_image(b"GIF89a")


def test_baking_error_is_a_value_error() -> None:
    assert issubclass(BakingError, ValueError)


# --------------------------------------------------------------- sanitize


def test_sanitize_strips_everything_active_or_external_from_the_script_laden_svg() -> None:
    clean = sanitize_svg(asset("svg/script-laden.svg"))
    lowered = clean.lower()
    for forbidden in (
        b"<script",
        b"foreignobject",
        b"<handler",
        b"onload",
        b"onclick",
        b"onmouseover",
        b"javascript",
        b"evil.example",
        b"@import",
        b"<?xml-stylesheet",
        b"<?php",
        b"xml:base",
        b"image/svg+xml",
        b"\\75",
    ):
        assert forbidden not in lowered, forbidden
    root = parse(clean)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert {
        "keep-rect",
        "keep-text",
        "keep-animate",
        "grad",
        "inline",
        "local-use",
        "tracker",
    } <= ids
    assert root.find(f".//{{{SVG_NS}}}image[@id='inline']").get("href").startswith("data:image/png")
    assert (
        root.find(f".//{{{SVG_NS}}}use[@id='local-use']").get("{http://www.w3.org/1999/xlink}href")
        == "#keep-rect"
    )
    assert root.find(f".//{{{SVG_NS}}}rect[@id='keep-rect']").get("fill") == "url(#grad)"
    assert b".safe { fill: url(#grad); }" in clean


def test_sanitize_is_idempotent_and_keeps_a_clean_svg() -> None:
    once = sanitize_svg(asset("svg/script-laden.svg"))
    assert sanitize_svg(once) == once
    clean = sanitize_svg(SVG)
    assert parse(clean)[0].tag == f"{{{SVG_NS}}}rect"


@pytest.mark.parametrize(
    "attribute",
    [
        'fill="url(https://evil.example/unclosed"',
        "fill=\"url( '//evil.example/p' )\"",
        "style=\"background:image-set('https://evil.example/a.png' 1x)\"",
        'style="fill:red;/* */behavior:url(#x)"',
        'href=" JaVa&#10;ScRiPt:alert(1)"',
        'src="https://evil.example/x"',
    ],
)
def test_sanitize_drops_external_css_and_urls_in_attributes(attribute: str) -> None:
    clean = sanitize_svg(make_svg(f'<rect id="r" {attribute}/>'))
    assert parse(clean)[0].attrib == {"id": "r"}


def test_sanitize_rejects_non_svg() -> None:
    with pytest.raises(BakingError, match="not an SVG"):
        sanitize_svg(b"<html xmlns='http://www.w3.org/1999/xhtml'/>")
