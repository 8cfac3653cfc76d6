"""Bulk issue: rows checked first, chunks resumable after a crash, re-runs issue nothing twice."""

import socket
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from badger.domain.achievements import AchievementSpec
from badger.domain.errors import ValidationError
from badger.services import bulk, catalog
from badger.services import issue as issue_module
from badger.store.models import Award


@pytest.fixture
def ethics(initialized):
    catalog.create_achievement(
        initialized,
        issuer_slug="default",
        spec=AchievementSpec(
            slug="ethics",
            name="Ethics",
            description="Ethics unit",
            criteria_narrative="Pass the quiz",
            credits_available=Decimal("1"),
            credit_category="ethics",
        ),
    )


def csv_of(n, extra=""):
    lines = ["recipient,achievement,name,evidence,issued_on"]
    lines += [
        f"learner{i}@example.org,ethics,Learner {i},https://lms.example.org/{i},2026-03-01T10:00:00Z"
        for i in range(n)
    ]
    return ("\n".join(lines) + "\n" + extra).encode()


def count_awards(ctx):
    with ctx.uow() as uow:
        return uow.session.scalar(select(func.count(Award.id)))


def test_every_bad_row_is_reported_and_nothing_is_issued(initialized, ethics):
    content = csv_of(
        2,
        "not-an-email,ethics,,,\n"
        "x@example.org,nope,,,\n"
        "y@example.org,ethics,,ftp://evidence,\n"
        "z@example.org,ethics,,,yesterday\n"
        "w@example.org,ethics,,,2099-01-01T00:00:00Z\n"
        "learner0@example.org,ethics,,,\n"
        f"v@example.org,ethics,{'x' * 201},,\n",
    )
    parsed = bulk.parse_csv(initialized, content)
    assert [(p.row, p.field) for p in parsed.problems] == [
        (4, "recipient"),
        (5, "achievement"),
        (6, "evidence"),
        (7, "issued_on"),
        (8, "issued_on"),
        (9, "recipient"),
        (10, "name"),
    ]
    assert "same recipient and achievement as row 2" in str(parsed.problems[-2])
    assert len(parsed.rows) == 2
    assert count_awards(initialized) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email,achievement\nx@example.org,ethics\n", "recipient column"),
        (b"recipient\nx@example.org\n", "achievement column"),
        (b"recipient,achievement,colour\n", "unknown column"),
        (b"\xff\xfe\x00bad", "UTF-8"),
    ],
)
def test_unusable_files_name_the_problem(initialized, ethics, content, message):
    with pytest.raises(ValidationError, match=message):
        bulk.parse_csv(initialized, content)


def test_one_achievement_for_the_whole_file(initialized, ethics):
    parsed = bulk.parse_csv(
        initialized, b"recipient,name\na@example.org,A\n", default_achievement="ethics"
    )
    assert parsed.problems == []
    job = bulk.create_job(initialized, filename="f.csv", content=b"x", parsed=parsed, actor="t")
    assert bulk.run_job(initialized, job.public_id).issued == 1


def test_issue_then_rerun_the_same_file_issues_nothing_twice(initialized, ethics):
    content = csv_of(7)
    first = bulk.create_job(
        initialized,
        filename="a.csv",
        content=content,
        parsed=bulk.parse_csv(initialized, content),
        actor="t",
    )
    done = bulk.run_job(initialized, first.public_id, chunk=3)
    assert (done.status, done.issued, done.skipped, done.failed) == ("done", 7, 0, 0)
    again = bulk.create_job(
        initialized,
        filename="a.csv",
        content=content,
        parsed=bulk.parse_csv(initialized, content),
        actor="t",
    )
    rerun = bulk.run_job(initialized, again.public_id)
    assert (rerun.issued, rerun.skipped) == (0, 7)
    assert count_awards(initialized) == 7
    shown = bulk.get_job(initialized, first.public_id)
    assert [o["row"] for o in shown.outcomes] == list(range(2, 9))
    assert all(o["award"] for o in shown.outcomes)


def test_a_crash_mid_job_resumes_without_duplicates_or_gaps(initialized, ethics, monkeypatch):
    content = csv_of(10)
    job = bulk.create_job(
        initialized,
        filename="c.csv",
        content=content,
        parsed=bulk.parse_csv(initialized, content),
        actor="t",
    )
    real = issue_module.render
    calls = {"n": 0}

    def crash_on_the_seventh(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise ConnectionError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(issue_module, "render", crash_on_the_seventh)
    with pytest.raises(ConnectionError):
        bulk.run_job(initialized, job.public_id, chunk=4)
    halfway = bulk.get_job(initialized, job.public_id)
    # Chunk 1 (rows 1-4) committed; chunk 2 died on its third row and rolled back whole.
    assert (halfway.status, halfway.issued) == ("running", 4)
    assert count_awards(initialized) == 4
    monkeypatch.setattr(issue_module, "render", real)
    done = bulk.run_job(initialized, job.public_id, chunk=4)
    assert (done.status, done.issued, done.skipped) == ("done", 10, 0)
    assert count_awards(initialized) == 10
    rows = [o["row"] for o in bulk.get_job(initialized, job.public_id).outcomes]
    assert rows == list(range(2, 12))


def test_progress_is_reported_per_chunk(initialized, ethics):
    content = csv_of(5)
    job = bulk.create_job(
        initialized,
        filename="p.csv",
        content=content,
        parsed=bulk.parse_csv(initialized, content),
        actor="t",
    )
    seen = []
    bulk.run_job(initialized, job.public_id, chunk=2, progress=seen.append)
    assert seen == [2, 2, 1]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.redis
@pytest.mark.slow
def test_bulk_job_runs_in_an_rq_worker(fresh_database_url, tmp_path, monkeypatch):
    if not _redis_up():
        pytest.skip("Redis is not listening on 127.0.0.1:6379")
    from click.testing import CliRunner
    from redis import Redis
    from rq import Queue, SimpleWorker

    from badger.cli import main

    db = 15  # a database of its own, flushed before and after
    redis_url = f"redis://127.0.0.1:6379/{db}"
    Redis.from_url(redis_url).flushdb()
    env = {
        "BADGER_INSTANCE_DIR": str(tmp_path / "i"),
        "BADGER_KEYS_DIR": str(tmp_path / "k"),
        "BADGER_DATABASE_URL": fresh_database_url,
        "BADGER_REDIS_URL": redis_url,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--admin-password", "correct horse battery"]).exit_code == 0
    rows = tmp_path / "rows.csv"
    rows.write_text("recipient\na@example.org\nb@example.org\n")
    queued = runner.invoke(main, ["issue", "ethics-disclosure", "--csv", str(rows), "--background"])
    assert queued.exit_code == 0, queued.output
    assert "queued as RQ job bulk-" in queued.output
    connection = Redis.from_url(redis_url)
    SimpleWorker([Queue("badger", connection=connection)], connection=connection).work(burst=True)
    listed = runner.invoke(main, ["awards", "list", "--achievement", "ethics-disclosure", "--json"])
    assert len(__import__("json").loads(listed.output)) == 2
    connection.flushdb()
    connection.close()


def test_a_date_alone_is_issued_on_the_start_of_that_day_in_utc(initialized, ethics):
    parsed = bulk.parse_csv(
        initialized,
        b"recipient,achievement,issued_on\n"
        b"a@example.org,ethics,2026-03-01\n"
        b"b@example.org,ethics,2026-03-01T10:00\n",
    )
    (problem,) = parsed.problems
    assert (problem.row, problem.field) == (3, "issued_on")
    assert "needs a time zone (e.g. 2026-03-01T10:00Z" in str(problem)
    job = bulk.create_job(initialized, filename="d.csv", content=b"x", parsed=parsed, actor="t")
    assert bulk.run_job(initialized, job.public_id).issued == 1
    with initialized.uow() as uow:
        (issued_on,) = uow.session.scalars(select(Award.issued_on))
    assert issued_on.isoformat().startswith("2026-03-01T00:00:00")
