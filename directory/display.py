"""How things read on a page or in an email: countdowns, labels, dates, amounts, country names.

No request is read here: words come from Flask-Babel's catalogues and dates, numbers and
country names from Babel's locale data, both in the language in force (a page's, or the one
an email is rendered in; English outside both).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from decimal import Decimal

from babel.dates import format_date, format_skeleton, format_time
from babel.numbers import format_currency, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from feeds.closing import is_zone_known

from .filters import Filters
from .i18n import format_locale
from .regions import REGION_NAMES

DEADLINE_KIND_LABELS = {
    "application": _l("Applications"),
    "registration": _l("Registration"),
    "travel_support": _l("Travel support"),
    "abstract": _l("Abstracts and proposals"),
    "other": _l("Deadline"),
}

OPPORTUNITY_KIND_LABELS = {
    "event": _l("Event"),
    "travel_grant": _l("Travel grant"),
    "fellowship": _l("Fellowship"),
    "grant": _l("Grant"),
    "call": _l("Call for papers or proposals"),
    "award": _l("Award"),
    "job": _l("Job"),
    "other": _l("Other"),
}

FUNDING_LABELS = {
    "travel": _l("Travel"),
    "accommodation": _l("Accommodation"),
    "fees": _l("Fees waived"),
    "stipend": _l("Stipend"),
}


ZONE_AREA_LABELS = {
    "Africa": _l("Africa"),
    "America": _l("Americas"),
    "Antarctica": _l("Antarctica"),
    "Asia": _l("Asia"),
    "Atlantic": _l("Atlantic Ocean"),
    "Australia": _l("Australia"),
    "Europe": _l("Europe"),
    "Indian": _l("Indian Ocean"),
    "Pacific": _l("Pacific Ocean"),
}
"""The areas IANA zone names start with, as a reader names them (zones stay `Area/City`)."""


def zone_area(area: str) -> str:
    """An IANA zone area (`America`) in the reader's language."""
    return str(ZONE_AREA_LABELS.get(area, area))


STATE_LABELS = {
    "unconfirmed": _l("unconfirmed"),
    "pending": _l("waiting"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
    "published": _l("published"),
    "hidden": _l("hidden"),
    "queued": _l("queued"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
    "active": _l("active"),
    "paused": _l("paused"),
    "gone": _l("gone"),
    "feed": _l("feed"),
    "partner": _l("partner"),
    "sample": _l("sample"),
    "proposed": _l("proposed"),
    "added": _l("added"),
    "declined": _l("declined"),
    "due": _l("due"),
    "retrying": _l("retrying"),
    "bounced": _l("bounced"),
    "missed": _l("missed"),
    "cancelled": _l("cancelled"),
    "reminder": _l("reminder"),
    "extended": _l("deadline extended"),
    "moved": _l("deadline moved earlier"),
    "extracted": _l("read from the feed"),
    "moderator": _l("set by a moderator"),
    "same link": _l("same link"),
    "similar title from the same organiser": _l("similar title from the same organiser"),
}
"""The words for the states moderators see (a submission's, an email's, a source's…)."""


def state_label(state: str | None) -> str:
    """A state as moderators read it, in their language; an unknown one as it is stored."""
    return str(STATE_LABELS.get(state or "", state or ""))


def countdown(due_at: datetime, now: datetime) -> str:
    """A short phrase for the time left: "closes in 12 days", "closes today", "closed 3 days ago".

    Counts whole days of 24 hours, rounding down, so it never promises more time than is left.
    """
    left = due_at - now
    if left.total_seconds() <= 0:
        days = int(-left.total_seconds() // 86400)
        if days == 0:
            return _("closed today")
        if days == 1:
            return _("closed yesterday")
        return ngettext("closed %(num)d day ago", "closed %(num)d days ago", days)
    days = int(left.total_seconds() // 86400)
    if days == 0:
        hours = int(left.total_seconds() // 3600)
        if hours == 0:
            return _("closes within the hour")
        return ngettext("closes in %(num)d hour", "closes in %(num)d hours", hours)
    if days == 1:
        return _("closes tomorrow")
    return ngettext("closes in %(num)d day", "closes in %(num)d days", days)


def long_date(day: date) -> str:
    """A date as people write it in a letter: "15 April 2027", "15 de abril de 2027"."""
    return format_date(day, "long", locale=format_locale())


def short_time(moment: datetime | time) -> str:
    """A time of day on a 24-hour clock, as the language writes it: "17:00", "17 h 00"."""
    return format_time(moment, "HH:mm", locale=format_locale())


def amount(value: Decimal | float | int, currency: str | None = None) -> str:
    """A sum of money, "1.500 €" or "US$ 1,500.00"; without a currency, just the number."""
    locale = format_locale()
    if not currency:
        return format_decimal(value, locale=locale)
    whole = Decimal(value) == Decimal(value).to_integral_value()
    pattern = locale.currency_formats["standard"].pattern
    if whole:
        pattern = pattern.replace(".00", "").replace(".##", "")
    return format_currency(value, currency.upper(), pattern, locale=locale, currency_digits=False)


def country_name(code: str) -> str:
    """The name of an ISO 3166-1 alpha-2 country in the reader's language, else the code."""
    return format_locale().territories.get(code.upper(), code)


def sort_key(text: str) -> str:
    """Alphabetical order as readers expect it, accents aside: "Égypte" sorts with the Es."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def language_name(code: str) -> str:
    """The name of a language (`es`, `sw`) in the reader's language, else its code."""
    name = format_locale().languages.get(code.lower())
    return name[:1].upper() + name[1:] if name else code


def region_name(region: str) -> str:
    """A region of `directory.regions` in the reader's language."""
    return str(REGION_NAMES.get(region, region))


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
            return DeadlineTime(None, long_date(due_on), _("time not stated"))
        stated = f"{long_date(due_on)}, {short_time(due_time)}"
        return DeadlineTime(None, stated, _("time zone not stated"))
    moment = due_at.astimezone(reader)
    local = f"{long_date(moment.date())}, {short_time(moment)} {zone_label(reader)}"
    at = short_time(due_time) if due_time else _("end of day")
    stated = f"{long_date(due_on)}, {at} {time_zone}"
    if due_time is not None and zone_label(reader) == time_zone:
        return DeadlineTime(local, None, None)
    return DeadlineTime(local, stated, None)


def zone_label(zone: tzinfo) -> str:
    """The name people recognise a zone by: its IANA key, else what it calls itself."""
    return getattr(zone, "key", None) or zone.tzname(None) or "UTC"


def clock_time(moment: datetime) -> str:
    """A local instant as a reader's clock shows it: "Tue, 14 Apr 2027, 23:59"."""
    day = format_skeleton("yMMMEd", moment, locale=format_locale())
    return f"{day}, {short_time(moment)}"


def describe_filters(filters: Filters) -> str:
    """A short title for a filtered list: "fellowship in Kenya closing within 30 days"."""
    kinds = ", ".join(str(OPPORTUNITY_KIND_LABELS[k]).lower() for k in filters.kinds)
    statuses = {"past": _("closed opportunities"), "rolling": _("rolling opportunities")}
    parts = [kinds or statuses.get(filters.status, _("open opportunities"))]
    places = [region_name(r) for r in filters.regions]
    places += [country_name(c) for c in filters.countries]
    if places:
        parts.append(_("in %(places)s", places=", ".join(places)))
    if filters.funding:
        offered = ", ".join(str(FUNDING_LABELS[f]).lower() for f in filters.funding)
        parts.append(_("offering %(funding)s", funding=offered))
    if filters.online is not None:
        parts.append(_("online") if filters.online else _("in person"))
    if filters.closing_days:
        parts.append(
            ngettext(
                "closing within %(num)d day", "closing within %(num)d days", filters.closing_days
            )
        )
    if filters.q:
        parts.append(_("matching “%(words)s”", words=filters.q))
    return " ".join(parts)
