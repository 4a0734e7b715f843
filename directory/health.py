"""`/healthz`: for load balancers and monitors — 200 when the database answers, else 503."""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from .database import describe_database_error
from .extensions import db

bp = Blueprint("health", __name__)
log = logging.getLogger("openings")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except OperationalError as error:
        db.session.rollback()
        log.error("health check: database unavailable: %s", describe_database_error(error))
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
