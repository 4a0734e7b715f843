"""Subscribers' own pages, reached through signed links in every email (no password).

The links are built here and only here: the alert engine and every email use
`manage_url` and `unsubscribe_url`, and the views below read the same tokens.
"""

from __future__ import annotations

import hashlib
import logging

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from . import subscribers
from .extensions import csrf, db, limiter
from .filters import Filters, parse_filters
from .forms import ActionForm, ManageForm, RemindForm, SubscribeForm, options
from .i18n import DEFAULT_LANGUAGE, supported_language
from .mail import deliver_now
from .models import Opportunity, Subscriber, utcnow
from .tokens import ExpiredToken, InvalidToken, make_token, read_token
from .web import known_zones, reader_zone, site_url

bp = Blueprint("subscriptions", __name__)
log = logging.getLogger("openings.subscriptions")

MANAGE_PURPOSE = "subscriber-manage"
UNSUBSCRIBE_PURPOSE = "subscriber-unsubscribe"
CONFIRM_PURPOSE = "subscriber-confirm"
REMIND_PURPOSE = "subscriber-remind"


def manage_url(subscriber: Subscriber) -> str:
    """The subscriber's own settings page; the link never expires, holding it is the proof."""
    return site_url("subscriptions.manage", token=make_token(MANAGE_PURPOSE, _names(subscriber)))


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The RFC 8058 one-click address: a POST to it unsubscribes at once, a GET asks first."""
    return site_url(
        "subscriptions.unsubscribe", token=make_token(UNSUBSCRIBE_PURPOSE, _names(subscriber))
    )


def unsubscribe_mailto(subscriber: Subscriber) -> str:
    """The `mailto:` form of `List-Unsubscribe`, for mail clients that do not POST."""
    sender = current_app.config["ALERTS_UNSUBSCRIBE_MAILBOX"] or _sender_address()
    token = make_token(UNSUBSCRIBE_PURPOSE, _names(subscriber))
    return f"mailto:{sender}?subject=unsubscribe%20{token}"


def subscriber_from_token(purpose: str, token: str) -> Subscriber | None:
    """The subscriber a genuine link of `purpose` names, or None (altered, or data deleted)."""
    try:
        payload = read_token(purpose, token)
    except InvalidToken:
        return None
    return _subscriber_of(payload)


def _names(subscriber: Subscriber) -> dict:
    """What a link carries to name its subscriber: the row, and a digest of its address.

    The digest makes a link die with the data it was sent for: a row deleted ("Delete my
    data") and its id reused by SQLite for someone else is not the row the link named.
    The address itself stays out of URLs, which end up in logs.
    """
    digest = hashlib.sha256(subscriber.email.encode("utf-8")).hexdigest()[:16]
    return {"s": subscriber.id, "k": digest}


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
    subscribers.unsubscribe(subscriber)
    db.session.commit()
    return render_template("subscriptions/unsubscribe.html", subscriber=subscriber, done=True)


@bp.route("/alerts/manage/<token>", methods=["GET", "POST"])
def manage(token: str):
    subscriber = subscriber_from_token(MANAGE_PURPOSE, token)
    if subscriber is None:
        abort(404)
    reminded = subscribers.reminded_opportunities(db.session, subscriber)
    form = ManageForm()
    form.reminders.choices = options((o.id, o.title) for o in reminded)
    if request.method == "POST":
        action = request.form.get("action", "save")
        if action == "save":
            if form.validate_on_submit():
                preferences = form.preferences(opportunity_ids=form.reminders.data or ())
                if preferences is not None:
                    subscribers.apply_preferences(subscriber, preferences)
                    db.session.commit()
                    flash(_("Your choices are saved."))
                    return redirect(url_for("subscriptions.manage", token=token), 303)
            return _render_manage(subscriber, form, token, reminded), 422
        if not ActionForm().validate_on_submit() or action not in (*_STATUS_ACTIONS, "delete"):
            abort(400)
        if action == "delete":
            subscribers.delete_data(db.session, subscriber)
            db.session.commit()
            return render_template("subscriptions/deleted.html")
        _STATUS_ACTIONS[action](subscriber)
        db.session.commit()
        flash(_STATUS_MESSAGES[action]())
        return redirect(url_for("subscriptions.manage", token=token), 303)
    form.fill_from(subscribers.preferences_of(subscriber))
    form.reminders.data = [o.id for o in reminded]
    return _render_manage(subscriber, form, token, reminded)


_STATUS_ACTIONS = {
    "pause": subscribers.pause,
    "resume": lambda subscriber: subscribers.resume(subscriber, utcnow()),
    "unsubscribe": subscribers.unsubscribe,
}
_STATUS_MESSAGES = {
    "pause": lambda: _("Your alerts are paused. Resume them here whenever you like."),
    "resume": lambda: _("Your alerts are on again."),
    "unsubscribe": lambda: _("You are unsubscribed: we will not email you again."),
}


def _render_manage(subscriber: Subscriber, form: ManageForm, token: str, reminded: list):
    return render_template(
        "subscriptions/manage.html",
        subscriber=subscriber,
        form=form,
        token=token,
        reminded=reminded,
        action=ActionForm(),
    )


# --- subscribing -----------------------------------------------------------------------------


def _subscription_limit() -> str:
    return current_app.config["SUBSCRIPTION_RATE_LIMIT"]


def _was_taken(response: Response) -> bool:
    """Only a request that was taken (and may send an email) counts against the limit."""
    return response.status_code == 303


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(_subscription_limit, methods=["POST"], deduct_when=_was_taken)
def subscribe():
    form = SubscribeForm()
    if request.method == "GET":
        form.fill_from(_prefilled(parse_filters(request.args).filters))
        return render_template("subscriptions/subscribe.html", form=form)
    if form.website.data:
        log.info("subscription refused: the honeypot field was filled in")
        return redirect(url_for("subscriptions.sent"), 303)
    preferences = form.preferences() if form.validate() else None
    if preferences is None:
        return render_template("subscriptions/subscribe.html", form=form), 422
    _request(form.email.data, preferences)
    return redirect(url_for("subscriptions.sent"), 303)


@bp.get("/subscribe/sent")
def sent():
    return render_template("subscriptions/sent.html")


@bp.route("/opportunities/<int:opportunity_id>/remind", methods=["POST"])
@csrf.exempt
@limiter.limit(_subscription_limit, deduct_when=_was_taken)
def remind(opportunity_id: int):
    """ "Remind me": the opportunity's page is cached and shared between readers, so its form
    carries no per-session CSRF token. Nothing here acts on a session: like /subscribe it
    can only lead to one email an hour to the address given, under the rate limit."""
    opportunity = db.session.get(Opportunity, opportunity_id) if opportunity_id < 2**31 else None
    if opportunity is None or opportunity.status != "published":
        abort(404)
    form = RemindForm(request.form)
    if form.website.data:
        log.info("reminder refused: the honeypot field was filled in")
        return redirect(url_for("subscriptions.sent"), 303)
    if not form.validate():
        return render_template(
            "subscriptions/remind.html", form=form, opportunity=opportunity, state="form"
        ), 422
    preferences = subscribers.check_preferences(
        lead_days=current_app.config["ALERT_LEAD_DAYS"],
        time_zone=_reader_zone_name(),
        language=_interface_language(),
    )
    _request(form.email.data, preferences, remind_opportunity=opportunity.id)
    return redirect(url_for("subscriptions.sent"), 303)


@bp.route("/alerts/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    try:
        payload = read_token(
            CONFIRM_PURPOSE, token, max_age_seconds=subscribers.CONFIRM_DAYS * 86400
        )
    except ExpiredToken:
        return render_template(
            "subscriptions/confirm.html", state="expired", days=subscribers.CONFIRM_DAYS
        ), 410
    except InvalidToken:
        abort(404)
    subscriber = _subscriber_of(payload)
    if subscriber is None:
        abort(404)
    action = ActionForm()
    if request.method == "POST" and action.validate_on_submit():
        if subscribers.confirm(subscriber, utcnow()):
            db.session.commit()
            flash(_("Your alerts are confirmed. This page is where you change them."))
        return redirect(manage_url(subscriber), 303)
    if subscriber.status in ("unsubscribed", "bounced"):
        abort(404)
    state = "ask" if subscriber.status == "pending" else "done"
    return render_template(
        "subscriptions/confirm.html",
        state=state,
        action=action,
        manage_link=manage_url(subscriber) if state == "done" else None,
    )


@bp.route("/alerts/remind/<token>", methods=["GET", "POST"])
def add_reminder(token: str):
    """A confirmed reminders-only subscriber adds one more opportunity, through a signed link."""
    try:
        payload = read_token(
            REMIND_PURPOSE, token, max_age_seconds=subscribers.CONFIRM_DAYS * 86400
        )
    except ExpiredToken:
        return render_template(
            "subscriptions/confirm.html", state="expired", days=subscribers.CONFIRM_DAYS
        ), 410
    except InvalidToken:
        abort(404)
    subscriber = _subscriber_of(payload)
    opportunity = (
        db.session.get(Opportunity, payload.get("o")) if isinstance(payload.get("o"), int) else None
    )
    if subscriber is None or opportunity is None:
        abort(404)
    action = ActionForm()
    if request.method == "POST" and action.validate_on_submit():
        if subscribers.add_reminder(subscriber, opportunity.id):
            db.session.commit()
        flash(_("The reminder is added."))
        return redirect(manage_url(subscriber), 303)
    return render_template(
        "subscriptions/remind.html", state="add", opportunity=opportunity, action=action
    )


def _request(email: str, preferences, remind_opportunity: int | None = None) -> None:
    for attempt in (1, 2):
        try:
            outcome = subscribers.request_subscription(
                db.session,
                email,
                preferences,
                now=utcnow(),
                links=email_links(),
                remind_opportunity=remind_opportunity,
            )
            db.session.commit()
            break
        except IntegrityError:  # the same new address, sent twice at once: now it exists
            db.session.rollback()
            if attempt == 2:
                raise
    if outcome.message is not None:
        deliver_now([outcome.message])
    log.info("subscription request for subscriber %d: %s", outcome.subscriber.id, outcome.sent)


def email_links() -> subscribers.Links:
    """The signed links subscription emails carry, for `directory.subscribers`."""
    return subscribers.Links(
        confirm=confirm_url,
        manage=manage_url,
        remind=lambda subscriber, opportunity_id: site_url(
            "subscriptions.add_reminder",
            token=make_token(REMIND_PURPOSE, {**_names(subscriber), "o": opportunity_id}),
        ),
        opportunity=lambda opportunity_id: site_url("browse.detail", opportunity_id=opportunity_id),
    )


def confirm_url(subscriber: Subscriber) -> str:
    """The double opt-in link: it names the row and its address, and works for 7 days."""
    return site_url(
        "subscriptions.confirm",
        token=make_token(CONFIRM_PURPOSE, _names(subscriber)),
    )


def _subscriber_of(payload: object) -> Subscriber | None:
    """The subscriber a link names, if that row still has the address the link was sent to."""
    if not isinstance(payload, dict) or not isinstance(payload.get("s"), int):
        return None
    subscriber = db.session.get(Subscriber, payload["s"])
    if subscriber is None or _names(subscriber) != {"s": payload["s"], "k": payload.get("k")}:
        return None
    return subscriber


def _prefilled(filters: Filters) -> subscribers.Preferences:
    """The form's starting values: the list's filters, this reader's zone and language."""
    return subscribers.Preferences(
        kinds=filters.kinds,
        countries=filters.countries,
        regions=filters.regions,
        keywords=_keywords_of(filters.q),
        funding=filters.funding,
        lead_days=tuple(current_app.config["ALERT_LEAD_DAYS"]),
        time_zone=_reader_zone_name(),
        language=_interface_language(),
    )


def _keywords_of(q: str) -> tuple[str, ...]:
    try:
        return subscribers.parse_keywords(q)
    except subscribers.PreferenceError:
        return ()


def _interface_language() -> str:
    """The page's language, offered as the language of the emails."""
    return supported_language(str(get_locale() or "")) or DEFAULT_LANGUAGE


def _reader_zone_name() -> str:
    name = getattr(reader_zone(), "key", "UTC")
    return name if name in known_zones() else "UTC"


def _sender_address() -> str:
    from email.utils import parseaddr

    return parseaddr(str(current_app.config["MAIL_DEFAULT_SENDER"]))[1]
