"""Remember each feed's items between reads, and index opportunities by publication time.

Revision ID: 217ead19334f
Revises: 83444d40de80
Create Date: 2026-11-29 11:53:22.006936

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "217ead19334f"
down_revision = "83444d40de80"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunities_published_at"), ["published_at"], unique=False
        )

    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_digests", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("items_read_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_column("items_read_at")
        batch_op.drop_column("item_digests")

    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_published_at"))
