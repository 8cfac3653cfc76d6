"""Policies as data and the offline ledger simulator."""

import json
from datetime import UTC, datetime
from decimal import Decimal as D  # noqa: N817
from pathlib import Path

import pytest
from click.testing import CliRunner

from badger.cli import main
from badger.domain.errors import ValidationError
from badger.services import ledger

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def load(name):
    return json.loads((EXAMPLES / name).read_text())


def test_the_example_policy_parses_with_its_exemption():
    policy = ledger.parse_policy(load("csms-policy.json"))
    assert policy.category("training-library").cap is None
    assert policy.category("unlisted").cap == 5
    assert policy.series_cap("monthly-strategy-webinar").max_items == 6


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"required_total": -1}, "required_total"),
        ({"key": "Bad Key"}, "key"),
        ({"categories": [{"name": "x", "cap": "five"}]}, "categories[0].cap"),
        ({"categories": [{"name": "x"}, {"name": "x"}]}, "categories"),
        ({"series_caps": [{"series": "s"}]}, "series_caps"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_policies_name_the_field(change, field):
    with pytest.raises(ValidationError) as info:
        ledger.parse_policy({**load("csms-policy.json"), **change})
    assert info.value.field == field


def test_the_example_member_is_seven_credits_short_with_every_rule_explained():
    policy, result = ledger.simulate(load("csms-policy.json"), load("ada-activities.json"))
    assert (result.counted_total, result.remaining, result.satisfied) == (23, 7, False)
    by_id = {line.item_id: line for line in result.lines}
    assert by_id["summit"].counted == 3  # 3 learning hours of an 8-hour day
    assert by_id["analytics-2"].rule == "category_cap"
    assert by_id["dual"].category == "content-strategy"  # analytics was full
    assert by_id["hiatus-course"].rule == "hiatus"
    assert by_id["webinar-4"].rule == "proof_required"
    assert sum(1 for line in result.lines if line.rule == "series_cap") >= 1
    body = ledger.ledger_json(policy, result)
    assert body["counted_total"] == 23.0
    assert json.dumps(body)  # JSON-ready


def test_as_of_leaves_out_what_has_not_happened_yet():
    _, early = ledger.simulate(
        load("csms-policy.json"),
        load("ada-activities.json"),
        as_of=datetime(2025, 3, 15, tzinfo=UTC),
    )
    # By mid-March: ethics 2, analytics 3 and the first monthly webinar 0.5.
    assert early.counted_total == D("5.5")


def test_activities_errors_name_the_field():
    data = load("ada-activities.json")
    data["activities"][0]["earned_at"] = "2025-02-10T10:00:00"
    with pytest.raises(ValidationError, match=r"activities\[0\]\.earned_at"):
        ledger.simulate(load("csms-policy.json"), data)
    data = load("ada-activities.json")
    data["activities"][1]["id"] = data["activities"][0]["id"]
    with pytest.raises(ValidationError, match="appears twice"):
        ledger.simulate(load("csms-policy.json"), data)


def test_cli_policy_check_and_ledger_simulate(tmp_path, monkeypatch):
    monkeypatch.setenv("BADGER_INSTANCE_DIR", str(tmp_path / "i"))
    runner = CliRunner()
    checked = runner.invoke(main, ["policy", "check", str(EXAMPLES / "csms-policy.json")])
    assert checked.exit_code == 0
    assert "exempt: training-library" in checked.output
    args = [
        "ledger",
        "simulate",
        "--policy",
        str(EXAMPLES / "csms-policy.json"),
        "--activities",
        str(EXAMPLES / "ada-activities.json"),
    ]
    text = runner.invoke(main, args)
    assert text.exit_code == 0
    assert text.output.startswith(
        "Certified Social Media Strategist renewal (v1): 23 of 30 counted, 7 to go"
    )
    assert "which is exempt from the category cap" in text.output
    as_json = json.loads(runner.invoke(main, [*args, "--json", "--as-of", "2030-01-01"]).output)
    assert as_json["remaining"] == 7.0
    bad = tmp_path / "bad.json"
    bad.write_text('{"key": "x"}')
    failed = runner.invoke(main, ["policy", "check", str(bad)])
    assert failed.exit_code == 2
    assert failed.output.startswith("error: ")
    assert runner.invoke(main, [*args, "--as-of", "soon"]).exit_code == 2
