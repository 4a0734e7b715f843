"""What Openings stores, named as its users name it.

All instants are UTC (`*_at`), stored naive and read back timezone-aware on both SQLite and
PostgreSQL; calendar dates are `*_on`. A deadline keeps the date, time and zone its listing
stated, and the UTC instant derived from them by `feeds.closing.closing_instant`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    """The current instant, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant: stored as naive UTC, returned as aware UTC, refused when naive on the way in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Source(db.Model):
    """Where listings come from: a feed we poll, a partner who submits, or the demo samples."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="feed")
    """`feed` (polled over HTTP), `partner` (submissions), or `sample` (demo data)."""
    status: Mapped[str] = mapped_column(String(20), default="active")
    """`active`, `paused` by an operator, or `gone` (the server answered 410)."""
    fetch_every_minutes: Mapped[int] = mapped_column(Integer, default=60)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_warning: Mapped[str | None] = mapped_column(Text)
    item_digests: Mapped[list[str] | None] = mapped_column(JSON)
    """A digest of each item of the last feed read, so the next fetch parses only new ones."""
    items_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the whole feed was last parsed (at least daily; in between, only new items)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entries: Mapped[list[SourceEntry]] = relationship(back_populates="source")

    def __repr__(self) -> str:
        return f"<Source {self.id} {self.name!r}>"


class Opportunity(db.Model):
    """An event, fellowship, grant, call, award or job that people can apply or register for."""

    __tablename__ = "opportunities"
    __table_args__ = (
        # What the list's counts read, narrow enough to scan instead of the wide rows.
        Index(
            "ix_opportunities_listing",
            "status",
            "closes_at",
            "kind",
            "is_rolling",
            "is_online",
            "language",
            "offers_travel",
            "offers_accommodation",
            "offers_fees",
            "offers_stipend",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(2000), index=True)
    """The canonical link to the listing (tracking parameters removed)."""
    organiser: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="other", index=True)
    summary_html: Mapped[str] = mapped_column(Text, default="")
    """Sanitised HTML, safe to render as is."""
    summary_text: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(10))
    place: Mapped[str | None] = mapped_column(String(300))
    """Where it happens, in words (city, venue), when known."""
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    event_start_on: Mapped[date | None] = mapped_column(Date)
    event_end_on: Mapped[date | None] = mapped_column(Date)
    offers_travel: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_accommodation: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_fees: Mapped[bool] = mapped_column(Boolean, default=False)
    offers_stipend: Mapped[bool] = mapped_column(Boolean, default=False)
    funding_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    funding_currency: Mapped[str | None] = mapped_column(String(3))
    is_rolling: Mapped[bool] = mapped_column(Boolean, default=False)
    """No fixed deadline: applications are read as they arrive."""
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When its last deadline closes (the latest `Deadline.due_at`); None when it states none.

    Derived, so that "open" and "closed" are a column test rather than a look at every
    deadline: the flush hook below keeps it, and writers that bypass the ORM must set it.
    """
    eligibility: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Who may apply, in the organiser's words (plain text)."""
    languages: Mapped[str | None] = mapped_column(String(200))
    """The languages it is held or can be applied in, as the organiser wrote them."""
    status: Mapped[str] = mapped_column(String(20), default="published", index=True)
    """`published`, or `hidden` by a moderator."""
    is_corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    """A moderator corrected its deadlines, kind or place: later fetches leave those alone."""
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """Indexed: merging listings from two sources looks for ones published days apart."""
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )
    """When anything shown about it last changed, its deadlines and countries included."""

    deadlines: Mapped[list[Deadline]] = relationship(
        back_populates="opportunity", cascade="all, delete-orphan", order_by="Deadline.due_at"
    )
    countries: Mapped[list[OpportunityCountry]] = relationship(
        cascade="all, delete-orphan", order_by="OpportunityCountry.position"
    )
    entries: Mapped[list[SourceEntry]] = relationship(back_populates="opportunity")

    @property
    def country_codes(self) -> list[str]:
        """ISO 3166-1 alpha-2 codes, in the order the listing names them."""
        return [c.country_code for c in self.countries]

    @property
    def funding_offered(self) -> list[str]:
        """What it pays for, as `feeds.types.FUNDING_KINDS` words."""
        flags = {
            "travel": self.offers_travel,
            "accommodation": self.offers_accommodation,
            "fees": self.offers_fees,
            "stipend": self.offers_stipend,
        }
        return [name for name, offered in flags.items() if offered]

    def __repr__(self) -> str:
        return f"<Opportunity {self.id} {self.title[:40]!r}>"


class OpportunityCountry(db.Model):
    """A country where an opportunity takes place or that it is open to."""

    __tablename__ = "opportunity_countries"

    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), primary_key=True
    )
    country_code: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SourceEntry(db.Model):
    """One entry of one source, and the opportunity it was stored as.

    Two sources listing the same opportunity give two entries pointing at one opportunity.
    """

    __tablename__ = "source_entries"
    __table_args__ = (UniqueConstraint("source_id", "entry_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    opportunity_id: Mapped[int] = mapped_column(
        ForeignKey("opportunities.id", ondelete="CASCADE"), index=True
    )
    entry_key: Mapped[str] = mapped_column(String(500))
    """The entry's identity within its source (guid, else link, else a hash)."""
    link: Mapped[str | None] = mapped_column(String(2000))
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    """The last poll that found it in its feed, to within a day (see `feeds.ingest`)."""

    source: Mapped[Source] = relationship(back_populates="entries")
    opportunity: Mapped[Opportunity] = relationship(back_populates="entries")


class Deadline(db.Model):
    """A date by which something must be done: apply, register, ask for travel support, …"""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_opportunity_id_due_at", "opportunity_id", "due_at"),
        Index("ix_deadlines_due_at_opportunity_id", "due_at", "opportunity_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    opportunity_id: Mapped[int] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="application")
    """One of `feeds.types.DEADLINE_KINDS`."""
    due_on: Mapped[date] = mapped_column(Date)
    due_time: Mapped[time | None] = mapped_column(Time)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """The zone as stated (IANA name, `AoE`, `CET`, …); None when the listing states none."""
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The instant it closes, in UTC (see `feeds.closing`)."""
    evidence: Mapped[str] = mapped_column(Text, default="")
    """The phrase of the listing this deadline was read from."""
    confidence: Mapped[str] = mapped_column(String(10), default="certain")
    origin: Mapped[str] = mapped_column(String(20), default="extracted")
    """`extracted` from a feed, stated by a `partner`, or set by a `moderator`."""

    opportunity: Mapped[Opportunity] = relationship(back_populates="deadlines")


@event.listens_for(Session, "before_flush")
def _keep_derived_fields(session: Session, flush_context, instances) -> None:
    """When an opportunity or its deadlines change, raise its `updated_at` and refresh `closes_at`.

    Calendars derive SEQUENCE from `updated_at` and pages their Last-Modified, so a moved
    deadline must count as a change of its opportunity, not only a change of its own row.
    """
    touched: set[Opportunity] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Opportunity):
            if obj not in session.deleted and (obj in session.new or session.is_modified(obj)):
                touched.add(obj)
        elif isinstance(obj, Deadline):
            parent = obj.opportunity
            if parent is None and obj.opportunity_id is not None:
                with session.no_autoflush:
                    parent = session.get(Opportunity, obj.opportunity_id)
            if parent is not None and parent not in session.deleted:
                touched.add(parent)
    added = [d for d in session.new if isinstance(d, Deadline)]
    now = utcnow()
    for opportunity in touched:
        deadlines = set(opportunity.deadlines) | {
            d
            for d in added
            if d.opportunity is opportunity
            or (d.opportunity_id is not None and d.opportunity_id == opportunity.id)
        }
        live = [d.due_at for d in deadlines if d not in session.deleted and d.due_at]
        opportunity.closes_at = max(live) if live else None
        if opportunity not in session.new:
            opportunity.updated_at = now


class Subscriber(db.Model):
    """Someone who asked to be emailed before deadlines, identified by their address only."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    """`pending` (not confirmed), `active`, `paused`, `unsubscribed` or `bounced`."""
    language: Mapped[str] = mapped_column(String(5), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    lead_days: Mapped[list[int]] = mapped_column(JSON, default=lambda: [14, 3, 1])
    buffer_days: Mapped[int] = mapped_column(Integer, default=0)
    """Days the subscriber needs before a deadline (a visa, say): alerts count back from it."""
    wants_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    follows: Mapped[dict] = mapped_column(JSON, default=dict)
    """What they follow: kinds, countries, regions, keywords, funding. Empty follows everything."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertDelivery(db.Model):
    """One alert about one deadline at one lead time to one subscriber: sent at most once."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "deadline_id", "lead_days", "deadline_due_at"),
        Index("ix_alert_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_alert_deliveries_deadline_id", "deadline_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    deadline_id: Mapped[int] = mapped_column(ForeignKey("deadlines.id", ondelete="CASCADE"))
    lead_days: Mapped[int] = mapped_column(Integer)
    deadline_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """The deadline's instant when the alert was planned: a moved deadline is planned again."""
    kind: Mapped[str] = mapped_column(String(20), default="reminder", server_default="reminder")
    """`reminder` at a lead time, or a one-off notice that a deadline already announced was
    `extended` or `moved` earlier (those have `lead_days` 0)."""
    status: Mapped[str] = mapped_column(String(20), default="due")
    """`due`, `sending`, `sent`, `retrying`, `failed`, `bounced`, `missed` (its deadline passed
    before it could be sent) or `cancelled` (the deadline moved, the listing was withdrawn, or
    the subscriber stopped their alerts before it went out)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertPlan(db.Model):
    """The instant a deadline's alerts were last planned for; a different instant means it moved.

    Kept for deadlines inside the alert horizon only: a deadline without a row (new, back
    from hidden, or just entered the horizon) is planned in full at the next run.
    """

    __tablename__ = "alert_plans"

    deadline_id: Mapped[int] = mapped_column(
        ForeignKey("deadlines.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertSubscriberPlan(db.Model):
    """The settings a subscriber's alerts were last planned with; changed settings re-plan them."""

    __tablename__ = "alert_subscriber_plans"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    settings: Mapped[str] = mapped_column(Text)
    """Lead times, buffer and follows as the database wrote them, compared as text."""


class AlertRun(db.Model):
    """One planning pass of the alert engine; the latest `now` is where the next one resumes."""

    __tablename__ = "alert_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    now: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """The instant the run planned for (alerts whose lead time was reached by then)."""
    runner: Mapped[str] = mapped_column(String(100))
    planned: Mapped[int] = mapped_column(Integer, default=0)
    """How many deliveries it recorded."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestDelivery(db.Model):
    """The weekly digest of new listings to one subscriber: at most one per week."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (UniqueConstraint("subscriber_id", "week_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    week_on: Mapped[date] = mapped_column(Date)
    """The Monday (UTC) of the week it covers."""
    status: Mapped[str] = mapped_column(String(20), default="due", index=True)
    """`due`, `sending`, `sent`, `retrying`, `failed`, `bounced` or `empty` (nothing new)."""
    listings: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Submission(db.Model):
    """An opportunity a partner organisation sent through the form, waiting for a moderator."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="unconfirmed", index=True)
    """`unconfirmed` (email not yet confirmed), `pending`, `approved` or `rejected`."""
    organisation: Mapped[str] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    """Everything else the partner typed: title, kind, description, deadlines, funding, …"""
    proposed_feed_url: Mapped[str | None] = mapped_column(String(2000))
    proposed_feed_status: Mapped[str | None] = mapped_column(String(20))
    """`proposed` (waiting for a moderator), `added` as a source, or `declined`; None: no feed."""
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    opportunity_id: Mapped[int | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL")
    )


class User(UserMixin, db.Model):
    """A moderator who can sign in to /admin (Flask-Login's user: `is_active` is the column)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SchedulerLease(db.Model):
    """Which scheduler process may run jobs now; a second process waits until the lease expires."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    """Host and process id of the holder."""
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(db.Model):
    """A transactional email (confirmation, notice to a partner or moderator) waiting to go out.

    Queued in the same transaction as the change it reports, so a rolled-back change sends
    nothing; sent right after the commit when the relay answers, else by the scheduler later.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30))
    """What the email is for (`subscription-confirm`, `submission-approved`, …), for the log."""
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    """The whole RFC 5322 message, as it will be sent."""
    message_id: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    """`queued`, `sending` (claimed by a sender), `sent` or `failed`."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
