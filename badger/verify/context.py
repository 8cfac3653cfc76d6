"""Everything one verification run needs, passed explicitly to each step."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from badger.verify.ports import FetchedDocument, Fetcher, FetchError, LocalIssuers, NoLocalIssuers

MAX_JSON_BYTES = 2 * 1024 * 1024


class OfflineFetcher:
    """Refuses every remote fetch (``badger verify --offline``)."""

    def get(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        raise FetchError("offline", f"not fetched (offline mode): {url}")


@dataclass
class VerifyContext:
    """``now`` is the verification time; ``recipient`` an optional email or DID to match."""

    now: datetime
    fetcher: Fetcher = field(default_factory=OfflineFetcher)
    local: LocalIssuers = field(default_factory=NoLocalIssuers)
    recipient: str | None = None
    # Fetched documents are reused within one run (a CLR repeats its issuer's keys).
    _seen: dict[str, FetchedDocument] = field(default_factory=dict, repr=False)

    def retrieve(self, url: str, *, accept: str = "application/json") -> FetchedDocument:
        """A document by URL: badger's own issuers locally, anything else through the fetcher.

        Raises :class:`FetchError`.
        """
        key = f"{accept} {url}"
        if key in self._seen:
            return self._seen[key]
        document = self.local.document(url)
        if document is None:
            document = self.fetcher.get(url, accept=accept)
        self._seen[key] = document
        return document

    def retrieve_json(self, url: str, *, accept: str = "application/json") -> tuple[int, Any]:
        """(status, parsed JSON) of a document; raises :class:`FetchError` for non-JSON."""
        document = self.retrieve(url, accept=accept)
        if len(document.body) > MAX_JSON_BYTES:
            raise FetchError("too_large", f"{url} is larger than {MAX_JSON_BYTES} bytes")
        try:
            return document.status, json.loads(document.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            if document.status >= 400:
                return document.status, None
            raise FetchError("not_json", f"{url} did not answer with JSON") from None
