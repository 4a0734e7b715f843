"""The migrations build exactly the schema the models describe, and go down and up again."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from directory import create_app
from directory.extensions import db


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_migrated_database_matches_the_models(app):
    assert schema_differences() == []


def test_migrations_go_down_and_up_on_a_fresh_sqlite_file(tmp_path, app_config):
    config = dict(app_config, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    app = create_app(config, instance_path=str(tmp_path))
    with app.app_context():
        upgrade()
        assert schema_differences() == []
        downgrade(revision="base")
        upgrade()
        assert schema_differences() == []
        db.engine.dispose()
