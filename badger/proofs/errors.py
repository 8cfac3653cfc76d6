"""Badger's proof exceptions.

Everything in :mod:`badger.proofs` raises these and only these for bad input
(tokens, keys, key files): library exceptions from ``cryptography`` and ``jwt``
are caught where they arise and re-raised as one of the classes below with the
original chained as ``__cause__`` (STYLE habit 10), so callers above the
proofs layer never need to import a crypto library to handle a failure.

Each exception carries a stable machine ``code`` and a one-line human
``message`` (STYLE habit 7); ``str(exc)`` is the message.
"""

from __future__ import annotations

__all__ = [
    "AlgorithmNotAllowed",
    "InvalidIdentifier",
    "KeyNotFound",
    "KeyStoreError",
    "ProofError",
    "ProofInvalid",
]


class ProofError(Exception):
    """Base class: something about a proof, key or key store is wrong."""

    code: str = "proof_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ProofInvalid(ProofError):
    """A signature, token or signed document does not verify or is malformed."""

    code = "proof_invalid"


class KeyNotFound(ProofError):
    """No key is known for the issuer, algorithm or key id asked for."""

    code = "key_not_found"


class KeyStoreError(ProofError):
    """The key store cannot be read or written (corrupt file, wrong passphrase, I/O)."""

    code = "keystore_error"


class AlgorithmNotAllowed(ProofError):
    """The algorithm is not on the allow-list for this format or does not fit the key."""

    code = "algorithm_not_allowed"


class InvalidIdentifier(ProofError, ValueError):
    """An identifier (a ``did:web`` DID or its URL) is not well formed."""

    code = "invalid_identifier"
