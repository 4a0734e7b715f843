"""Database plumbing shared by the app, the commands and the migrations: SQLite pragmas, errors."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

F = TypeVar("F", bound=Callable[..., Any])

SQLITE_BUSY_TIMEOUT_MS = 15000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets readers work while the scheduler writes; the busy time-out makes writers queue."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def describe_database_error(error: OperationalError) -> str:
    """The driver's own first line ("connection refused", "unable to open database file")."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def reports_database_errors(command: F) -> F:
    """Turn an unreachable database inside a command into one clear line and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except OperationalError as error:
            raise click.ClickException(
                f"cannot use the database: {describe_database_error(error)}"
            ) from None

    return wrapper  # type: ignore[return-value]
