"""`/api/v1`: the same filtered lists as JSON, with cursor pagination, for other tools.

Strict where the page is forgiving: any parameter that cannot be used is a 400 naming it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, jsonify, request, url_for

from . import openapi, results
from .extensions import db
from .filters import PARAMETERS, parse_filters
from .models import Deadline, Opportunity, utcnow
from .web import conditional

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_LIMIT = 100
MAX_ID = 2**31 - 1


@bp.get("/opportunities")
def opportunities():
    parsed = parse_filters(request.args, known=(*PARAMETERS, "limit"))
    if parsed.problems:
        return _bad_request(parsed.problems[0].parameter, [p.__dict__ for p in parsed.problems])
    limit = _limit(request.args.getlist("limit"))
    if limit is None:
        return _bad_request(
            "limit",
            [
                {
                    "parameter": "limit",
                    "message": f"“limit” must be a whole number from 1 to {MAX_LIMIT}.",
                }
            ],
        )
    now = utcnow()
    as_of = now.replace(second=0, microsecond=0) + timedelta(minutes=1)

    def build() -> str:
        page = results.find(
            db.session,
            parsed.filters,
            as_of,
            secret_key=current_app.config["SECRET_KEY"],
            cursor=parsed.cursor,
            limit=limit,
        )
        total = results.cached_count(
            current_app.extensions["openings.counts"], db.session, parsed.filters, as_of
        )
        items = [item(r.opportunity) for r in page.results]
        return current_app.json.dumps({"items": items, "next": page.next_cursor, "total": total})

    cache = current_app.extensions["openings.pages"]
    try:
        body = cache.get(results.minute_key(db.session, now, "api", request.full_path), build)
    except results.BadCursor:
        return _bad_request(
            "cursor",
            [
                {
                    "parameter": "cursor",
                    "message": "“cursor” is not a cursor this list gave out; start without it.",
                }
            ],
        )
    return _json(body, now)


@bp.get("/opportunities/<int:opportunity_id>")
def opportunity(opportunity_id: int):
    found = db.session.get(Opportunity, opportunity_id) if opportunity_id <= MAX_ID else None
    if found is None or found.status != "published":
        return jsonify(
            error="not_found", message=f"No published opportunity {opportunity_id}."
        ), 404
    return _json(item(found), utcnow())


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document(url_for("api.opportunities", _external=True).rsplit("/", 1)[0]))


def item(opportunity: Opportunity) -> dict[str, Any]:
    """An opportunity as the API gives it (described in `openapi.py`)."""
    return {
        "id": opportunity.id,
        "url": url_for("browse.detail", opportunity_id=opportunity.id, _external=True),
        "link": opportunity.link,
        "title": opportunity.title,
        "kind": opportunity.kind,
        "organiser": opportunity.organiser,
        "countries": opportunity.country_codes,
        "place": opportunity.place,
        "online": opportunity.is_online,
        "event_start": opportunity.event_start_on.isoformat()
        if opportunity.event_start_on
        else None,
        "event_end": opportunity.event_end_on.isoformat() if opportunity.event_end_on else None,
        "funding": {
            "offered": opportunity.funding_offered,
            "amount": str(opportunity.funding_amount)
            if opportunity.funding_amount is not None
            else None,
            "currency": opportunity.funding_currency,
        },
        "language": opportunity.language,
        "rolling": opportunity.is_rolling,
        "sources": [
            {"name": entry.source.name, "link": entry.link} for entry in opportunity.entries
        ],
        "deadlines": [_deadline(d) for d in opportunity.deadlines],
        "summary": opportunity.summary_text,
        "updated_at": _instant(opportunity.updated_at),
    }


def _deadline(deadline: Deadline) -> dict[str, Any]:
    return {
        "kind": deadline.kind,
        "date": deadline.due_on.isoformat(),
        "time": deadline.due_time.strftime("%H:%M") if deadline.due_time else None,
        "tz": deadline.time_zone,
        "utc": _instant(deadline.due_at),
        "evidence": deadline.evidence,
        "confidence": deadline.confidence,
    }


def _instant(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _limit(given: list[str]) -> int | None:
    if not given:
        return results.PAGE_SIZE
    raw = given[0].strip()
    if len(given) == 1 and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    return None


def _bad_request(parameter: str, errors: list[dict[str, str]]):
    return jsonify(
        error="bad_parameter", parameter=parameter, message=errors[0]["message"], errors=errors
    ), 400


def _json(body: dict[str, Any] | str, now):
    """A JSON response (a dict, or a document already serialised) that answers 304 when unchanged."""
    response = current_app.response_class(
        body if isinstance(body, str) else current_app.json.dumps(body), mimetype="application/json"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    return conditional(response, now.replace(second=0, microsecond=0))
