"""The `badger` command line: happy paths, idempotence and clean errors."""

import base64
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from badger.cli import main
from badger.store import migrate


@pytest.fixture
def run(tmp_path, fresh_database_url):
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "instance"),
        "BADGER_KEYS_DIR": str(tmp_path / "keys"),
        "BADGER_DATABASE_URL": fresh_database_url,
        "BADGER_ADMIN_EMAIL": None,
        "BADGER_ADMIN_PASSWORD": None,
    }

    def invoke(*args, **extra_env):
        runner = CliRunner()
        return runner.invoke(main, list(args), env={**env, **extra_env}, catch_exceptions=False)

    return invoke


ADMIN = ["--admin-email", "root@example.org", "--admin-password", "correct horse battery"]


def test_help_lists_every_command(run):
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "serve", "db", "demo", "users", "tokens", "achievements", "config"):
        assert command in result.output


def test_init_twice_is_idempotent(run):
    first = run("init", *ADMIN, "--issuer-name", "ISMS")
    assert first.exit_code == 0, first.output
    assert "admin root@example.org created" in first.output
    assert "issuer 'default' created (ISMS)" in first.output
    second = run("init", *ADMIN)
    assert second.exit_code == 0
    assert "already exists; left as it is" in second.output
    assert "password unchanged" in second.output
    users = run(
        "users", "add", "--email", "root@example.org", "--name", "Dup", "--password", "x" * 12
    )
    assert users.exit_code == 1
    assert "already exists" in users.output


def test_init_reads_admin_from_environment(run):
    result = run(
        "init",
        BADGER_ADMIN_EMAIL="env@example.org",
        BADGER_ADMIN_PASSWORD="correct horse battery",
    )
    assert result.exit_code == 0, result.output
    assert "admin env@example.org created" in result.output


def test_init_without_admin_and_without_terminal_fails_clearly(run):
    result = run("init")
    assert result.exit_code == 2
    assert "error: --admin-email (or BADGER_ADMIN_EMAIL) is required" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin-email", "not-an-email", "--admin-password", "correct horse battery"], "email"),
        (["--admin-email", "a@example.org", "--admin-password", "short"], "password"),
        ([*ADMIN, "--issuer-slug", "Bad Slug"], "issuer_slug"),
        ([*ADMIN, "--issuer-url", "ftp://x"], "issuer_url"),
    ],
)
def test_init_bad_input_is_one_line_and_exit_2(run, args, message):
    result = run("init", *args)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {message}")
    assert "Traceback" not in result.output


def test_init_with_bad_password_creates_no_issuer(run):
    run("init", "--admin-email", "a@example.org", "--admin-password", "short")
    good = run("init", *ADMIN)
    assert "issuer 'default' created" in good.output


def test_config_error_is_one_line(run):
    result = run("db", "upgrade", BADGER_BASE_URL="not a url")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: configuration: BADGER_BASE_URL: 'not a url' is not an http(s) URL with a host"
    ]


def test_unreachable_database_is_reported_not_raised(run):
    result = run(
        "db",
        "upgrade",
        BADGER_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: database: OperationalError")


def test_db_upgrade_and_current(run):
    head = migrate.head_revision()
    assert head is not None
    assert "current: empty" in run("db", "current").output
    assert run("db", "current").exit_code == 1
    assert f"upgraded empty database -> {head}" in run("db", "upgrade").output
    assert f"already at {head}" in run("db", "upgrade").output
    current = run("db", "current")
    assert current.exit_code == 0
    assert f"current: {head}  head: {head}" in current.output


def test_demo_loads_once_and_reports_credentials(run):
    first = run("demo", "--learner-password", "learner password 1")
    assert first.exit_code == 0, first.output
    assert "11 demo achievements added (0 existed)" in first.output
    assert (
        "ada@example.org: course.completed content-calendar-basics recorded, awarded"
        in first.output
    )
    assert "sign in as admin: admin@example.org / " in first.output
    assert "password: learner password 1" in first.output
    second = run("demo")
    assert second.exit_code == 0
    assert "0 demo achievements added (11 existed)" in second.output
    assert "ada@example.org: course.completed content-calendar-basics known" in second.output
    assert "sign in as admin" not in second.output
    assert "demo-credentials.txt" in second.output
    listed = json.loads(run("achievements", "list", "--json").output)
    by_slug = {a["slug"]: a for a in listed}
    assert by_slug["monthly-webinar"]["series"] == "monthly-strategy-webinar"
    assert by_slug["training-library-video-strategy"]["credit_category"] == "training-library"
    assert by_slug["csms"]["achievement_type"] == "Certification"
    assert by_slug["content-calendar-basics"]["credits_available"] == 1.5
    text = run("achievements", "list").output
    assert "1.5 CEU" in text


def test_users_and_tokens(run):
    run("init", *ADMIN)
    added = run(
        "users", "add", "--email", "rev@example.org", "--name", "Rita", "--role", "reviewer"
    )
    assert added.exit_code == 0
    assert "password: " in added.output
    assert (
        "already held"
        in run("users", "grant", "--email", "rev@example.org", "--role", "reviewer").output
    )
    assert (
        "granted" in run("users", "grant", "--email", "rev@example.org", "--role", "admin").output
    )
    token = run("tokens", "create", "--email", "rev@example.org", "--name", "LMS")
    assert token.exit_code == 0
    assert token.output.startswith("bdg_")
    missing = run("tokens", "create", "--email", "ghost@example.org", "--name", "x")
    assert missing.exit_code == 1
    assert "no account for ghost@example.org" in missing.output


def test_unknown_role_is_rejected_by_click(run):
    result = run("users", "add", "--email", "a@example.org", "--name", "A", "--role", "god")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output


def test_config_shows_settings_without_secrets(run):
    result = run("config", BADGER_DATABASE_URL="postgresql://u:hunter2@db.example.org/b")
    assert result.exit_code == 0
    assert "hunter2" not in result.output
    assert "u:***@db.example.org" in result.output
    assert "BADGER_KEY_PASSPHRASE" in result.output


def test_init_creates_encrypted_keys_and_keys_commands_work(run, tmp_path):
    result = run("init", *ADMIN)
    assert "key Ed25519 ready: z6Mk" in result.output
    assert "key RS256 ready:" in result.output
    listed = json.loads(run("keys", "list", "--json").output)
    assert {k["alg"] for k in listed} == {"Ed25519", "RS256", "ES256"}
    assert all(k["status"] == "active" for k in listed)
    pem_files = list((tmp_path / "keys").rglob("*.pem"))
    assert pem_files
    assert all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in pem_files)
    refused = run("keys", "rotate", "RS256")
    assert refused.exit_code == 2
    assert "pass --yes" in refused.output
    rotated = run("keys", "rotate", "RS256", "--yes")
    assert rotated.exit_code == 0
    after = json.loads(run("keys", "list", "--json").output)
    rsa = [k for k in after if k["alg"] == "RS256"]
    assert sorted(k["status"] for k in rsa) == ["active", "retired"]
    jwks = json.loads(run("keys", "export-public").output)
    assert len(jwks["keys"]) == 4
    assert not any("d" in k for k in jwks["keys"])
    assert "no issuer 'ghost'" in run("keys", "list", "--issuer", "ghost").output


def test_issue_export_revoke_from_the_command_line(run, tmp_path):
    run("demo", "--admin-password", "correct horse battery")
    issued = run(
        "issue",
        "ethics-disclosure",
        "Ada@Example.org",
        "--evidence",
        "https://lms.example.org/1",
        "--json",
    )
    assert issued.exit_code == 0, issued.output
    data = json.loads(issued.output)
    award = data["id"]
    assert data["recipient"] == "ada@example.org"
    assert data["urls"]["ob2-hosted"].endswith(f"/ob2/assertions/{award}")
    text = run("issue", "social-analytics-101", "grace@example.org")
    assert "ob3-ldp" in text.output
    credential = json.loads(run("export", award, "--as", "ob3-ldp").output)
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert run("export", award, "--as", "ob3-jwt").output.count(".") == 2
    assert "pass -o FILE" in run("export", award, "--as", "ob3-png").output
    out = tmp_path / "badge.png"
    written = run("export", award, "--as", "ob3-png", "-o", str(out))
    assert written.exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG")
    again = run("issue", "ethics-disclosure", "ada@example.org")
    assert again.exit_code == 1
    assert "already holds" in again.output
    assert run("suspend", award, "--reason", "hiatus").exit_code == 0
    assert "active again" in run("unsuspend", award).output
    revoked = run("revoke", award, "--reason", "Issued in error")
    assert revoked.output.strip() == f"award {award} revoked: Issued in error"
    assert run("revoke", award, "--reason", "x").exit_code == 1


def test_issue_and_export_errors_are_clean(run):
    run("demo", "--admin-password", "correct horse battery")
    assert run("issue", "nope", "a@example.org").output.startswith("error: no achievement 'nope'")
    bad = run("issue", "ethics-disclosure", "not-an-email")
    assert bad.exit_code == 2
    assert bad.output.startswith("error: email:")
    missing = run("export", "00000000-0000-0000-0000-000000000000", "--as", "ob2-hosted")
    assert missing.exit_code == 1
    assert run("export", "x", "--as", "pdf").exit_code == 2
    assert run("revoke", "x").exit_code == 2  # --reason is required


DEFINITIONS = [
    {
        "slug": "quiz-badge",
        "name": "Quiz Badge",
        "description": "Passed the quiz.",
        "criteria_narrative": "Score 80 or more.",
        "credits_available": 0.5,
        "credit_category": "ethics",
        "alignments": [{"target_name": "Code", "target_url": "https://isms.example.org/code"}],
        "rules": {"event": "quiz.passed", "where": [{"field": "score", "op": "gte", "value": 80}]},
    },
    {
        "slug": "quiz-stack",
        "name": "Quiz Stack",
        "description": "Stacked.",
        "criteria_narrative": "Hold the quiz badge.",
        "rules": {"all_of": [{"earned": "quiz-badge"}]},
    },
]


def test_achievements_import_export_events_and_awards(run, tmp_path):
    run("init", *ADMIN)
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps(DEFINITIONS))
    imported = run("achievements", "import", str(defs))
    assert imported.exit_code == 0, imported.output
    assert "defined quiz-badge (MicroCredential)" in imported.output
    exported = json.loads(run("achievements", "export").output)
    assert exported == [{**d, "achievement_type": "MicroCredential"} for d in DEFINITIONS]
    again = run("achievements", "import", str(defs))
    assert again.exit_code == 1
    assert "already exists" in again.output

    events = tmp_path / "events.csv"
    events.write_text(
        "recipient,kind,idempotency_key,data.score\n"
        "ada@example.org,quiz.passed,r1,70\n"
        "ada@example.org,quiz.passed,r2,85\n"
        "ada@example.org,quiz.passed,r2,85\n"
    )
    result = run("events", "import", str(events))
    assert result.exit_code == 0, result.output
    assert "row 3: awarded quiz-badge to ada@example.org" in result.output
    assert "row 3: awarded quiz-stack to ada@example.org" in result.output
    assert "2 recorded, 1 already known, 2 awards, 0 bad rows" in result.output
    listed = json.loads(run("awards", "list", "--recipient", "ADA@example.org", "--json").output)
    assert sorted(a["achievement"] for a in listed) == ["quiz-badge", "quiz-stack"]
    assert {a["basis"] for a in listed} == {"automatic"}
    assert run("awards", "list", "--achievement", "quiz-stack").output.count("\n") == 1

    stricter = tmp_path / "stricter.json"
    stricter.write_text(
        json.dumps(
            {"event": "quiz.passed", "where": [{"field": "score", "op": "gte", "value": 90}]}
        )
    )
    simulated = run("rules", "simulate", "quiz-badge", "--file", str(stricter))
    assert "ada@example.org: would LOSE it" in simulated.output


def test_bad_import_files_are_reported_with_the_field(run, tmp_path):
    run("init", *ADMIN)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{**DEFINITIONS[0], "rules": {"all_of": []}}]))
    result = run("achievements", "import", str(bad))
    assert result.exit_code == 2
    assert result.output.startswith("error: item 0: rules.all_of:")
    bad.write_text("{not json")
    assert "not JSON" in run("achievements", "import", str(bad)).output
    csv_file = tmp_path / "e.csv"
    csv_file.write_text("recipient,kind\nada@example.org,x\n")
    missing = run("events", "import", str(csv_file))
    assert missing.exit_code == 2
    assert "missing column(s) idempotency_key" in missing.output
    csv_file.write_text("recipient,kind,idempotency_key\nnot-an-email,x,k1\nada@example.org,x,k2\n")
    partial = run("events", "import", str(csv_file))
    assert partial.exit_code == 1
    assert "row 2: email:" in partial.output
    assert "1 recorded" in partial.output


def test_bulk_issue_from_the_command_line(run, tmp_path):
    run("demo", "--admin-password", "correct horse battery")
    rows = tmp_path / "rows.csv"
    rows.write_text("recipient,name\na@example.org,A\nnot-an-email,B\nc@example.org,C\n")
    refused = run("issue", "ethics-disclosure", "--csv", str(rows))
    assert refused.exit_code == 2  # bad input: nothing was tried
    assert "row 3: recipient:" in refused.output
    assert "1 bad row(s); nothing issued" in refused.output
    assert (
        json.loads(run("awards", "list", "--achievement", "ethics-disclosure", "--json").output)
        == []
    )
    done = run("issue", "ethics-disclosure", "--csv", str(rows), "--skip-invalid", "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output[done.output.index("{") :])
    assert (report["issued"], report["skipped"]) == (2, 0)
    assert report["invalid_rows"][0]["row"] == 3
    again = run("issue", "ethics-disclosure", "--csv", str(rows), "--skip-invalid")
    assert "0 issued, 2 skipped (already held)" in again.output
    listed = run("jobs", "list")
    assert listed.output.count("done") == 2
    job_id = report["id"]
    assert run("jobs", "resume", job_id).exit_code == 0
    assert json.loads(run("jobs", "show", job_id).output)["rows"][0]["status"] == "issued"
    assert "give ACHIEVEMENT and RECIPIENT" in run("issue", "ethics-disclosure").output
    assert "BADGER_REDIS_URL" in run("worker").output


def test_verify_from_the_command_line(run, tmp_path):
    run("demo", "--admin-password", "correct horse battery")
    award = json.loads(run("issue", "ethics-disclosure", "ada@example.org", "--json").output)["id"]
    out = tmp_path / "badge.svg"
    run("export", award, "--as", "ob3-svg", "-o", str(out))
    good = run("verify", str(out), "--recipient", "ada@example.org")
    assert good.exit_code == 0, good.output
    assert good.output.startswith("verdict: valid")
    run("revoke", award, "--reason", "Issued in error")
    revoked = run("verify", str(out), "--json")
    assert revoked.exit_code == 1
    assert json.loads(revoked.output)["verdict"] == "revoked"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01")
    assert run("verify", str(junk)).exit_code == 2
    assert run("verify", "https://elsewhere.example/b/1", "--offline").exit_code == 2


def test_review_from_the_command_line(run):
    run("demo", "--admin-password", "correct horse battery")
    assert run("review", "queue").output == ""
    missing = run(
        "review", "decide", "nope", "--reviewer", "admin@example.org", "--decision", "approve"
    )
    assert missing.exit_code == 1
    assert "error:" in missing.output


def test_ledger_show_counts_a_learners_real_badges(run, tmp_path):
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    # The badges are issued now (the CLI uses the real clock): a cycle that began a month ago.
    start = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()

    run("demo", "--admin-password", "correct horse battery")
    for slug in (
        "social-analytics-101",
        "attribution-models",
        "ethics-disclosure",
        "training-library-video-strategy",
        "csms",
    ):
        assert run("issue", slug, "ada@example.org").exit_code == 0
    policy = Path(__file__).resolve().parents[2] / "examples" / "csms-policy.json"
    result = run(
        "ledger",
        "show",
        "ada@example.org",
        "--policy",
        str(policy),
        "--cycle-start",
        start,
        "--json",
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    categories = {c["name"]: c for c in body["categories"]}
    assert categories["analytics"]["counted"] == 5.0  # 3 + 3 capped at 5
    assert categories["training-library"]["exempt"] is True
    # analytics 5 + ethics 2 + library 4 + the demo's content calendar course 1.5;
    # the certification carries no CEU
    assert body["counted_total"] == 12.5
    assert {r["code"]: r["met"] for r in body["requirements"]}["required:ethics-disclosure"] is True
    text = run("ledger", "show", "ada@example.org", "--policy", str(policy), "--cycle-start", start)
    assert "12.5 of 30 counted, 17.5 to go" in text.output
    unknown = run(
        "ledger",
        "show",
        "nobody@example.org",
        "--policy",
        str(policy),
        "--cycle-start",
        start,
    )
    assert unknown.exit_code == 1
    assert "no learner nobody@example.org" in unknown.output


def _png_data_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_definitions_kept_in_a_file_are_exported_edited_and_imported_again(run, tmp_path):
    run("init", *ADMIN)
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps([{**DEFINITIONS[0], "image_uri": _png_data_uri()}, DEFINITIONS[1]]))
    assert run("achievements", "import", str(defs)).exit_code == 0
    exported = run("achievements", "export").output
    assert json.loads(exported)[0]["image_uri"].startswith("data:image/png;base64,")
    defs.write_text(exported)

    same = run("achievements", "import", "--update", str(defs))
    assert same.exit_code == 0, same.output
    assert same.output.splitlines() == [
        "unchanged quiz-badge (version 1)",
        "unchanged quiz-stack (version 1)",
    ]

    edited = json.loads(exported)
    edited[0]["name"] = "Quiz Badge (2027)"
    edited[0]["rules"]["where"][0]["value"] = 90
    edited.append({**DEFINITIONS[1], "slug": "quiz-extra", "name": "Extra"})
    defs.write_text(json.dumps(edited))
    refused = run("achievements", "import", str(defs))
    assert refused.exit_code == 1
    assert "achievement 'quiz-badge' already exists; nothing imported (--update" in refused.output
    assert "quiz-extra" not in run("achievements", "list").output  # all or nothing

    changed = run("achievements", "import", "--update", str(defs))
    assert changed.exit_code == 0, changed.output
    assert changed.output.splitlines() == [
        "updated quiz-badge to version 2 (name, rules)",
        "unchanged quiz-stack (version 1)",
        "defined quiz-extra (MicroCredential)",
    ]
    after = {d["slug"]: d for d in json.loads(run("achievements", "export").output)}
    assert after["quiz-badge"]["name"] == "Quiz Badge (2027)"
    assert after["quiz-badge"]["image_uri"] == edited[0]["image_uri"]  # kept as it was

    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps([DEFINITIONS[0], DEFINITIONS[0]]))
    duplicate = run("achievements", "import", "--update", str(twice))
    assert duplicate.exit_code == 2
    assert "error: slug: 'quiz-badge' is defined twice (items 0 and 1)" in duplicate.output


def test_the_example_definitions_import_and_the_quiz_awards_from_an_event(run, tmp_path):
    run("init", *ADMIN)
    example = Path(__file__).resolve().parents[2] / "examples" / "achievements.json"
    imported = run("achievements", "import", str(example))
    assert imported.exit_code == 0, imported.output
    assert imported.output.count("defined ") == 4
    events = tmp_path / "e.csv"
    events.write_text(
        "recipient,kind,idempotency_key,occurred_at,data.quiz,data.score\n"
        "ada@example.org,quiz.completed,q1,2026-11-02,strategy,86\n"
    )
    recorded = run("events", "import", str(events))
    assert "row 2: awarded strategy-quiz to ada@example.org" in recorded.output


def test_an_events_file_that_cannot_be_read_records_nothing(run, tmp_path):
    run("init", *ADMIN)
    events = tmp_path / "e.csv"
    events.write_bytes(b"recipient,kind,idempotency_key\nada@example.org,x,k1\n\xff\n")
    refused = run("events", "import", str(events))
    assert refused.exit_code == 2
    assert (
        refused.output == f"error: {events}: is not UTF-8 text (byte 52); save it as “CSV UTF-8”\n"
    )
    events.write_bytes(
        b"recipient,kind,idempotency_key,data.note\nada@example.org,x,k1,ok\n"
        b"ada@example.org,x,k2," + b"n" * 200_000 + b"\n"
    )
    refused = run("events", "import", str(events))
    assert refused.exit_code == 2
    assert "row 3: field larger than field limit" in refused.output
    assert "recorded" not in refused.output  # not even row 2's
    assert "Traceback" not in refused.output


def test_awards_show_says_how_each_award_came_about(run, tmp_path):
    run("init", *ADMIN)
    defs = tmp_path / "defs.json"
    defs.write_text(json.dumps(DEFINITIONS))
    run("achievements", "import", str(defs))
    events = tmp_path / "e.csv"
    events.write_text(
        "recipient,kind,idempotency_key,data.score\nada@example.org,quiz.passed,k,85\n"
    )
    run("events", "import", str(events))
    listed = {a["achievement"]: a["id"] for a in json.loads(run("awards", "list", "--json").output)}
    shown = run("awards", "show", listed["quiz-stack"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0] == f"award {listed['quiz-stack']}"
    assert "  how          automatically, when its requirements were met:" in lines
    assert "      ✓ holds Quiz Badge" in lines
    assert f"          award {listed['quiz-badge']}: Quiz Badge, " in shown.output
    as_json = json.loads(run("awards", "show", listed["quiz-badge"], "--json").output)
    assert as_json["how"] == "automatic"
    (event,) = as_json["rules"]["inputs"]
    assert (event["kind"], event["label"], event["found"]) == (
        "event",
        "quiz.passed (from csv)",
        True,
    )
    manual = json.loads(run("issue", "quiz-badge", "bo@example.org", "--json").output)["id"]
    assert "  how          manual" in run("awards", "show", manual).output
    missing = run("awards", "show", "nope")
    assert (missing.exit_code, missing.output) == (1, "error: no award 'nope'\n")
