"""Baking: embed a credential in a PNG or SVG badge image and read it back.

Three payload kinds share one mechanism (FACTS §0 quick reference):

* Open Badges 2.0 "Baking Specification" (FACTS §1.12): PNG ``iTXt`` keyword
  ``openbadges``; SVG ``<openbadges:assertion verify="…">`` in namespace
  ``http://openbadges.org``. ``verify`` holds the JWS (signed) or the hosted
  assertion URL; a hosted assertion's JSON goes in the element body.
* Open Badges 3.0 §"Document formats" (FACTS §2.13): PNG ``iTXt`` keyword
  ``openbadgecredential``; SVG ``<openbadges:credential>`` in namespace
  ``https://purl.imsglobal.org/ob/v3p0``, a compact JWT in ``verify`` (empty
  element) or the credential JSON in the body with no ``verify``.
* CLR 2.0 (FACTS §3.2, the 1EdTech validator's parsers): PNG ``iTXt`` keyword
  ``clrcredential``; SVG ``credential`` element in namespace
  ``https://purl.imsglobal.org/clr/v2p0``.

PNG chunks are written by hand (length, type, data, CRC-32) and inserted before
``IEND`` so the original image bytes survive; Pillow's ``PngInfo`` would
re-encode the image. Every image is untrusted input: PNGs are size- and
dimension-checked before Pillow decodes them, and SVGs are parsed only after an
expat pass (defusedxml) has refused any DTD, so entity expansion ("billion
laughs") and external entities never reach a parser.

This module is pure: bytes in, bytes or values out; no keys, no I/O.
"""

from __future__ import annotations

import enum
import io
import json
import re
import secrets
import struct
import zlib
from dataclasses import dataclass
from typing import Literal
from xml.etree.ElementTree import Element as _EtElement
from xml.etree.ElementTree import ParseError as _EtParseError

import defusedxml
from defusedxml import ElementTree as SafeElementTree
from lxml import etree
from PIL import Image

__all__ = [
    "DEFAULT_LIMITS",
    "BakeKind",
    "Baked",
    "BakingError",
    "ImageFormat",
    "Limits",
    "bake_image",
    "bake_png",
    "bake_svg",
    "extract_image",
    "extract_png",
    "extract_svg",
    "sanitize_svg",
    "sniff_image",
]

ImageFormat = Literal["png", "svg"]

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


class BakingError(ValueError):
    """An image or payload that cannot be baked or read; the message is for humans."""


class BakeKind(enum.StrEnum):
    """Which credential format a baked image carries."""

    OB2 = "ob2"
    OB3 = "ob3"
    CLR2 = "clr2"

    @property
    def png_keyword(self) -> str:
        """The ``iTXt`` keyword (FACTS §0)."""
        return _TARGETS[self].png_keyword

    @property
    def svg_namespace(self) -> str:
        """The XML namespace of the SVG element (FACTS §0)."""
        return _TARGETS[self].svg_namespace

    @property
    def svg_element(self) -> str:
        """The local name of the SVG element (FACTS §0)."""
        return _TARGETS[self].svg_element

    @property
    def svg_prefix(self) -> str:
        """The namespace prefix badger writes (readers match by namespace, not prefix)."""
        return _TARGETS[self].svg_prefix

    @property
    def label(self) -> str:
        """A human name for messages."""
        return _TARGETS[self].label


@dataclass(frozen=True, slots=True)
class _Target:
    png_keyword: str
    svg_namespace: str
    svg_prefix: str
    svg_element: str
    label: str

    @property
    def clark(self) -> str:
        return f"{{{self.svg_namespace}}}{self.svg_element}"

    @property
    def qname(self) -> str:
        return f"<{self.svg_prefix}:{self.svg_element}>"


_TARGETS: dict[BakeKind, _Target] = {
    BakeKind.OB2: _Target(
        "openbadges", "http://openbadges.org", "openbadges", "assertion", "Open Badges 2.0"
    ),
    BakeKind.OB3: _Target(
        "openbadgecredential",
        "https://purl.imsglobal.org/ob/v3p0",
        "openbadges",
        "credential",
        "Open Badges 3.0",
    ),
    BakeKind.CLR2: _Target(
        "clrcredential", "https://purl.imsglobal.org/clr/v2p0", "clr", "credential", "CLR 2.0"
    ),
}
_KIND_BY_KEYWORD: dict[bytes, BakeKind] = {
    t.png_keyword.encode("latin-1"): kind for kind, t in _TARGETS.items()
}
_KIND_BY_CLARK: dict[str, BakeKind] = {t.clark: kind for kind, t in _TARGETS.items()}


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds applied to untrusted images and payloads.

    Badge art is typically a few hundred pixels square; the pixel bound sits far
    below Pillow's own ``MAX_IMAGE_PIXELS`` so Pillow's decompression-bomb check
    never fires for an image that passed ours.
    """

    max_png_bytes: int = 16 * 1024 * 1024
    max_svg_bytes: int = 4 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_payload_bytes: int = 4 * 1024 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Baked:
    """A credential read from a baked image.

    ``payload`` is the credential as text: JSON, a compact JWS/JWT, or (OB 2.0
    hosted or legacy) the assertion URL. ``verify`` is the SVG ``verify``
    attribute when there is one (for a hosted OB 2.0 badge: the assertion URL
    next to the JSON payload). ``notes`` explains departures from the baking
    rules that were tolerated while reading (FACTS §5 pitfall 19).
    """

    kind: BakeKind
    image_format: ImageFormat
    payload: str
    verify: str | None = None
    legacy: bool = False
    notes: tuple[str, ...] = ()


# ----------------------------------------------------------------- dispatch


def sniff_image(data: bytes) -> ImageFormat | None:
    """Guess whether ``data`` is a PNG or an SVG from its first bytes.

    A guess only: ``extract_*`` and ``bake_*`` validate fully.
    """
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore")
    else:
        text = head.decode("utf-8", errors="ignore")
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<") and _SVG_TAG_RE.search(text):
        return "svg"
    return None


def bake_image(
    image: bytes,
    payload: str,
    kind: BakeKind,
    *,
    verify: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """Bake ``payload`` into a PNG or SVG, whichever ``image`` is."""
    match sniff_image(image):
        case "png":
            if verify is not None:
                raise BakingError("A 'verify' URL only applies to SVG images.")
            return bake_png(image, payload, kind, limits=limits)
        case "svg":
            return bake_svg(image, payload, kind, verify=verify, limits=limits)
        case _:
            raise BakingError("The image is neither a PNG nor an SVG.")


def extract_image(
    data: bytes, kind: BakeKind | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> Baked | None:
    """Read the baked credential from a PNG or SVG; ``None`` when there is none."""
    match sniff_image(data):
        case "png":
            return extract_png(data, kind, limits=limits)
        case "svg":
            return extract_svg(data, kind, limits=limits)
        case _:
            raise BakingError("The file is neither a PNG nor an SVG image.")


# ---------------------------------------------------------------------- PNG

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHUNK_HEADER = struct.Struct(">I4s")
_CRC = struct.Struct(">I")
_IHDR = struct.Struct(">II")
_TEXT_TYPES = (b"iTXt", b"tEXt", b"zTXt")


@dataclass(frozen=True, slots=True)
class _Chunk:
    type: bytes
    data: bytes
    start: int
    end: int


def _png_chunks(data: bytes, limits: Limits) -> list[_Chunk]:
    """Split a PNG into chunks, checking structure and CRCs (PNG spec §5).

    Anything after ``IEND`` is ignored (and dropped when re-baking): trailing
    bytes are how PNG/ZIP polyglots are made.
    """
    if len(data) > limits.max_png_bytes:
        raise BakingError(
            f"The PNG is {len(data):,} bytes; the limit is {limits.max_png_bytes:,} bytes."
        )
    if not data.startswith(_PNG_SIGNATURE):
        raise BakingError("The file is not a PNG image (the PNG signature is missing).")
    chunks: list[_Chunk] = []
    pos = len(_PNG_SIGNATURE)
    while True:
        if pos + _CHUNK_HEADER.size > len(data):
            raise BakingError("The PNG is truncated: it ends before its IEND chunk.")
        length, ctype = _CHUNK_HEADER.unpack_from(data, pos)
        body = pos + _CHUNK_HEADER.size
        end = body + length + _CRC.size
        if length > 0x7FFFFFFF or end > len(data):
            raise BakingError("The PNG is truncated or damaged: a chunk runs past the end.")
        if not re.fullmatch(rb"[A-Za-z]{4}", ctype):
            raise BakingError("The PNG is damaged: a chunk has an invalid type.")
        chunk_data = data[body : body + length]
        (crc,) = _CRC.unpack_from(data, body + length)
        if crc != zlib.crc32(ctype + chunk_data):
            raise BakingError(
                f"The PNG is damaged: the {ctype.decode('ascii')} chunk fails its CRC check."
            )
        if not chunks and ctype != b"IHDR":
            raise BakingError("The PNG is damaged: it does not start with an IHDR chunk.")
        chunks.append(_Chunk(ctype, chunk_data, pos, end))
        pos = end
        if ctype == b"IEND":
            return chunks


def _check_dimensions(ihdr: _Chunk, limits: Limits) -> None:
    if len(ihdr.data) != 13:
        raise BakingError("The PNG is damaged: its IHDR chunk has the wrong length.")
    width, height = _IHDR.unpack_from(ihdr.data)
    if width == 0 or height == 0:
        raise BakingError("The PNG is damaged: it declares a zero width or height.")
    if width * height > limits.max_pixels:
        raise BakingError(
            f"The PNG is {width:,} x {height:,} pixels; the limit is {limits.max_pixels:,} pixels."
        )


def _validate_with_pillow(data: bytes) -> None:
    """Have Pillow check and fully decode the image, so only real PNGs get baked."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            im.verify()
        # verify() leaves the image unusable; decoding needs a fresh open.
        with Image.open(io.BytesIO(data), formats=["PNG"]) as im:
            im.load()
    # Our pixel bound is far below Pillow's, so these only fire if an operator
    # lowered Image.MAX_IMAGE_PIXELS; the warning is caught for when warnings
    # are errors (as in the test suite) rather than silenced globally, because
    # warnings.catch_warnings() is not thread-safe.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BakingError("The PNG is too large to decode safely.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise BakingError("The file is not a readable PNG image.") from exc


def _payload_bytes(payload: str, limits: Limits) -> bytes:
    if not payload.strip():
        raise BakingError("There is nothing to bake: the payload is empty.")
    try:
        raw = payload.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BakingError("The payload is not valid Unicode text.") from exc
    if len(raw) > limits.max_payload_bytes:
        raise BakingError(
            f"The payload is {len(raw):,} bytes; the limit is {limits.max_payload_bytes:,} bytes."
        )
    return raw


def _within_limit(baked: bytes, max_bytes: int) -> bytes:
    # What badger bakes must be readable again under the same limits.
    if len(baked) > max_bytes:
        raise BakingError(
            f"The baked image would be {len(baked):,} bytes; the limit is {max_bytes:,} bytes."
        )
    return baked


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return (
        _CHUNK_HEADER.pack(len(data), ctype)
        + data
        + _CRC.pack(zlib.crc32(ctype + data) & 0xFFFFFFFF)
    )


def _itxt_data(keyword: str, text: bytes) -> bytes:
    # keyword NUL, compression flag 0 (baking forbids compression), method 0,
    # empty language tag NUL, empty translated keyword NUL, then the UTF-8 text.
    return keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text


def _text_keyword(chunk: _Chunk) -> bytes:
    return chunk.data.split(b"\x00", 1)[0]


def bake_png(
    image: bytes, payload: str, kind: BakeKind, *, limits: Limits = DEFAULT_LIMITS
) -> bytes:
    """Return ``image`` with ``payload`` baked in as an uncompressed ``iTXt`` chunk.

    OB 2.0 Baking §PNG / OB 3.0 §"Document formats" (FACTS §1.12, §2.13): one
    chunk per keyword, so any earlier ``iTXt``/``tEXt``/``zTXt`` chunk with the
    same keyword is removed (re-baking replaces). The new chunk goes right
    before ``IEND``; every other chunk keeps its original bytes.
    """
    text = _payload_bytes(payload, limits)
    chunks = _png_chunks(image, limits)
    _check_dimensions(chunks[0], limits)
    _validate_with_pillow(image)
    keyword = kind.png_keyword.encode("latin-1")
    out = [_PNG_SIGNATURE]
    for chunk in chunks[:-1]:
        if chunk.type in _TEXT_TYPES and _text_keyword(chunk) == keyword:
            continue
        out.append(image[chunk.start : chunk.end])
    out.append(_png_chunk(b"iTXt", _itxt_data(kind.png_keyword, text)))
    out.append(image[chunks[-1].start : chunks[-1].end])
    return _within_limit(b"".join(out), limits.max_png_bytes)


def _decode_itxt(chunk: _Chunk, limits: Limits) -> tuple[str, bool]:
    """Return (text, was_compressed) for an ``iTXt`` chunk (PNG spec §11.3.4.5)."""
    try:
        _keyword, rest = chunk.data.split(b"\x00", 1)
        flag, method, rest = rest[0], rest[1], rest[2:]
        _lang, _tkey, raw = rest.split(b"\x00", 2)
    except (ValueError, IndexError) as exc:
        raise BakingError("The PNG's credential chunk is malformed.") from exc
    if flag == 1:
        if method != 0:
            raise BakingError("The PNG's credential chunk uses an unknown compression method.")
        raw = _inflate(raw, limits.max_payload_bytes)
    elif flag != 0:
        raise BakingError("The PNG's credential chunk has an invalid compression flag.")
    try:
        return raw.decode("utf-8"), flag == 1
    except UnicodeDecodeError as exc:
        raise BakingError("The PNG's credential chunk is not valid UTF-8 text.") from exc


def _inflate(raw: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, max_bytes + 1)
    except zlib.error as exc:
        raise BakingError("The PNG's compressed credential chunk is damaged.") from exc
    if len(out) > max_bytes or inflater.unconsumed_tail:
        raise BakingError(
            f"The PNG's compressed credential chunk expands beyond {max_bytes:,} bytes."
        )
    return out


def extract_png(
    data: bytes, kind: BakeKind | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> Baked | None:
    """Read the baked credential from a PNG; ``None`` when it carries none.

    Reads the first ``iTXt`` chunk with a known keyword (or only ``kind``'s),
    as OB 2.0/3.0 extractors must (FACTS §1.12, §2.13). Failing that, an OB 2.0
    pre-specification ``tEXt`` chunk ``openbadges`` holding the assertion URL is
    returned with ``legacy=True``. Pixels are not decoded: reading the
    credential does not need them.
    """
    chunks = _png_chunks(data, limits)
    wanted = {kind.png_keyword.encode("latin-1")} if kind else set(_KIND_BY_KEYWORD)
    found: list[_Chunk] = [c for c in chunks if c.type == b"iTXt" and _text_keyword(c) in wanted]
    if found:
        first = found[0]
        found_kind = _KIND_BY_KEYWORD[_text_keyword(first)]
        text, compressed = _decode_itxt(first, limits)
        notes: list[str] = []
        if compressed:
            notes.append(
                f"The {found_kind.png_keyword!r} iTXt chunk is compressed; baking requires it uncompressed."
            )
        same = [c for c in found if _text_keyword(c) == _text_keyword(first)]
        if len(same) > 1:
            notes.append(
                f"The image has {len(same)} {found_kind.png_keyword!r} iTXt chunks; "
                "the first was read, as the baking rules say."
            )
        return _baked(found_kind, "png", text, None, notes=notes)
    if kind in (None, BakeKind.OB2):
        legacy_keyword = BakeKind.OB2.png_keyword.encode("latin-1")
        for chunk in chunks:
            if chunk.type == b"tEXt" and _text_keyword(chunk) == legacy_keyword:
                text = chunk.data.split(b"\x00", 1)[1].decode("latin-1")
                note = "Legacy pre-specification badge: a tEXt chunk holds the assertion URL."
                return _baked(BakeKind.OB2, "png", text, None, legacy=True, notes=[note])
    return None


def _baked(
    kind: BakeKind,
    image_format: ImageFormat,
    payload: str,
    verify: str | None,
    *,
    legacy: bool = False,
    notes: list[str] | None = None,
) -> Baked:
    if not payload.strip(_XML_SPACE):
        where = f"{kind.png_keyword!r} chunk" if image_format == "png" else "SVG element"
        raise BakingError(f"The image's {kind.label} {where} is empty.")
    return Baked(kind, image_format, payload, verify, legacy, tuple(notes or ()))


# ---------------------------------------------------------------------- SVG

_XML_SPACE = " \t\r\n"
_SVG_TAG_RE = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?svg[\s/>]")
_SVG_ROOT = f"{{{SVG_NAMESPACE}}}svg"
_COMPACT_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_URL_RE = re.compile(r"https?://\S+")
# XML 1.0 §2.2 Char: what an XML document can carry at all.
_XML_ILLEGAL_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _safe_parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not safe to share across threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        strip_cdata=False,
        remove_pis=False,
    )


def _screen_svg(data: bytes, limits: Limits) -> _EtElement:
    """Parse with expat (defusedxml), refusing DTDs, entities and external references.

    Returns the ElementTree root so readers need no second parse.
    """
    if len(data) > limits.max_svg_bytes:
        raise BakingError(
            f"The SVG is {len(data):,} bytes; the limit is {limits.max_svg_bytes:,} bytes."
        )
    try:
        root = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DefusedXmlException as exc:
        # DTDForbidden in practice: entities and external references can only
        # be declared inside a DTD, which is refused before they are reached.
        raise BakingError(
            "The SVG declares a DTD (<!DOCTYPE …>); badger refuses DTDs because they "
            "allow entity-expansion and external-entity attacks."
        ) from exc
    except _EtParseError as exc:
        raise BakingError(f"The SVG is not well-formed XML ({exc}).") from exc
    if root.tag != _SVG_ROOT:
        raise BakingError("The file is not an SVG image: its root element is not <svg>.")
    return root


def _parse_svg(data: bytes, limits: Limits) -> etree._Element:
    """Screen, then parse with lxml (which keeps prefixes, CDATA and comments)."""
    _screen_svg(data, limits)
    # Defence in depth: expat has already accepted this document without a
    # DTD, so neither branch below is expected to run.
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:  # pragma: no cover - parsers disagree
        raise BakingError(f"The SVG is not well-formed XML ({exc}).") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:  # pragma: no cover
        raise BakingError("The SVG declares a DTD, which badger refuses.")
    return root


def _remove(element: etree._Element, *, keep_blank_tail: bool = True) -> None:
    """Remove ``element`` (never the root) but keep the text that followed it."""
    parent = element.getparent()
    if element.tail and (keep_blank_tail or element.tail.strip(_XML_SPACE)):
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _cdata(text: str) -> str:
    """Wrap ``text`` in CDATA so that it reads back exactly.

    ``]]>`` cannot appear inside one CDATA section, so it is split across two;
    a carriage return would be normalised to a line feed by every XML parser
    (XML 1.0 §2.11), so it goes between sections as a character reference.
    """
    body = text.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
    return f"<![CDATA[{body}]]>"


def bake_svg(
    image: bytes,
    payload: str,
    kind: BakeKind,
    *,
    verify: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> bytes:
    """Return ``image`` with ``payload`` baked in as the kind's SVG element.

    Placement follows OB 2.0 Baking §SVG and OB 3.0 §"Document formats"
    (FACTS §1.12, §2.13): the namespace is declared on ``<svg>`` and the element
    is its first child; an earlier element of the same kind is replaced.

    * A compact JWS/JWT goes in ``verify`` and the element stays empty.
    * OB 2.0 only: an assertion URL alone goes in ``verify``; assertion JSON
      goes in the body with ``verify`` set to the hosted URL, taken from the
      ``verify`` argument or else from the assertion's ``id``.
    * OB 3.0 and CLR 2.0 JSON goes in the body with no ``verify``: the 1EdTech
      validator treats any ``verify`` as a JWT and ignores the body.
    """
    _payload_bytes(payload, limits)
    if _XML_ILLEGAL_RE.search(payload) or (verify and _XML_ILLEGAL_RE.search(verify)):
        raise BakingError("The payload contains characters that XML cannot carry.")
    target = _TARGETS[kind]
    body: str | None = None
    if _COMPACT_JWS_RE.fullmatch(payload) or (kind is BakeKind.OB2 and _URL_RE.fullmatch(payload)):
        if verify is not None and verify != payload:
            raise BakingError(f"A {kind.label} JWS or URL payload is its own 'verify' value.")
        verify = payload
    elif kind is BakeKind.OB2:
        body = payload
        verify = verify or _hosted_id(payload)
        if not _URL_RE.fullmatch(verify):
            raise BakingError("An OB 2.0 hosted assertion's 'verify' must be its HTTP(S) URL.")
    elif verify is not None:
        raise BakingError(
            f"A {kind.label} SVG carries JSON without a 'verify' attribute; "
            "only OB 2.0 hosted assertions have both."
        )
    else:
        body = payload

    root = _parse_svg(image, limits)
    for old in list(root.iter(target.clark)):
        # Drop the line break badger put after it, so re-baking does not
        # accumulate blank lines.
        _remove(old, keep_blank_tail=False)
    element = etree.Element(target.clark, nsmap={target.svg_prefix: target.svg_namespace})
    if verify is not None:
        element.set("verify", verify)
    placeholder = f"badger-cdata-{secrets.token_hex(16)}"
    if body is not None:
        element.text = placeholder
    element.tail = "\n"
    root.insert(0, element)
    if root.nsmap.get(target.svg_prefix) in (None, target.svg_namespace):
        # Declare the prefix on <svg> itself, as the specs show; keep every
        # declaration already there (cleanup would otherwise drop unused ones).
        etree.cleanup_namespaces(
            root,
            top_nsmap={target.svg_prefix: target.svg_namespace},
            keep_ns_prefixes=[p for p in root.nsmap if p],
        )
    # Otherwise the prefix already means another namespace on <svg> (an image
    # baked as both OB 2.0 and OB 3.0); the declaration stays on the element.
    out = etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
    if body is not None:
        token = placeholder.encode("ascii")
        if out.count(token) != 1:  # pragma: no cover - a 128-bit collision
            raise BakingError("Could not place the payload in the SVG; please retry.")
        out = out.replace(token, _cdata(body).encode("utf-8"))
    return _within_limit(out, limits.max_svg_bytes)


def _hosted_id(payload: str) -> str:
    """The hosted URL of an OB 2.0 assertion: its ``id`` (OB 2.0 §Assertion)."""
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    url = document.get("id") if isinstance(document, dict) else None
    if not isinstance(url, str) or not _URL_RE.fullmatch(url):
        raise BakingError(
            "An OB 2.0 SVG needs a 'verify' URL for a hosted assertion: pass it, "
            "or give the assertion an HTTP(S) 'id'."
        )
    return url


def extract_svg(
    data: bytes, kind: BakeKind | None = None, *, limits: Limits = DEFAULT_LIMITS
) -> Baked | None:
    """Read the baked credential from an SVG; ``None`` when it carries none.

    Takes the first element of a known kind (or only ``kind``'s) in document
    order, as extractors must (FACTS §2.13). The body, stripped of the
    whitespace pretty-printers put around CDATA, is the payload; an empty body
    means the payload is the ``verify`` attribute (JWS, JWT or OB 2.0 URL).
    """
    root = _screen_svg(data, limits)
    wanted = {_TARGETS[kind].clark} if kind else set(_KIND_BY_CLARK)
    matches = [el for el in root.iter() if isinstance(el.tag, str) and el.tag in wanted]
    if not matches:
        return None
    first = matches[0]
    found_kind = _KIND_BY_CLARK[first.tag]
    target = _TARGETS[found_kind]
    verify = first.get("verify")
    if verify is not None:
        verify = verify.strip(_XML_SPACE)
    body = (first.text or "").strip(_XML_SPACE)
    notes: list[str] = []
    if first not in list(root):
        notes.append(f"The {target.qname} element is not a direct child of <svg>.")
    same = [el for el in matches if el.tag == first.tag]
    if len(same) > 1:
        notes.append(
            f"The SVG has {len(same)} {target.qname} elements; the first was read, "
            "as the baking rules say."
        )
    if found_kind is not BakeKind.OB2 and body and verify:
        notes.append(
            f"The {target.qname} element has both a body and a 'verify' attribute; "
            "the body was read."
        )
    return _baked(found_kind, "svg", body or verify or "", verify, notes=notes)


# --------------------------------------------------------- SVG sanitizing

_DROPPED_ELEMENTS = frozenset(
    {
        "script",
        "foreignobject",
        "handler",
        "listener",
        "iframe",
        "frame",
        "frameset",
        "embed",
        "object",
        "applet",
        "link",
        "meta",
        "base",
    }
)
_ANIMATION_ELEMENTS = frozenset(
    {"set", "animate", "animatecolor", "animatemotion", "animatetransform"}
)
_URL_ATTRIBUTES = frozenset({"href", "src"})
_SAFE_DATA_URI_RE = re.compile(r"data:image/(?:png|jpeg|gif)(?:;[a-z0-9=._+-]*)*,", re.IGNORECASE)
_CSS_COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL_RE = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"]*))\s*\)""", re.IGNORECASE)
_CSS_DANGER = (
    "@import",
    "expression(",
    "javascript:",
    "vbscript:",
    "image-set(",
    "-moz-binding",
    "behavior:",
)
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f]+")


def _local(name: str) -> str:
    return etree.QName(name).localname


def _is_safe_reference(value: str) -> bool:
    """A same-document ``#fragment`` or an inline PNG/JPEG/GIF data URI."""
    # Browsers drop tabs, newlines and leading controls in URLs ("java\tscript:").
    url = _URL_NOISE_RE.sub("", value)
    return url.startswith("#") or bool(_SAFE_DATA_URI_RE.match(url))


def _css_is_safe(text: str) -> bool:
    """True when CSS text can load nothing from outside the document."""
    css = _CSS_COMMENT_RE.sub("", text)
    if "\\" in css:
        # CSS escapes can spell url( or @import past any substring check.
        return False
    lowered = _URL_NOISE_RE.sub("", css).lower()
    if any(marker in lowered for marker in _CSS_DANGER):
        return False
    urls = _CSS_URL_RE.findall(css)
    if len(urls) != lowered.count("url("):
        return False
    return all(_is_safe_reference(next(filter(None, groups), "")) for groups in urls)


def sanitize_svg(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return an uploaded SVG with everything active or external removed.

    For achievement images an issuer publishes and relying parties embed
    (OB 2.0 §Image and OB 3.0 ``Image`` only fix the media type; the rest is
    defence against stored XSS and tracking). DTDs are refused outright;
    removed are: scripts, ``<foreignObject>`` and HTML embedding elements,
    event-handler attributes (``on*``), animations that retarget ``href`` or
    handlers, ``href``/``src`` that are not a ``#fragment`` or an inline
    PNG/JPEG/GIF, ``xml:base``, attributes and ``<style>`` sheets whose CSS
    imports or loads anything external, and processing instructions (for
    example ``<?xml-stylesheet?>``).
    """
    root = _parse_svg(data, limits)
    for pi in list(root.iter(etree.PI)):
        _remove(pi)
    for element in list(root.iter(etree.Element)):
        name = _local(element.tag).lower()
        if name in _DROPPED_ELEMENTS:
            _remove(element)
            continue
        if name == "style" and not _css_is_safe("".join(element.itertext())):
            _remove(element)
            continue
        if name in _ANIMATION_ELEMENTS:
            animated = element.get("attributeName", "").split(":")[-1].strip().lower()
            if animated in _URL_ATTRIBUTES or animated == "style" or animated.startswith("on"):
                _remove(element)
                continue
        for attribute, value in list(element.attrib.items()):
            attr = _local(attribute).lower()
            if (
                attr.startswith("on")
                or attribute == "{http://www.w3.org/XML/1998/namespace}base"
                or (attr in _URL_ATTRIBUTES and not _is_safe_reference(value))
                or not _css_is_safe(value)
            ):
                del element.attrib[attribute]
    # Serialising the root element alone drops top-level PIs and comments.
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
