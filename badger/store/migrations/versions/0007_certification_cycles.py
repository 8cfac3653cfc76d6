"""renewal policies (versioned), certification cycles, extensions, hiatus, requests

Only new tables, so no batch rebuild of an existing table (see the SQLite note
in 0005).  Tables are dropped children first on the way down.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "renewal_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        _time("created_at"),
        sa.CheckConstraint("version >= 1", name=op.f("ck_renewal_policy_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renewal_policy")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_renewal_policy_key_version")),
    )
    op.create_table(
        "certification_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("policy_key", sa.String(length=80), nullable=False),
        sa.Column("open_policy_key", sa.String(length=80), nullable=True),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        _time("starts_at"),
        _time("base_deadline"),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        _time("status_changed_at", nullable=True),
        sa.Column("renewal_award_id", sa.Integer(), nullable=True),
        sa.Column("renewal_basis", sa.JSON(), nullable=False),
        _time("renewed_at", nullable=True),
        sa.Column("previous_cycle_id", sa.Integer(), nullable=True),
        _time("superseded_at", nullable=True),
        sa.Column("review_state", sa.String(length=12), nullable=True),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        _time("created_at"),
        sa.CheckConstraint(
            "status IN ('active', 'inactive', 'grace', 'lapsed', 'renewed')",
            name=op.f("ck_certification_cycle_status"),
        ),
        sa.CheckConstraint(
            "review_state IS NULL OR review_state IN ('pending', 'reinstated', 'revoked')",
            name=op.f("ck_certification_cycle_review_state"),
        ),
        sa.CheckConstraint(
            "base_deadline > starts_at", name=op.f("ck_certification_cycle_deadline_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_certification_cycle_learner_id_learner")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["renewal_policy.id"],
            name=op.f("fk_certification_cycle_policy_id_renewal_policy"),
        ),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["achievement.id"],
            name=op.f("fk_certification_cycle_certification_id_achievement"),
        ),
        sa.ForeignKeyConstraint(
            ["renewal_award_id"],
            ["award.id"],
            name=op.f("fk_certification_cycle_renewal_award_id_award"),
        ),
        sa.ForeignKeyConstraint(
            ["previous_cycle_id"],
            ["certification_cycle.id"],
            name=op.f("fk_certification_cycle_previous_cycle_id_certification_cycle"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_cycle")),
        sa.UniqueConstraint("public_id", name=op.f("uq_certification_cycle_public_id")),
        sa.UniqueConstraint(
            "learner_id",
            "open_policy_key",
            name=op.f("uq_certification_cycle_learner_id_open_policy_key"),
        ),
    )
    op.create_index("ix_certification_cycle_status", "certification_cycle", ["status"])
    op.create_table(
        "cycle_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=300), nullable=False),
        _time("created_at"),
        sa.CheckConstraint("days > 0", name=op.f("ck_cycle_extension_days_positive")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["certification_cycle.id"],
            name=op.f("fk_cycle_extension_cycle_id_certification_cycle"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_extension")),
    )
    op.create_index("ix_cycle_extension_cycle_id", "cycle_extension", ["cycle_id"])
    op.create_table(
        "cycle_hiatus",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        _time("started_at"),
        _time("ended_at", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("ended_by", sa.String(length=300), nullable=True),
        sa.Column("suspended_award_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= started_at",
            name=op.f("ck_cycle_hiatus_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["certification_cycle.id"],
            name=op.f("fk_cycle_hiatus_cycle_id_certification_cycle"),
        ),
        sa.ForeignKeyConstraint(
            ["suspended_award_id"],
            ["award.id"],
            name=op.f("fk_cycle_hiatus_suspended_award_id_award"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_hiatus")),
    )
    op.create_index("ix_cycle_hiatus_cycle_id", "cycle_hiatus", ["cycle_id"])
    op.create_table(
        "cycle_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        _time("created_at"),
        _time("decided_at", nullable=True),
        sa.CheckConstraint(
            "kind IN ('extension', 'hiatus', 'reactivation')", name=op.f("ck_cycle_request_kind")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_cycle_request_status")
        ),
        sa.CheckConstraint("days IS NULL OR days > 0", name=op.f("ck_cycle_request_days_positive")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["certification_cycle.id"],
            name=op.f("fk_cycle_request_cycle_id_certification_cycle"),
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"], ["learner.id"], name=op.f("fk_cycle_request_learner_id_learner")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_request")),
        sa.UniqueConstraint("public_id", name=op.f("uq_cycle_request_public_id")),
    )
    op.create_index("ix_cycle_request_status", "cycle_request", ["status"])
    op.create_index("ix_cycle_request_cycle_id", "cycle_request", ["cycle_id"])
    op.create_table(
        "cycle_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        _time("sent_at"),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["certification_cycle.id"],
            name=op.f("fk_cycle_reminder_cycle_id_certification_cycle"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_reminder")),
        sa.UniqueConstraint("cycle_id", "kind", name=op.f("uq_cycle_reminder_cycle_id_kind")),
    )


def downgrade() -> None:
    op.drop_table("cycle_reminder")
    op.drop_index("ix_cycle_request_cycle_id", table_name="cycle_request")
    op.drop_index("ix_cycle_request_status", table_name="cycle_request")
    op.drop_table("cycle_request")
    op.drop_index("ix_cycle_hiatus_cycle_id", table_name="cycle_hiatus")
    op.drop_table("cycle_hiatus")
    op.drop_index("ix_cycle_extension_cycle_id", table_name="cycle_extension")
    op.drop_table("cycle_extension")
    op.drop_index("ix_certification_cycle_status", table_name="certification_cycle")
    op.drop_table("certification_cycle")
    op.drop_table("renewal_policy")
