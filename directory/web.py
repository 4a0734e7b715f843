"""What every page shares: template helpers, links for emails, and the security headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app

from . import display, forms
from .models import utcnow

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
"""No inline script or style anywhere, no plugins, no framing, forms post only to this site."""


def init_app(app: Flask) -> None:
    """Register the template helpers and the response headers."""
    app.jinja_env.filters["country_name"] = display.country_name
    app.jinja_env.filters["long_date"] = display.long_date
    app.jinja_env.filters["clock_time"] = display.clock_time
    app.jinja_env.filters["funding_label"] = display.FUNDING_LABELS.get
    app.jinja_env.globals.update(
        countdown=display.countdown,
        form_errors=forms.form_errors,
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
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def site_url(endpoint: str, **values: Any) -> str:
    """An absolute link for emails, built on `BASE_URL`, never on the request's Host header.

    Works in any app context (a request, a command, the scheduler).
    """
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc or "localhost", script_name=base.path or "/", url_scheme=base.scheme or "http"
    )
    return adapter.build(endpoint, values, force_external=True)
