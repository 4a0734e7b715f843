"""120 simulated days, the engine every 15 minutes: every alert arrives once, at its lead time.

A seeded, realistic mix: listings published along the way, deadlines at odd hours in several
zones (or none), some extended, some moved earlier, some withdrawn; subscribers who arrive,
leave, follow kinds, countries, regions or single listings, with buffers. An oracle computes,
for every (subscriber, deadline, lead time, instant), the first run that may send it, and the
emails received from the real SMTP server must be exactly those, run by run.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from directory.alerts import AlertSettings, run_alerts
from directory.extensions import db
from directory.models import Deadline, Opportunity, Subscriber
from directory.regions import REGIONS
from feeds.closing import closing_instant

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
DAYS = 120
KINDS = ("event", "grant", "fellowship", "travel_grant")
COUNTRIES = ("KE", "NG", "PE", "FR", "IN", "BR")
ZONES = ("UTC", "Europe/Paris", "America/Lima", "Asia/Kolkata", None)
LEADS = (30, 14, 7, 3, 1)


def step_at_or_after(moment: datetime) -> datetime:
    """The first engine run at or after `moment`."""
    steps = math.ceil((moment - START) / STEP)
    return START + max(steps, 0) * STEP


@dataclass
class SimListing:
    number: int
    kind: str
    country: str
    created_at: datetime
    instants: list[tuple[datetime, datetime]] = field(default_factory=list)
    """(instant, from when it holds), in order; the last holds until it closes."""
    hidden_at: datetime | None = None
    id: int | None = None

    @property
    def title(self) -> str:
        return f"Listing #{self.number:03d}"


@dataclass
class SimSubscriber:
    number: int
    leads: list[int]
    buffer_days: int
    follows: dict
    starts_at: datetime
    ends_at: datetime | None = None
    remind: list[int] = field(default_factory=list)
    """Listing numbers for a "Remind me" subscriber."""

    @property
    def email(self) -> str:
        return f"reader{self.number:03d}@example.org"

    def follows_listing(self, listing: SimListing) -> bool:
        if self.remind:
            return listing.number in self.remind
        kinds = self.follows.get("kinds")
        countries = self.follows.get("countries")
        regions = self.follows.get("regions")
        if kinds and listing.kind not in kinds:
            return False
        if not countries and not regions:
            return True
        return listing.country in (countries or ()) or any(
            listing.country in REGIONS[r] for r in regions or ()
        )

    def active(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


def build_world(rng: random.Random) -> tuple[list[SimListing], list[SimSubscriber]]:
    end = START + timedelta(days=DAYS)
    listings = []
    for number in range(90):
        created = step_at_or_after(START + timedelta(minutes=rng.randrange(0, 100 * 24 * 60)))
        if number < 25:
            created = START
        listing = SimListing(number, rng.choice(KINDS), rng.choice(COUNTRIES), created)
        day = (created + timedelta(days=rng.randint(1, 50))).date()
        at = rng.choice([None, time(rng.randrange(24), rng.randrange(60))])
        zone = rng.choice(ZONES)
        listing.instants.append(((day, at, zone), created))
        change = rng.random()
        first_due = closing_instant(day, at, zone)
        if change < 0.15 and first_due - created > timedelta(days=4):
            moved_at = step_at_or_after(created + (first_due - created) * rng.uniform(0.2, 0.9))
            listing.instants.append(
                ((day + timedelta(days=rng.randint(5, 20)), at, zone), moved_at)
            )
        elif change < 0.25 and first_due - created > timedelta(days=12):
            moved_at = step_at_or_after(created + timedelta(days=1))
            listing.instants.append(((day - timedelta(days=rng.randint(3, 8)), at, zone), moved_at))
        elif change < 0.32:
            listing.hidden_at = step_at_or_after(
                created + (first_due - created) * rng.uniform(0.1, 0.8)
            )
        listings.append(listing)
    subscribers = []
    for number in range(70):
        starts = (
            START
            if number < 30
            else step_at_or_after(START + timedelta(hours=rng.randrange(0, 90 * 24)))
        )
        shape = rng.random()
        follows: dict = {}
        remind: list[int] = []
        if shape < 0.25:
            follows = {"kinds": rng.sample(KINDS, rng.randint(1, 2))}
        elif shape < 0.45:
            follows = {"countries": rng.sample(COUNTRIES, rng.randint(1, 3))}
        elif shape < 0.6:
            follows = {"regions": rng.sample(["africa", "latin-america-caribbean"], 1)}
        elif shape < 0.7:
            follows = {"kinds": ["grant", "fellowship"], "regions": ["africa"]}
        elif shape < 0.8:
            remind = rng.sample(range(90), 2)
        subscriber = SimSubscriber(
            number,
            sorted(rng.sample(LEADS, rng.randint(1, 3)), reverse=True),
            rng.choice([0, 0, 0, 2, 7]),
            follows,
            starts,
            remind=remind,
        )
        if rng.random() < 0.08:
            subscriber.ends_at = step_at_or_after(starts + timedelta(days=rng.randint(5, 40)))
        if subscriber.ends_at and subscriber.ends_at > end:
            subscriber.ends_at = None
        subscribers.append(subscriber)
    return listings, subscribers


def expected_emails(
    listings: list[SimListing], subscribers: list[SimSubscriber]
) -> dict[tuple[datetime, str], set[str]]:
    """Run → recipient → the listings their email names, from the rules alone."""
    expected: dict[tuple[datetime, str], set[str]] = defaultdict(set)
    end = START + timedelta(days=DAYS)
    for listing in listings:
        spans = []
        for position, ((day, at, zone), since) in enumerate(listing.instants):
            due = closing_instant(day, at, zone)
            until = (
                listing.instants[position + 1][1] if position + 1 < len(listing.instants) else due
            )
            spans.append((due, since, min(until, due)))
        for subscriber in subscribers:
            if not subscriber.follows_listing(listing):
                continue
            alerted_for: set[datetime] = set()
            for due, since, until in spans:
                for lead in subscriber.leads:
                    threshold = due - timedelta(days=lead + subscriber.buffer_days)
                    run = step_at_or_after(max(threshold, since, subscriber.starts_at))
                    limits = [until, end]
                    if listing.hidden_at:
                        limits.append(listing.hidden_at)
                    if subscriber.ends_at:
                        limits.append(subscriber.ends_at)
                    if run < min(limits) and run < due:
                        expected[(run, subscriber.email)].add(listing.title)
                        alerted_for.add(due)
            # a moved deadline is announced once to those alerted about the instant before it
            for (due, _, _), (new_due, since, _) in itertools.pairwise(spans):
                if due in alerted_for and subscriber.active(since) and since < end:
                    hidden = listing.hidden_at is not None and listing.hidden_at <= since
                    if since < new_due and not hidden:
                        expected[(since, subscriber.email)].add(listing.title)
    return expected


def apply_events(moment: datetime, listings, subscribers, create_opportunity) -> None:
    """What happens at `moment`, before that run: listings appear, move, hide; people come, go."""
    for listing in listings:
        if listing.created_at == moment:
            (day, at, zone), _ = listing.instants[0]
            opportunity = create_opportunity(
                listing.title,
                deadlines=[("application", day, at, zone)],
                kind=listing.kind,
                countries=(listing.country,),
                first_seen_at=moment,
                published_at=moment,
            )
            listing.id = opportunity.id
        for (day, at, zone), since in listing.instants[1:]:
            if since == moment:
                deadline = db.session.scalar(
                    db.select(Deadline).where(Deadline.opportunity_id == listing.id)
                )
                deadline.due_on, deadline.due_time, deadline.time_zone = day, at, zone
                deadline.due_at = closing_instant(day, at, zone)
                db.session.commit()
        if listing.hidden_at == moment:
            db.session.get(Opportunity, listing.id).status = "hidden"
            db.session.commit()
    for subscriber in subscribers:
        if subscriber.starts_at == moment:
            follows = subscriber.follows
            if subscriber.remind:
                follows = {"opportunity_ids": [listings[n].id for n in subscriber.remind]}
            db.session.add(
                Subscriber(
                    email=subscriber.email,
                    status="active",
                    lead_days=subscriber.leads,
                    buffer_days=subscriber.buffer_days,
                    follows=follows,
                    time_zone="Europe/Paris",
                    confirmed_at=moment,
                )
            )
            db.session.commit()
        if subscriber.ends_at == moment:
            db.session.scalar(
                db.select(Subscriber).where(Subscriber.email == subscriber.email)
            ).status = "unsubscribed"
            db.session.commit()


@pytest.mark.slow
def test_120_days_every_alert_arrives_once_at_its_lead_time(app, smtp_server, create_opportunity):
    rng = random.Random(20260105)
    listings, subscribers = build_world(rng)
    # remind-me subscribers can only name listings that exist when they subscribe
    for subscriber in subscribers:
        subscriber.remind = [
            n for n in subscriber.remind if listings[n].created_at <= subscriber.starts_at
        ] or ([] if not subscriber.remind else [0])
    expected = expected_emails(listings, subscribers)
    settings = AlertSettings(batch_size=50)
    received: dict[tuple[datetime, str], set[str]] = {}
    titles = re.compile(r"Listing #\d{3}")

    with time_machine.travel(START, tick=False) as clock:
        moment = START
        while moment < START + timedelta(days=DAYS):
            clock.move_to(moment)
            apply_events(moment, listings, subscribers, create_opportunity)
            before = len(smtp_server.messages)
            run_alerts(moment, settings=settings)
            for mail in smtp_server.messages[before:]:
                key = (moment, mail.recipients[0])
                assert key not in received, f"two emails to {key[1]} in the run at {moment}"
                body = mail.message.get_body(("plain",)).get_content()
                received[key] = set(titles.findall(body))
            moment += STEP

    missing = {k: v for k, v in expected.items() if received.get(k) != v}
    extra = {k: v for k, v in received.items() if expected.get(k) != v}
    assert not missing and not extra, (sorted(missing.items())[:5], sorted(extra.items())[:5])
    assert len(received) > 300  # the world is busy enough to mean something
