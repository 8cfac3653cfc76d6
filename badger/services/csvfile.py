"""CSV files people upload or import: UTF-8 (a spreadsheet's BOM allowed), rows numbered.

Every problem is a :class:`ValidationError` naming ``file`` (and the row where
there is one), never a decoding or ``csv`` exception: a file is decoded
whole before any row is used, so a bad byte near its end stops the import
before its first row is acted on.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from badger.domain.errors import ValidationError


@dataclass
class CsvRows:
    """The header's column names (stripped) and the rows, each with its line number."""

    columns: set[str]
    reader: csv.DictReader[str]

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """(number, row) with the header as row 1; each row's keys and cells stripped."""
        number = 1
        try:
            for number, raw in enumerate(self.reader, start=2):
                yield number, {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KiB limit
            raise ValidationError("file", f"row {number + 1}: {exc}") from None


def read_csv(content: bytes) -> CsvRows:
    """``content`` decoded and its header read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            "file", f"is not UTF-8 text (byte {exc.start}); save it as “CSV UTF-8”"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        columns = {h.strip() for h in reader.fieldnames or [] if h}
    except csv.Error as exc:
        raise ValidationError("file", f"row 1: {exc}") from None
    return CsvRows(columns, reader)
