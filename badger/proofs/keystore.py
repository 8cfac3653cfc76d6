"""Issuer signing keys: a ``KeyStore`` port, an encrypted file store and an in-memory one.

Every issuer holds one *active* key per algorithm family (ARCHITECTURE.md, "Keys"):

* ``Ed25519`` -- Data Integrity ``eddsa-rdfc-2022`` proofs (FACTS §2.11) and, optionally,
  ``EdDSA`` JWS. Its key id is the Multikey multibase value (``z6Mk…``), so a
  verification method reads ``<controller>#z6Mk…`` (FACTS §5 pitfalls 7-8).
* ``RS256`` -- RSA-2048, PKCS#1 v1.5 with SHA-256: OB 2.0 signed badges (FACTS §1.10)
  and VC-JWT, where RS256 is the one algorithm every verifier must support (FACTS §2.10).
* ``ES256`` -- ECDSA P-256 with SHA-256, the other VC-JWT algorithm the 1EdTech
  validator accepts (FACTS §5 pitfall 9).

``rotate`` makes a new active key and *retires* the old one; retired keys stay
published (JWKS, DID document, OB 2.0 ``CryptographicKey``) so credentials signed
with them keep verifying, but nothing signs with them again.

Private keys never leave :mod:`badger.proofs`. Code above this layer asks for a
:class:`Signer`, which signs bytes and exposes only public information. Modules
inside ``badger.proofs`` that need the key object itself (the Data Integrity suite
hands an ``Ed25519PrivateKey`` to its signing step) use the ``_private_key``
method, which is internal to this package and must not be called from elsewhere.

File layout of :class:`FileKeyStore` (directory 0700, files 0600)::

    <directory>/<issuer dir>/keys.json      metadata, no secrets (kid, alg, dates, status)
    <directory>/<issuer dir>/<kid>.pem      PKCS#8 "ENCRYPTED PRIVATE KEY" PEM
    <directory>/<issuer dir>/.lock          flock target serialising writers

Private keys are encrypted at rest with ``BestAvailableEncryption`` under the newest
passphrase; loading tries every configured passphrase, newest first, so passphrases
rotate the way Lemur's ``Vault``/MultiFernet keys do (STYLE habit 11): put the new
passphrase first, run :meth:`FileKeyStore.rewrap`, then drop the old one.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import fcntl
import json
import os
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any, Protocol, TypeAlias, runtime_checkable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from badger.proofs.errors import AlgorithmNotAllowed, KeyNotFound, KeyStoreError
from badger.proofs.multikey import ed25519_public_to_multibase

__all__ = [
    "FileKeyStore",
    "KeyAlgorithm",
    "KeyRef",
    "KeyStatus",
    "KeyStore",
    "MemoryKeyStore",
    "PrivateKey",
    "PublicKey",
    "Signer",
    "jwk_from_public_key",
    "load_public_pem",
    "public_key_pem",
]

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_RSA_BITS = 2048
_RSA_EXPONENT = 65537
_METADATA_NAME = "keys.json"
_METADATA_VERSION = 1
# Key ids double as file names: only these characters, and never a leading dot.
_KID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_MAX_ISSUER_LENGTH = 2048
# Longer quoted issuer names are hashed so the directory name stays under NAME_MAX.
_MAX_DIRNAME = 150


class KeyAlgorithm(enum.StrEnum):
    """A key family. The value is what badger stores and what callers pass."""

    ED25519 = "Ed25519"
    RS256 = "RS256"
    ES256 = "ES256"

    @property
    def jose_alg(self) -> str:
        """The JOSE ``alg`` value (RFC 7518 §3.1, RFC 8037 §3.1) signatures carry."""
        return "EdDSA" if self is KeyAlgorithm.ED25519 else self.value

    @classmethod
    def coerce(cls, value: KeyAlgorithm | str) -> KeyAlgorithm:
        """Accept the enum, its value, or the JOSE name ``EdDSA``."""
        if isinstance(value, KeyAlgorithm):
            return value
        if value == "EdDSA":
            return cls.ED25519
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(a.value for a in cls)
            raise AlgorithmNotAllowed(
                f"unknown key algorithm {value!r} (badger keeps {allowed})"
            ) from None


class KeyStatus(enum.StrEnum):
    """``active`` keys sign; ``retired`` keys only stay published for verification."""

    ACTIVE = "active"
    RETIRED = "retired"


# ---------------------------------------------------------------- public key helpers


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def public_key_pem(public_key: PublicKey) -> str:
    """PEM ``SubjectPublicKeyInfo`` text, the form OB 2.0 ``publicKeyPem`` wants (FACTS §1.7)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_pem(pem: str | bytes) -> PublicKey:
    """Load a PEM public key, translating failures to :class:`KeyStoreError`-free errors.

    Raises ``ValueError`` for unreadable PEM and :class:`AlgorithmNotAllowed` for a
    key type badger does not use; callers in this package translate as they need.
    """
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a PEM public key") from exc
    if isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise AlgorithmNotAllowed(f"public key type {type(key).__name__} is not used by badger")


def jwk_from_public_key(public_key: PublicKey) -> dict[str, str]:
    """The public members only of a JWK (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2).

    Built by hand rather than with pyjwt's ``to_jwk`` so that the member set is
    exactly the public one (pyjwt adds ``key_ops``) and no private member can
    ever appear.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        return {"kty": "RSA", "n": _b64url_uint(numbers.n), "e": _b64url_uint(numbers.e)}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise AlgorithmNotAllowed("only P-256 EC keys are used by badger")
        point = public_key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": _b64url(point.x.to_bytes(32, "big")),
            "y": _b64url(point.y.to_bytes(32, "big")),
        }
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    raise AlgorithmNotAllowed(f"public key type {type(public_key).__name__} is not used by badger")


def _algorithm_of(key: PrivateKey | PublicKey) -> KeyAlgorithm:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return KeyAlgorithm.RS256
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return KeyAlgorithm.ES256
    return KeyAlgorithm.ED25519


def _ed25519_raw(public_key: ed25519.Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _generate(alg: KeyAlgorithm) -> PrivateKey:
    if alg is KeyAlgorithm.RS256:
        return rsa.generate_private_key(public_exponent=_RSA_EXPONENT, key_size=_RSA_BITS)
    if alg is KeyAlgorithm.ES256:
        return ec.generate_private_key(ec.SECP256R1())
    return ed25519.Ed25519PrivateKey.generate()


def _new_kid(alg: KeyAlgorithm, public_key: PublicKey, created: datetime) -> str:
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        # The multibase value as the fragment: <controller>#z6Mk… is the form
        # the 1EdTech validator and Digital Bazaar libraries resolve (FACTS §5.8).
        return ed25519_public_to_multibase(_ed25519_raw(public_key))
    return f"key-{alg.value.lower()}-{created:%Y%m%dt%H%M%Sz}-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- public values


@dataclass(frozen=True, slots=True)
class KeyRef:
    """Public facts about one issuer key: safe to log, publish and pass anywhere."""

    issuer: str
    kid: str
    alg: KeyAlgorithm
    public_pem: str
    created: datetime
    status: KeyStatus = KeyStatus.ACTIVE
    retired_at: datetime | None = None
    multibase: str | None = None

    @property
    def jose_alg(self) -> str:
        """JOSE ``alg`` for signatures made with this key (``RS256``, ``ES256``, ``EdDSA``)."""
        return self.alg.jose_alg

    @property
    def active(self) -> bool:
        return self.status is KeyStatus.ACTIVE

    @property
    def public_jwk(self) -> dict[str, str]:
        """Public JWK with ``kid``, ``alg`` and ``use: "sig"`` (RFC 7517 §4.2-4.5). A fresh dict."""
        jwk = jwk_from_public_key(load_public_pem(self.public_pem))
        jwk.update({"kid": self.kid, "alg": self.jose_alg, "use": "sig"})
        return jwk

    def verification_method(self, controller: str) -> str:
        """``<controller>#<fragment>``; for Ed25519 the fragment is the multibase key."""
        return f"{controller}#{self.multibase or self.kid}"


class Signer:
    """Signs bytes with one issuer key without handing the key to the caller.

    ``sign`` returns the signature in its JOSE form (RFC 7518 §3.3-3.4, RFC 8037 §3.1):
    PKCS#1 v1.5 bytes for RS256, the 64-byte ``r || s`` (not DER) for ES256, the
    64-byte Ed25519 signature for EdDSA. Data Integrity ``eddsa-rdfc-2022`` uses
    the same raw Ed25519 signature.
    """

    __slots__ = ("__key", "key_ref")

    def __init__(self, key_ref: KeyRef, private_key: PrivateKey) -> None:
        self.key_ref = key_ref
        self.__key = private_key

    @property
    def alg(self) -> KeyAlgorithm:
        return self.key_ref.alg

    @property
    def jose_alg(self) -> str:
        return self.key_ref.jose_alg

    @property
    def kid(self) -> str:
        return self.key_ref.kid

    def sign(self, data: bytes) -> bytes:
        """Sign ``data`` and return the JOSE-form signature bytes."""
        key = self.__key
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if isinstance(key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)

    def __repr__(self) -> str:
        return f"<Signer issuer={self.key_ref.issuer!r} kid={self.kid!r} alg={self.alg.value}>"

    def __reduce__(self) -> Any:
        # A signer must not travel through pickle (job queues, caches): that would
        # copy the private key out of the process unencrypted.
        raise TypeError("Signer objects cannot be pickled")


# ---------------------------------------------------------------- the port


@runtime_checkable
class KeyStore(Protocol):
    """Per-issuer signing keys (STYLE habit 5: a port with a file and a memory implementation).

    ``issuer`` is an opaque issuer slug or id chosen by the caller; ``alg`` a
    :class:`KeyAlgorithm` or its string value.
    """

    def ensure_keys(self, issuer: str) -> list[KeyRef]:
        """Create any missing active key (one per algorithm). Idempotent. Returns the active keys."""
        ...

    def active_key(self, issuer: str, alg: KeyAlgorithm | str) -> KeyRef:
        """The key that signs for ``alg`` now; :class:`KeyNotFound` if there is none."""
        ...

    def public_keys(self, issuer: str, *, include_retired: bool = True) -> list[KeyRef]:
        """Every key to publish, oldest first; retired ones included by default."""
        ...

    def find_key(self, issuer: str, kid: str) -> KeyRef:
        """The key with this id, active or retired; :class:`KeyNotFound` otherwise."""
        ...

    def rotate(self, issuer: str, alg: KeyAlgorithm | str) -> KeyRef:
        """Make a new active key for ``alg`` and retire the previous one. Returns the new key."""
        ...

    def signer(self, issuer: str, alg: KeyAlgorithm | str) -> Signer:
        """A :class:`Signer` for the active key of ``alg``."""
        ...

    def rewrap(self) -> int:
        """Re-encrypt every stored private key under the newest passphrase; returns the count."""
        ...

    def _private_key(
        self, issuer: str, alg: KeyAlgorithm | str, kid: str | None = None
    ) -> PrivateKey:
        """For ``badger.proofs`` modules only: the private key object (active one by default)."""
        ...


# ---------------------------------------------------------------- shared logic


@dataclass(slots=True)
class _Record:
    kid: str
    alg: KeyAlgorithm
    created: datetime
    status: KeyStatus
    public_pem: str
    retired_at: datetime | None = None
    multibase: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg.value,
            "created": _iso(self.created),
            "status": self.status.value,
            "retired_at": _iso(self.retired_at) if self.retired_at else None,
            "multibase": self.multibase,
            "public_key_pem": self.public_pem,
        }

    @classmethod
    def from_json(cls, data: Any) -> _Record:
        if not isinstance(data, dict):
            raise ValueError("key entry is not an object")
        kid = data["kid"]
        if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
            raise ValueError(f"bad key id {kid!r}")
        retired_at = data.get("retired_at")
        multibase = data.get("multibase")
        public_pem = data["public_key_pem"]
        if not isinstance(public_pem, str) or (
            multibase is not None and not isinstance(multibase, str)
        ):
            raise ValueError("bad public key fields")
        return cls(
            kid=kid,
            alg=KeyAlgorithm(data["alg"]),
            created=_parse_iso(data["created"]),
            status=KeyStatus(data["status"]),
            public_pem=public_pem,
            retired_at=_parse_iso(retired_at) if retired_at is not None else None,
            multibase=multibase,
        )

    def ref(self, issuer: str) -> KeyRef:
        return KeyRef(
            issuer=issuer,
            kid=self.kid,
            alg=self.alg,
            public_pem=self.public_pem,
            created=self.created,
            status=self.status,
            retired_at=self.retired_at,
            multibase=self.multibase,
        )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("timestamp is not a string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return parsed


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_issuer(issuer: str) -> str:
    if not isinstance(issuer, str) or not issuer or len(issuer) > _MAX_ISSUER_LENGTH:
        raise ValueError(f"issuer must be a non-empty string of at most {_MAX_ISSUER_LENGTH}")
    if "\x00" in issuer:
        raise ValueError("issuer must not contain NUL")
    return issuer


@dataclass(slots=True)
class _Keyring:
    issuer: str
    records: list[_Record] = field(default_factory=list)

    def active(self, alg: KeyAlgorithm) -> _Record | None:
        return next(
            (r for r in self.records if r.alg is alg and r.status is KeyStatus.ACTIVE), None
        )

    def find(self, kid: str) -> _Record | None:
        return next((r for r in self.records if r.kid == kid), None)


class _BaseKeyStore:
    """Key-lifecycle rules shared by both stores; subclasses provide storage."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or _utcnow
        self._cache: dict[tuple[str, str], PrivateKey] = {}
        self._cache_lock = threading.Lock()

    # -- storage primitives (subclasses) --------------------------------

    def _read(self, issuer: str) -> _Keyring:
        raise NotImplementedError

    def _write(self, ring: _Keyring) -> None:
        raise NotImplementedError

    def _store_private(self, issuer: str, kid: str, key: PrivateKey) -> None:
        raise NotImplementedError

    def _load_private(self, issuer: str, record: _Record) -> PrivateKey:
        raise NotImplementedError

    def _locked(self, issuer: str) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    # -- lifecycle ------------------------------------------------------

    def _new_record(self, issuer: str, alg: KeyAlgorithm) -> _Record:
        private_key = _generate(alg)
        public_key = private_key.public_key()
        created = self._clock()
        if created.tzinfo is None:
            raise ValueError("the key store clock must return aware datetimes")
        kid = _new_kid(alg, public_key, created)
        self._store_private(issuer, kid, private_key)
        with self._cache_lock:
            self._cache[(issuer, kid)] = private_key
        multibase = kid if alg is KeyAlgorithm.ED25519 else None
        return _Record(
            kid=kid,
            alg=alg,
            created=created,
            status=KeyStatus.ACTIVE,
            public_pem=public_key_pem(public_key),
            multibase=multibase,
        )

    def ensure_keys(self, issuer: str) -> list[KeyRef]:
        _check_issuer(issuer)
        # Every award asks; once the keys exist (nearly always) a read says
        # so without taking the lock, which only creating them needs.
        ring = self._read(issuer)
        active = [ring.active(alg) for alg in KeyAlgorithm]
        if all(active):
            return [record.ref(issuer) for record in active]  # type: ignore[union-attr]
        with self._locked(issuer):
            ring = self._read(issuer)
            missing = [alg for alg in KeyAlgorithm if ring.active(alg) is None]
            if missing:
                ring.records.extend(self._new_record(issuer, alg) for alg in missing)
                self._write(ring)
            return [ring.active(alg).ref(issuer) for alg in KeyAlgorithm]  # type: ignore[union-attr]

    def active_key(self, issuer: str, alg: KeyAlgorithm | str) -> KeyRef:
        family = KeyAlgorithm.coerce(alg)
        ring = self._read(_check_issuer(issuer))
        record = ring.active(family)
        if record is None:
            raise KeyNotFound(f"issuer {issuer!r} has no active {family.value} key")
        return record.ref(issuer)

    def public_keys(self, issuer: str, *, include_retired: bool = True) -> list[KeyRef]:
        ring = self._read(_check_issuer(issuer))
        return [
            r.ref(issuer) for r in ring.records if include_retired or r.status is KeyStatus.ACTIVE
        ]

    def find_key(self, issuer: str, kid: str) -> KeyRef:
        record = self._read(_check_issuer(issuer)).find(kid)
        if record is None:
            raise KeyNotFound(f"issuer {issuer!r} has no key {kid!r}")
        return record.ref(issuer)

    def rotate(self, issuer: str, alg: KeyAlgorithm | str) -> KeyRef:
        family = KeyAlgorithm.coerce(alg)
        _check_issuer(issuer)
        with self._locked(issuer):
            ring = self._read(issuer)
            new = self._new_record(issuer, family)
            old = ring.active(family)
            if old is not None:
                # A changed copy, not the record itself: records read may be
                # shared with the store's cache of the metadata file.
                ring.records[ring.records.index(old)] = replace(
                    old, status=KeyStatus.RETIRED, retired_at=new.created
                )
            ring.records.append(new)
            self._write(ring)
            return new.ref(issuer)

    def signer(self, issuer: str, alg: KeyAlgorithm | str) -> Signer:
        ref = self.active_key(issuer, alg)
        return Signer(ref, self._key_for(issuer, ref.kid))

    def _private_key(
        self, issuer: str, alg: KeyAlgorithm | str, kid: str | None = None
    ) -> PrivateKey:
        """Internal to ``badger.proofs``: return the private key object itself.

        Exists because the Data Integrity module signs through the cryptography
        key type it expects; nothing outside this package may call it (the
        import-linter contracts stop other layers importing cryptography anyway).
        """
        family = KeyAlgorithm.coerce(alg)
        if kid is None:
            kid = self.active_key(issuer, family).kid
        elif self.find_key(issuer, kid).alg is not family:
            raise KeyNotFound(f"key {kid!r} of issuer {issuer!r} is not a {family.value} key")
        return self._key_for(issuer, kid)

    def _key_for(self, issuer: str, kid: str) -> PrivateKey:
        with self._cache_lock:
            cached = self._cache.get((issuer, kid))
        if cached is not None:
            return cached
        record = self._read(issuer).find(kid)
        if record is None:
            raise KeyNotFound(f"issuer {issuer!r} has no key {kid!r}")
        key = self._load_private(issuer, record)
        with self._cache_lock:
            self._cache[(issuer, kid)] = key
        return key

    def rewrap(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


# ---------------------------------------------------------------- memory


class MemoryKeyStore(_BaseKeyStore):
    """Keys held in process memory, unencrypted: for tests and throw-away runs only."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(clock)
        self._rings: dict[str, list[_Record]] = {}
        self._keys: dict[tuple[str, str], PrivateKey] = {}
        self._lock = threading.RLock()

    def _read(self, issuer: str) -> _Keyring:
        with self._lock:
            records = [replace(r) for r in self._rings.get(issuer, [])]
        return _Keyring(issuer, records)

    def _write(self, ring: _Keyring) -> None:
        with self._lock:
            self._rings[ring.issuer] = [replace(r) for r in ring.records]

    def _store_private(self, issuer: str, kid: str, key: PrivateKey) -> None:
        with self._lock:
            self._keys[(issuer, kid)] = key

    def _load_private(self, issuer: str, record: _Record) -> PrivateKey:
        with self._lock:
            try:
                return self._keys[(issuer, record.kid)]
            except KeyError:
                raise KeyNotFound(f"issuer {issuer!r} has no key {record.kid!r}") from None

    @contextlib.contextmanager
    def _locked(self, issuer: str) -> Iterator[None]:
        with self._lock:
            yield


# ---------------------------------------------------------------- files


def _issuer_dirname(issuer: str) -> str:
    # Percent-encoding keeps slugs readable and maps every other issuer id
    # (URLs, DIDs) to one safe name; quote() emits only [A-Za-z0-9_.~%-].
    name = urllib.parse.quote(issuer, safe="")
    if name.startswith("."):
        name = "%2E" + name[1:]
    if len(name) > _MAX_DIRNAME:
        # "=" never appears in quote() output, so hashed names cannot collide with quoted ones.
        name = "=sha256-" + sha256(issuer.encode("utf-8")).hexdigest()
    return name


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 via a temp file and ``os.replace``."""
    directory = path.parent
    tmp_name = directory / f".tmp-{uuid.uuid4().hex}"
    # O_EXCL + 0o600 at creation: the file is never readable by others, not even
    # for the instant before a chmod would run.
    fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class _Passphrases(tuple[bytes, ...]):
    """The passphrase list, with a repr that never shows them (``vars(store)`` in a log)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} passphrase(s), redacted>"


class FileKeyStore(_BaseKeyStore):
    """Keys in files, private keys encrypted at rest under a rotating passphrase list.

    ``passphrases[0]`` is the newest: new and rewrapped keys are encrypted with it;
    loading tries each passphrase in list order.
    """

    def __init__(
        self,
        directory: Path,
        passphrases: Sequence[bytes],
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(clock)
        if not passphrases or not all(isinstance(p, bytes) and p for p in passphrases):
            raise KeyStoreError("the key store needs at least one non-empty passphrase (bytes)")
        self._directory = Path(directory)
        self.__passphrases = _Passphrases(passphrases)
        # issuer -> (the metadata file's inode, size, mtime; its records)
        self._parsed: dict[str, tuple[tuple[int, int, int], list[_Record]]] = {}

    def __repr__(self) -> str:
        return f"<FileKeyStore directory={str(self._directory)!r}>"

    def __reduce__(self) -> Any:
        raise TypeError("FileKeyStore objects cannot be pickled (they hold passphrases)")

    @property
    def directory(self) -> Path:
        return self._directory

    # -- paths ------------------------------------------------------------

    def _issuer_dir(self, issuer: str) -> Path:
        return self._directory / _issuer_dirname(issuer)

    def _key_path(self, issuer: str, kid: str) -> Path:
        if not _KID_RE.fullmatch(kid):
            raise KeyStoreError(f"refusing key id {kid!r}: not a safe file name")
        return self._issuer_dir(issuer) / f"{kid}.pem"

    def _make_dir(self, path: Path) -> None:
        try:
            path.mkdir(mode=0o700, exist_ok=False)
        except FileExistsError:
            return
        except OSError as exc:
            raise KeyStoreError(f"cannot create key directory {path}: {exc.strerror}") from exc
        # mkdir's mode is filtered by the umask; set it explicitly.
        os.chmod(path, 0o700)

    # -- storage primitives ---------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, issuer: str) -> Iterator[None]:
        self._make_dir(self._directory)
        issuer_dir = self._issuer_dir(issuer)
        self._make_dir(issuer_dir)
        lock_path = issuer_dir / ".lock"
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise KeyStoreError(f"cannot open lock file {lock_path}: {exc.strerror}") from exc
        try:
            # flock excludes other processes (gunicorn workers, the CLI) and other
            # threads of this one, since each call opens its own file description.
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _read(self, issuer: str) -> _Keyring:
        """The issuer's key metadata, parsed again only when the file changed.

        Every award reads it (several times); the file is replaced, never
        edited in place (``_write_atomic``), so its inode, size and mtime
        tell whether the records parsed last time are still what it holds,
        whichever process (a worker, the CLI rotating a key) wrote it.
        """
        path = self._issuer_dir(issuer) / _METADATA_NAME
        cached = self._parsed.get(issuer)
        try:
            if cached is not None:
                info = os.stat(path)
                if cached[0] == (info.st_ino, info.st_size, info.st_mtime_ns):
                    return _Keyring(issuer, list(cached[1]))  # records are not changed
            with path.open("rb") as handle:
                info = os.fstat(handle.fileno())
                stamp = (info.st_ino, info.st_size, info.st_mtime_ns)
                raw = handle.read()
        except FileNotFoundError:
            return _Keyring(issuer)
        except OSError as exc:
            raise KeyStoreError(f"cannot read key metadata {path}: {exc.strerror}") from exc
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or data.get("version") != _METADATA_VERSION:
                raise ValueError("unknown metadata version")
            if data.get("issuer") != issuer:
                raise ValueError("metadata belongs to another issuer")
            records = [_Record.from_json(item) for item in data["keys"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyStoreError(f"key metadata file {path} is corrupt ({exc})") from exc
        self._parsed[issuer] = (stamp, records)
        return _Keyring(issuer, list(records))

    def _write(self, ring: _Keyring) -> None:
        path = self._issuer_dir(ring.issuer) / _METADATA_NAME
        document = {
            "version": _METADATA_VERSION,
            "issuer": ring.issuer,
            "keys": [r.to_json() for r in ring.records],
        }
        data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            _write_atomic(path, data)
        except OSError as exc:
            raise KeyStoreError(f"cannot write key metadata {path}: {exc.strerror}") from exc

    def _encrypt(self, key: PrivateKey) -> bytes:
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self.__passphrases[0]),
        )

    def _store_private(self, issuer: str, kid: str, key: PrivateKey) -> None:
        path = self._key_path(issuer, kid)
        if path.exists():
            raise KeyStoreError(f"key file {path} already exists; refusing to overwrite it")
        try:
            _write_atomic(path, self._encrypt(key))
        except OSError as exc:
            raise KeyStoreError(f"cannot write key file {path}: {exc.strerror}") from exc

    def _decrypt(self, path: Path) -> tuple[PrivateKey, int]:
        """Load the key at ``path``; also return the index of the passphrase that opened it."""
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise KeyStoreError(f"key file {path} is missing") from exc
        except OSError as exc:
            raise KeyStoreError(f"cannot read key file {path}: {exc.strerror}") from exc
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" not in data:
            raise KeyStoreError(
                f"key file {path} is not an encrypted PKCS#8 PEM (corrupt or stored in clear)"
            )
        last_error: Exception | None = None
        for index, passphrase in enumerate(self.__passphrases):
            try:
                key = serialization.load_pem_private_key(data, password=passphrase)
            except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
                last_error = exc
                continue
            if not isinstance(
                key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
            ):
                raise KeyStoreError(f"key file {path} holds an unsupported key type")
            return key, index
        raise KeyStoreError(
            f"cannot decrypt key file {path}: wrong passphrase or corrupt file"
        ) from last_error

    def _load_private(self, issuer: str, record: _Record) -> PrivateKey:
        path = self._key_path(issuer, record.kid)
        key, _ = self._decrypt(path)
        if public_key_pem(key.public_key()) != record.public_pem or _algorithm_of(key) is not (
            record.alg
        ):
            raise KeyStoreError(f"key file {path} does not match its metadata entry")
        return key

    # -- passphrase rotation ------------------------------------------------------

    def _issuers(self) -> list[str]:
        issuers = []
        try:
            entries = sorted(self._directory.iterdir())
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KeyStoreError(f"cannot list key directory {self._directory}: {exc}") from exc
        for entry in entries:
            meta = entry / _METADATA_NAME
            if not meta.is_file():
                continue
            try:
                issuer = json.loads(meta.read_bytes())["issuer"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeyStoreError(f"key metadata file {meta} is corrupt") from exc
            if not isinstance(issuer, str) or _issuer_dirname(issuer) != entry.name:
                raise KeyStoreError(f"key metadata file {meta} names the wrong issuer")
            issuers.append(issuer)
        return issuers

    def rewrap(self) -> int:
        """Re-encrypt every private key that an older passphrase opens under the newest one.

        Returns how many files were rewritten. Safe to re-run; once it returns, the
        older passphrases can be removed from the configuration.
        """
        count = 0
        for issuer in self._issuers():
            with self._locked(issuer):
                for record in self._read(issuer).records:
                    path = self._key_path(issuer, record.kid)
                    key, index = self._decrypt(path)
                    if index == 0:
                        continue
                    try:
                        _write_atomic(path, self._encrypt(key))
                    except OSError as exc:
                        raise KeyStoreError(
                            f"cannot rewrite key file {path}: {exc.strerror}"
                        ) from exc
                    count += 1
        return count
