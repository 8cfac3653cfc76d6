"""catalog_state: a counter that every change to achievement definitions bumps

The awarding engine's rule index used ``count(*), max(updated_at)`` over all
achievements to notice definitions changed by another process: a full scan
(~5 ms with 10,000 achievements on SQLite) on the event path every two
seconds, and on every event when they arrive less often than that.  Reading
one row by its primary key replaces it.  The row starts at the number of
achievements so that a process still holding an index from before the
upgrade rebuilds it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    count = op.get_bind().execute(sa.text("SELECT count(*) FROM achievement")).scalar()
    op.bulk_insert(state, [{"id": 1, "version": int(count or 0)}])


def downgrade() -> None:
    op.drop_table("catalog_state")
