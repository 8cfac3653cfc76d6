"""Decide what a verifier input is, without asking the user.

A person pastes or uploads *something*: a badge URL, a baked PNG or SVG, a
compact JWS (OB 2.0 signed) or VC-JWT (OB 3.0), or credential JSON. ``detect``
names the format so the right verifier runs; it checks nothing about
authenticity. Every input is hostile until proved otherwise, so ``detect`` has
one contract: it returns a :class:`Detected` for *any* bytes or text (hypothesis
tests hold it to that), with ``kind == "unusable"`` and a human ``reason`` when
the input cannot be read.

Rules, in order:

1. Bytes that look like a PNG or SVG: read the baked payload with
   :func:`badger.credentials.baking.extract_image` (size, pixel and entity
   limits apply there) and detect that payload as text (FACTS §1.12, §2.13: OB
   2.0 images may hold a URL, a JWS or JSON).
2. Other bytes must be UTF-8 text (a BOM is dropped).
3. ``http(s)://…`` on its own → ``url``.
4. Three base64url segments → a compact JWS: its payload is decoded *without*
   verifying (``unsafe_decode_payload``, which exists for exactly this) to tell
   an OB 2.0 signed assertion (``ob2-jws``) from a VC-JWT (``vc-jwt``).
5. JSON (≤ 2 MiB, nesting ≤ 64 levels) → by ``@context`` and ``type``:
   ``ob2-assertion``, ``ob3-credential`` (VC 2.0 or legacy VC 1.1 form), ``clr``.
6. Anything else → ``unusable``.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from badger.credentials.baking import BakeKind, BakingError, ImageFormat, extract_image, sniff_image
from badger.proofs.errors import ProofError
from badger.proofs.jws import unsafe_decode_payload

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT_BYTES",
    "Detected",
    "InputKind",
    "detect",
]

#: Largest JSON / token / URL text accepted (images have their own limits in baking).
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: Deepest JSON nesting accepted; real credentials stay under ten.
MAX_DEPTH = 64

OB2_CONTEXTS = frozenset(
    {"https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json"}
)
VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
VC_CONTEXTS = frozenset({VC_V2_CONTEXT, VC_V1_CONTEXT})
OB3_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"})
CLR_TYPES = frozenset({"ClrCredential"})

_JWS_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*")
# A string (unterminated ones run to the end, so nothing is scanned twice) or a bracket.
_JSON_TOKENS_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


class InputKind(enum.StrEnum):
    URL = "url"
    OB2_ASSERTION = "ob2-assertion"
    OB2_JWS = "ob2-jws"
    VC_JWT = "vc-jwt"
    OB3_CREDENTIAL = "ob3-credential"
    CLR = "clr"
    UNUSABLE = "unusable"


@dataclass(frozen=True, slots=True)
class Detected:
    """What an input is.

    ``payload`` is the parsed JSON object (credential kinds), the text (``url``,
    ``ob2-jws``, ``vc-jwt``) or ``None`` (``unusable``). ``reason`` says why in
    words. ``image_format`` is set when the payload came out of a baked image,
    and ``notes`` carries what the baking reader tolerated (FACTS §5 pitfall 19).
    """

    kind: InputKind
    payload: Any
    reason: str
    image_format: ImageFormat | None = None
    notes: tuple[str, ...] = ()

    @property
    def usable(self) -> bool:
        return self.kind is not InputKind.UNUSABLE


def _unusable(reason: str) -> Detected:
    return Detected(InputKind.UNUSABLE, None, reason)


def detect(data: bytes | str) -> Detected:
    """Name the format of ``data`` (see the module docstring). Never raises."""
    if isinstance(data, bytes | bytearray | memoryview):
        return _detect_bytes(bytes(data))
    if isinstance(data, str):
        if data.lstrip("\ufeff \t\r\n").startswith("<"):
            # Pasted SVG markup: read it as the image it is.
            try:
                return _detect_bytes(data.encode("utf-8"))
            except UnicodeEncodeError:
                return _unusable("The text contains characters that are not valid Unicode.")
        return _detect_text(data)
    return _unusable(f"Cannot read a {type(data).__name__}; give bytes or text.")


# ---------------------------------------------------------------- bytes and images


def _detect_bytes(data: bytes) -> Detected:
    if not data.strip():
        return _unusable("The input is empty.")
    image_format = sniff_image(data)
    if image_format is not None:
        return _detect_image(data, image_format)
    if len(data) > MAX_TEXT_BYTES:
        return _unusable(f"The input is larger than {MAX_TEXT_BYTES // (1024 * 1024)} MiB.")
    text = data.removeprefix(b"\xef\xbb\xbf")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return _unusable(
            "The input is neither a PNG or SVG badge image nor UTF-8 text "
            "(JSON, a URL or a signed token)."
        )
    return _detect_text(decoded)


def _detect_image(data: bytes, image_format: ImageFormat) -> Detected:
    label = image_format.upper()
    try:
        baked = extract_image(data)
    except BakingError as exc:
        return _unusable(f"The {label} image cannot be read: {exc}")
    except (ValueError, OSError, RecursionError, MemoryError, SyntaxError) as exc:
        # Pillow and the XML parsers raise these for hostile files the baking
        # checks did not name; the sniffer's contract is never to raise.
        return _unusable(f"The {label} image cannot be read ({type(exc).__name__}).")
    if baked is None:
        return _unusable(f"The {label} image carries no baked badge or credential.")
    found = _detect_text(baked.payload, baked=True)
    notes = list(baked.notes)
    if found.usable and _baked_kind_mismatch(baked.kind, found.kind):
        notes.append(f"The image was baked as {baked.kind.label} but holds {_LABELS[found.kind]}.")
    reason = found.reason
    if found.usable:
        reason = f"{found.reason} (baked in a {label} image)"
    else:
        reason = f"The {label} image's baked payload is unusable: {found.reason}"
    return Detected(found.kind, found.payload, reason, image_format, tuple(notes))


_LABELS = {
    InputKind.URL: "a URL",
    InputKind.OB2_ASSERTION: "an Open Badges 2.0 assertion",
    InputKind.OB2_JWS: "an Open Badges 2.0 signed assertion",
    InputKind.VC_JWT: "a VC-JWT",
    InputKind.OB3_CREDENTIAL: "an Open Badges 3.0 credential",
    InputKind.CLR: "a CLR 2.0 credential",
}


def _baked_kind_mismatch(bake: BakeKind, kind: InputKind) -> bool:
    expected = {
        BakeKind.OB2: {InputKind.URL, InputKind.OB2_ASSERTION, InputKind.OB2_JWS},
        BakeKind.OB3: {InputKind.OB3_CREDENTIAL, InputKind.VC_JWT},
        BakeKind.CLR2: {InputKind.CLR, InputKind.VC_JWT},
    }
    return kind not in expected[bake]


# ---------------------------------------------------------------- text


def _detect_text(text: str, *, baked: bool = False) -> Detected:
    if len(text) > MAX_TEXT_BYTES:
        return _unusable(f"The input is larger than {MAX_TEXT_BYTES // (1024 * 1024)} MiB.")
    stripped = text.strip().removeprefix("\ufeff").strip()
    if not stripped:
        return _unusable("The input is empty.")
    if stripped[0] in '{["':
        return _detect_json(stripped)
    if _JWS_RE.fullmatch(stripped):
        return _detect_jws(stripped)
    if _URL_RE.fullmatch(stripped) and "://" in stripped:
        return _detect_url(stripped)
    if baked:
        return _unusable("it is neither JSON, a signed token nor a URL.")
    return _unusable(
        "This is not a badge: give a badge URL, a baked PNG or SVG image, "
        "a signed token or the credential JSON."
    )


def _detect_url(text: str) -> Detected:
    try:
        parts = urlsplit(text)
    except ValueError:
        return _unusable("The URL is malformed.")
    if parts.scheme.lower() not in {"http", "https"}:
        return _unusable(f"Only http and https URLs can be verified, not {parts.scheme}:.")
    if not parts.netloc:
        return _unusable("The URL has no host.")
    return Detected(InputKind.URL, text, "A badge URL.")


def _detect_jws(token: str) -> Detected:
    try:
        payload = unsafe_decode_payload(token)
    except ProofError as exc:
        return _unusable(f"It looks like a signed token, but {exc}.")
    except RecursionError:
        return _unusable("It looks like a signed token, but its payload is nested too deeply.")
    if _is_vc_payload(payload):
        return Detected(InputKind.VC_JWT, token, "A VC-JWT (JSON Web Token credential).")
    if {"recipient", "badge", "verification"} & payload.keys():
        return Detected(InputKind.OB2_JWS, token, "An Open Badges 2.0 signed assertion (JWS).")
    return _unusable(
        "It is a signed token, but its payload is neither an Open Badges 2.0 "
        "assertion nor a Verifiable Credential."
    )


def _is_vc_payload(payload: dict[str, Any]) -> bool:
    if isinstance(payload.get("vc"), dict) or "credentialSubject" in payload:
        return True
    return bool(_contexts(payload) & VC_CONTEXTS)


# ---------------------------------------------------------------- JSON


_OPENERS = frozenset({"[", "{"})
_CLOSERS = frozenset({"]", "}"})


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether brackets nest deeper than ``limit`` (strings skipped); linear, no recursion."""
    depth = 0
    for match in _JSON_TOKENS_RE.finditer(text):
        lexeme = match.group()
        if lexeme in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif lexeme in _CLOSERS:
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _detect_json(text: str) -> Detected:
    if _depth_exceeds(text, MAX_DEPTH):
        return _unusable(f"The JSON nests deeper than {MAX_DEPTH} levels.")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return _unusable(f"The JSON nests deeper than {MAX_DEPTH} levels.")
    except ValueError as exc:
        return _unusable(f"The input is not valid JSON ({_json_error(exc)}).")
    if isinstance(value, str):
        # A JSON string holding a URL or a token (some wallets export them so).
        inner = value.strip()
        if inner and inner[0] not in '{["':
            return _detect_text(inner)
        return _unusable("The JSON is a string, not a credential object.")
    if not isinstance(value, dict):
        return _unusable(f"The JSON is {_json_type(value)}, not a credential object.")
    return _classify_object(value)


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg}: line {exc.lineno}, column {exc.colno}"
    return str(exc)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _contexts(document: dict[str, Any]) -> set[str]:
    return _strings(document.get("@context"))


def _types(document: dict[str, Any]) -> set[str]:
    return _strings(document.get("type")) | _strings(document.get("@type"))


def _classify_object(document: dict[str, Any]) -> Detected:
    contexts = _contexts(document)
    types = _types(document)
    legacy = VC_V1_CONTEXT in contexts and VC_V2_CONTEXT not in contexts
    if "VerifiableCredential" in types or contexts & VC_CONTEXTS:
        form = " (VC 1.1 form)" if legacy else ""
        if types & CLR_TYPES:
            return Detected(InputKind.CLR, document, f"A CLR 2.0 credential{form}.")
        if types & OB3_TYPES:
            return Detected(
                InputKind.OB3_CREDENTIAL, document, f"An Open Badges 3.0 credential{form}."
            )
        named = ", ".join(sorted(types)) or "no type"
        return _unusable(f"It is a Verifiable Credential ({named}) but not an Open Badge or a CLR.")
    if contexts & OB2_CONTEXTS or "Assertion" in types:
        if "Assertion" in types or (not types and _looks_like_assertion(document)):
            return Detected(InputKind.OB2_ASSERTION, document, "An Open Badges 2.0 assertion.")
        named = ", ".join(sorted(types)) or "an object without a type"
        return _unusable(
            f"It is Open Badges 2.0 {named}, not an assertion; verify the assertion instead."
        )
    return _unusable(
        "The JSON is neither an Open Badges assertion nor a Verifiable Credential "
        "(no Open Badges or VC @context, no known type)."
    )


def _looks_like_assertion(document: dict[str, Any]) -> bool:
    # A revoked hosted assertion may answer with only @context, id and revoked.
    return "revoked" in document or {"recipient", "badge"} <= document.keys()
