"""What every page shares: template helpers and the security headers of every response."""

from __future__ import annotations

from flask import Flask, Response

from . import display
from .models import utcnow

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    """Register the template helpers and the response headers."""
    app.jinja_env.filters["country_name"] = display.country_name
    app.jinja_env.filters["long_date"] = display.long_date
    app.jinja_env.filters["funding_label"] = display.FUNDING_LABELS.get
    app.jinja_env.globals.update(
        countdown=display.countdown,
        deadline_kind_label=display.DEADLINE_KIND_LABELS.get,
        opportunity_kind_label=display.OPPORTUNITY_KIND_LABELS.get,
        utcnow=utcnow,
    )
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
