"""What every page shares: template helpers, links for emails, and the security headers."""

from __future__ import annotations

import functools
import zoneinfo
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from . import display
from .models import utcnow

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style anywhere, no plugins, no framing, forms post only to this site."""


def init_app(app: Flask) -> None:
    """Register the template helpers and the response headers."""
    from . import forms  # forms import this module's zone list

    app.jinja_env.filters["country_name"] = display.country_name
    app.jinja_env.filters["long_date"] = display.long_date
    app.jinja_env.filters["clock_time"] = display.clock_time
    app.jinja_env.filters["funding_label"] = display.FUNDING_LABELS.get
    app.jinja_env.filters["zone_label"] = display.zone_label
    app.jinja_env.globals.update(
        countdown=display.countdown,
        form_errors=forms.form_errors,
        deadline_kind_label=display.DEADLINE_KIND_LABELS.get,
        opportunity_kind_label=display.OPPORTUNITY_KIND_LABELS.get,
        utcnow=utcnow,
        deadline_time=display.deadline_time,
    )
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


ZONE_COOKIE = "tz"
ZONE_COOKIE_MAX_AGE = 400 * 24 * 3600


@functools.cache
def known_zones() -> frozenset[str]:
    """IANA zone names a reader may choose (Area/City), plus UTC."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and name.split("/")[0] in ZONE_AREAS
    ) | {"UTC"}


ZONE_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)


def reader_zone() -> tzinfo:
    """The reader's time zone from their cookie; UTC until they choose one."""
    name = request.cookies.get(ZONE_COOKIE, "")
    if name in known_zones() and name != "UTC":
        return zoneinfo.ZoneInfo(name)
    return UTC


def conditional(response: Response, last_modified: datetime | None) -> Response:
    """Give the response an ETag (a hash of its body) and Last-Modified; answer 304 when unchanged.

    The ETag is exact whatever made the page change (data, the clock, the reader's zone);
    `last_modified` must be no earlier than the last change a client could have missed.
    """
    response.add_etag()
    if last_modified is not None:
        response.last_modified = last_modified
    response.headers.setdefault("Cache-Control", "no-cache")
    return response.make_conditional(request)


def site_url(endpoint: str, **values: Any) -> str:
    """An absolute link for emails, built on `BASE_URL`, never on the request's Host header.

    Works in any app context (a request, a command, the scheduler).
    """
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc or "localhost", script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
