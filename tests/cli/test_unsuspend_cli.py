"""`badger unsuspend AWARD --reason TEXT`: the reason is printed and audited."""

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select

from badger.cli import main
from badger.store.models import AuditEntry


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


def test_unsuspend_takes_a_reason_and_audits_it(run, fresh_database_url):
    award = json.loads(run("issue", "ethics-disclosure", "ada@example.org", "--json").output)["id"]
    assert run("suspend", award, "--reason", "under audit").exit_code == 0
    lifted = run("unsuspend", award, "--reason", "audit found nothing")
    assert lifted.exit_code == 0
    assert lifted.output.strip() == f"award {award} active again: audit found nothing"
    engine = create_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            details = conn.scalar(
                select(AuditEntry.details).where(
                    AuditEntry.subject_id == award, AuditEntry.action == "award.unsuspend"
                )
            )
    finally:
        engine.dispose()
    assert details["reason"] == "audit found nothing"
    assert details["suspended_for"] == "under audit"


def test_unsuspend_refuses_a_too_long_reason_naming_it(run):
    award = json.loads(run("issue", "ethics-disclosure", "ada@example.org", "--json").output)["id"]
    run("suspend", award)
    refused = run("unsuspend", award, "--reason", "x" * 501)
    assert refused.exit_code == 2  # bad input, as for every command
    assert "reason: at most 500 characters" in refused.output
    assert "Traceback" not in refused.output
