"""Small test doubles shared by several test modules."""

from __future__ import annotations

from collections.abc import Mapping

from badger.verify.fetch import MemoryFetcher
from badger.verify.ports import FetchedDocument


def json_fetcher(documents: Mapping[str, object] | None = None) -> MemoryFetcher:
    """badger's :class:`MemoryFetcher` serving plain JSON values by URL.

    A value that is already a :class:`FetchedDocument` is served as it stands
    (status, content type and body), so a test can answer 404 or plain text.
    Every other URL fails to connect.
    """
    fetcher = MemoryFetcher()
    for url, document in (documents or {}).items():
        if isinstance(document, FetchedDocument):
            fetcher.add(
                url, document.body, status=document.status, content_type=document.content_type
            )
        else:
            fetcher.add(url, document, content_type="application/json")  # type: ignore[arg-type]
    return fetcher
