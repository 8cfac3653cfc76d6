"""Recipient identifiers: normalisation and Open Badges identity hashing.

A learner holds several identifiers (emails, URLs, DIDs, phone numbers); email
is a delivery channel, not the identity.  Identifiers are normalised once, on the
way in, so that the hash in an issued badge and the one a verifier computes
from what the learner types agree (FACTS §5.24: the identifier is hashed
verbatim, so normalise consistently before hashing).

OB 2.0 §IdentityObject and OB 3.0 §IdentityObject: ``identity`` is
``"sha256$" + hex(sha256(identifier + salt))``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from badger.domain.errors import ValidationError


class IdentifierKind(StrEnum):
    """Kinds of recipient identifier badger accepts (OB 2.0 ``recipient.type``)."""

    EMAIL = "email"
    URL = "url"
    DID = "did"
    TELEPHONE = "telephone"


# OB 3.0 IdentifierTypeEnum / OB 2.0 recipient.type for each kind.
OB3_IDENTITY_TYPE = {
    IdentifierKind.EMAIL: "emailAddress",
    IdentifierKind.URL: "identifier",
    IdentifierKind.DID: "identifier",
    IdentifierKind.TELEPHONE: "identifier",
}
OB2_RECIPIENT_TYPE = {
    IdentifierKind.EMAIL: "email",
    IdentifierKind.URL: "url",
    IdentifierKind.DID: "id",
    IdentifierKind.TELEPHONE: "telephone",
}

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DID_RE = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+(?:#[A-Za-z0-9._:%-]+)?$")
_PHONE_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised recipient identifier."""

    kind: IdentifierKind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def normalize_email(value: str) -> str:
    """Trim, NFC-normalise and lower-case an email address, then check its shape.

    The whole address is lower-cased: mailbox case-sensitivity is allowed by
    RFC 5321 but no real provider uses it, and a badge hashed with one case
    must verify with another.
    """
    email = unicodedata.normalize("NFC", value.strip()).lower()
    if len(email) > 254 or not _EMAIL_RE.match(email):
        raise ValidationError("email", f"{value!r} is not an email address")
    return email


def parse_identifier(raw: str, kind: str | None = None) -> Identifier:
    """Parse and normalise an identifier; ``kind`` is guessed when omitted."""
    text = raw.strip()
    if not text:
        raise ValidationError("recipient", "is empty")
    guessed = kind or _guess_kind(text)
    try:
        ident_kind = IdentifierKind(guessed)
    except ValueError:
        raise ValidationError("recipient", f"unknown identifier kind {guessed!r}") from None
    match ident_kind:
        case IdentifierKind.EMAIL:
            return Identifier(ident_kind, normalize_email(text.removeprefix("mailto:")))
        case IdentifierKind.DID:
            if not _DID_RE.match(text):
                raise ValidationError("recipient", f"{raw!r} is not a DID")
            return Identifier(ident_kind, text)
        case IdentifierKind.URL:
            parts = urlsplit(text)
            if parts.scheme not in {"http", "https"} or not parts.hostname:
                raise ValidationError("recipient", f"{raw!r} is not an http(s) URL")
            return Identifier(ident_kind, text)
        case IdentifierKind.TELEPHONE:
            phone = re.sub(r"[\s().-]", "", text.removeprefix("tel:"))
            if not _PHONE_RE.match(phone):
                raise ValidationError("recipient", f"{raw!r} is not an E.164 phone number")
            return Identifier(ident_kind, phone)
    raise AssertionError("unreachable")  # pragma: no cover


def _guess_kind(text: str) -> str:
    if text.startswith("did:"):
        return IdentifierKind.DID
    if text.startswith(("http://", "https://")):
        return IdentifierKind.URL
    if text.startswith(("tel:", "+")):
        return IdentifierKind.TELEPHONE
    return IdentifierKind.EMAIL


def identity_hash(identifier: str, salt: str) -> str:
    """OB ``sha256$<hex>`` of ``identifier + salt`` (both specs, same rule)."""
    digest = hashlib.sha256((identifier + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def identity_matches(candidate: str, identity: str, salt: str | None, hashed: bool) -> bool:
    """Whether a plaintext ``candidate`` is the recipient named by ``identity``.

    Hex case is free in the published hash (FACTS §5.24); comparison is
    constant-time.
    """
    if not hashed:
        return hmac.compare_digest(candidate.encode("utf-8"), identity.encode("utf-8"))
    algorithm, _, digest = identity.partition("$")
    if algorithm.lower() != "sha256" or not digest:
        return False
    expected = identity_hash(candidate, salt or "").partition("$")[2]
    return hmac.compare_digest(expected, digest.lower())
