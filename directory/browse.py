"""Browsing the directory: the list of open opportunities and each opportunity's page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from . import queries
from .extensions import db
from .models import Opportunity, utcnow

bp = Blueprint("browse", __name__)


@bp.get("/")
def index():
    now = utcnow()
    rows = db.session.execute(queries.open_opportunities(now)).all()
    return render_template("browse/index.html", rows=rows, now=now)


@bp.get("/opportunities/<int:opportunity_id>")
def detail(opportunity_id: int):
    opportunity = db.session.get(Opportunity, opportunity_id)
    if opportunity is None or opportunity.status != "published":
        abort(404)
    now = utcnow()
    return render_template("browse/detail.html", opportunity=opportunity, now=now)
