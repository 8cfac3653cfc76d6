"""at most one open evidence submission per learner and achievement

A partial unique index on submission (learner_id, achievement_id) over the
rows with kind = 'evidence' and status 'submitted' or 'returned'.  The check
in ``services.review`` cannot see a concurrent transaction's uncommitted
insert, so two simultaneous submissions could both open on PostgreSQL; the
index makes the second one fail, and the service turns that into the same
Conflict the check gives.

Existing duplicates would make CREATE UNIQUE INDEX fail, and they can exist:
that race, and the earlier rule, which let a learner submit new evidence while
an older submission sat returned for revision.  So the upgrade first closes
them, deterministically: in each (learner, achievement) group it keeps one
open submission (a submitted one before a returned one, then the most
recently updated, then the highest id) and marks every other one rejected,
with a review comment naming the one kept and an audit row per closed
submission.  The downgrade drops the index and leaves the closed submissions
closed (their old status is in the audit log).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "uq_submission_open_evidence"
OPEN_EVIDENCE = "kind = 'evidence' AND status IN ('submitted', 'returned')"
ACTOR = "system:migration-0006"

submission = sa.table(
    "submission",
    sa.column("id", sa.Integer),
    sa.column("public_id", sa.String),
    sa.column("learner_id", sa.Integer),
    sa.column("achievement_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("status", sa.String),
    sa.column("reviewer", sa.String),
    sa.column("review_comment", sa.Text),
    sa.column("reviewed_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
audit_log = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("subject_type", sa.String),
    sa.column("subject_id", sa.String),
    sa.column("details", sa.JSON),
)


def _close_duplicates() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            submission.c.id,
            submission.c.public_id,
            submission.c.learner_id,
            submission.c.achievement_id,
            submission.c.status,
        )
        .where(sa.text(OPEN_EVIDENCE), submission.c.achievement_id.is_not(None))
        .order_by(
            submission.c.learner_id,
            submission.c.achievement_id,
            # The one kept comes first in its group.
            sa.case((submission.c.status == "submitted", 0), else_=1),
            submission.c.updated_at.desc(),
            submission.c.id.desc(),
        )
    ).all()
    now = datetime.now(UTC)
    kept: dict[tuple[int, int], str] = {}
    for row in rows:
        group = (row.learner_id, row.achievement_id)
        if group not in kept:
            kept[group] = row.public_id
            continue
        comment = (
            f"Closed when badger began allowing one open evidence submission per "
            f"achievement; submission {kept[group]} stays open."
        )
        conn.execute(
            submission.update()
            .where(submission.c.id == row.id)
            .values(
                status="rejected",
                reviewer=ACTOR,
                review_comment=comment,
                reviewed_at=now,
                updated_at=now,
            )
        )
        conn.execute(
            audit_log.insert().values(
                at=now,
                actor=ACTOR,
                action="submission.close_duplicate",
                subject_type="submission",
                subject_id=row.public_id,
                details={"previous_status": row.status, "kept": kept[group]},
            )
        )


def upgrade() -> None:
    _close_duplicates()
    op.create_index(
        INDEX,
        "submission",
        ["learner_id", "achievement_id"],
        unique=True,
        sqlite_where=sa.text(OPEN_EVIDENCE),
        postgresql_where=sa.text(OPEN_EVIDENCE),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="submission")
