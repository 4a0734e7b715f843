"""Search and browse: full-text search, `closes_at`, and indexes for sorting and paging the list.

`opportunities.closes_at` (the latest deadline's instant) is filled from the deadlines here
and kept by the models' flush hook afterwards.

Full-text search lives outside the models (see `directory.fulltext`), so it is written here
by hand, per database:

- SQLite: an FTS5 table over the `opportunities` table (external content, Porter stemming,
  diacritics folded) kept in step by three triggers. A later migration that rebuilds
  `opportunities` in batch mode drops these triggers with the old table and must create
  them again (the search tests fail if it does not).
- PostgreSQL: a generated `tsvector` column (English stemming, title weighted highest) and a
  GIN index on it.

Revision ID: 1359da8b116a
Revises: b998f9a78483
Create Date: 2026-11-29 11:29:36.520082

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1359da8b116a"
down_revision = "b998f9a78483"
branch_labels = None
depends_on = None

SQLITE_COLUMNS = "title, organiser, place, summary_text"

SQLITE_UPGRADE = (
    f"""CREATE VIRTUAL TABLE opportunity_search USING fts5(
        {SQLITE_COLUMNS},
        content='opportunities', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )""",
    f"""CREATE TRIGGER opportunity_search_insert AFTER INSERT ON opportunities BEGIN
        INSERT INTO opportunity_search(rowid, {SQLITE_COLUMNS})
        VALUES (new.id, new.title, new.organiser, new.place, new.summary_text);
    END""",
    f"""CREATE TRIGGER opportunity_search_delete AFTER DELETE ON opportunities BEGIN
        INSERT INTO opportunity_search(opportunity_search, rowid, {SQLITE_COLUMNS})
        VALUES ('delete', old.id, old.title, old.organiser, old.place, old.summary_text);
    END""",
    f"""CREATE TRIGGER opportunity_search_update
        AFTER UPDATE OF {SQLITE_COLUMNS} ON opportunities BEGIN
        INSERT INTO opportunity_search(opportunity_search, rowid, {SQLITE_COLUMNS})
        VALUES ('delete', old.id, old.title, old.organiser, old.place, old.summary_text);
        INSERT INTO opportunity_search(rowid, {SQLITE_COLUMNS})
        VALUES (new.id, new.title, new.organiser, new.place, new.summary_text);
    END""",
    "INSERT INTO opportunity_search(opportunity_search) VALUES ('rebuild')",
)

SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS opportunity_search_update",
    "DROP TRIGGER IF EXISTS opportunity_search_delete",
    "DROP TRIGGER IF EXISTS opportunity_search_insert",
    "DROP TABLE IF EXISTS opportunity_search",
)

POSTGRESQL_UPGRADE = (
    """ALTER TABLE opportunities ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', coalesce(title, '')), 'A')
        || setweight(to_tsvector('english', coalesce(organiser, '')), 'B')
        || setweight(to_tsvector('english', coalesce(place, '')), 'C')
        || setweight(to_tsvector('english', coalesce(summary_text, '')), 'D')
    ) STORED""",
    "CREATE INDEX ix_opportunities_search_vector ON opportunities USING gin (search_vector)",
)

POSTGRESQL_DOWNGRADE = (
    "DROP INDEX IF EXISTS ix_opportunities_search_vector",
    "ALTER TABLE opportunities DROP COLUMN IF EXISTS search_vector",
)


def _run(statements_by_dialect):
    for statement in statements_by_dialect.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade():
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_deadlines_due_at"))
        batch_op.create_index(
            "ix_deadlines_opportunity_id_due_at", ["opportunity_id", "due_at"], unique=False
        )
        batch_op.create_index(
            "ix_deadlines_due_at_opportunity_id", ["due_at", "opportunity_id"], unique=False
        )

    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closes_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_opportunities_closes_at"), ["closes_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_opportunities_first_seen_at"), ["first_seen_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_opportunities_updated_at"), ["updated_at"], unique=False
        )
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_opportunities_listing",
            [
                "status",
                "closes_at",
                "kind",
                "is_rolling",
                "is_online",
                "language",
                "offers_travel",
                "offers_accommodation",
                "offers_fees",
                "offers_stipend",
                "id",
            ],
            unique=False,
        )
    op.execute(
        "UPDATE opportunities SET closes_at = "
        "(SELECT max(due_at) FROM deadlines WHERE deadlines.opportunity_id = opportunities.id)"
    )

    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade():
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})

    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunities_updated_at"))
        batch_op.drop_index(batch_op.f("ix_opportunities_first_seen_at"))
        batch_op.drop_index("ix_opportunities_listing")
        batch_op.drop_index(batch_op.f("ix_opportunities_closes_at"))
        batch_op.drop_column("closes_at")

    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_due_at_opportunity_id")
        batch_op.drop_index("ix_deadlines_opportunity_id_due_at")
        batch_op.create_index(batch_op.f("ix_deadlines_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_deadlines_opportunity_id"), ["opportunity_id"], unique=False
        )
