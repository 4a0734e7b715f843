"""Error pages, and one clear log line (not a traceback) when the database cannot be reached."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .database import describe_database_error

log = logging.getLogger("openings")

MESSAGES = {
    400: (_l("Bad request"), _l("The page could not understand what was sent.")),
    401: (_l("Sign-in needed"), _l("This page needs you to sign in first.")),
    403: (_l("Not allowed"), _l("You are not allowed to do this.")),
    404: (_l("Page not found"), _l("There is nothing at this address. It may have been removed.")),
    405: (_l("Not allowed"), _l("This page cannot be used that way.")),
    410: (_l("Gone"), _l("This page is no longer available.")),
    413: (_l("Too large"), _l("What was sent is too large.")),
    422: (_l("Cannot be used"), _l("What was sent could not be used.")),
    429: (
        _l("Too many requests"),
        _l("Too many requests came from your address. Please wait a while and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("Something went wrong on our side. Please try again in a few minutes."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("The site is unavailable just now. Please try again in a few minutes."),
    ),
}
"""What an error page says, per status code, in the reader's language."""

CSRF_MESSAGE = (
    _l("This form has expired"),
    _l(
        "The form's security token (CSRF) is missing or out of date. Go back, reload the page "
        "and send the form again."
    ),
)


def init_app(app: Flask) -> None:
    """Render HTTP errors with the site's layout and turn an unreachable database into a 503."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OperationalError, _database_unavailable)


def _http_error(error: HTTPException):
    if request.path.startswith("/api/"):
        code = error.name.lower().replace(" ", "_")
        return jsonify(error=code, message=error.description), error.code
    code = error.code or 500
    name, description = MESSAGES.get(code) or MESSAGES[500 if code >= 500 else 400]
    if isinstance(error, CSRFError):
        name, description = CSRF_MESSAGE
    return render_template("errors/error.html", code=code, name=name, description=description), code


def _database_unavailable(error: OperationalError):
    log.error("database unavailable: %s", describe_database_error(error))
    return render_template("errors/database.html"), 503
