"""How things read on a page or in an email: countdowns, labels, country names. No Flask here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo

import pycountry

from feeds.closing import is_zone_known

from .filters import Filters
from .regions import REGION_NAMES

DEADLINE_KIND_LABELS = {
    "application": "Applications",
    "registration": "Registration",
    "travel_support": "Travel support",
    "abstract": "Abstracts and proposals",
    "other": "Deadline",
}

OPPORTUNITY_KIND_LABELS = {
    "event": "Event",
    "travel_grant": "Travel grant",
    "fellowship": "Fellowship",
    "grant": "Grant",
    "call": "Call for papers or proposals",
    "award": "Award",
    "job": "Job",
    "other": "Other",
}

FUNDING_LABELS = {
    "travel": "Travel",
    "accommodation": "Accommodation",
    "fees": "Fees waived",
    "stipend": "Stipend",
}


def countdown(due_at: datetime, now: datetime) -> str:
    """A short phrase for the time left: "closes in 12 days", "closes today", "closed 3 days ago".

    Counts whole days of 24 hours, rounding down, so it never promises more time than is left.
    """
    left = due_at - now
    if left.total_seconds() <= 0:
        days = int(-left.total_seconds() // 86400)
        if days == 0:
            return "closed today"
        return "closed yesterday" if days == 1 else f"closed {days} days ago"
    days = int(left.total_seconds() // 86400)
    if days == 0:
        hours = int(left.total_seconds() // 3600)
        return "closes within the hour" if hours == 0 else f"closes in {hours} h"
    return "closes tomorrow" if days == 1 else f"closes in {days} days"


def long_date(day: date) -> str:
    """A date as people write it in a letter: "15 April 2027"."""
    return f"{day.day} {day:%B %Y}"


def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-2 code, or the code itself if unknown."""
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


@dataclass(frozen=True)
class DeadlineTime:
    """A deadline's moment as a page says it: in the reader's zone, and as the listing stated it."""

    local: str | None
    """Date and time in the reader's zone; None when the listing gives no zone to convert from."""
    stated: str | None
    """Date, time and zone as the listing stated them, when that differs from `local`."""
    caveat: str | None
    """"time not stated" or "time zone not stated", when the listing leaves it out."""


def deadline_time(
    due_on: date, due_time: time | None, time_zone: str | None, due_at: datetime, reader: tzinfo
) -> DeadlineTime:
    """How to write a deadline for a reader in `reader`'s zone.

    Without a stated zone there is nothing to convert: the stated date (and time) is shown
    with a caveat, while the countdown uses the earliest reading (see `feeds.closing`).
    """
    if not is_zone_known(time_zone):
        if due_time is None:
            return DeadlineTime(None, long_date(due_on), "time not stated")
        return DeadlineTime(None, f"{long_date(due_on)}, {due_time:%H:%M}", "time zone not stated")
    moment = due_at.astimezone(reader)
    local = f"{long_date(moment.date())}, {moment:%H:%M} {zone_label(reader)}"
    at = f"{due_time:%H:%M}" if due_time else "end of day"
    stated = f"{long_date(due_on)}, {at} {time_zone}"
    if due_time is not None and zone_label(reader) == time_zone:
        return DeadlineTime(local, None, None)
    return DeadlineTime(local, stated, None)


def zone_label(zone: tzinfo) -> str:
    """The name people recognise a zone by: its IANA key, else what it calls itself."""
    return getattr(zone, "key", None) or zone.tzname(None) or "UTC"


def clock_time(moment: datetime) -> str:
    """A local instant as a reader's clock shows it: "Tue 14 April 2027, 23:59"."""
    return f"{moment:%a} {long_date(moment.date())}, {moment:%H:%M}"


def describe_filters(filters: Filters) -> str:
    """A short title for a filtered list: "fellowship in Kenya closing within 30 days"."""
    kinds = ", ".join(OPPORTUNITY_KIND_LABELS[k].lower() for k in filters.kinds)
    statuses = {"past": "closed opportunities", "rolling": "rolling opportunities"}
    parts = [kinds or statuses.get(filters.status, "open opportunities")]
    places = [REGION_NAMES[r] for r in filters.regions]
    places += [country_name(c) for c in filters.countries]
    if places:
        parts.append("in " + ", ".join(places))
    if filters.funding:
        parts.append("offering " + ", ".join(filters.funding))
    if filters.online is not None:
        parts.append("online" if filters.online else "in person")
    if filters.closing_days:
        parts.append(f"closing within {filters.closing_days} days")
    if filters.q:
        parts.append(f"matching “{filters.q}”")
    return " ".join(parts)
