"""status list bits and signed credential move to their own table

Every award allocates an index in two status lists; keeping the 16 KiB
bitstring and the signed list in the same row made each allocation rewrite
them (SQLite rewrites whole rows).

SQLite note: a batch operation recreates the table (copy, DROP, rename), and
DROP TABLE on a parent fires ON DELETE CASCADE on its children.  So the
foreign key from status_list_content is added only after status_list has been
rebuilt, and removed before it is rebuilt again on the way down.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FK_NAME = "fk_status_list_content_status_list_id_status_list"


def upgrade() -> None:
    op.create_table(
        "status_list_content",
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("status_list_id", name=op.f("pk_status_list_content")),
    )
    op.execute(
        "INSERT INTO status_list_content (status_list_id, bits, document, updated_at) "
        "SELECT id, bits, document, updated_at FROM status_list"
    )
    with op.batch_alter_table("status_list") as batch_op:
        batch_op.drop_column("document")
        batch_op.drop_column("bits")
    with op.batch_alter_table("status_list_content") as batch_op:
        batch_op.create_foreign_key(
            FK_NAME, "status_list", ["status_list_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("status_list_content") as batch_op:
        batch_op.drop_constraint(FK_NAME, type_="foreignkey")
    with op.batch_alter_table("status_list") as batch_op:
        batch_op.add_column(sa.Column("bits", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE status_list SET "
        "bits = (SELECT c.bits FROM status_list_content c WHERE c.status_list_id = status_list.id), "
        "document = (SELECT c.document FROM status_list_content c "
        "WHERE c.status_list_id = status_list.id)"
    )
    with op.batch_alter_table("status_list") as batch_op:
        batch_op.alter_column("bits", existing_type=sa.LargeBinary(), nullable=False)
    op.drop_table("status_list_content")
