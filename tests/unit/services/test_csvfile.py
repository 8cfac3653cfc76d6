"""CSV files as people save them: every problem names the file (and row), none raises anything else."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from badger.domain.errors import ValidationError
from badger.services.csvfile import read_csv


def test_a_spreadsheets_bom_and_padding_are_dropped_and_rows_are_numbered_from_the_header():
    table = read_csv(
        "\ufeff recipient , kind\nada@example.org , quiz\n\nbob@example.org,x\n".encode()
    )
    assert table.columns == {"recipient", "kind"}
    assert list(table) == [
        (2, {"recipient": "ada@example.org", "kind": "quiz"}),
        (3, {"recipient": "bob@example.org", "kind": "x"}),
    ]


def test_a_file_that_is_not_utf8_is_refused_before_any_row():
    with pytest.raises(ValidationError) as caught:
        read_csv(b"recipient\nada@example.org\n\xff\xfe\n")
    assert caught.value.field == "file"
    assert "not UTF-8 text (byte 26)" in caught.value.reason


def test_a_field_over_the_csv_modules_limit_names_its_row():
    table = read_csv(b"recipient,narrative\na@example.org,short\nb@example.org," + b"x" * 200_000)
    with pytest.raises(ValidationError) as caught:
        list(table)
    assert caught.value.field == "file"
    assert caught.value.reason.startswith("row 3: field larger than field limit")


@given(st.binary(max_size=300))
def test_any_bytes_read_or_fail_as_a_validation_error(content: bytes):
    try:
        rows = list(read_csv(content))
    except ValidationError as exc:
        field = exc.field
    else:
        field = "file"
        assert all(number >= 2 for number, _ in rows)
    assert field == "file"
