"""How things read on a page or in an email: countdowns, labels, country names. No Flask here."""

from __future__ import annotations

from datetime import date, datetime

import pycountry

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


def clock_time(moment: datetime) -> str:
    """A local instant as a reader's clock shows it: "Tue 14 April 2027, 23:59"."""
    return f"{moment:%a} {long_date(moment.date())}, {moment:%H:%M}"
