"""What an upload really is comes from its bytes; hostile files are refused or defused."""

import hashlib
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from badger.domain.errors import ValidationError
from badger.services import uploads

ASSETS = Path(__file__).resolve().parents[2] / "assets"
LIMIT = 1024 * 1024


def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (51, 102, 153)).save(out, format=fmt)
    return out.getvalue()


def check(data: bytes, filename: str = "file.bin", declared: str | None = None, limit: int = LIMIT):
    return uploads.check_file(data, filename=filename, declared_type=declared, max_bytes=limit)


def refused(data: bytes, **kw) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        check(data, **kw)
    assert info.value.field == "file"
    return info.value


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    ("data", "media_type", "name"),
    [
        (PDF, "application/pdf", "certificate.pdf"),
        (image("PNG"), "image/png", "certificate.png"),
        (image("JPEG"), "image/jpeg", "certificate.jpg"),
        (image("GIF"), "image/gif", "certificate.gif"),
        (image("WEBP"), "image/webp", "certificate.webp"),
        (SVG, "image/svg+xml", "certificate.svg"),
        (
            "Attended the ethics workshop — 2 hours.\n".encode(),
            "text/plain; charset=utf-8",
            "certificate.txt",
        ),
    ],
    ids=["pdf", "png", "jpeg", "gif", "webp", "svg", "text"],
)
def test_each_allowed_type_is_recognised_from_its_bytes_whatever_the_client_says(
    data, media_type, name
):
    checked = check(data, filename="certificate", declared="application/octet-stream")
    assert checked.media_type == media_type
    assert checked.filename == name
    assert len(checked.sha256) == 64


def test_html_named_png_is_refused_with_the_allowed_types_named():
    error = refused(HTML, filename="photo.png", declared="image/png")
    assert "PDF, PNG, JPEG, GIF, WebP, SVG, plain text (UTF-8)" in error.reason
    assert "image/png" in error.reason


def test_an_executable_named_png_is_refused():
    refused(EXE, filename="photo.png", declared="image/png")


@pytest.mark.parametrize(
    "text",
    [
        b"  \n<html><p>hi</p></html>",
        b"\xef\xbb\xbf<script>alert(1)</script>",
        b"<?xml version='1.0'?><x/>",
        b"<!-- comment --> text",
    ],
)
def test_text_a_browser_would_render_as_markup_is_refused(text):
    refused(text, filename="notes.txt", declared="text/plain")


@pytest.mark.parametrize(
    "data",
    [b"caf\xe9 latin-1, not UTF-8", b"text with a NUL\x00 byte", b"escape \x1b[31m codes"],
)
def test_binary_or_non_utf8_text_is_refused(data):
    refused(data, filename="notes.txt")


def test_a_png_signature_in_front_of_something_else_is_refused():
    error = refused(b"\x89PNG\r\n\x1a\n" + HTML, filename="x.png")
    assert "not a readable PNG image" in error.reason


# 81 megapixels passes Pillow's bound but not ours; 400 megapixels trips Pillow's.
@pytest.mark.parametrize("side", [9_000, 20_000])
def test_an_image_declaring_enormous_dimensions_is_refused_before_decoding(side):
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")
    error = refused(bomb, filename="bomb.png")
    assert "pixels" in error.reason


def test_a_file_over_the_limit_is_refused_with_both_sizes():
    error = refused(b"a" * 2049, filename="big.txt", limit=2048)
    assert "2,049 bytes" in error.reason
    assert "2,048 bytes" in error.reason


def test_an_empty_file_is_refused():
    refused(b"", filename="empty.txt")


def test_a_script_laden_svg_is_stored_sanitized():
    checked = check(asset("svg/script-laden.svg"), filename="badge.svg", declared="image/svg+xml")
    assert checked.media_type == "image/svg+xml"
    content = checked.content.lower()
    for danger in (b"<script", b"onload", b"onclick", b"javascript:", b"evil.example", b"<?php"):
        assert danger not in content
    assert b'id="keep-rect"' in checked.content


@pytest.mark.parametrize("name", ["billion-laughs.svg", "external-entity.svg", "external-dtd.svg"])
def test_an_svg_that_cannot_be_parsed_safely_is_refused(name):
    error = refused(asset(f"svg/{name}"), filename=name)
    assert "SVG" in error.reason


def test_sanitized_content_is_what_gets_hashed():
    checked = check(asset("svg/script-laden.svg"))
    assert checked.sha256 == hashlib.sha256(checked.content).hexdigest()


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("../../etc/passwd", uploads.TEXT, "passwd.txt"),
        ("C:\\Users\\ada\\report.pdf", uploads.PDF, "report.pdf"),
        ("report.PDF", uploads.PDF, "report.PDF"),
        ("photo.jpeg", uploads.JPEG, "photo.jpeg"),
        ("evil.html", uploads.PNG, "evil.html.png"),
        (".bashrc", uploads.TEXT, "bashrc.txt"),
        ("", uploads.PDF, "upload.pdf"),
        ("...", uploads.PDF, "upload.pdf"),
        ("new\nline\x00.pdf", uploads.PDF, "newline.pdf"),
        # U+202E RIGHT-TO-LEFT OVERRIDE would display this as "invoiceexe.pdf".
        ("invoice\u202efdp.exe", uploads.PDF, "invoicefdp.exe.pdf"),
    ],
)
def test_file_names_are_reduced_to_a_harmless_base_name(raw, kind, expected):
    assert uploads.clean_filename(raw, kind) == expected


def test_long_file_names_are_cut_to_255_characters_keeping_the_extension():
    name = uploads.clean_filename("a" * 400 + ".pdf", uploads.PDF)
    assert len(name) == 255
    assert name.endswith(".pdf")
