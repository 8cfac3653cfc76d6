"""`badger policy import|list` and `badger cycles …`: the cycle commands end to end."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from badger.cli import main
from badger.services import demo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
POLICY = EXAMPLES / "csms-policy.json"


@pytest.fixture
def run(tmp_path, fresh_database_url):
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "instance"),
        "BADGER_KEYS_DIR": str(tmp_path / "keys"),
        "BADGER_DATABASE_URL": fresh_database_url,
        "BADGER_ADMIN_EMAIL": None,
        "BADGER_ADMIN_PASSWORD": None,
    }

    def invoke(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    invoke("demo", "--admin-password", "correct horse battery")
    return invoke


def ada_cycle(run):
    (cycle,) = json.loads(run("cycles", "list", "--json").output)
    return cycle


def test_the_demo_policy_is_the_example_policy():
    assert json.loads(POLICY.read_text()) == demo.DEMO_POLICY


def test_demo_gives_ada_an_open_cycle_once(run):
    again = run("demo")
    assert again.exit_code == 0, again.output
    assert "ada@example.org has an open csms cycle" in again.output
    cycle = ada_cycle(run)
    assert (cycle["status"], cycle["policy"], cycle["learner_name"]) == (
        "active",
        {"key": "csms", "version": 1},
        "Ada Strategist",
    )
    assert cycle["starts_at"].endswith("-01-01T00:00:00+00:00")


def test_policy_import_is_idempotent_and_versions_are_listed(run, tmp_path):
    same = run("policy", "import", str(POLICY))
    assert same.exit_code == 0, same.output
    assert "policy csms v1 already present (identical)" in same.output
    changed = tmp_path / "v1-changed.json"
    changed.write_text(json.dumps({**demo.DEMO_POLICY, "required_total": 40}))
    clash = run("policy", "import", str(changed))
    assert clash.exit_code == 1
    assert clash.output.startswith("error: policy csms v1 exists with different content")
    newer = tmp_path / "v2.json"
    newer.write_text(json.dumps({**demo.DEMO_POLICY, "version": 2, "auto_renew": True}))
    assert "policy csms v2 imported" in run("policy", "import", str(newer)).output
    listed = json.loads(run("policy", "list", "--json").output)
    assert [(p["key"], p["version"], p["auto_renew"]) for p in listed] == [
        ("csms", 1, False),
        ("csms", 2, True),
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**demo.DEMO_POLICY, "on_shortfall": "shrug"}))
    result = run("policy", "import", str(bad))
    assert result.exit_code == 2
    assert result.output.startswith("error: on_shortfall")


def test_show_prints_the_cycle_and_its_ledger(run):
    cycle = ada_cycle(run)
    for ref in (cycle["id"], "ada@example.org"):
        shown = run("cycles", "show", ref)
        assert shown.exit_code == 0, shown.output
        assert (
            "Certified Social Media Strategist renewal (v1): 1.5 of 30 counted"
        )  # the demo badge in shown.output
        assert "required achievement ethics-disclosure" in shown.output
    body = json.loads(run("cycles", "show", cycle["id"], "--json").output)
    assert body[0]["ledger"]["required_total"] == 30.0
    assert body[0]["cycle"]["id"] == cycle["id"]


def test_extend_and_hiatus_move_the_deadline(run):
    cycle = ada_cycle(run)
    deadline = datetime.fromisoformat(cycle["effective_deadline"])
    extended = run("cycles", "extend", cycle["id"], "--days", "60", "--reason", "medical leave")
    assert extended.exit_code == 0, extended.output
    assert f"deadline {(deadline + timedelta(days=60)):%Y-%m-%d}" in extended.output
    started = run("cycles", "hiatus", "start", cycle["id"], "--reason", "parental leave")
    assert "inactive" in started.output
    again = run("cycles", "hiatus", "start", cycle["id"], "--reason", "again")
    assert again.exit_code == 1
    assert again.output.startswith("error: the cycle is already on hiatus")
    ended = run("cycles", "hiatus", "end", cycle["id"])
    assert ended.exit_code == 0, ended.output
    assert "active" in ended.output
    shown = ada_cycle(run)
    assert shown["extension_days"] == 60
    assert len(shown["hiatus"]) == 1


def test_bad_input_is_one_line(run):
    cycle = ada_cycle(run)
    zero = run("cycles", "extend", cycle["id"], "--days", "0", "--reason", "x")
    assert zero.exit_code == 2
    assert zero.output.startswith("error: days: between 1")
    missing = run("cycles", "show", "no-such-cycle")
    assert missing.exit_code == 1
    assert missing.output.startswith("error: no certification cycle 'no-such-cycle'")
    no_reason = run("cycles", "hiatus", "start", cycle["id"])
    assert no_reason.exit_code == 2
    assert no_reason.output.startswith("error: reason")
    assert "Traceback" not in zero.output + missing.output + no_reason.output


def test_requests_list_is_empty_and_deciding_an_unknown_one_fails(run):
    assert json.loads(run("cycles", "requests", "--json").output) == []
    result = run("cycles", "decide", "nope", "--decision", "approve")
    assert result.exit_code == 1
    assert result.output.startswith("error: no request 'nope'")


def test_tick_moves_a_cycle_to_grace_and_reminds_once(run):
    cycle = ada_cycle(run)
    deadline = datetime.fromisoformat(cycle["effective_deadline"])
    before = (deadline - timedelta(days=20)).isoformat()
    first = run("cycles", "tick", "--as-of", before)
    assert first.exit_code == 0, first.output
    assert "1 reminders" in first.output
    assert "reminder 30d:" in first.output
    assert "0 reminders" in run("cycles", "tick", "--as-of", before).output
    after = (deadline + timedelta(days=1)).isoformat()
    late = run("cycles", "tick", "--as-of", after)
    assert "active → grace" in late.output
    assert ada_cycle(run)["status"] == "grace"


def test_whatif_shows_the_learning_sessions_of_a_conference_day(run):
    cycle = ada_cycle(run)
    result = run(
        "cycles",
        "whatif",
        cycle["id"],
        "--credits",
        "8",
        "--category",
        "conferences",
        "--type",
        "conference",
        "--minutes",
        "180",
        "--json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["gain"], body["counted"], body["status"]) == (3.0, 3.0, "counted")
    text = run("cycles", "whatif", cycle["id"], "--credits", "7", "--category", "analytics")
    assert "1.5 → 6.5 of 30 counted (+5)" in text.output
    assert "limited by: category_cap" in text.output
    bad = run("cycles", "whatif", cycle["id"], "--credits", "lots", "--category", "analytics")
    assert bad.exit_code == 2
    assert bad.output.startswith("error: credits")


def test_renew_refuses_an_unsatisfied_cycle_with_the_reasons(run):
    result = run("cycles", "renew", ada_cycle(run)["id"])
    assert result.exit_code == 1
    assert result.output.startswith("error: not satisfied yet: 1.50 of 30 credits counted")


def test_review_queue_starts_empty(run):
    assert json.loads(run("cycles", "review-queue", "--json").output) == []
    result = run("cycles", "resolve", ada_cycle(run)["id"], "--decision", "reinstate")
    assert result.exit_code == 1
    assert "not waiting for review" in result.output


def test_start_refuses_a_second_open_cycle(run):
    start = datetime(2025, 1, 1, tzinfo=UTC).date().isoformat()
    result = run("cycles", "start", "ada@example.org", "--policy", "csms", "--start", start)
    assert result.exit_code == 1
    assert "already has an open csms cycle" in result.output
    grace = run("cycles", "start", "grace@example.org", "--policy", "csms", "--start", start)
    assert grace.exit_code == 0, grace.output
    assert "cycle started" in grace.output
    assert len(json.loads(run("cycles", "list", "--json").output)) == 2


def test_migrate_moves_a_cycle_to_a_newer_policy_version(run, tmp_path):
    newer = tmp_path / "v2.json"
    newer.write_text(json.dumps({**demo.DEMO_POLICY, "version": 2, "cycle_months": 48}))
    run("policy", "import", str(newer))
    cycle = ada_cycle(run)
    assert cycle["policy"]["version"] == 1  # kept the version it started under
    moved = run("cycles", "migrate", cycle["id"], "--version", "2", "--reason", "board vote")
    assert moved.exit_code == 0, moved.output
    assert "now under csms v2" in moved.output
    assert ada_cycle(run)["policy"]["version"] == 2
