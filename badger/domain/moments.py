"""Moments as people write them in CSV files and API calls.

Open Badges date-times carry a time zone, and a date-time written without one
is ambiguous (whose 09:00?), so it is refused.  A date alone (``2026-12-01``),
which is what a spreadsheet column named "issued on" mostly holds, is read
as the start of that day in UTC, as the CLI reads its date options.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from badger.domain.errors import ValidationError

_DATE_ALONE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_moment(value: str, field: str) -> datetime:
    """``value`` as an aware datetime: ISO 8601 with a time zone, or a date alone (UTC)."""
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValidationError(
            field, f"{value!r} is not an ISO 8601 date (2026-12-01) or date-time"
        ) from None
    if moment.tzinfo is not None:
        return moment
    if _DATE_ALONE.fullmatch(text):
        return moment.replace(tzinfo=UTC)
    raise ValidationError(
        field,
        f"{value!r} needs a time zone (e.g. {text}Z for UTC), or give the date alone",
    )
