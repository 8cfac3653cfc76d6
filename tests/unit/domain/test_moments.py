"""Dates and date-times typed into CSV files and API calls."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.domain.errors import ValidationError
from badger.domain.moments import parse_moment


def test_a_date_alone_is_the_start_of_that_day_in_utc():
    assert parse_moment("2026-12-01", "issued_on") == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01T09:30:00Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30:00z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        (" 2026-12-01T09:30:00+02:00 ", datetime(2026, 12, 1, 7, 30, tzinfo=UTC)),
    ],
)
def test_date_times_with_a_zone_are_read_as_written(text, expected):
    assert parse_moment(text, "issued_on") == expected


def test_a_date_time_without_a_zone_is_refused_with_what_to_write():
    with pytest.raises(ValidationError) as caught:
        parse_moment("2026-12-01T09:30", "occurred_at")
    assert caught.value.field == "occurred_at"
    assert "2026-12-01T09:30Z" in caught.value.reason


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "01/12/2026", "2026-02-30"])
def test_what_is_not_a_date_names_the_field(text):
    with pytest.raises(ValidationError) as caught:
        parse_moment(text, "issued_on")
    assert caught.value.field == "issued_on"
    assert "ISO 8601" in caught.value.reason


@given(st.dates())
def test_every_date_reads_as_its_midnight_utc(day: date):
    assert parse_moment(day.isoformat(), "f") == datetime(day.year, day.month, day.day, tzinfo=UTC)


@given(
    st.datetimes(
        datetime(1900, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
        datetime(9000, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_every_aware_date_time_round_trips(moment: datetime, offset_minutes: int):
    written = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert parse_moment(written.isoformat(), "f") == moment


@given(st.text(max_size=40))
def test_any_text_is_a_moment_or_a_validation_error(text: str):
    try:
        moment = parse_moment(text, "f")
    except ValidationError as exc:
        field = exc.field
    else:
        field = "f"
        assert moment.tzinfo is not None
    assert field == "f"
