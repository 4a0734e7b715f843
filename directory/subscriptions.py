"""Subscribers' own pages, reached through signed links in every email (no password).

The links are built here and only here: the alert engine and every email use
`manage_url` and `unsubscribe_url`, and the views below read the same tokens.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from .extensions import csrf, db
from .models import Subscriber
from .tokens import InvalidToken, make_token, read_token
from .web import site_url

bp = Blueprint("subscriptions", __name__)

MANAGE_PURPOSE = "subscriber-manage"
UNSUBSCRIBE_PURPOSE = "subscriber-unsubscribe"


def manage_url(subscriber: Subscriber) -> str:
    """The subscriber's own settings page; the link never expires, holding it is the proof."""
    return site_url("subscriptions.manage", token=make_token(MANAGE_PURPOSE, subscriber.id))


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The RFC 8058 one-click address: a POST to it unsubscribes at once, a GET asks first."""
    return site_url(
        "subscriptions.unsubscribe", token=make_token(UNSUBSCRIBE_PURPOSE, subscriber.id)
    )


def unsubscribe_mailto(subscriber: Subscriber) -> str:
    """The `mailto:` form of `List-Unsubscribe`, for mail clients that do not POST."""
    sender = current_app.config.get("ALERTS_UNSUBSCRIBE_MAILBOX") or _sender_address()
    token = make_token(UNSUBSCRIBE_PURPOSE, subscriber.id)
    return f"mailto:{sender}?subject=unsubscribe%20{token}"


def subscriber_from_token(purpose: str, token: str) -> Subscriber | None:
    """The subscriber a genuine link of `purpose` names, or None (altered, or data deleted)."""
    try:
        subscriber_id = read_token(purpose, token)
    except InvalidToken:
        return None
    if not isinstance(subscriber_id, int):
        return None
    return db.session.get(Subscriber, subscriber_id)


@bp.route("/alerts/unsubscribe/<token>", methods=["GET"])
def unsubscribe(token: str):
    subscriber = subscriber_from_token(UNSUBSCRIBE_PURPOSE, token)
    if subscriber is None:
        abort(404)
    return render_template("subscriptions/unsubscribe.html", subscriber=subscriber, done=False)


@bp.route("/alerts/unsubscribe/<token>", methods=["POST"])
@csrf.exempt
def unsubscribe_now(token: str):
    """One click (RFC 8058): mail clients POST `List-Unsubscribe=One-Click` with no session."""
    subscriber = subscriber_from_token(UNSUBSCRIBE_PURPOSE, token)
    if subscriber is None:
        abort(404)
    subscriber.status = "unsubscribed"
    db.session.commit()
    return render_template("subscriptions/unsubscribe.html", subscriber=subscriber, done=True)


@bp.route("/alerts/manage/<token>", methods=["GET", "POST"])
def manage(token: str):
    subscriber = subscriber_from_token(MANAGE_PURPOSE, token)
    if subscriber is None:
        abort(404)
    return render_template("subscriptions/manage.html", subscriber=subscriber, token=token)


def _sender_address() -> str:
    from email.utils import parseaddr

    return parseaddr(str(current_app.config["MAIL_DEFAULT_SENDER"]))[1]
