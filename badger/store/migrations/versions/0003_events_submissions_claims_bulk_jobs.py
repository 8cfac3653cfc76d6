"""events submissions claims bulk jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:59:56.617407
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'done', 'failed')", name=op.f("ck_bulk_job_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_job")),
        sa.UniqueConstraint("public_id", name=op.f("uq_bulk_job_public_id")),
    )
    op.create_table(
        "upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload")),
        sa.UniqueConstraint("public_id", name=op.f("uq_upload_public_id")),
    )
    op.create_table(
        "completion_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=120), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_completion_event_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completion_event")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_completion_event_idempotency_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_completion_event_public_id")),
    )
    with op.batch_alter_table("completion_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_completion_event_learner_kind", ["learner_id", "kind"], unique=False
        )

    op.create_table(
        "submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("narrative", sa.Text(), nullable=True),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("credits", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("category", sa.String(length=80), nullable=True),
        sa.Column("learning_minutes", sa.Integer(), nullable=True),
        sa.Column("activity_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reviewer", sa.String(length=300), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('evidence', 'activity', 'proposal')", name=op.f("ck_submission_kind")
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'returned')",
            name=op.f("ck_submission_status"),
        ),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievement.id"],
            name=op.f("fk_submission_achievement_id_achievement"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_submission_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["upload.id"], name=op.f("fk_submission_upload_id_upload")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission")),
        sa.UniqueConstraint("public_id", name=op.f("uq_submission_public_id")),
    )
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.create_index("ix_submission_learner_id", ["learner_id"], unique=False)
        batch_op.create_index("ix_submission_status", ["status"], unique=False)

    op.create_table(
        "claim_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("identifier_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"], ["award.id"], name=op.f("fk_claim_token_award_id_award")
        ),
        sa.ForeignKeyConstraint(
            ["identifier_id"],
            ["learner_identifier.id"],
            name=op.f("fk_claim_token_identifier_id_learner_identifier"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_token")),
        sa.UniqueConstraint("digest", name=op.f("uq_claim_token_digest")),
    )


def downgrade() -> None:
    op.drop_table("claim_token")
    with op.batch_alter_table("submission", schema=None) as batch_op:
        batch_op.drop_index("ix_submission_status")
        batch_op.drop_index("ix_submission_learner_id")

    op.drop_table("submission")
    with op.batch_alter_table("completion_event", schema=None) as batch_op:
        batch_op.drop_index("ix_completion_event_learner_kind")

    op.drop_table("completion_event")
    op.drop_table("upload")
    op.drop_table("bulk_job")
