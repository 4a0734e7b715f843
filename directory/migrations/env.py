"""Alembic environment for Openings: the app's engine and metadata, batch mode on SQLite."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy.exc import OperationalError

from directory.database import describe_database_error

config = context.config
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

database = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", database.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def skip_empty_autogenerate(context, revision, directives):
    """`flask db migrate` with no schema change writes no empty revision."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def render_item(type_, obj, autogen_context):
    """Write the storage type of the app's own column types, so revisions never import models."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False


def run_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=database.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    options = dict(current_app.extensions["migrate"].configure_args)
    options.setdefault("process_revision_directives", skip_empty_autogenerate)
    options.setdefault("compare_type", True)
    options.setdefault("render_item", render_item)
    engine = database.engine
    options.setdefault("render_as_batch", engine.dialect.name == "sqlite")
    try:
        connection = engine.connect()
    except OperationalError as error:
        raise SystemExit(
            f"openings: cannot reach the database: {describe_database_error(error)}"
        ) from None
    with connection:
        context.configure(connection=connection, target_metadata=database.metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
