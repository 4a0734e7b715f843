"""A listing as a partner or a moderator types it, and the rules it must meet. No request here.

The forms turn what was typed into a `ListingInput`; `check_listing` says what is wrong with
it, field by field, so the same rules serve the public form, the moderator's edit and the
tests (its messages are lazy strings, written in the reader's language when shown).
Deadlines close by the one rule of `feeds.closing`, and `reader_times` shows that
instant as readers in Lima, Lagos, Nairobi and Dhaka would see it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import pycountry
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from feeds.closing import AOE, closing_instant
from feeds.text import sanitize_html
from feeds.types import Funding

from .display import country_name, long_date, sort_key
from .i18n import current_language

READER_CITIES: tuple[tuple[str, str], ...] = (
    ("Lima", "America/Lima"),
    ("Lagos", "Africa/Lagos"),
    ("Nairobi", "Africa/Nairobi"),
    ("Dhaka", "Asia/Dhaka"),
)
"""Where the preview shows each deadline: four of the network's readers, UTC−5 to UTC+6."""

IANA_AREAS = (
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
)
"""The regions whose `Area/City` zones the form offers (no legacy aliases like `US/Eastern`)."""

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")


@dataclass(frozen=True)
class DeadlineInput:
    """One deadline as typed: what it closes, the date, and the time and zone when stated."""

    kind: str
    due_on: date
    due_time: time | None = None
    time_zone: str | None = None
    """`AoE`, `UTC` or an IANA name; None when not stated."""

    @property
    def due_at(self) -> datetime:
        """The UTC instant it closes, by `feeds.closing.closing_instant`."""
        return closing_instant(self.due_on, self.due_time, self.time_zone)


@dataclass(frozen=True)
class ListingInput:
    """Everything a listing says, apart from who sent it."""

    title: str
    kind: str
    description: str
    """Plain text: paragraphs separated by blank lines; web addresses become links."""
    link: str
    countries: tuple[str, ...] = ()
    is_online: bool = False
    place: str = ""
    """City or venue, in words."""
    event_start_on: date | None = None
    event_end_on: date | None = None
    deadlines: tuple[DeadlineInput, ...] = ()
    funding: Funding = field(default_factory=Funding)
    eligibility: str = ""
    languages: str = ""
    feed_url: str = ""
    """The partner's own RSS or Atom feed, proposed as a source; empty when none."""

    def to_details(self) -> dict:
        """A JSON-ready dict, for `Submission.details`."""
        return {
            "title": self.title,
            "kind": self.kind,
            "description": self.description,
            "link": self.link,
            "countries": list(self.countries),
            "is_online": self.is_online,
            "place": self.place,
            "event_start_on": _iso(self.event_start_on),
            "event_end_on": _iso(self.event_end_on),
            "deadlines": [
                {
                    "kind": d.kind,
                    "due_on": d.due_on.isoformat(),
                    "due_time": d.due_time.strftime("%H:%M") if d.due_time else None,
                    "time_zone": d.time_zone,
                }
                for d in self.deadlines
            ],
            "funding": {
                "travel": self.funding.travel,
                "accommodation": self.funding.accommodation,
                "fees": self.funding.fees,
                "stipend": self.funding.stipend,
                "amount": str(self.funding.amount) if self.funding.amount is not None else None,
                "currency": self.funding.currency,
            },
            "eligibility": self.eligibility,
            "languages": self.languages,
            "feed_url": self.feed_url,
        }


def listing_from_details(details: dict) -> ListingInput:
    """The `ListingInput` a `Submission.details` dict was made from."""
    funding = details.get("funding") or {}
    amount = funding.get("amount")
    return ListingInput(
        title=details.get("title", ""),
        kind=details.get("kind", "other"),
        description=details.get("description", ""),
        link=details.get("link", ""),
        countries=tuple(details.get("countries") or ()),
        is_online=bool(details.get("is_online")),
        place=details.get("place") or "",
        event_start_on=_from_iso(details.get("event_start_on")),
        event_end_on=_from_iso(details.get("event_end_on")),
        deadlines=tuple(
            DeadlineInput(
                kind=d["kind"],
                due_on=date.fromisoformat(d["due_on"]),
                due_time=time.fromisoformat(d["due_time"]) if d.get("due_time") else None,
                time_zone=d.get("time_zone") or None,
            )
            for d in details.get("deadlines") or ()
        ),
        funding=Funding(
            travel=bool(funding.get("travel")),
            accommodation=bool(funding.get("accommodation")),
            fees=bool(funding.get("fees")),
            stipend=bool(funding.get("stipend")),
            amount=Decimal(amount) if amount is not None else None,
            currency=funding.get("currency") or None,
        ),
        eligibility=details.get("eligibility") or "",
        languages=details.get("languages") or "",
        feed_url=details.get("feed_url") or "",
    )


# --- the rules ---------------------------------------------------------------------------------


def check_listing(
    listing: ListingInput,
    *,
    now: datetime,
    blocked_domains: tuple[str, ...] | list[str] = (),
    allow_past: bool = False,
) -> dict[str, str]:
    """What is wrong with a listing, as {field: message}; empty when nothing is.

    Deadline problems are keyed `deadlines.<i>.<field>` by position in `listing.deadlines`;
    `deadlines` alone is the group. `allow_past` lets a moderator keep a closed date.
    """
    problems: dict[str, str] = {}
    for name, url in (("link", listing.link), ("feed_url", listing.feed_url)):
        problem = link_problem(url, blocked_domains) if url else None
        if problem:
            problems[name] = problem
    blocked = [
        url for url in _URL.findall(listing.description) if blocked_domain(url, blocked_domains)
    ]
    if blocked:
        problems["description"] = _blocked_message(blocked_domain(blocked[0], blocked_domains))
    if not listing.countries and not listing.is_online:
        problems["countries"] = _l("Choose at least one country, or tick “Online”.")
    problems.update(
        check_event_dates(listing.event_start_on, listing.event_end_on, now, allow_past)
    )
    last_day = listing.event_end_on or listing.event_start_on
    if "event_end_on" in problems or "event_start_on" in problems:
        last_day = None
    problems.update(check_deadlines(listing.deadlines, now, last_day, allow_past))
    if listing.funding.amount is not None and not listing.funding.currency:
        problems["funding_currency"] = _l("Give the currency of the amount.")
    return problems


def check_event_dates(
    start: date | None, end: date | None, now: datetime, allow_past: bool = False
) -> dict[str, str]:
    """The event's first and last day: not over, and not ending before they start."""
    problems: dict[str, str] = {}
    if end and not start:
        problems["event_start_on"] = _l(
            "Give the first day too (the same day for a one-day event)."
        )
    today = today_everywhere(now)
    if not allow_past:
        if start and start < today:
            problems["event_start_on"] = _l("This date has passed.")
        if end and end < today:
            problems["event_end_on"] = _l("This date has passed.")
    if start and end and end < start:
        problems["event_end_on"] = _l("The event cannot end before it starts.")
    return problems


def check_deadlines(
    deadlines: tuple[DeadlineInput, ...] | list[DeadlineInput],
    now: datetime,
    event_last_day: date | None = None,
    allow_past: bool = False,
) -> dict[str, str]:
    """At least one deadline; each with a zone when it has a time, not over, not after the event."""
    if not deadlines:
        return {"deadlines": _l("Add at least one deadline: the date by which people must act.")}
    problems: dict[str, str] = {}
    for index, deadline in enumerate(deadlines):
        prefix = f"deadlines.{index}."
        if deadline.due_time and not deadline.time_zone:
            problems[prefix + "time_zone"] = _l("Choose the time zone of this time.")
        if not allow_past and deadline.due_at <= now:
            problems[prefix + "due_on"] = _l("This deadline has already passed.")
        elif event_last_day and deadline.due_on > event_last_day:
            problems[prefix + "due_on"] = _l(
                "This deadline is after the event ends (%(day)s).",
                day=LazyString(long_date, event_last_day),
            )
    return problems


def link_problem(url: str, blocked_domains: tuple[str, ...] | list[str] = ()) -> str | None:
    """Why a web address cannot be listed, or None: it must be a full http(s) address."""
    text = url.strip()
    if len(text) > 2000:
        return _l("This address is too long (2,000 characters at most).")
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return _l("Enter a full web address, starting with https://")
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        return _l("Enter a full web address, starting with https://")
    if "." not in host.strip("."):
        return _l("Enter a full web address with a domain name, like https://example.org/call")
    domain = blocked_domain(text, blocked_domains)
    if domain:
        return _blocked_message(domain)
    return None


def blocked_domain(url: str, blocked_domains: tuple[str, ...] | list[str]) -> str | None:
    """The block-listed domain `url` is on (itself or a subdomain), or None."""
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    for domain in blocked_domains:
        domain = domain.strip().strip(".").lower()
        if domain and (host == domain or host.endswith("." + domain)):
            return domain
    return None


def has_line_break(value: str | None) -> bool:
    """True when a one-line value holds a line break (a way to inject email headers)."""
    return bool(value and _LINE_BREAK.search(value))


def today_everywhere(now: datetime) -> date:
    """The calendar date still current somewhere on Earth (AoE): earlier dates are over."""
    return now.astimezone(AOE).date()


def parse_amount(text: str) -> Decimal | None:
    """A funding amount typed as `1500`, `1,500` or `1500.50`; None when it is not a number."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        return None
    return amount.quantize(Decimal("0.01"))


def _blocked_message(domain: str | None) -> str:
    return _l(
        "We do not list opportunities from %(domain)s: it is on our list of predatory "
        "conference organisers.",
        domain=domain,
    )


# --- what readers will see ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderTime:
    """A deadline's closing instant on a reader's clock."""

    city: str
    local: datetime


def reader_times(instant: datetime) -> list[ReaderTime]:
    """The closing instant as it reads in Lima, Lagos, Nairobi and Dhaka."""
    return [ReaderTime(city, instant.astimezone(_zone(name))) for city, name in READER_CITIES]


@cache
def _zone(name: str) -> tzinfo:
    return ZoneInfo(name)


@cache
def zone_choices() -> tuple[tuple[str, str], ...]:
    """The zones a deadline may name: AoE and UTC first, then every `Area/City` IANA zone."""
    zones = sorted(
        name
        for name in available_timezones()
        if "/" in name and name.split("/", 1)[0] in IANA_AREAS
    )
    return (
        ("AoE", _l("AoE — anywhere on Earth (UTC−12)")),
        ("UTC", "UTC"),
        *((name, name.replace("_", " ")) for name in zones),
    )


def country_choices() -> tuple[tuple[str, str], ...]:
    """Every ISO 3166-1 country as (alpha-2 code, name), named and sorted in the reader's language."""
    return _country_choices(current_language())


@cache
def _country_choices(language: str) -> tuple[tuple[str, str], ...]:
    names = ((c.alpha_2, country_name(c.alpha_2)) for c in pycountry.countries)
    return tuple(sorted(names, key=lambda pair: sort_key(pair[1])))


def is_currency(code: str) -> bool:
    """True for an ISO 4217 alphabetic code (`EUR`, `KES`, …)."""
    return len(code) == 3 and pycountry.currencies.get(alpha_3=code.upper()) is not None


# --- the description ---------------------------------------------------------------------------


def description_html(text: str) -> str:
    """Plain text as safe HTML: a paragraph per blank-line block, line breaks kept, links live."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    blocks = [
        "<p>" + "<br>".join(_linkify(line) for line in p.split("\n")) + "</p>" for p in paragraphs
    ]
    return sanitize_html("\n".join(blocks))


def description_text(text: str) -> str:
    """The description as stored for search: tidy lines, paragraphs kept apart."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _linkify(line: str) -> str:
    pieces, position = [], 0
    for match in _URL.finditer(line):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        pieces.append(html.escape(line[position : match.start()]))
        safe = html.escape(url)
        pieces.append(f'<a href="{safe}">{safe}</a>')
        position = end
    pieces.append(html.escape(line[position:]))
    return "".join(pieces)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _from_iso(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
