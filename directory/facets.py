"""The filter choices the list page offers, each with how many results it would give. Pure.

Turns `Filters` (what is chosen) and `Counts` (what each choice would give) into groups of
options a template renders as checkboxes, radio buttons or a select, without deciding
anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext

from feeds.types import FUNDING_KINDS, OPPORTUNITY_KINDS

from .display import (
    FUNDING_LABELS,
    OPPORTUNITY_KIND_LABELS,
    country_name,
    language_name,
    region_name,
    sort_key,
)
from .filters import CLOSING_CHOICES, Filters
from .regions import REGIONS
from .results import Counts


@dataclass(frozen=True)
class Option:
    """One value of a filter: what it sends, what it says, how many it gives, if it is chosen."""

    value: str
    label: str
    count: int | None
    chosen: bool


@dataclass(frozen=True)
class Group:
    """One filter: its parameter, its legend, how it is shown, and its options."""

    name: str
    legend: str
    control: str
    """`checkbox` (any of several), `radio` (one of), or `select` (one of many, plus those chosen)."""
    options: tuple[Option, ...]

    @property
    def chosen(self) -> tuple[Option, ...]:
        """The options currently chosen."""
        return tuple(o for o in self.options if o.chosen)

    @property
    def others(self) -> tuple[Option, ...]:
        """The options not chosen, for a select that adds one more."""
        return tuple(o for o in self.options if not o.chosen)


def _days(days: int) -> str:
    return ngettext("%(num)d day", "%(num)d days", days)


def groups(filters: Filters, counts: Counts, sources: dict[int, str]) -> list[Group]:
    """The filter groups of the list page, in the order they are shown."""
    facets = counts.facets

    def n(facet: str, value) -> int:
        return facets.get(facet, {}).get(value, 0)

    status = Group(
        "status",
        _("Deadline"),
        "radio",
        (
            Option("open", _("Open"), n("status", "open"), filters.status == "open"),
            Option("rolling", _("Rolling"), n("status", "rolling"), filters.status == "rolling"),
            Option("past", _("Closed"), n("status", "past"), filters.status == "past"),
        ),
    )
    closing = Group(
        "closing",
        _("Closing within"),
        "radio",
        (
            Option("", _("Any time"), None, filters.closing_days is None),
            *[
                Option(
                    str(days), _days(days), n("closing", str(days)), filters.closing_days == days
                )
                for days in CLOSING_CHOICES
            ],
            *(
                [Option(str(filters.closing_days), _days(filters.closing_days), None, True)]
                if filters.closing_days not in (None, *CLOSING_CHOICES)
                else []
            ),
        ),
    )
    kinds = Group(
        "kind",
        _("Kind"),
        "checkbox",
        tuple(
            Option(kind, str(OPPORTUNITY_KIND_LABELS[kind]), n("kind", kind), kind in filters.kinds)
            for kind in OPPORTUNITY_KINDS
        ),
    )
    funding = Group(
        "funding",
        _("Funding offered"),
        "checkbox",
        tuple(
            Option(name, str(FUNDING_LABELS[name]), n("funding", name), name in filters.funding)
            for name in FUNDING_KINDS
        ),
    )
    regions = Group(
        "region",
        _("Region"),
        "checkbox",
        tuple(
            Option(region, region_name(region), n("region", region), region in filters.regions)
            for region in REGIONS
            if n("region", region) or region in filters.regions
        ),
    )
    country_codes = {c for c, k in facets.get("country", {}).items() if k} | set(filters.countries)
    countries = Group(
        "country",
        _("Country"),
        "select",
        tuple(
            sorted(
                (
                    Option(code, country_name(code), n("country", code), code in filters.countries)
                    for code in country_codes
                ),
                key=lambda o: sort_key(o.label),
            )
        ),
    )
    online = Group(
        "online",
        _("Online or in person"),
        "radio",
        (
            Option("", _("Either"), None, filters.online is None),
            Option("yes", _("Online"), n("online", "yes"), filters.online is True),
            Option("no", _("In person"), n("online", "no"), filters.online is False),
        ),
    )
    language_codes = {c for c, k in facets.get("lang", {}).items() if k} | set(filters.languages)
    languages = Group(
        "lang",
        _("Language"),
        "checkbox",
        tuple(
            Option(code, language_name(code), n("lang", code), code in filters.languages)
            for code in sorted(language_codes)
        ),
    )
    source_ids = {s for s, k in facets.get("source", {}).items() if k} | set(filters.sources)
    source_group = Group(
        "source",
        _("Source"),
        "select",
        tuple(
            sorted(
                (
                    Option(
                        str(i),
                        sources.get(i) or _("Source %(id)d", id=i),
                        n("source", i),
                        i in filters.sources,
                    )
                    for i in source_ids
                ),
                key=lambda o: o.label.lower(),
            )
        ),
    )
    return [status, closing, kinds, funding, regions, countries, online, languages, source_group]
