"""Ed25519 public keys as Multikey values and ``did:key`` identifiers.

W3C Controlled Identifiers 1.0 §2.2.2 (Multikey) and W3C VC-DI-EdDSA §2.1.1
(Multikey): an Ed25519 public key is encoded as the multicodec header
``0xed 0x01`` followed by the 32 raw key bytes, then base58-btc encoded with the
multibase prefix ``z``; the result therefore always starts with ``z6Mk``.
The did:key Method v0.7 §3.1 (Ed25519) reuses that value as the method-specific
identifier, and its verification method id is ``did:key:<value>#<value>``.
"""

from __future__ import annotations

import base58

__all__ = [
    "ED25519_MULTICODEC",
    "did_key_from_ed25519_public",
    "did_key_verification_method",
    "ed25519_public_to_multibase",
    "multibase_to_ed25519_public",
]

#: The multicodec header of an Ed25519 public key (varint of 0xed).
ED25519_MULTICODEC = b"\xed\x01"
_KEY_LENGTH = 32
_BASE58BTC_PREFIX = "z"


def ed25519_public_to_multibase(raw: bytes) -> str:
    """Encode a raw 32-byte Ed25519 public key as a ``publicKeyMultibase`` value.

    VC-DI-EdDSA §2.1.1: ``z`` + base58btc(``0xed01`` + key), i.e. ``z6Mk…``.
    """
    if not isinstance(raw, bytes | bytearray) or len(raw) != _KEY_LENGTH:
        raise ValueError("an Ed25519 public key is exactly 32 bytes")
    return _BASE58BTC_PREFIX + base58.b58encode(ED25519_MULTICODEC + bytes(raw)).decode("ascii")


def multibase_to_ed25519_public(value: str) -> bytes:
    """Decode a ``z6Mk…`` Multikey value to the raw 32-byte Ed25519 public key.

    Rejects (with ``ValueError``) any other multibase encoding, any other
    multicodec (FACTS §2.11: "any other multicodec prefix must be rejected")
    and any length other than 2 + 32 decoded bytes.
    """
    if not isinstance(value, str) or not value.startswith(_BASE58BTC_PREFIX):
        raise ValueError("not a base58-btc multibase value (must start with 'z')")
    try:
        decoded = base58.b58decode(value[1:].encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("invalid base58-btc characters in multibase value") from exc
    if not decoded.startswith(ED25519_MULTICODEC):
        raise ValueError("multicodec header is not ed25519-pub (0xed01)")
    key = decoded[len(ED25519_MULTICODEC) :]
    if len(key) != _KEY_LENGTH:
        raise ValueError(f"Ed25519 public key must be 32 bytes, got {len(key)}")
    return key


def did_key_from_ed25519_public(raw: bytes) -> str:
    """Return the ``did:key:z6Mk…`` DID of a raw Ed25519 public key (did:key §3.1)."""
    return "did:key:" + ed25519_public_to_multibase(raw)


def did_key_verification_method(raw: bytes) -> str:
    """Return the did:key verification method id ``did:key:z6Mk…#z6Mk…`` (did:key §3.1.1)."""
    value = ed25519_public_to_multibase(raw)
    return f"did:key:{value}#{value}"
