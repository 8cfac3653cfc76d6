"""W3C Bitstring Status List v1.0: the bitstring, its encoding and the documents.

FACTS §2.8 B and §5 pitfall 5 summarise the rules followed here:

* a list holds at least 131,072 entries (16 KiB); shorter lists make verifiers
  raise ``STATUS_LIST_LENGTH_ERROR`` (Bitstring Status List, "Bitstring Generation
  Algorithm" and "Processing Errors");
* entry ``i`` is bit ``7 - i % 8`` of byte ``i // 8``: index 0 is the most
  significant bit of the first byte ("Bitstring Generation Algorithm");
* ``encodedList`` is the GZIP-compressed bitstring, base64url without padding,
  with the multibase prefix ``u`` ("BitstringStatusListCredential");
* ``statusListIndex`` is a base-10 string and SHOULD be assigned at random, so
  that neighbouring indices say nothing about issue order ("Privacy
  Considerations").

The module is pure: it builds unsigned documents; proofs are added elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import secrets
import zlib
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any

__all__ = [
    "DEFAULT_LENGTH",
    "MAX_DECODED_BYTES",
    "MIN_LENGTH",
    "STATUS_PURPOSES",
    "Bitstring",
    "StatusListError",
    "choose_index",
    "decode_list",
    "encode_list",
    "status_entry",
    "status_list_credential",
]

MIN_LENGTH = 131_072
"""Minimum number of entries (16 KiB; Bitstring Status List "Bitstring Generation Algorithm")."""

DEFAULT_LENGTH = MIN_LENGTH

MAX_DECODED_BYTES = 16 * 1024 * 1024
"""Largest decompressed list accepted from elsewhere (134,217,728 entries).

Guards against gzip bombs: a few kilobytes of GZIP can expand to gigabytes.
"""

STATUS_PURPOSES = frozenset({"revocation", "suspension", "refresh", "message"})
"""Reserved ``statusPurpose`` values (Bitstring Status List "BitstringStatusListEntry")."""

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"

_GZIP_MAGIC = b"\x1f\x8b"
_NONZERO_BYTE = re.compile(b"[^\x00]")


class StatusListError(ValueError):
    """A status list that cannot be used, with a W3C error code and a human reason.

    ``code`` is one of the Bitstring Status List "Processing Errors" types:
    ``STATUS_LIST_LENGTH_ERROR``, ``RANGE_ERROR`` or ``MALFORMED_VALUE_ERROR``.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Bitstring:
    """A mutable list of one-bit statuses, MSB-first ("Bitstring Generation Algorithm").

    Bit ``i`` is ``(byte[i // 8] >> (7 - i % 8)) & 1``; 1 means the status
    (revoked, suspended, …) is set.
    """

    __slots__ = ("_bytes",)

    def __init__(self, length: int = DEFAULT_LENGTH) -> None:
        _check_length(length, MIN_LENGTH)
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes, *, min_length: int = MIN_LENGTH) -> Bitstring:
        """Wrap raw (decompressed) list bytes, checking the minimum length."""
        _check_length(len(data) * 8, min_length)
        bits = cls.__new__(cls)
        bits._bytes = bytearray(data)
        return bits

    @classmethod
    def with_set(cls, indices: Collection[int], length: int = DEFAULT_LENGTH) -> Bitstring:
        """A list of ``length`` entries with exactly ``indices`` set."""
        bits = cls(length)
        for index in indices:
            bits.set(index, True)
        return bits

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={self.count()})"

    def _locate(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"A status list index is an integer, not {type(index).__name__}.")
        if not 0 <= index < len(self):
            raise StatusListError(
                "RANGE_ERROR",
                f"Index {index} is outside the status list, which has {len(self):,} entries "
                f"(0 to {len(self) - 1:,}).",
            )
        return index // 8, 7 - index % 8

    def get(self, index: int) -> bool:
        """Whether the status at ``index`` is set."""
        byte, shift = self._locate(index)
        return bool((self._bytes[byte] >> shift) & 1)

    def set(self, index: int, value: bool) -> None:
        """Set (``True``) or clear (``False``) the status at ``index``."""
        byte, shift = self._locate(index)
        if value:
            self._bytes[byte] |= 1 << shift
        else:
            self._bytes[byte] &= ~(1 << shift) & 0xFF

    def set_indices(self) -> Iterator[int]:
        """The indices whose status is set, in ascending order."""
        # Lists are mostly zero bytes; let the regex engine skip them at C speed.
        for match in _NONZERO_BYTE.finditer(self._bytes):
            byte_index = match.start()
            byte = self._bytes[byte_index]
            for bit in range(8):
                if (byte >> (7 - bit)) & 1:
                    yield byte_index * 8 + bit

    def count(self) -> int:
        """How many statuses are set."""
        return int.from_bytes(self._bytes, "big").bit_count()

    def to_bytes(self) -> bytes:
        """The raw, uncompressed bitstring."""
        return bytes(self._bytes)


def _check_length(length: int, min_length: int) -> None:
    if length % 8:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR",
            f"A status list length must be a whole number of bytes; {length:,} bits is not.",
        )
    if length < min_length:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR",
            f"The status list has {length:,} entries; at least {min_length:,} are required "
            "so that a single entry does not identify its holder.",
        )


def encode_list(bits: Bitstring) -> str:
    """Encode a list as ``encodedList``: GZIP, base64url without padding, ``u`` prefix.

    Bitstring Status List "Bitstring Generation Algorithm". The GZIP header's mtime is
    zeroed so that the same list always encodes to the same string.
    """
    compressed = gzip.compress(bits.to_bytes(), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(
    encoded: str,
    *,
    min_length: int = MIN_LENGTH,
    max_bytes: int = MAX_DECODED_BYTES,
) -> Bitstring:
    """Decode an ``encodedList`` (Bitstring Status List "Bitstring Expansion Algorithm").

    Lenient where issuers are known to differ: the multibase ``u`` prefix may
    be missing, padding may be present or not, and standard base64 (``+/``)
    is read like base64url. Strict where it matters: the decompressed size is
    capped at ``max_bytes`` and the list must hold ``min_length`` entries.
    """
    if not isinstance(encoded, str) or not encoded.strip():
        raise StatusListError("MALFORMED_VALUE_ERROR", "The encodedList is empty.")
    text = encoded.strip()
    # Unprefixed base64 of GZIP data always starts "H4sI", never "u".
    if text.startswith("u"):
        text = text[1:]
    elif text.startswith("z"):
        raise StatusListError(
            "MALFORMED_VALUE_ERROR",
            "The encodedList uses multibase base58btc ('z'); Bitstring Status List "
            "requires base64url ('u').",
        )
    text = text.rstrip("=").replace("+", "-").replace("/", "_")
    try:
        compressed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StatusListError(
            "MALFORMED_VALUE_ERROR", "The encodedList is not valid base64url."
        ) from exc
    if not compressed.startswith(_GZIP_MAGIC):
        raise StatusListError(
            "MALFORMED_VALUE_ERROR", "The encodedList does not hold GZIP-compressed data."
        )
    return Bitstring.from_bytes(_gunzip(compressed, max_bytes), min_length=min_length)


def _gunzip(compressed: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError(
            "MALFORMED_VALUE_ERROR", f"The encodedList's GZIP data is damaged ({exc})."
        ) from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise StatusListError(
            "STATUS_LIST_LENGTH_ERROR",
            f"The status list expands to more than {max_bytes:,} bytes; refusing it "
            "(a list that large is almost certainly a compression bomb).",
        )
    if not inflater.eof:
        raise StatusListError("MALFORMED_VALUE_ERROR", "The encodedList's GZIP data is truncated.")
    return data


def choose_index(used: Collection[int], length: int = DEFAULT_LENGTH) -> int:
    """Pick a random free index in ``range(length)`` not in ``used``.

    Random, not sequential, so an index reveals nothing about when or to whom
    a credential was issued (Bitstring Status List, Privacy Considerations, "Data Minimization
    and Correlation"). Uses ``secrets`` because the choice must not be
    predictable from earlier ones.
    """
    if length <= 0:
        raise StatusListError("STATUS_LIST_LENGTH_ERROR", "The status list has no entries.")
    # Almost always the first draw is free; the scan below only runs when the
    # list is nearly full, and it also makes a full list an error, not a hang.
    for _ in range(64):
        index = secrets.randbelow(length)
        if index not in used:
            return index
    free = [i for i in range(length) if i not in used]
    if not free:
        raise StatusListError(
            "RANGE_ERROR",
            f"All {length:,} entries of the status list are in use; start a new list.",
        )
    return secrets.choice(free)


def _check_purpose(purpose: str) -> None:
    if purpose not in STATUS_PURPOSES:
        allowed = ", ".join(sorted(STATUS_PURPOSES))
        raise ValueError(f"Unknown statusPurpose {purpose!r}; expected one of {allowed}.")


def _check_datetime(name: str, value: str) -> None:
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} {value!r} is not an ISO 8601 date-time.") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} needs a time zone, for example a trailing Z.")


def status_list_credential(
    list_id: str,
    issuer: dict[str, Any] | str,
    purpose: str,
    encoded_list: str,
    valid_from: str,
    valid_until: str | None = None,
    *,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Build the unsigned ``BitstringStatusListCredential`` (FACTS §2.8 B).

    Bitstring Status List "BitstringStatusListCredential": a VC 2.0 credential whose subject, ``<list_id>#list``,
    is a ``BitstringStatusList`` carrying ``statusPurpose`` and ``encodedList``.
    The terms are in the VC 2.0 context, so it is the only context needed. The
    list is decoded once here so a malformed or too-short list is never
    published.
    """
    _check_purpose(purpose)
    decode_list(encoded_list)
    _check_datetime("validFrom", valid_from)
    if valid_until is not None:
        _check_datetime("validUntil", valid_until)
    if isinstance(issuer, dict):
        if not isinstance(issuer.get("id"), str):
            raise ValueError("The issuer object needs an 'id'.")
        issuer = dict(issuer)
    subject: dict[str, Any] = {
        "id": f"{list_id}#list",
        "type": "BitstringStatusList",
        "statusPurpose": purpose,
        "encodedList": encoded_list,
    }
    if ttl_ms is not None:
        if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0:
            raise ValueError("ttl is a non-negative number of milliseconds.")
        subject["ttl"] = ttl_ms
    credential: dict[str, Any] = {
        "@context": [VC_V2_CONTEXT],
        "id": list_id,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
    }
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, str]:
    """Build a ``BitstringStatusListEntry`` for a credential's ``credentialStatus``.

    Bitstring Status List "BitstringStatusListEntry"; FACTS §2.8 B and §5 pitfalls 4-5: one object,
    with an ``id``, and ``statusListIndex`` as a base-10 string (a JSON number
    would change the signed RDF).
    """
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"statusListIndex must be a non-negative integer, not {index!r}.")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }
