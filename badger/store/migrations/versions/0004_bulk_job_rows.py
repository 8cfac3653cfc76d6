"""bulk job rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:07:51.259723
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulk_job_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("award_public_id", sa.String(length=36), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('issued', 'skipped', 'failed')", name=op.f("ck_bulk_job_row_status")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["bulk_job.id"],
            name=op.f("fk_bulk_job_row_job_id_bulk_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_job_row")),
        sa.UniqueConstraint("job_id", "position", name=op.f("uq_bulk_job_row_job_id_position")),
    )


def downgrade() -> None:
    op.drop_table("bulk_job_row")
