"""Browsing the directory: the filtered list, each opportunity's page, and the same list as
Atom and iCalendar feeds. Views read the request, call plain functions, and render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import urlencode, urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import func, select

from . import atom, calendar, facets, queries, results
from .display import describe_filters, zone_label
from .extensions import db
from .filters import PARAMETERS, Filters, ParsedQuery, Problem, parse_filters, query_args
from .i18n import LANGUAGE_COOKIE, current_language
from .models import Deadline, Opportunity, utcnow
from .regions import region_of
from .web import ZONE_COOKIE, ZONE_COOKIE_MAX_AGE, conditional, known_zones, reader_zone

bp = Blueprint("browse", __name__)

FEED_SIZE = 50
"""Entries in an Atom feed."""
CALENDAR_SIZE = 200
"""Opportunities whose deadlines an ICS feed carries (soonest first)."""
SIMILAR_SIZE = 5
MAX_ID = 2**31 - 1


@bp.record_once
def _create_caches(state) -> None:
    state.app.extensions["openings.counts"] = results.MinuteCache(size=256)
    state.app.extensions["openings.feeds"] = results.MinuteCache(size=32)
    state.app.extensions["openings.pages"] = results.MinuteCache(size=256)


@bp.get("/")
def index():
    return _cached_page(_render_index)


@bp.get("/opportunities/<int:opportunity_id>")
def detail(opportunity_id: int):
    opportunity = _published(opportunity_id)
    return _cached_page(lambda at, zone: _render_detail(opportunity, at, zone))


def _render_index(now: datetime, zone: tzinfo) -> str:
    parsed = parse_filters(request.args, known=(*PARAMETERS, LANGUAGE_COOKIE))
    problems = list(parsed.problems)
    try:
        page = _find(parsed.filters, now, cursor=parsed.cursor)
    except results.BadCursor:
        problems.append(
            Problem("cursor", _("That page link no longer fits the list; here is its first page."))
        )
        parsed = ParsedQuery(parsed.filters, None, parsed.problems)
        page = _find(parsed.filters, now)
    counts = results.cached_counts(
        current_app.extensions["openings.counts"], db.session, parsed.filters, now
    )
    return render_template(
        "browse/index.html",
        filters=parsed.filters,
        page=page,
        counts=counts,
        groups=facets.groups(parsed.filters, counts, results.source_names(db.session)),
        problems=problems,
        is_later_page=bool(parsed.cursor),
        chosen=sum(1 for name, _ in query_args(parsed.filters) if name not in ("q", "sort")),
        zone=zone,
        now=now,
        url_with=lambda **extra: _list_url("browse.index", parsed.filters, **extra),
        feed_url=lambda endpoint: _list_url(endpoint, parsed.filters),
    )


def _render_detail(opportunity: Opportunity, now: datetime, zone: tzinfo) -> str:
    has_closed = bool(opportunity.deadlines) and all(d.due_at <= now for d in opportunity.deadlines)
    similar: list[results.Result] = []
    similar_url = None
    if has_closed:
        regions = tuple(dict.fromkeys(r for r in map(region_of, opportunity.country_codes) if r))
        alike = queries.similar_open(opportunity.kind, regions)
        cache = current_app.extensions["openings.counts"]
        ids = cache.get(
            results.minute_key(db.session, now, "similar", alike),
            lambda: [r.opportunity.id for r in _find(alike, now, limit=SIMILAR_SIZE + 1).results],
        )
        similar = [
            results.Result(o, results.shown_deadline(o, now))
            for o in results.load(db.session, [i for i in ids if i != opportunity.id])
        ][:SIMILAR_SIZE]
        similar_url = _list_url("browse.index", alike)
    return render_template(
        "browse/detail.html",
        opportunity=opportunity,
        has_closed=has_closed,
        similar=similar,
        similar_url=similar_url,
        zone=zone,
        now=now,
    )


def _cached_page(render: Callable[[datetime, tzinfo], str]) -> Response:
    """A page rendered at most once a minute per address, reader's zone and version of the data.

    It is rendered as of the end of the current minute, so a page served at any moment of
    that minute never counts down more time than is left (at most a minute less).
    """
    now = utcnow()
    minute = now.replace(second=0, microsecond=0)
    zone = reader_zone()
    key = results.minute_key(
        db.session, now, "page", request.full_path, zone_label(zone), current_language()
    )
    cache = current_app.extensions["openings.pages"]
    html = cache.get(key, lambda: render(minute + timedelta(minutes=1), zone))
    return _page(html, now)


@bp.get("/opportunities/<int:opportunity_id>.ics")
def detail_calendar(opportunity_id: int):
    opportunity = _published(opportunity_id)
    body = calendar.build_calendar(
        [opportunity], name=f"{opportunity.title} · Openings", domain=_domain(), page_url=_page_url
    )
    filename = f"openings-{opportunity.id}.ics"
    return _feed(body, "text/calendar; charset=utf-8", opportunity.updated_at, filename)


@bp.get("/opportunities.atom")
def atom_feed():
    now = utcnow()
    filters = _feed_filters()
    changed = _last_change(now)

    def build() -> bytes:
        found = _find(replace(filters, sort="newest"), now, limit=FEED_SIZE).results
        return atom.build_feed(
            [r.opportunity for r in found],
            title=f"Openings: {describe_filters(filters)}",
            feed_id=_list_url("browse.atom_feed", filters, _external=True),
            self_url=_list_url("browse.atom_feed", filters, _external=True),
            html_url=_list_url("browse.index", filters, _external=True),
            updated=changed,
            domain=_domain(),
            page_url=_page_url,
        )

    body = _cached_feed(now, ("atom", filters, request.host_url, current_language()), build)
    return _feed(body, "application/atom+xml; charset=utf-8", changed)


@bp.get("/opportunities.ics")
def calendar_feed():
    now = utcnow()
    filters = _feed_filters()

    def build() -> bytes:
        found = _find(filters, now, limit=CALENDAR_SIZE).results
        return calendar.build_calendar(
            [r.opportunity for r in found],
            name=f"Openings: {describe_filters(filters)}",
            domain=_domain(),
            page_url=_page_url,
        )

    body = _cached_feed(now, ("ics", filters, request.host_url, current_language()), build)
    return _feed(body, "text/calendar; charset=utf-8", _last_change(now), "openings.ics")


@bp.route("/time-zone", methods=["GET", "POST"])
def time_zone():
    back = _local_path(request.values.get("next", ""))
    if request.method == "POST":
        chosen = request.form.get("tz", "")
        if chosen not in known_zones():
            return render_template(
                "browse/time_zone.html",
                zones=_zones_by_area(),
                current=chosen,
                back=back,
                error=_("Choose a time zone from the list."),
            ), 400
        response = redirect(back, code=303)
        response.set_cookie(
            ZONE_COOKIE,
            chosen,
            max_age=ZONE_COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
        return response
    current = getattr(reader_zone(), "key", "UTC")
    return render_template(
        "browse/time_zone.html", zones=_zones_by_area(), current=current, back=back, error=None
    )


def _find(
    filters: Filters, now: datetime, *, cursor: str | None = None, limit: int = results.PAGE_SIZE
) -> results.Page:
    return results.find(
        db.session,
        filters,
        now,
        secret_key=current_app.config["SECRET_KEY"],
        cursor=cursor,
        limit=limit,
    )


def _published(opportunity_id: int) -> Opportunity:
    opportunity = db.session.get(Opportunity, opportunity_id) if opportunity_id <= MAX_ID else None
    if opportunity is None or opportunity.status != "published":
        abort(404)
    return opportunity


def _feed_filters() -> Filters:
    """Feeds read the same parameters as the page; what is invalid is ignored (no one reads notes)."""
    return parse_filters(request.args).filters


def _cached_feed(now: datetime, key: tuple, build) -> bytes:
    """A feed body, built once a minute per filter set: calendar apps poll the same URLs."""
    cache = current_app.extensions["openings.feeds"]
    return cache.get(results.minute_key(db.session, now, *key), build)


def _last_change(now: datetime) -> datetime:
    """The latest moment a feed's content could have changed: data edited, or a deadline passing."""
    edited = results.data_version(db.session)[0]
    closed = db.session.scalar(select(func.max(Deadline.due_at)).where(Deadline.due_at <= now))
    moments = [m for m in (edited, closed) if m is not None]
    return max(moments) if moments else datetime(2020, 1, 1, tzinfo=UTC)


def _page(html: str, now: datetime) -> Response:
    """An HTML page: it varies with the reader's zone, and its countdowns change each minute."""
    response = make_response(html)
    response.vary.add("Cookie")
    return conditional(response, now.replace(second=0, microsecond=0))


def _feed(body: bytes, mimetype: str, changed: datetime, filename: str | None = None) -> Response:
    response = make_response(body)
    response.headers["Content-Type"] = mimetype
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return conditional(response, changed)


def _list_url(endpoint: str, filters: Filters, _external: bool = False, **extra) -> str:
    base = url_for(endpoint, _external=_external)
    pairs = query_args(filters, **extra)
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _page_url(opportunity: Opportunity) -> str:
    return url_for("browse.detail", opportunity_id=opportunity.id, _external=True)


def _domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def _local_path(target: str) -> str:
    """Where to go back to after choosing a zone: a path on this site, never another site."""
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or parts.scheme
        or parts.netloc
        or "\\" in target
    ):
        return url_for("browse.index")
    return target


def _zones_by_area() -> list[tuple[str, list[str]]]:
    areas: dict[str, list[str]] = {}
    for name in sorted(known_zones() - {"UTC"}):
        areas.setdefault(name.split("/")[0], []).append(name)
    return sorted(areas.items())
