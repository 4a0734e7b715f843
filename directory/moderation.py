"""From a partner's form to a published listing: submit, confirm, approve or reject; corrections.

Each step is a plain function on the caller's session that queues the emails it owes (in
the same transaction) and returns them, so the view commits and then calls `deliver_now`.
The duplicate rule (`duplicate_reason`) looks only at data and is tested with tables.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from feeds.fetch import Resolver, resolve
from feeds.ingest import title_key, titles_match
from feeds.parse import canonical_link
from feeds.sources import SourceError, add_source

from .listings import DeadlineInput, ListingInput, description_html, description_text
from .mail import queue_email
from .models import (
    Deadline,
    Opportunity,
    OpportunityCountry,
    OutboxMessage,
    Source,
    SourceEntry,
    Submission,
    User,
)
from .web import site_url

log = logging.getLogger("openings.moderation")

_LEADING_ARTICLE = re.compile(r"^(?:the|la|le|el|los|las|les|a|o|os|as)\s+")


# --- duplicates --------------------------------------------------------------------------------


def normalise_name(text: str | None) -> str:
    """An organisation's name folded as ingestion folds titles, less a leading article."""
    return _LEADING_ARTICLE.sub("", title_key(text or ""))


def titles_look_alike(first: str, second: str) -> bool:
    """True when two titles are one, as ingestion judges it: near-identical, same numbers."""
    a, b = title_key(first), title_key(second)
    return bool(a and b) and titles_match(a, b)


def duplicate_reason(
    *,
    title: str,
    link: str | None,
    organiser: str | None,
    listed_title: str,
    listed_link: str | None,
    listed_organiser: str | None,
) -> str | None:
    """Why a new listing looks like one already listed, or None.

    The same canonical link, or a similar title from the same organiser.
    """
    mine, theirs = canonical_link(link), canonical_link(listed_link)
    if mine and mine == theirs:
        return "same link"
    same_organiser = normalise_name(organiser) and normalise_name(organiser) == normalise_name(
        listed_organiser
    )
    if same_organiser and titles_look_alike(title, listed_title):
        return "similar title from the same organiser"
    return None


@dataclass(frozen=True)
class Duplicate:
    """A listed opportunity a submission may repeat, and why it looks so."""

    opportunity: Opportunity
    reason: str


def find_duplicates(
    session: Session,
    *,
    title: str,
    link: str | None,
    organiser: str | None,
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Listed opportunities (published or hidden) that a new listing looks like."""
    conditions = []
    canonical = canonical_link(link)
    if canonical:
        conditions.append(Opportunity.link == canonical)
    if organiser and organiser.strip():
        conditions.append(func.lower(func.trim(Opportunity.organiser)) == organiser.strip().lower())
        partner_entries = (
            select(SourceEntry.opportunity_id)
            .join(Source)
            .where(func.lower(Source.name) == organiser.strip().lower())
        )
        conditions.append(Opportunity.id.in_(partner_entries))
    if not conditions:
        return []
    query = select(Opportunity).where(or_(*conditions)).order_by(Opportunity.id).limit(200)
    if exclude_id is not None:
        query = query.where(Opportunity.id != exclude_id)
    found = []
    for opportunity in session.scalars(query):
        organisers = {opportunity.organiser, *(e.source.name for e in opportunity.entries)}
        reasons = [
            duplicate_reason(
                title=title,
                link=link,
                organiser=organiser,
                listed_title=opportunity.title,
                listed_link=opportunity.link,
                listed_organiser=name,
            )
            for name in organisers
        ]
        reason = "same link" if "same link" in reasons else next(filter(None, reasons), None)
        if reason:
            found.append(Duplicate(opportunity, reason))
    return found


# --- a partner's submission --------------------------------------------------------------------


def submit(
    session: Session,
    *,
    organisation: str,
    contact_name: str,
    contact_email: str,
    listing: ListingInput,
    now: datetime,
    confirm_url: Callable[[Submission], str],
    language: str | None = None,
) -> tuple[Submission, OutboxMessage]:
    """Store a submission as unconfirmed and queue the email with its confirmation link.

    `language` is the submitter's interface language: every email about it is written in it.
    """
    submission = Submission(
        status="unconfirmed",
        language=language,
        organisation=organisation.strip(),
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        details=listing.to_details(),
        proposed_feed_url=listing.feed_url or None,
        proposed_feed_status="proposed" if listing.feed_url else None,
        submitted_at=now,
    )
    session.add(submission)
    session.flush()
    message = queue_email(
        to=submission.contact_email,
        subject=_l("Confirm your listing on Openings"),
        template="notice",
        category="submission-confirm",
        language=submission.language,
        context={
            "heading": _l("Please confirm your listing"),
            "paragraphs": [
                _l("Hello %(name)s,", name=submission.contact_name),
                _l(
                    "you asked Openings to list “%(title)s” for %(organisation)s. Open the link "
                    "below and press “Confirm” to send it to our moderators. If it was not "
                    "you, ignore this email: nothing will be published.",
                    title=listing.title,
                    organisation=submission.organisation,
                ),
            ],
            "link": confirm_url(submission),
            "link_text": _l("Confirm my listing"),
        },
    )
    return submission, message


def confirm(session: Session, submission: Submission, now: datetime) -> list[OutboxMessage]:
    """Move a submission into the queue and tell every active moderator; once only."""
    if submission.status != "unconfirmed":
        return []
    submission.status = "pending"
    submission.confirmed_at = now
    moderators = list(session.scalars(select(User).where(User.is_active.is_(True))))
    if not moderators:
        log.warning("submission %d is waiting, but there is no moderator to tell", submission.id)
    title = submission.details.get("title", "")
    return [
        queue_email(
            to=moderator.email,
            subject=_l("A listing waits for moderation"),
            template="notice",
            category="submission-pending",
            language=moderator.language,
            context={
                "heading": _l("A new listing waits for moderation"),
                "paragraphs": [
                    _l(
                        "“%(title)s”, from %(organisation)s.",
                        title=title,
                        organisation=submission.organisation,
                    )
                ],
                "link": site_url("admin.submission", submission_id=submission.id),
                "link_text": _l("Review it"),
            },
        )
        for moderator in moderators
    ]


def update_submission(submission: Submission, listing: ListingInput) -> None:
    """Replace what a submission says with a moderator's edit of it."""
    submission.details = listing.to_details()
    if (listing.feed_url or None) != submission.proposed_feed_url:
        submission.proposed_feed_url = listing.feed_url or None
        submission.proposed_feed_status = "proposed" if listing.feed_url else None


def approve(
    session: Session,
    submission: Submission,
    *,
    moderator: User | None,
    now: datetime,
    listing: ListingInput,
    partner_listing: ListingInput | None = None,
) -> tuple[Opportunity, OutboxMessage]:
    """Publish a submission as an opportunity of its partner's source; email the submitter.

    Deadlines a moderator changed from what the partner sent (`partner_listing`) are marked
    as the moderator's; the rest are the partner's.
    """
    stated = set(partner_listing.deadlines if partner_listing else listing.deadlines)
    source = partner_source(session, submission.organisation, now)
    opportunity = Opportunity(first_seen_at=now, published_at=now, status="published")
    fill_opportunity(opportunity, listing, organiser=submission.organisation)
    opportunity.deadlines = [
        _deadline_row(d, origin="partner" if d in stated else "moderator")
        for d in listing.deadlines
    ]
    session.add(opportunity)
    session.add(
        SourceEntry(
            source=source,
            opportunity=opportunity,
            entry_key=f"submission-{submission.id}",
            link=opportunity.link,
            first_seen_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    update_submission(submission, listing)
    submission.status = "approved"
    submission.decided_at = now
    submission.decided_by_id = moderator.id if moderator else None
    submission.opportunity_id = opportunity.id
    message = queue_email(
        to=submission.contact_email,
        subject=_l("Your listing is live on Openings"),
        template="notice",
        category="submission-approved",
        language=submission.language,
        context={
            "heading": _l("Your listing is live"),
            "paragraphs": [
                _l("Hello %(name)s,", name=submission.contact_name),
                _l(
                    "“%(title)s” is now listed on Openings. Thank you for sharing it.",
                    title=opportunity.title,
                ),
            ],
            "link": site_url("browse.detail", opportunity_id=opportunity.id),
            "link_text": _l("See the listing"),
        },
    )
    return opportunity, message


def reject(
    session: Session, submission: Submission, *, moderator: User | None, reason: str, now: datetime
) -> OutboxMessage:
    """Turn a submission down with the reason the submitter will read."""
    submission.status = "rejected"
    submission.rejection_reason = reason.strip()
    submission.decided_at = now
    submission.decided_by_id = moderator.id if moderator else None
    title = submission.details.get("title", "")
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", submission.rejection_reason) if p.strip()]
    return queue_email(
        to=submission.contact_email,
        subject=_l("Your listing on Openings was not published"),
        template="notice",
        category="submission-rejected",
        language=submission.language,
        context={
            "heading": _l("Your listing was not published"),
            "paragraphs": [
                _l("Hello %(name)s,", name=submission.contact_name),
                _l("our moderators did not publish “%(title)s”. Their reason:", title=title),
                *paragraphs,
                _l("You are welcome to send it again with these points addressed."),
            ],
            "link": site_url("submissions.form"),
            "link_text": _l("List an opportunity"),
        },
    )


def partner_source(session: Session, organisation: str, now: datetime) -> Source:
    """The `partner` source of an organisation, created on its first approved listing."""
    name = organisation.strip()
    source = session.scalar(
        select(Source)
        .where(Source.kind == "partner", func.lower(Source.name) == name.lower())
        .order_by(Source.id)
        .limit(1)
    )
    if source is None:
        source = Source(name=name, url=None, kind="partner", status="active", created_at=now)
        session.add(source)
    return source


def fill_opportunity(opportunity: Opportunity, listing: ListingInput, *, organiser: str) -> None:
    """Copy a listing onto an opportunity, all but its deadlines."""
    opportunity.title = listing.title.strip()
    opportunity.link = canonical_link(listing.link)
    opportunity.organiser = organiser
    opportunity.kind = listing.kind
    opportunity.summary_html = description_html(listing.description)
    opportunity.summary_text = description_text(listing.description)
    opportunity.place = listing.place.strip() or None
    opportunity.is_online = listing.is_online
    set_countries(opportunity, listing.countries)
    opportunity.event_start_on = listing.event_start_on
    opportunity.event_end_on = listing.event_end_on
    funding = listing.funding
    opportunity.offers_travel = funding.travel
    opportunity.offers_accommodation = funding.accommodation
    opportunity.offers_fees = funding.fees
    opportunity.offers_stipend = funding.stipend
    opportunity.funding_amount = funding.amount
    opportunity.funding_currency = funding.currency
    opportunity.eligibility = listing.eligibility.strip()
    opportunity.languages = listing.languages.strip() or None


def set_countries(opportunity: Opportunity, codes: Sequence[str]) -> None:
    """Set the countries in order, keeping the rows of codes already there (one row per code)."""
    current = {row.country_code: row for row in opportunity.countries}
    rows = []
    for position, code in enumerate(dict.fromkeys(codes)):
        row = current.get(code) or OpportunityCountry(country_code=code)
        row.position = position
        rows.append(row)
    opportunity.countries = rows


def _deadline_row(deadline: DeadlineInput, *, origin: str) -> Deadline:
    return Deadline(
        kind=deadline.kind,
        due_on=deadline.due_on,
        due_time=deadline.due_time,
        time_zone=deadline.time_zone,
        due_at=deadline.due_at,
        evidence="",
        confidence="certain",
        origin=origin,
    )


# --- corrections of listed opportunities -------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    """What a moderator may correct on any listed opportunity: kind, place, deadlines."""

    kind: str
    countries: tuple[str, ...]
    is_online: bool
    place: str
    deadlines: tuple[tuple[int | None, DeadlineInput], ...]
    """Each deadline with the id of the row it edits, or None for a new one."""


def correct(opportunity: Opportunity, correction: Correction, now: datetime) -> None:
    """Apply a correction; it is marked so that later fetches of the feed leave it alone.

    An unchanged deadline keeps its row (and so the alerts already sent for it); a changed
    or new one becomes the moderator's; a deadline left out is removed. `updated_at` moves
    even when only deadlines changed, so anything cached by it sees the correction.
    """
    opportunity.kind = correction.kind
    opportunity.is_online = correction.is_online
    opportunity.place = correction.place.strip() or None
    set_countries(opportunity, correction.countries)
    existing = {d.id: d for d in opportunity.deadlines}
    kept: list[Deadline] = []
    for row_id, wanted in correction.deadlines:
        row = existing.get(row_id) if row_id is not None else None
        if row is None:
            kept.append(_deadline_row(wanted, origin="moderator"))
            continue
        if _as_input(row) != wanted:
            row.kind, row.due_on = wanted.kind, wanted.due_on
            row.due_time, row.time_zone, row.due_at = (
                wanted.due_time,
                wanted.time_zone,
                wanted.due_at,
            )
            row.origin, row.confidence, row.evidence = "moderator", "certain", ""
        kept.append(row)
    opportunity.deadlines = kept
    opportunity.is_corrected = True
    opportunity.updated_at = now


def _as_input(row: Deadline) -> DeadlineInput:
    return DeadlineInput(row.kind, row.due_on, row.due_time, row.time_zone)


def deadline_inputs(opportunity: Opportunity) -> list[tuple[int, DeadlineInput]]:
    """An opportunity's deadlines as the correction form shows them."""
    return [(d.id, _as_input(d)) for d in opportunity.deadlines]


# --- proposed feeds ----------------------------------------------------------------------------


class SourceRefused(ValueError):
    """A proposed feed cannot become a source; the message says why."""


def add_proposed_source(
    session: Session,
    submission: Submission,
    *,
    interval_minutes: int,
    allow_private: bool = False,
    resolver: Resolver = resolve,
) -> Source:
    """Make a submission's proposed feed a source, as `flask feeds add` would.

    It goes through `feeds.sources.add_source` and so through the fetcher's SSRF guard: an
    address that is not http(s) or resolves to a private, loopback or metadata address is
    refused (SourceRefused). A feed that is already a source is not added twice. The source
    is committed by `add_source`; the caller commits the submission's new state.
    """
    url = canonical_link(submission.proposed_feed_url)
    if not url:
        raise SourceRefused("the proposed feed is not an http(s) address")
    source = session.scalar(select(Source).where(Source.url == url))
    if source is None:
        try:
            source = add_source(
                session,
                url,
                name=submission.organisation,
                every_minutes=interval_minutes,
                allow_private=allow_private,
                resolver=resolver,
            )
        except SourceError as error:
            raise SourceRefused(str(error)) from None
    submission.proposed_feed_status = "added"
    return source


def decline_proposed_feed(submission: Submission) -> None:
    """Keep a proposed feed out of the sources."""
    submission.proposed_feed_status = "declined"


# --- housekeeping ------------------------------------------------------------------------------


def purge_unconfirmed(session: Session, now: datetime, days: int) -> int:
    """Delete submissions whose address was never confirmed within `days`: they hold personal data."""
    result = session.execute(
        delete(Submission).where(
            Submission.status == "unconfirmed", Submission.submitted_at < now - timedelta(days=days)
        )
    )
    return result.rowcount or 0


def pending_submissions(session: Session) -> Sequence[Submission]:
    """The moderation queue: confirmed submissions waiting for a decision, oldest first."""
    return session.scalars(
        select(Submission)
        .where(Submission.status == "pending")
        .order_by(Submission.confirmed_at, Submission.id)
    ).all()
