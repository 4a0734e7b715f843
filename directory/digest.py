"""The weekly digest: new listings that match what a subscriber follows, at most one a week.

Each subscriber's digest of a week is a row under a unique (subscriber, week) key, recorded
before it is sent and claimed like an alert, so two schedulers never send two. The listings
are chosen with the list's own filters (`directory.queries.conditions_for`), plus the
subscriber's keywords as substrings, and "see all" links to the same search on the site.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import force_locale, ngettext
from sqlalchemy import and_, bindparam, func, or_, select, text
from werkzeug.datastructures import MultiDict

from feeds.types import FUNDING_KINDS, OPPORTUNITY_KINDS

from .alerts import (
    AlertSettings,
    MailError,
    Pacer,
    bulk_update,
    classify,
    list_headers,
    local_moment,
    relay,
    runner_name,
    subscriber_zone,
)
from .extensions import db
from .filters import Filters, query_args
from .mail import RETRY_DELAYS, as_wire, build_message, render
from .models import DigestDelivery, Opportunity, OpportunityCountry, Subscriber, UTCDateTime
from .queries import conditions_for
from .regions import REGIONS
from .subscriptions import manage_url, unsubscribe_url
from .web import site_url

log = logging.getLogger("openings.digest")

MAX_LISTINGS = 30
"""A digest lists at most this many listings, then links to the rest."""

WEEK = timedelta(days=7)


@dataclass
class DigestReport:
    """What one digest pass did."""

    planned: int = 0
    sent: int = 0
    empty: int = 0
    retrying: int = 0
    failed: int = 0
    bounced: int = 0


def week_of(now: datetime) -> date:
    """The Monday (UTC) of the week `now` falls in."""
    day = now.date()
    return day - timedelta(days=day.weekday())


def follows_filters(follows: dict | None) -> Filters:
    """The list's filters for what a subscriber follows (keywords aside), unknown values dropped."""
    follows = follows or {}

    def values(key: str, allowed, normalise=str) -> tuple:
        given = follows.get(key) or []
        if not isinstance(given, list):
            return ()
        return tuple(dict.fromkeys(normalise(v) for v in given if normalise(v) in allowed))

    return Filters(
        kinds=values("kinds", OPPORTUNITY_KINDS),
        countries=tuple(
            v.upper()
            for v in (follows.get("countries") or [])
            if isinstance(v, str) and len(v) == 2
        ),
        regions=values("regions", REGIONS),
        funding=values("funding", FUNDING_KINDS),
    )


def keywords_of(follows: dict | None) -> list[str]:
    """The subscriber's keywords, stripped, empty ones dropped."""
    given = (follows or {}).get("keywords") or []
    return [k.strip() for k in given if isinstance(k, str) and k.strip()]


def new_listings(follows: dict | None, now: datetime, limit: int = MAX_LISTINGS + 1) -> list:
    """Open listings first seen in the week before `now` that the subscriber follows."""
    dialect = db.engine.dialect.name
    filters = follows_filters(follows)
    conditions = conditions_for(replace(filters, countries=(), regions=()), now, dialect)
    places = set(filters.countries) | {c for r in filters.regions for c in REGIONS[r]}
    if places:
        conditions.append(
            Opportunity.id.in_(
                select(OpportunityCountry.opportunity_id).where(
                    OpportunityCountry.country_code.in_(sorted(places))
                )
            )
        )
    conditions += [Opportunity.first_seen_at > now - WEEK, Opportunity.first_seen_at <= now]
    words = keywords_of(follows)
    if words:
        conditions.append(
            or_(
                *[
                    or_(
                        func.lower(Opportunity.title).contains(w.lower(), autoescape=True),
                        func.lower(Opportunity.summary_text).contains(w.lower(), autoescape=True),
                    )
                    for w in words
                ]
            )
        )
    return list(
        db.session.scalars(
            select(Opportunity)
            .where(*conditions)
            .order_by(Opportunity.closes_at.is_(None), Opportunity.closes_at, Opportunity.id)
            .limit(limit)
        )
    )


def see_all_url(follows: dict | None) -> str:
    """The same search on the site, newest first.

    The list can say less than a subscription: one keyword becomes its search words (it
    requires every word), and countries together with regions are left out (it requires
    both), so the link shows at least everything the digest chose from.
    """
    words = keywords_of(follows)
    extra = {"q": words[0]} if len(words) == 1 else {}
    filters = follows_filters(follows)
    if filters.countries and filters.regions:
        filters = replace(filters, countries=(), regions=())
    args = MultiDict(query_args(filters, sort="newest"))
    for name, value in extra.items():
        args.add(name, value)
    return site_url("browse.index", **args.to_dict(flat=False))


def run_digest(now: datetime) -> DigestReport:
    """On the digest weekday, record this week's digests; any day, send those still due."""
    report = DigestReport()
    db.session.commit()
    if now.weekday() == int(current_app.config["ALERTS_DIGEST_WEEKDAY"]):
        report.planned = plan_digests(now)
    send_digests(now, report)
    return report


def plan_digests(now: datetime) -> int:
    """One digest row per active subscriber who wants it, for the week of `now` (once)."""
    head = "INSERT OR IGNORE INTO" if db.engine.dialect.name == "sqlite" else "INSERT INTO"
    tail = "" if db.engine.dialect.name == "sqlite" else " ON CONFLICT DO NOTHING"
    statement = text(
        f"{head} digest_deliveries (subscriber_id, week_on, status, listings, attempts, "
        "next_attempt_at, created_at) SELECT id, :week_on, 'due', 0, 0, :now, :now "
        f"FROM subscribers WHERE status = 'active' AND wants_digest{tail}"
    ).bindparams(bindparam("now", type_=UTCDateTime))
    added = db.session.execute(statement, {"now": now, "week_on": week_of(now)}).rowcount
    db.session.commit()
    return added


def send_digests(now: datetime, report: DigestReport) -> None:
    """Claim, compose and send due digests, a batch per SMTP connection."""
    settings = AlertSettings.from_config(current_app.config)
    runner = runner_name()
    pacer = Pacer(settings.max_per_second)
    sender = _envelope_sender()
    listings_by_follows: dict[str, list] = {}
    while True:
        eligible = and_(
            DigestDelivery.week_on >= week_of(now) - WEEK,
            or_(
                and_(
                    DigestDelivery.status.in_(("due", "retrying")),
                    DigestDelivery.next_attempt_at <= now,
                ),
                and_(
                    DigestDelivery.status == "sending",
                    DigestDelivery.claimed_at < now - settings.claim_timeout,
                ),
            ),
        )
        picked = (
            select(DigestDelivery.id)
            .where(eligible)
            .order_by(DigestDelivery.id)
            .limit(settings.batch_size)
            .with_for_update(skip_locked=True)
        )
        ids = list(
            db.session.scalars(
                bulk_update(DigestDelivery)
                .where(eligible, DigestDelivery.id.in_(picked))
                .values(status="sending", claimed_by=runner, claimed_at=now)
                .returning(DigestDelivery.id)
            )
        )
        rows = db.session.execute(
            select(
                DigestDelivery.id,
                Subscriber.id,
                Subscriber.email,
                Subscriber.status,
                Subscriber.language,
                Subscriber.time_zone,
                Subscriber.follows,
            )
            .join(Subscriber, Subscriber.id == DigestDelivery.subscriber_id)
            .where(DigestDelivery.id.in_(ids))
            .order_by(DigestDelivery.id)
        ).all()
        db.session.commit()
        if not rows:
            return
        with relay() as smtp:
            for digest_id, *fields in rows:
                subscriber = Subscriber(
                    id=fields[0],
                    email=fields[1],
                    status=fields[2],
                    language=fields[3],
                    time_zone=fields[4],
                    follows=fields[5],
                )
                follows = subscriber.follows or {}
                if subscriber.status != "active" or follows.get("opportunity_ids"):
                    _finish(digest_id, "empty", now)
                    report.empty += 1
                    continue
                key = repr(sorted(follows.items()))
                if key not in listings_by_follows:
                    listings_by_follows[key] = new_listings(follows, now)
                listings = listings_by_follows[key]
                db.session.commit()
                if not listings:
                    _finish(digest_id, "empty", now)
                    report.empty += 1
                    continue
                message = compose_digest(subscriber, listings, now)
                pacer.wait()
                try:
                    smtp.get().sendmail(sender, [subscriber.email], message)
                except MailError as error:
                    log.error("digest: %s", error)
                    _finish(digest_id, "retrying", now, str(error), retry=True)
                    report.retrying += 1
                    return
                except (smtplib.SMTPException, OSError) as error:
                    refusal = classify(error)
                    if refusal.reconnect:
                        smtp.drop()
                    if refusal.outcome == "bounce":
                        db.session.execute(
                            bulk_update(Subscriber)
                            .where(Subscriber.id == subscriber.id)
                            .values(status="bounced")
                        )
                        _finish(digest_id, "bounced", now, refusal.error)
                        report.bounced += 1
                    elif refusal.outcome == "fail":
                        _finish(digest_id, "failed", now, refusal.error)
                        report.failed += 1
                    else:
                        _finish(digest_id, "retrying", now, refusal.error, retry=True)
                        report.retrying += 1
                    continue
                _finish(digest_id, "sent", now, listings=min(len(listings), MAX_LISTINGS))
                report.sent += 1


def compose_digest(subscriber: Subscriber, listings: list, now: datetime) -> bytes:
    """The digest email in the subscriber's language: up to MAX_LISTINGS listings, then "see all"."""
    language = subscriber.language or "en"
    zone = subscriber_zone(subscriber.time_zone)
    shown = listings[:MAX_LISTINGS]
    with force_locale(language):
        subject = ngettext(
            "%(num)d new listing for you this week",
            "%(num)d new listings for you this week",
            len(shown),
        )
        items = [
            {
                "title": o.title,
                "url": site_url("browse.detail", opportunity_id=o.id),
                "closes": local_moment(o.closes_at, zone, language) if o.closes_at else None,
            }
            for o in shown
        ]
        text_body, html_body = render(
            "digest",
            subject=subject,
            lang=language,
            items=items,
            more=len(listings) > MAX_LISTINGS,
            see_all_url=see_all_url(subscriber.follows),
            manage_url=manage_url(subscriber),
            unsubscribe_url=unsubscribe_url(subscriber),
        )
    message = build_message(
        to=subscriber.email,
        subject=subject,
        text=text_body,
        html=html_body,
        headers=list_headers(subscriber),
    )
    return as_wire(message)


def _finish(
    digest_id: int,
    status: str,
    now: datetime,
    error: str | None = None,
    *,
    retry: bool = False,
    listings: int = 0,
) -> None:
    values: dict = {"status": status, "last_error": error, "listings": listings}
    if status == "sent":
        values["sent_at"] = now
    if retry:
        attempts = db.session.scalar(
            select(DigestDelivery.attempts).where(DigestDelivery.id == digest_id)
        )
        attempts = (attempts or 0) + 1
        db.session.commit()
        if attempts > len(RETRY_DELAYS):
            values["status"] = "failed"
        else:
            values["attempts"] = attempts
            values["next_attempt_at"] = now + RETRY_DELAYS[attempts - 1]
    db.session.execute(
        bulk_update(DigestDelivery).where(DigestDelivery.id == digest_id).values(**values)
    )
    db.session.commit()


def _envelope_sender() -> str:
    from email.utils import parseaddr

    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
