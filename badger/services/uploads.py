"""Uploaded files (evidence, activity certificates): checked, cleaned, stored once.

Everything about an upload is untrusted.  The media type comes from the bytes
(magic numbers), never from the browser's ``Content-Type`` or the file name:
a page with a ``.png`` name is still a page.  Only a short list of types is
accepted; SVGs are stored sanitized (no scripts, handlers or external
references, see :func:`badger.credentials.baking.sanitize_svg`), raster images
must open in Pillow as the format their signature claims, and text must be
UTF-8 that no browser would take for markup.  The file name is reduced to a
harmless base name whose extension matches the detected type.

Identical content is stored once (same SHA-256, same row), so a learner who
attaches the same certificate to three activities costs one copy.

The web layer still serves uploads defensively: the stored ``media_type``,
``X-Content-Type-Options: nosniff`` and ``Content-Disposition: attachment``.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime

from PIL import Image
from sqlalchemy import select

from badger.credentials import baking
from badger.domain.errors import NotFound, ValidationError
from badger.services.context import Context
from badger.store.db import UnitOfWork
from badger.store.models import Upload

FIELD = "file"
MAX_FILENAME = 255
# Phone cameras reach 48 megapixels; anything far beyond that is a
# decompression bomb in waiting.  Kept below Pillow's own warning threshold
# (Image.MAX_IMAGE_PIXELS, about 89 megapixels) so our message wins.
MAX_IMAGE_PIXELS = 64_000_000


@dataclass(frozen=True, slots=True)
class FileType:
    media_type: str
    label: str
    extensions: tuple[str, ...]


PDF = FileType("application/pdf", "PDF", ("pdf",))
PNG = FileType("image/png", "PNG", ("png",))
JPEG = FileType("image/jpeg", "JPEG", ("jpg", "jpeg"))
GIF = FileType("image/gif", "GIF", ("gif",))
WEBP = FileType("image/webp", "WebP", ("webp",))
SVG = FileType("image/svg+xml", "SVG", ("svg",))
TEXT = FileType("text/plain; charset=utf-8", "plain text (UTF-8)", ("txt", "text", "md", "csv"))
ALLOWED: tuple[FileType, ...] = (PDF, PNG, JPEG, GIF, WEBP, SVG, TEXT)
ALLOWED_LABELS = ", ".join(t.label for t in ALLOWED)

# Pillow's format name for each raster type.
_PILLOW_FORMAT = {PNG: "PNG", JPEG: "JPEG", GIF: "GIF", WEBP: "WEBP"}

# Markup a browser (or a careless viewer) would render: the WHATWG MIME
# sniffing "HTML" patterns plus XML, checked after leading white space.
_MARKUP_RE = re.compile(
    rb"<(?:!doctype|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--"
    rb"|\?xml|svg|object|embed|meta|link|img|form)(?:[\s>/]|$)",
    re.IGNORECASE,
)
# C0 controls other than tab, newline, form feed and carriage return; DEL.
_BINARY_RE = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class CheckedFile:
    """An upload that passed every check, ready to store."""

    content: bytes
    media_type: str
    filename: str
    sha256: str


@dataclass(frozen=True, slots=True)
class UploadView:
    public_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UploadContent:
    """An upload with its bytes, for download."""

    public_id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    content: bytes


def view_of(row: Upload) -> UploadView:
    return UploadView(
        row.public_id, row.filename, row.media_type, row.size, row.sha256, row.created_at
    )


# ---------------------------------------------------------------- checks (pure)


def _refused(declared_type: str | None) -> ValidationError:
    sent = f" (it was sent as {declared_type!r})" if declared_type else ""
    return ValidationError(
        FIELD, f"this kind of file is not accepted{sent}; allowed types: {ALLOWED_LABELS}"
    )


def detect(data: bytes) -> FileType | None:
    """The type ``data`` really is, by its signature; ``None`` for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if baking.sniff_image(data) == "svg":
        return SVG
    if _is_plain_text(data):
        return TEXT
    return None


def _is_plain_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if _BINARY_RE.search(data):
        return False
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c")
    return not _MARKUP_RE.match(head)


def _check_raster(data: bytes, kind: FileType) -> None:
    """Pillow must read the header as the claimed format, within the pixel bound."""
    name = _PILLOW_FORMAT[kind]
    try:
        with Image.open(io.BytesIO(data), formats=[name]) as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationError(
                    FIELD,
                    f"the image is {width:,} x {height:,} pixels; "
                    f"the limit is {MAX_IMAGE_PIXELS:,} pixels",
                )
            im.verify()
    # Caught, not filtered: warnings.catch_warnings() is not thread-safe.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValidationError(FIELD, "the image has too many pixels to open safely") from exc
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise ValidationError(FIELD, f"the file is not a readable {kind.label} image") from exc


def clean_filename(raw: str, kind: FileType) -> str:
    """A base name without path, control or format characters, ending in ``kind``'s extension.

    Format characters (Unicode Cf) go too: U+202E RIGHT-TO-LEFT OVERRIDE turns
    ``invoice‮fdp.exe`` into something that reads as ``invoiceexe.pdf``.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    name = name.strip().lstrip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if ext.lower() not in kind.extensions:
        stem = name
        ext = kind.extensions[0]
    stem = stem.rstrip(" .") or "upload"
    return stem[: MAX_FILENAME - len(ext) - 1] + "." + ext


def check_file(
    data: bytes, *, filename: str, declared_type: str | None, max_bytes: int
) -> CheckedFile:
    """Apply every rule to an upload; raises :class:`ValidationError` (field ``file``)."""
    if not data:
        raise ValidationError(FIELD, "is empty")
    if len(data) > max_bytes:
        raise ValidationError(FIELD, f"is {len(data):,} bytes; the limit is {max_bytes:,} bytes")
    kind = detect(data)
    if kind is None:
        raise _refused(declared_type)
    content = data
    if kind is SVG:
        try:
            content = baking.sanitize_svg(data)
        except baking.BakingError as exc:
            raise ValidationError(FIELD, f"the SVG cannot be accepted: {exc}") from exc
    elif kind in _PILLOW_FORMAT:
        _check_raster(data, kind)
    return CheckedFile(
        content=content,
        media_type=kind.media_type,
        filename=clean_filename(filename, kind),
        sha256=hashlib.sha256(content).hexdigest(),
    )


# ---------------------------------------------------------------- storing and loading


def store_upload(
    uow: UnitOfWork,
    *,
    data: bytes,
    filename: str,
    declared_type: str | None,
    max_bytes: int,
    now: datetime | None = None,
) -> Upload:
    """Check ``data`` and store it, or return the row that already holds the same bytes.

    ``declared_type`` (the client's ``Content-Type``) is only quoted in the
    refusal message; it never decides anything.
    """
    checked = check_file(data, filename=filename, declared_type=declared_type, max_bytes=max_bytes)
    existing = uow.session.scalar(
        select(Upload).where(Upload.sha256 == checked.sha256).order_by(Upload.id).limit(1)
    )
    if existing is not None:
        return existing
    row = Upload(
        sha256=checked.sha256,
        media_type=checked.media_type,
        filename=checked.filename,
        size=len(checked.content),
        content=checked.content,
    )
    if now is not None:
        row.created_at = now
    uow.session.add(row)
    uow.session.flush()
    return row


def load_upload(ctx: Context, public_id: str) -> UploadContent:
    with ctx.uow() as uow:
        row = uow.session.scalar(select(Upload).where(Upload.public_id == public_id))
        if row is None:
            raise NotFound(f"no upload {public_id!r}")
        return UploadContent(
            row.public_id, row.filename, row.media_type, row.size, row.sha256, row.content
        )
