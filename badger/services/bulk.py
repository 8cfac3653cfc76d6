"""Bulk issue from CSV: validate every row first, then issue in resumable chunks.

Columns (header row, any order): ``recipient`` (email or DID, required),
``achievement`` (slug or id; or one for the whole file), ``name``,
``evidence`` (URLs separated by spaces), ``narrative``, ``issued_on``
(ISO 8601 with a time zone).

Nothing is issued from a file with a bad row unless the caller skips invalid
rows.  Rows are issued in chunks, one transaction each; the job records every
row's outcome, so a crash loses at most the chunk in flight (rolled back
whole) and ``resume`` continues from the first row without an outcome.
Re-running the same file issues nothing twice: an award already held is
reported as skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import load_only

from badger.domain.errors import Conflict, DomainError, NotFound, ValidationError
from badger.domain.moments import parse_moment
from badger.domain.recipients import parse_identifier
from badger.services import audit, awarding
from badger.services.context import Context
from badger.services.csvfile import read_csv
from badger.services.issue import MAX_NAME, EvidenceInput, IssueRequest, add_award
from badger.store.models import Achievement, BulkJob, BulkJobRow, Issuer

MAX_ROWS = 100_000
MAX_FILE_BYTES = 20 * 1024 * 1024
CHUNK = 50
COLUMNS = {"recipient", "achievement", "name", "evidence", "narrative", "issued_on"}


@dataclass(frozen=True)
class RowProblem:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Parsed:
    rows: list[dict[str, Any]]
    problems: list[RowProblem]


def parse_csv(ctx: Context, content: bytes, *, default_achievement: str | None = None) -> Parsed:
    """Read and check every row (nothing is written)."""
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError("file", f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    table = read_csv(content)
    header = table.columns
    if "recipient" not in header:
        raise ValidationError("file", "needs a recipient column")
    if "achievement" not in header and not default_achievement:
        raise ValidationError(
            "file", "needs an achievement column (or name one achievement for all rows)"
        )
    unknown = sorted(header - COLUMNS)
    if unknown:
        raise ValidationError("file", f"unknown column(s): {', '.join(unknown)}")

    now = ctx.now()
    known = _achievement_refs(ctx)
    rows: list[dict[str, Any]] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for number, cells in table:
        if number - 1 > MAX_ROWS:
            raise ValidationError("file", f"more than {MAX_ROWS:,} rows")
        if not any(cells.values()):
            continue
        row, row_problems = _check_row(number, cells, default_achievement, known, now)
        if row is not None:
            key = (row["achievement_slug"], row["recipient"])
            if key in seen:
                row_problems.append(
                    RowProblem(
                        number, "recipient", f"same recipient and achievement as row {seen[key]}"
                    )
                )
            else:
                seen[key] = number
        problems.extend(row_problems)
        if row is not None and not row_problems:
            rows.append(row)
    return Parsed(rows, problems)


def _achievement_refs(ctx: Context) -> dict[str, str]:
    """slug and public id → slug, for the deployment's issuer."""
    with ctx.uow() as uow:
        refs: dict[str, str] = {}
        for slug, public_id in uow.session.execute(
            select(Achievement.slug, Achievement.public_id)
            .join(Issuer)
            .where(Issuer.slug == ctx.settings.issuer_slug)
        ):
            refs[slug] = slug
            refs[public_id] = slug
        return refs


def _check_row(
    number: int,
    cells: dict[str, str],
    default_achievement: str | None,
    known: dict[str, str],
    now: datetime,
) -> tuple[dict[str, Any] | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    reference = cells.get("achievement") or default_achievement or ""
    slug = known.get(reference)
    if slug is None:
        problems.append(RowProblem(number, "achievement", f"no achievement {reference!r}"))
    try:
        ident = parse_identifier(cells.get("recipient", ""))
        if ident.kind.value not in {"email", "did"}:
            problems.append(RowProblem(number, "recipient", "must be an email address or a DID"))
    except ValidationError as exc:
        problems.append(RowProblem(number, "recipient", exc.reason))
        ident = None
    evidence = cells.get("evidence", "").split()
    for url in evidence:
        if not url.startswith(("https://", "http://")):
            problems.append(RowProblem(number, "evidence", f"{url!r} is not an http(s) URL"))
    issued_on = None
    if cells.get("issued_on"):
        try:
            issued_on = parse_moment(cells["issued_on"], "issued_on")
            if issued_on > now + timedelta(minutes=5):
                problems.append(RowProblem(number, "issued_on", "is in the future"))
        except ValidationError as exc:
            problems.append(RowProblem(number, "issued_on", exc.reason))
    if len(cells.get("name", "")) > MAX_NAME:
        problems.append(RowProblem(number, "name", f"at most {MAX_NAME} characters"))
    if len(cells.get("narrative", "")) > 10_000:
        problems.append(RowProblem(number, "narrative", "at most 10,000 characters"))
    if problems or ident is None or slug is None:
        return None, problems
    return {
        "row": number,
        "achievement_slug": slug,
        "recipient": ident.value,
        "name": cells.get("name") or None,
        "evidence": evidence,
        "narrative": cells.get("narrative") or None,
        "issued_on": issued_on.isoformat() if issued_on else None,
    }, []


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class JobView:
    public_id: str
    filename: str
    status: str
    total: int
    issued: int
    skipped: int
    failed: int
    created_at: datetime
    finished_at: datetime | None
    invalid_rows: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]

    @property
    def done(self) -> int:
        return self.issued + self.skipped + self.failed

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.public_id,
            "filename": self.filename,
            "status": self.status,
            "total": self.total,
            "issued": self.issued,
            "skipped": self.skipped,
            "failed": self.failed,
            "invalid_rows": self.invalid_rows,
            "rows": self.outcomes,
        }


def _view(job: BulkJob, *, with_rows: bool = False) -> JobView:
    outcomes = (
        [
            {"row": o.row, "status": o.status, "award": o.award_public_id, "message": o.message}
            for o in job.outcomes
        ]
        if with_rows
        else []
    )
    return JobView(
        job.public_id,
        job.filename,
        job.status,
        job.total,
        job.issued,
        job.skipped,
        job.failed,
        job.created_at,
        job.finished_at,
        list(job.report),
        outcomes,
    )


def create_job(
    ctx: Context, *, filename: str, content: bytes, parsed: Parsed, actor: str
) -> JobView:
    """Record a job for the valid rows (call after the caller accepted the problems)."""
    if not parsed.rows:
        raise ValidationError("file", "no valid rows to issue")
    now = ctx.now()
    with ctx.uow() as uow:
        job = BulkJob(
            file_sha256=hashlib.sha256(content).hexdigest(),
            filename=filename[:255],
            total=len(parsed.rows),
            actor=actor,
            rows=parsed.rows,
            # Rows left out as invalid (only with skip-invalid), for the record.
            report=[
                {"row": p.row, "field": p.field, "message": p.message} for p in parsed.problems
            ],
            created_at=now,
        )
        uow.session.add(job)
        uow.session.flush()
        audit.record(
            uow,
            actor=actor,
            action="bulk.create",
            subject_type="bulk_job",
            subject_id=job.public_id,
            now=now,
            rows=len(parsed.rows),
            filename=filename,
            invalid_rows=len(parsed.problems),
        )
        return _view(job)


def run_job(
    ctx: Context,
    job_public_id: str,
    *,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> JobView:
    """Issue the job's remaining rows, one chunk per transaction; safe to call again."""
    rows: list[dict[str, Any]] | None = None
    while True:
        with ctx.uow() as uow:
            # The input rows never change: read them once, not with every chunk.
            columns = (BulkJob.rows,) if rows is None else ()
            job = uow.session.scalar(
                select(BulkJob)
                .where(BulkJob.public_id == job_public_id)
                .options(
                    load_only(
                        BulkJob.id,
                        BulkJob.total,
                        BulkJob.issued,
                        BulkJob.skipped,
                        BulkJob.failed,
                        BulkJob.status,
                        BulkJob.actor,
                        *columns,
                    )
                )
                .with_for_update()
            )
            if job is None:
                raise NotFound(f"no bulk job {job_public_id}")
            if rows is None:
                rows = list(job.rows)
            start = job.issued + job.skipped + job.failed
            if start >= job.total:
                if job.status != "done":
                    job.status, job.finished_at = "done", ctx.now()
                return _view(job)
            job.status = "running"
            batch = rows[start : start + chunk]
            for position, row in enumerate(batch, start=start):
                outcome = _issue_row(ctx, uow, row, job.actor)
                uow.session.add(BulkJobRow(job_id=job.id, position=position, **outcome))
                if outcome["status"] == "issued":
                    job.issued += 1
                elif outcome["status"] == "skipped":
                    job.skipped += 1
                else:
                    job.failed += 1
        if progress is not None:
            progress(len(batch))


def _issue_row(ctx: Context, uow: Any, row: dict[str, Any], actor: str) -> dict[str, Any]:
    request = IssueRequest(
        achievement=row["achievement_slug"],
        recipient=row["recipient"],
        recipient_name=row.get("name"),
        evidence=[EvidenceInput(url=url) for url in row.get("evidence", [])],
        narrative=row.get("narrative"),
        issued_on=datetime.fromisoformat(row["issued_on"]) if row.get("issued_on") else None,
        basis={"rule": "bulk", "row": row["row"]},
    )
    savepoint = uow.session.begin_nested()
    try:
        issued = add_award(ctx, uow, request, actor=actor)
        # What the award completes (stacks, an auto-renewing cycle), as for
        # an automatic award.
        awarding.after_issue(ctx, uow, issued, actor=actor)
        uow.session.flush()
    except Conflict as exc:
        savepoint.rollback()
        return {"row": row["row"], "status": "skipped", "message": exc.message}
    except DomainError as exc:
        savepoint.rollback()
        return {"row": row["row"], "status": "failed", "message": exc.message}
    savepoint.commit()
    return {"row": row["row"], "status": "issued", "award_public_id": issued.public_id}


def get_job(ctx: Context, job_public_id: str) -> JobView:
    with ctx.uow() as uow:
        job = uow.session.scalar(select(BulkJob).where(BulkJob.public_id == job_public_id))
        if job is None:
            raise NotFound(f"no bulk job {job_public_id}")
        return _view(job, with_rows=True)


def list_jobs(ctx: Context, limit: int = 50) -> list[JobView]:
    with ctx.uow() as uow:
        return [
            _view(job)
            for job in uow.session.scalars(select(BulkJob).order_by(BulkJob.id.desc()).limit(limit))
        ]
