"""Moderation at /admin: the queue of submissions, corrections, sources, proposed feeds, mail.

Every page of this blueprint needs a signed-in moderator: the guard is the blueprint's own
`before_request`, so a page added later is guarded too. To add a page, define its view on
`bp` in a module imported before the blueprint is registered, and list it with `add_nav`.
"""

from __future__ import annotations

import logging
import re
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from feeds.sources import list_sources

from . import alerts, moderation
from .extensions import db, limiter, login_manager
from .forms import (
    ActionForm,
    CorrectionForm,
    ListingForm,
    LoginForm,
    RejectForm,
    fill_deadline_rows,
)
from .listings import check_deadlines, check_listing, listing_from_details, reader_times
from .mail import deliver_now
from .models import Opportunity, OutboxMessage, Submission, utcnow
from .polling import default_interval_minutes
from .users import authenticate

bp = Blueprint("admin", __name__, url_prefix="/admin")
log = logging.getLogger("openings.admin")

NAV: list[tuple[str, str]] = [
    ("admin.queue", "Queue"),
    ("admin.opportunities", "Listings"),
    ("admin.feeds", "Proposed feeds"),
    ("admin.sources", "Sources"),
    ("admin.mail", "Sent mail"),
    ("admin.deliveries", "Alerts"),
]
"""The admin area's menu: (endpoint, label), in order."""

OPEN_ENDPOINTS = {"admin.login"}
"""The only /admin endpoints reachable without signing in."""

_EML_NAME = re.compile(r"^[\w.-]+\.eml$")


def add_nav(endpoint: str, label: str) -> None:
    """List another admin page in the menu (once)."""
    if (endpoint, label) not in NAV:
        NAV.append((endpoint, label))


@bp.before_request
def _require_moderator():
    if request.endpoint in OPEN_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@bp.after_request
def _never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _admin_menu() -> dict:
    return {"admin_nav": NAV}


# --- signing in --------------------------------------------------------------------------------


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.queue"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data, utcnow())
        if user is not None:
            db.session.commit()
            session.clear()  # a fresh session: nothing planted before sign-in survives it
            login_user(user)
            log.info("moderator %d signed in", user.id)
            return redirect(_safe_next(request.args.get("next")))
        failed = True
    status = 401 if failed else 200
    return render_template("admin/login.html", form=form, failed=failed), status


@bp.post("/logout")
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("admin.login"))


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of this admin area only, never another site."""
    parts = urlsplit(target or "")
    if (
        parts.netloc in ("", request.host)
        and parts.path.startswith("/admin/")
        and "\\" not in parts.path
    ):
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return url_for("admin.queue")


# --- the queue ---------------------------------------------------------------------------------


@bp.get("/")
def queue():
    rows = []
    for submission in moderation.pending_submissions(db.session):
        listing = listing_from_details(submission.details)
        rows.append((submission, listing, _duplicates(submission, listing)))
    return render_template("admin/queue.html", rows=rows, now=utcnow())


@bp.get("/submissions/<int:submission_id>")
def submission(submission_id: int):
    found = _submission(submission_id)
    return _render_submission(found, RejectForm())


def _render_submission(found: Submission, reject_form: RejectForm, status: int = 200):
    listing = listing_from_details(found.details)
    previews = [(d, reader_times(d.due_at)) for d in listing.deadlines]
    return (
        render_template(
            "admin/submission.html",
            submission=found,
            listing=listing,
            previews=previews,
            duplicates=_duplicates(found, listing),
            action=ActionForm(),
            reject_form=reject_form,
            now=utcnow(),
        ),
        status,
    )


@bp.post("/submissions/<int:submission_id>/approve")
def approve(submission_id: int):
    found = _pending(submission_id)
    if not isinstance(found, Submission):
        return found
    listing = listing_from_details(found.details)
    now = utcnow()
    if check_listing(listing, now=now, blocked_domains=_blocked()):
        flash("This listing needs changes before it can be published: see the messages below.")
        return redirect(url_for("admin.edit_submission", submission_id=found.id))
    opportunity, message = moderation.approve(
        db.session, found, moderator=current_user, now=now, listing=listing
    )
    db.session.commit()
    deliver_now([message])
    flash(f"Published “{opportunity.title}”; the submitter has been told.")
    return redirect(url_for("admin.queue"))


@bp.post("/submissions/<int:submission_id>/reject")
def reject(submission_id: int):
    found = _pending(submission_id)
    if not isinstance(found, Submission):
        return found
    form = RejectForm()
    if not form.validate_on_submit():
        return _render_submission(found, form, 422)
    message = moderation.reject(
        db.session, found, moderator=current_user, reason=form.reason.data, now=utcnow()
    )
    db.session.commit()
    deliver_now([message])
    flash("Rejected; the submitter has been sent your reason.")
    return redirect(url_for("admin.queue"))


@bp.route("/submissions/<int:submission_id>/edit", methods=["GET", "POST"])
def edit_submission(submission_id: int):
    found = _pending(submission_id)
    if not isinstance(found, Submission):
        return found
    now = utcnow()
    partner_listing = listing_from_details(found.details)
    form = ListingForm()
    if request.method == "GET":
        _fill_listing_form(form, found)
        listing, rows = form.listing()
        form.attach_problems(check_listing(listing, now=now, blocked_domains=_blocked()), rows)
        return _render_edit(form, found)
    action = request.form.get("action", "save")
    if action == "add_deadline":
        form.add_deadline_row()
        return _render_edit(form, found)
    valid = form.validate()
    listing, rows = form.listing()
    problems = check_listing(listing, now=now, blocked_domains=_blocked())
    form.attach_problems(problems, rows)
    if not valid or problems:
        return _render_edit(form, found, 422)
    if action == "preview":
        return _render_edit(form, found)
    found.organisation = form.organisation.data
    found.contact_name = form.contact_name.data
    found.contact_email = form.contact_email.data
    if action != "approve":
        moderation.update_submission(found, listing)
        db.session.commit()
        flash("Changes saved; the submission is still waiting.")
        return redirect(url_for("admin.submission", submission_id=found.id))
    opportunity, message = moderation.approve(
        db.session,
        found,
        moderator=current_user,
        now=now,
        listing=listing,
        partner_listing=partner_listing,
    )
    db.session.commit()
    deliver_now([message])
    flash(f"Published “{opportunity.title}”; the submitter has been told.")
    return redirect(url_for("admin.queue"))


def _fill_listing_form(form: ListingForm, found: Submission) -> None:
    form.organisation.data = found.organisation
    form.contact_name.data = found.contact_name
    form.contact_email.data = found.contact_email
    form.fill_from(listing_from_details(found.details))


def _render_edit(form: ListingForm, found: Submission, status: int = 200):
    return (
        render_template(
            "admin/edit_submission.html", form=form, submission=found, previews=form.previews()
        ),
        status,
    )


def _submission(submission_id: int) -> Submission:
    found = db.session.get(Submission, submission_id)
    if found is None or found.status == "unconfirmed":
        abort(404)
    return found


def _pending(submission_id: int):
    """The submission if it still waits for a decision, else a redirect saying it does not."""
    found = _submission(submission_id)
    if found.status != "pending":
        flash("This submission has already been decided.")
        return redirect(url_for("admin.submission", submission_id=found.id))
    return found


def _duplicates(found: Submission, listing) -> list[moderation.Duplicate]:
    return moderation.find_duplicates(
        db.session,
        title=listing.title,
        link=listing.link,
        organiser=found.organisation,
        exclude_id=found.opportunity_id,
    )


def _blocked() -> list[str]:
    return current_app.config["SUBMISSION_BLOCKED_DOMAINS"]


# --- listed opportunities ----------------------------------------------------------------------


@bp.get("/opportunities")
def opportunities():
    text = (request.args.get("q") or "").strip()[:200]
    query = select(Opportunity).order_by(Opportunity.id.desc()).limit(100)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Opportunity.title.ilike(pattern, escape="\\"))
    found = db.session.scalars(query).all()
    return render_template("admin/opportunities.html", opportunities=found, q=text)


@bp.route("/opportunities/<int:opportunity_id>", methods=["GET", "POST"])
def correct(opportunity_id: int):
    opportunity = db.session.get(Opportunity, opportunity_id) or abort(404)
    form = CorrectionForm()
    if request.method == "GET":
        form.kind.data = opportunity.kind
        form.countries.data = opportunity.country_codes
        form.is_online.data = opportunity.is_online
        form.place.data = opportunity.place or ""
        fill_deadline_rows(form.deadlines, moderation.deadline_inputs(opportunity))
        return _render_correction(form, opportunity)
    if request.form.get("action") == "add_deadline":
        form.add_deadline_row()
        return _render_correction(form, opportunity)
    valid = form.validate()
    kept = form.typed_deadlines()
    stored = dict(moderation.deadline_inputs(opportunity))
    changed = [(index, d) for row_id, index, d in kept if stored.get(row_id) != d]
    problems = {}
    if changed:  # a deadline left as the feed stated it is not the moderator's to fix
        problems = check_deadlines([d for _, d in changed], utcnow(), allow_past=True)
    form.attach_problems(problems, [index for index, _ in changed])
    if not valid or problems:
        return _render_correction(form, opportunity, 422)
    if request.form.get("action") == "preview":
        return _render_correction(form, opportunity)
    moderation.correct(
        opportunity,
        moderation.Correction(
            kind=form.kind.data,
            countries=tuple(form.countries.data or ()),
            is_online=bool(form.is_online.data),
            place=form.place.data or "",
            deadlines=tuple((row_id, d) for row_id, _, d in kept),
        ),
        utcnow(),
    )
    db.session.commit()
    log.info("moderator %d corrected opportunity %d", current_user.id, opportunity.id)
    flash("Correction saved. Later fetches of its feed will not change it.")
    return redirect(url_for("admin.correct", opportunity_id=opportunity.id))


def _render_correction(form: CorrectionForm, opportunity: Opportunity, status: int = 200):
    return (
        render_template(
            "admin/correct.html",
            form=form,
            opportunity=opportunity,
            previews=form.previews(),
            action=ActionForm(),
        ),
        status,
    )


@bp.post("/opportunities/<int:opportunity_id>/visibility")
def visibility(opportunity_id: int):
    opportunity = db.session.get(Opportunity, opportunity_id) or abort(404)
    if ActionForm().validate_on_submit():
        hide = request.form.get("status") == "hidden"
        opportunity.status = "hidden" if hide else "published"
        opportunity.updated_at = utcnow()
        db.session.commit()
        flash("Hidden from the site." if hide else "Shown on the site again.")
    return redirect(url_for("admin.correct", opportunity_id=opportunity.id))


# --- proposed feeds and sources ----------------------------------------------------------------


@bp.get("/feeds")
def feeds():
    proposed = db.session.scalars(
        select(Submission)
        .where(Submission.proposed_feed_status == "proposed", Submission.status != "unconfirmed")
        .order_by(Submission.confirmed_at, Submission.id)
    ).all()
    return render_template("admin/feeds.html", proposed=proposed, action=ActionForm())


@bp.post("/feeds/<int:submission_id>")
def decide_feed(submission_id: int):
    found = _submission(submission_id)
    if not ActionForm().validate_on_submit() or found.proposed_feed_status != "proposed":
        return redirect(url_for("admin.feeds"))
    if request.form.get("decision") == "decline":
        moderation.decline_proposed_feed(found)
        db.session.commit()
        flash(f"Declined the feed {found.proposed_feed_url}.")
        return redirect(url_for("admin.feeds"))
    try:
        source = moderation.add_proposed_source(
            db.session,
            found,
            interval_minutes=default_interval_minutes(current_app.config),
            allow_private=bool(current_app.config["FEEDS_ALLOW_PRIVATE_ADDRESSES"]),
        )
    except moderation.SourceRefused as error:
        db.session.rollback()
        flash(f"Not added: {error}")
        return redirect(url_for("admin.feeds"))
    db.session.commit()
    flash(f"Added the source “{source.name}”: it will be fetched shortly.")
    return redirect(url_for("admin.feeds"))


@bp.get("/sources")
def sources():
    rows = sorted(
        list_sources(db.session, utcnow()),
        key=lambda row: (-row.consecutive_errors, not row.is_stale, row.name.lower()),
    )
    return render_template("admin/sources.html", rows=rows)


# --- mail --------------------------------------------------------------------------------------


@bp.get("/deliveries")
def deliveries():
    status = request.args.get("status")
    if status not in alerts.STATUSES:
        status = None
    return render_template(
        "admin/deliveries.html",
        counts=alerts.status_counts(),
        entries=alerts.delivery_log(status),
        status=status,
    )


@bp.get("/mail")
def mail():
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    caught = _caught_mail() if _shows_caught_mail() else None
    return render_template("admin/mail.html", messages=messages, caught=caught)


@bp.get("/mail/caught/<name>")
def caught_message(name: str):
    if not _shows_caught_mail() or not _EML_NAME.match(name):
        abort(404)
    path = _catcher_folder() / name
    if not path.is_file():
        abort(404)
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = message.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    return render_template("admin/caught_message.html", name=name, message=message, text=text)


def _shows_caught_mail() -> bool:
    return current_app.config["ENVIRONMENT"] == "development"


def _catcher_folder() -> Path:
    return Path(current_app.config["MAIL_CATCHER_DIR"])


def _caught_mail() -> list[dict]:
    """The newest messages the local catcher kept, with the headers a list needs."""
    folder = _catcher_folder()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml"), reverse=True)[:200]:
        with path.open("rb") as handle:
            headers = message_from_bytes(handle.read(64 * 1024), policy=policy.default)
        found.append(
            {
                "name": path.name,
                "to": str(headers.get("To", "")),
                "subject": str(headers.get("Subject", "")),
                "date": str(headers.get("Date", "")),
            }
        )
    return found
