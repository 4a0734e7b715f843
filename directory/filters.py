"""What a member asks for, read from query parameters in one place for every surface.

The list page, the Atom and ICS feeds and the API read the same parameters through
`parse_filters`: the same names, the same meaning. What is invalid is never fatal here; it
comes back as a `Problem` naming the parameter, and each surface decides what to do with it
(pages ignore it and say so, the API answers 400). No request is read here; the messages
are in the language in force (Flask-Babel), English outside a request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pycountry
from flask_babel import gettext as _

from feeds.types import FUNDING_KINDS, OPPORTUNITY_KINDS

from .fulltext import search_words
from .regions import REGIONS

STATUSES = ("open", "rolling", "past")
"""`open`: a deadline still ahead, or none stated; `rolling`: read as they arrive; `past`: all closed."""

SORTS = ("soonest", "newest", "relevance")
"""`soonest` deadline first (the default), `newest` listed first, `relevance` to the search."""

CLOSING_CHOICES = (7, 30, 90)
"""The deadline windows the list page offers; any whole number of days up to MAX_CLOSING_DAYS works."""

MAX_CLOSING_DAYS = 366
MAX_QUERY_LENGTH = 200
MAX_VALUES = 20
"""At most this many values of one parameter are used (`kind=…&kind=…`)."""

MULTI_VALUED = ("kind", "country", "region", "funding", "lang", "source")
SINGLE_VALUED = ("q", "closing", "status", "online", "sort", "cursor")
PARAMETERS = (
    "q",
    "kind",
    "country",
    "region",
    "closing",
    "status",
    "funding",
    "online",
    "lang",
    "source",
    "sort",
    "cursor",
)
"""Every parameter the surfaces share, in the order they are written into URLs."""

_TRUE = {"yes", "true", "1", "on"}
_FALSE = {"no", "false", "0", "off"}
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}
_MAX_SOURCE_ID = 2**31 - 1


@dataclass(frozen=True)
class Filters:
    """A validated request for opportunities. Within one parameter values are alternatives
    (kind=grant&kind=fellowship is either); different parameters must all hold."""

    q: str = ""
    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    closing_days: int | None = None
    status: str = "open"
    funding: tuple[str, ...] = ()
    online: bool | None = None
    languages: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()
    sort: str = "soonest"

    @property
    def is_default(self) -> bool:
        """True when nothing narrows the list: the plain home page."""
        return self == Filters()

    def without(self, facet: str) -> Filters:
        """The same filters with one facet cleared, to count what each of its values would give."""
        cleared = {
            "kind": {"kinds": ()},
            "country": {"countries": ()},
            "region": {"regions": ()},
            "closing": {"closing_days": None},
            "status": {"status": "open", "closing_days": None},
            "funding": {"funding": ()},
            "online": {"online": None},
            "lang": {"languages": ()},
            "source": {"sources": ()},
        }[facet]
        return replace(self, **cleared)


@dataclass(frozen=True)
class Problem:
    """A parameter that was ignored, and why, in a sentence a member can read."""

    parameter: str
    message: str


@dataclass(frozen=True)
class ParsedQuery:
    """Filters read from a request, the cursor as given, and what was ignored."""

    filters: Filters
    cursor: str | None
    problems: tuple[Problem, ...]


def parse_filters(
    args: Mapping[str, Sequence[str]], *, known: Iterable[str] = PARAMETERS
) -> ParsedQuery:
    """Read filters from query parameters (name → list of values, as a form sends them).

    Empty values are what a form sends for "any" and are skipped silently; everything else
    that cannot be used is skipped with a `Problem`. `known` lists the parameters this
    surface accepts besides the shared ones (the API adds `limit`).
    """
    if hasattr(args, "getlist"):
        args = {name: args.getlist(name) for name in args}
    problems: list[Problem] = []
    known = set(known)

    def note(parameter: str, message: str) -> None:
        problems.append(Problem(parameter, message))

    for name in args:
        if name not in known:
            note(
                _printable(name),
                _("Unknown parameter “%(name)s” was ignored.", name=_printable(name)),
            )

    def values(name: str) -> list[str]:
        given = [v.strip() for v in args.get(name, ()) if v and v.strip()]
        if name in SINGLE_VALUED and len(given) > 1:
            note(
                name,
                _(
                    "“%(name)s” was given %(num)d times; the first was used.",
                    name=name,
                    num=len(given),
                ),
            )
            return given[:1]
        if len(given) > MAX_VALUES:
            note(
                name,
                _(
                    "Only the first %(num)d values of “%(name)s” were used.",
                    num=MAX_VALUES,
                    name=name,
                ),
            )
            return given[:MAX_VALUES]
        return given

    def choose(name: str, allowed: Iterable, normalise=str.lower) -> tuple:
        allowed = tuple(allowed)
        chosen: list = []
        for raw in values(name):
            value = normalise(raw)
            if value not in allowed:
                note(
                    name,
                    _(
                        "“%(value)s” is not a known value of “%(name)s”; it was ignored.",
                        value=_printable(raw),
                        name=name,
                    ),
                )
            elif value not in chosen:
                chosen.append(value)
        return tuple(chosen)

    q = " ".join(values("q"))
    if len(q) > MAX_QUERY_LENGTH:
        note("q", _("The search was cut to its first %(num)d characters.", num=MAX_QUERY_LENGTH))
        q = q[:MAX_QUERY_LENGTH]
    q = "".join(ch for ch in q if ch.isprintable())

    filters = Filters(
        q=q.strip(),
        kinds=choose("kind", OPPORTUNITY_KINDS),
        countries=choose("country", _COUNTRY_CODES, str.upper),
        regions=choose("region", REGIONS),
        closing_days=_closing(values("closing"), note),
        status=(choose("status", STATUSES) or ("open",))[0],
        funding=choose("funding", FUNDING_KINDS),
        online=_online(values("online"), note),
        languages=_languages(values("lang"), note),
        sources=_sources(values("source"), note),
        sort=(choose("sort", SORTS) or ("soonest",))[0],
    )
    if filters.q and not search_words(filters.q):
        note("q", _("The search has no words to look for (only punctuation or very common words)."))
        filters = replace(filters, q="")
    if filters.sort == "relevance" and not filters.q:
        note("sort", _("Sorting by relevance needs a search; soonest deadline first was used."))
        filters = replace(filters, sort="soonest")
    if filters.closing_days is not None and filters.status == "past":
        note("closing", _("A closing window cannot apply to past opportunities; it was ignored."))
        filters = replace(filters, closing_days=None)
    cursor = (values("cursor") or [None])[0]
    return ParsedQuery(filters, cursor, tuple(problems))


def query_args(filters: Filters, **extra: str | int | None) -> list[tuple[str, str]]:
    """The filters as (name, value) pairs for a URL, defaults left out; `extra` is appended."""
    pairs: list[tuple[str, str]] = []
    if filters.q:
        pairs.append(("q", filters.q))
    pairs += [("kind", v) for v in filters.kinds]
    pairs += [("country", v) for v in filters.countries]
    pairs += [("region", v) for v in filters.regions]
    if filters.closing_days is not None:
        pairs.append(("closing", str(filters.closing_days)))
    if filters.status != "open":
        pairs.append(("status", filters.status))
    pairs += [("funding", v) for v in filters.funding]
    if filters.online is not None:
        pairs.append(("online", "yes" if filters.online else "no"))
    pairs += [("lang", v) for v in filters.languages]
    pairs += [("source", str(v)) for v in filters.sources]
    if filters.sort != "soonest":
        pairs.append(("sort", filters.sort))
    pairs += [(k, str(v)) for k, v in extra.items() if v is not None]
    return pairs


def _closing(given: list[str], note) -> int | None:
    if not given:
        return None
    raw = given[0]
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_CLOSING_DAYS:
        return int(raw)
    note(
        "closing",
        _(
            "“closing” must be a number of days from 1 to %(num)d; it was ignored.",
            num=MAX_CLOSING_DAYS,
        ),
    )
    return None


def _online(given: list[str], note) -> bool | None:
    if not given or given[0].lower() == "any":
        return None
    value = given[0].lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    note("online", _("“online” must be yes or no; it was ignored."))
    return None


def _languages(given: list[str], note) -> tuple[str, ...]:
    chosen: list[str] = []
    for raw in given:
        value = raw.lower()
        if not _LANGUAGE.match(value):
            note(
                "lang",
                _(
                    "“%(value)s” is not a language code such as en or es; it was ignored.",
                    value=_printable(raw),
                ),
            )
        elif value not in chosen:
            chosen.append(value)
    return tuple(chosen)


def _sources(given: list[str], note) -> tuple[int, ...]:
    chosen: list[int] = []
    for raw in given:
        if raw.isascii() and raw.isdigit() and 0 < int(raw) <= _MAX_SOURCE_ID:
            if int(raw) not in chosen:
                chosen.append(int(raw))
        else:
            note(
                "source",
                _("“%(value)s” is not a source number; it was ignored.", value=_printable(raw)),
            )
    return tuple(chosen)


def _printable(text: str, limit: int = 40) -> str:
    """A user-supplied value, shortened and stripped of control characters, to quote in a note."""
    clean = "".join(ch for ch in text if ch.isprintable())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"
