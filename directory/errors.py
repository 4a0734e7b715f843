"""Error pages, and one clear log line (not a traceback) when the database cannot be reached."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .database import describe_database_error

log = logging.getLogger("openings")


def init_app(app: Flask) -> None:
    """Render HTTP errors with the site's layout and turn an unreachable database into a 503."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)


def _http_error(error: HTTPException):
    return render_template("errors/error.html", error=error), error.code


def _database_unavailable(error: OperationalError):
    log.error("database unavailable: %s", describe_database_error(error))
    return render_template("errors/database.html"), 503
