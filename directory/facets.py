"""The filter choices the list page offers, each with how many results it would give. Pure.

Turns `Filters` (what is chosen) and `Counts` (what each choice would give) into groups of
options a template renders as checkboxes, radio buttons or a select, without deciding
anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from feeds.types import FUNDING_KINDS, OPPORTUNITY_KINDS

from .display import FUNDING_LABELS, OPPORTUNITY_KIND_LABELS, country_name
from .filters import CLOSING_CHOICES, Filters
from .regions import REGION_NAMES, REGIONS
from .results import Counts

LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "pt": "Portuguese"}


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


def groups(filters: Filters, counts: Counts, sources: dict[int, str]) -> list[Group]:
    """The filter groups of the list page, in the order they are shown."""
    facets = counts.facets

    def n(facet: str, value) -> int:
        return facets.get(facet, {}).get(value, 0)

    status = Group(
        "status",
        "Deadline",
        "radio",
        (
            Option("open", "Open", n("status", "open"), filters.status == "open"),
            Option("rolling", "Rolling", n("status", "rolling"), filters.status == "rolling"),
            Option("past", "Closed", n("status", "past"), filters.status == "past"),
        ),
    )
    closing = Group(
        "closing",
        "Closing within",
        "radio",
        (
            Option("", "Any time", None, filters.closing_days is None),
            *[
                Option(
                    str(days), f"{days} days", n("closing", str(days)), filters.closing_days == days
                )
                for days in CLOSING_CHOICES
            ],
            *(
                [Option(str(filters.closing_days), f"{filters.closing_days} days", None, True)]
                if filters.closing_days not in (None, *CLOSING_CHOICES)
                else []
            ),
        ),
    )
    kinds = Group(
        "kind",
        "Kind",
        "checkbox",
        tuple(
            Option(kind, OPPORTUNITY_KIND_LABELS[kind], n("kind", kind), kind in filters.kinds)
            for kind in OPPORTUNITY_KINDS
        ),
    )
    funding = Group(
        "funding",
        "Funding offered",
        "checkbox",
        tuple(
            Option(name, FUNDING_LABELS[name], n("funding", name), name in filters.funding)
            for name in FUNDING_KINDS
        ),
    )
    regions = Group(
        "region",
        "Region",
        "checkbox",
        tuple(
            Option(region, REGION_NAMES[region], n("region", region), region in filters.regions)
            for region in REGIONS
            if n("region", region) or region in filters.regions
        ),
    )
    country_codes = {c for c, k in facets.get("country", {}).items() if k} | set(filters.countries)
    countries = Group(
        "country",
        "Country",
        "select",
        tuple(
            sorted(
                (
                    Option(code, country_name(code), n("country", code), code in filters.countries)
                    for code in country_codes
                ),
                key=lambda o: o.label,
            )
        ),
    )
    online = Group(
        "online",
        "Online or in person",
        "radio",
        (
            Option("", "Either", None, filters.online is None),
            Option("yes", "Online", n("online", "yes"), filters.online is True),
            Option("no", "In person", n("online", "no"), filters.online is False),
        ),
    )
    language_codes = {c for c, k in facets.get("lang", {}).items() if k} | set(filters.languages)
    languages = Group(
        "lang",
        "Language",
        "checkbox",
        tuple(
            Option(code, LANGUAGE_NAMES.get(code, code), n("lang", code), code in filters.languages)
            for code in sorted(language_codes)
        ),
    )
    source_ids = {s for s, k in facets.get("source", {}).items() if k} | set(filters.sources)
    source_group = Group(
        "source",
        "Source",
        "select",
        tuple(
            sorted(
                (
                    Option(
                        str(i), sources.get(i, f"Source {i}"), n("source", i), i in filters.sources
                    )
                    for i in source_ids
                ),
                key=lambda o: o.label.lower(),
            )
        ),
    )
    return [status, closing, kinds, funding, regions, countries, online, languages, source_group]
