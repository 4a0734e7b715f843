"""Partners list an opportunity: the form at /submit, and the confirmation of their address.

Spam is kept out without a captcha: a honeypot field robots fill in, a signed start time
(a form sent within seconds of being shown is refused), a rate limit per client address,
and the email confirmation without which nothing reaches the moderators.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from . import moderation
from .extensions import db, limiter
from .forms import ActionForm, SubmissionForm
from .i18n import current_language
from .listings import check_listing, listing_from_details
from .mail import deliver_now
from .models import Submission, utcnow
from .tokens import ExpiredToken, InvalidToken, make_token, read_token
from .web import site_url

bp = Blueprint("submissions", __name__)
log = logging.getLogger("openings.submissions")

FORM_PURPOSE = "submission-form"
CONFIRM_PURPOSE = "submission-confirm"
FORM_MAX_AGE_SECONDS = 24 * 3600
"""A form kept open longer than a day is shown again with a fresh start time."""


def _submission_limit() -> str:
    return current_app.config["SUBMISSION_RATE_LIMIT"]


def _was_stored(response: Response) -> bool:
    """Only a sent submission counts against the limit, not previews or corrections."""
    return response.status_code == 303


@bp.route("/submit", methods=["GET", "POST"])
@limiter.limit(_submission_limit, methods=["POST"], deduct_when=_was_stored)
def form():
    now = utcnow()
    form = SubmissionForm()
    if request.method == "GET":
        form.started.data = _start_token(now)
        return _render_form(form)
    action = request.form.get("action", "send")
    if action == "add_deadline":
        form.add_deadline_row()
        return _render_form(form, previews=form.previews())
    if action == "send" and form.website.data:
        log.info("submission refused: the honeypot field was filled in")
        return redirect(url_for("submissions.sent"), 303)
    notice = _fill_time_problem(form, now) if action == "send" else None
    valid = form.validate()
    listing, rows = form.listing()
    problems = check_listing(
        listing, now=now, blocked_domains=current_app.config["SUBMISSION_BLOCKED_DOMAINS"]
    )
    form.attach_problems(problems, rows)
    previews = form.previews()
    if not valid or problems or notice:
        return _render_form(form, previews=previews, notice=notice), 422
    if action != "send":
        notice = _("This is how your deadlines will read. Send the form when all is right.")
        return _render_form(form, previews=previews, notice=notice)
    submission, message = moderation.submit(
        db.session,
        organisation=form.organisation.data,
        contact_name=form.contact_name.data,
        contact_email=form.contact_email.data,
        listing=listing,
        now=now,
        confirm_url=_confirm_url,
        language=current_language(),
    )
    db.session.commit()
    deliver_now([message])
    log.info("submission %d stored; confirmation sent", submission.id)
    return redirect(url_for("submissions.sent"), 303)


@bp.get("/submit/sent")
def sent():
    return render_template("submissions/sent.html")


@bp.route("/submit/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    days = int(current_app.config["SUBMISSION_CONFIRM_DAYS"])
    try:
        payload = read_token(CONFIRM_PURPOSE, token, max_age_seconds=days * 86400)
    except ExpiredToken:
        return render_template("submissions/confirm.html", state="expired", days=days), 410
    except InvalidToken:
        abort(404)
    submission = (
        db.session.get(Submission, payload.get("submission")) if isinstance(payload, dict) else None
    )
    if submission is None:
        abort(404)
    action = ActionForm()
    listing = listing_from_details(submission.details)
    if request.method == "POST" and action.validate_on_submit():
        messages = moderation.confirm(db.session, submission, utcnow())
        db.session.commit()
        deliver_now(messages)
        return render_template("submissions/confirm.html", state="confirmed", listing=listing)
    state = "ask" if submission.status == "unconfirmed" else "done"
    return render_template(
        "submissions/confirm.html", state=state, listing=listing, action=action, token=token
    )


def init_app(app: Flask) -> None:
    """Have the scheduler delete submissions whose address was never confirmed."""
    from .scheduler import Job, register

    register(Job("purge-unconfirmed-submissions", timedelta(hours=6), purge_unconfirmed))


def purge_unconfirmed(app: Flask, now: datetime) -> int:
    """The scheduler's job: unconfirmed submissions older than the confirmation link go."""
    removed = moderation.purge_unconfirmed(
        db.session, now, int(app.config["SUBMISSION_CONFIRM_DAYS"])
    )
    db.session.commit()
    if removed:
        log.info("deleted %d unconfirmed submissions", removed)
    return removed


def _confirm_url(submission: Submission) -> str:
    return site_url(
        "submissions.confirm", token=make_token(CONFIRM_PURPOSE, {"submission": submission.id})
    )


def _start_token(now: datetime) -> str:
    return make_token(FORM_PURPOSE, now.timestamp())


def _fill_time_problem(form: SubmissionForm, now: datetime) -> str | None:
    """Why the form cannot be taken yet: too fast for a person, or no valid start time."""
    try:
        started = float(
            read_token(FORM_PURPOSE, form.started.data or "", max_age_seconds=FORM_MAX_AGE_SECONDS)
        )
    except (InvalidToken, TypeError, ValueError):
        form.started.data = _start_token(now)
        return _("Please check the form and send it again: it was open too long to be taken as is.")
    if now.timestamp() - started < float(current_app.config["SUBMISSION_MIN_FILL_SECONDS"]):
        return _(
            "That was quicker than a person can fill in this form. "
            "Please check it and send it again."
        )
    return None


def _render_form(form: SubmissionForm, *, previews: dict | None = None, notice: str | None = None):
    return render_template(
        "submissions/form.html", form=form, previews=previews or {}, notice=notice
    )
