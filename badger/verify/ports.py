"""What the verifier needs from the outside world, as small protocols.

The verifier never reads badger's database (import-linter forbids it): badger's
own issuers come in through :class:`LocalIssuers`, implemented by the services
layer; remote documents come through :class:`Fetcher` (``badger.verify.fetch``
is the SSRF-safe implementation, tests use an in-memory one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FetchedDocument:
    url: str
    status: int
    content_type: str
    body: bytes


class FetchError(Exception):
    """A remote document could not be fetched; ``code`` is stable, the message human."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Fetcher(Protocol):
    def get(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        """GET ``url``; raises :class:`FetchError` when it is refused or fails.

        Non-2xx answers are returned (a hosted OB 2.0 assertion answers 410
        when revoked), not raised.
        """
        ...


class LocalIssuers(Protocol):
    """badger's own issuers, resolved without HTTP."""

    def document(self, url: str) -> FetchedDocument | None:
        """What badger serves at ``url`` when it is one of its own URLs, else None."""
        ...


class NoLocalIssuers:
    """For a verifier that knows no local issuers."""

    def document(self, url: str) -> FetchedDocument | None:
        return None
