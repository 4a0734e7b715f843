"""Index opportunities by publication time, for merging listings from two sources.

Revision ID: c66b38c6608a
Revises: 83444d40de80
Create Date: 2026-11-29 11:30:09.657299

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "c66b38c6608a"
down_revision = "83444d40de80"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunities_published_at"), ["published_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_published_at"))
