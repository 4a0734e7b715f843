"""Add eligibility and languages to opportunities, and the review of proposed feeds

Existing opportunities get an empty eligibility; submissions without a feed keep NULL.

Revision ID: b998f9a78483
Revises: 217ead19334f
Create Date: 2026-11-29 11:38:28.629303

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b998f9a78483"
down_revision = "217ead19334f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("eligibility", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("languages", sa.String(length=200), nullable=True))

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_feed_status", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("proposed_feed_status")

    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_column("languages")
        batch_op.drop_column("eligibility")
