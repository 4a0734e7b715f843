"""From what a member asks for to a SELECT: pure functions that build queries, run nothing.

A `Filters` (see `filters.py`), the instant `now` and the database's dialect name go in; a
`Select` comes out. Sorting by soonest deadline walks the deadlines in order, so that a page
of the list costs a short index scan rather than a sort of every open opportunity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from feeds.types import OPPORTUNITY_KINDS

from .filters import CLOSING_CHOICES, Filters
from .fulltext import in_known_hits, search_hits, search_words
from .models import Deadline, Opportunity, OpportunityCountry, SourceEntry
from .regions import REGIONS

FUNDING_COLUMNS = {
    "travel": Opportunity.offers_travel,
    "accommodation": Opportunity.offers_accommodation,
    "fees": Opportunity.offers_fees,
    "stipend": Opportunity.offers_stipend,
}


@dataclass(frozen=True)
class Segment:
    """One stretch of a sorted list: how its rows are ordered and which key continues it.

    The soonest-first list has two: opportunities with a deadline ahead (by that deadline),
    then those with no date at all (newest first).
    """

    name: str
    """`ahead`, `undated`, `closed`, `newest` or `relevance`; written into cursors."""
    descending: bool


AHEAD = Segment("ahead", descending=False)
UNDATED = Segment("undated", descending=True)
CLOSED = Segment("closed", descending=True)
NEWEST = Segment("newest", descending=True)
RELEVANCE = Segment("relevance", descending=False)


def segments(filters: Filters) -> tuple[Segment, ...]:
    """The segments of a sorted list, in the order they are shown."""
    if filters.sort == "relevance" and search_words(filters.q):
        return (RELEVANCE,)
    if filters.sort == "newest":
        return (NEWEST,)
    if filters.status == "past":
        return (CLOSED,)
    if filters.closing_days is not None:
        return (AHEAD,)
    return (AHEAD, UNDATED)


def next_deadlines(now: datetime) -> Select:
    """Per opportunity, the instant of its soonest deadline still ahead of `now`."""
    return (
        select(Deadline.opportunity_id, func.min(Deadline.due_at).label("next_due_at"))
        .where(Deadline.due_at > now)
        .group_by(Deadline.opportunity_id)
    )


def open_opportunities(now: datetime, limit: int = 50) -> Select:
    """Published opportunities not yet closed: soonest deadline first, then those with no date."""
    upcoming = next_deadlines(now).subquery()
    return (
        select(Opportunity, upcoming.c.next_due_at)
        .outerjoin(upcoming, upcoming.c.opportunity_id == Opportunity.id)
        .where(Opportunity.status == "published")
        .where(upcoming.c.next_due_at.is_not(None) | ~_has_deadline())
        .order_by(
            upcoming.c.next_due_at.is_(None),
            upcoming.c.next_due_at,
            Opportunity.published_at.desc().nulls_last(),
            Opportunity.id,
        )
        .limit(limit)
    )


def page_query(
    filters: Filters,
    now: datetime,
    dialect: str,
    segment: Segment,
    after: tuple[Any, int] | None = None,
    limit: int = 25,
) -> Select:
    """Up to `limit` rows of one segment after the (key, opportunity id) `after`.

    Rows are `(opportunity_id, key)`; the key of the last row continues the list.
    """
    if segment is AHEAD:
        return _deadline_walk(filters, now, dialect, after, limit)
    if segment is RELEVANCE:
        hits = search_hits(search_words(filters.q), dialect)
        key: Any = hits.c.rank
        query = select(Opportunity.id, key).join(hits, hits.c.opportunity_id == Opportunity.id)
        conditions = conditions_for(filters, now, dialect, search=False)
    elif segment is CLOSED:
        key = Opportunity.closes_at
        query = select(Opportunity.id, key)
        conditions = conditions_for(filters, now, dialect)
    else:
        key = Opportunity.first_seen_at
        query = select(Opportunity.id, key)
        conditions = conditions_for(filters, now, dialect)
        if segment is UNDATED:
            conditions.append(Opportunity.closes_at.is_(None))
    if after is not None:
        conditions.append(_after(key, Opportunity.id, after, segment.descending))
    order = (key.desc(), Opportunity.id.desc()) if segment.descending else (key, Opportunity.id)
    return query.where(*conditions).order_by(*order).limit(limit)


def count_query(filters: Filters, now: datetime, dialect: str) -> Select:
    """How many opportunities match."""
    return (
        select(func.count()).select_from(Opportunity).where(*conditions_for(filters, now, dialect))
    )


@dataclass(frozen=True)
class FacetQuery:
    """A query counting facet values: one row of `facet:value` sums, or `(value, n)` rows."""

    query: Select
    facet: str | None = None
    """The facet whose values the rows carry; None for a single row of labelled sums."""


def facet_queries(
    filters: Filters, now: datetime, dialect: str, *, search_ids: list[int] | None = None
) -> list[FacetQuery]:
    """Queries counting what each value of each facet would give with the other filters.

    A facet's own filter is left out of its counts (ticking another kind widens the list,
    it does not narrow it), so they read as "tick this and you get N". Facets that share the
    same other filters are summed in one pass, and every pass reads only the columns of
    `ix_opportunities_listing`, an index narrow enough to scan quickly. `search_ids` (the
    search's hits, see `fulltext.in_known_hits`) saves repeating the search in each count.
    """

    def where(base: Filters, **options: bool) -> list[ColumnElement[bool]]:
        return conditions_for(base, now, dialect, search_ids=search_ids, **options)

    sums: dict[Filters, list] = {}

    def add_sums(facet: str, columns: list) -> None:
        sums.setdefault(filters.without(facet), []).extend(columns)

    add_sums(
        "kind",
        [_count_if(Opportunity.kind == kind).label(f"kind:{kind}") for kind in OPPORTUNITY_KINDS],
    )
    add_sums(
        "funding",
        [
            _count_if(column == true()).label(f"funding:{name}")
            for name, column in FUNDING_COLUMNS.items()
        ],
    )
    add_sums(
        "online",
        [
            _count_if(Opportunity.is_online == true()).label("online:yes"),
            _count_if(Opportunity.is_online == false()).label("online:no"),
        ],
    )
    found = [FacetQuery(select(*columns).where(*where(base))) for base, columns in sums.items()]
    is_open = _is_open(now)
    found.append(
        FacetQuery(
            select(
                _count_if(is_open).label("status:open"),
                _count_if(and_(Opportunity.is_rolling == true(), is_open)).label("status:rolling"),
                _count_if(Opportunity.closes_at <= now).label("status:past"),
            ).where(*where(filters.without("status"), status=False))
        )
    )
    longest = now + timedelta(days=max(CLOSING_CHOICES))
    closing_base = select(Opportunity.id).where(*where(filters.without("closing")))
    found.append(
        FacetQuery(
            select(
                *[
                    func.count(
                        distinct(
                            case(
                                (
                                    Deadline.due_at <= now + timedelta(days=days),
                                    Deadline.opportunity_id,
                                )
                            )
                        )
                    ).label(f"closing:{days}")
                    for days in CLOSING_CHOICES
                ]
            ).where(
                Deadline.due_at > now,
                Deadline.due_at <= longest,
                Deadline.opportunity_id.in_(closing_base),
            )
        )
    )
    region_of_country = case(
        *[
            (OpportunityCountry.country_code.in_(codes), literal(region))
            for region, codes in REGIONS.items()
        ],
        else_=None,
    )
    # Left joins keep the opportunities (read through the narrow index) as the outer loop.
    with_countries = (
        Opportunity,
        OpportunityCountry,
        OpportunityCountry.opportunity_id == Opportunity.id,
    )
    with_sources = (Opportunity, SourceEntry, SourceEntry.opportunity_id == Opportunity.id)
    found += [
        FacetQuery(
            select(Opportunity.language, func.count())
            .where(*where(filters.without("lang")))
            .group_by(Opportunity.language),
            "lang",
        ),
        FacetQuery(
            select(OpportunityCountry.country_code, func.count())
            .select_from(with_countries[0])
            .outerjoin(*with_countries[1:])
            .where(*where(filters.without("country")))
            .group_by(OpportunityCountry.country_code),
            "country",
        ),
        FacetQuery(
            select(region_of_country, func.count(distinct(Opportunity.id)))
            .select_from(with_countries[0])
            .outerjoin(*with_countries[1:])
            .where(*where(filters.without("region")))
            .group_by(region_of_country),
            "region",
        ),
        FacetQuery(
            select(SourceEntry.source_id, func.count(distinct(Opportunity.id)))
            .select_from(with_sources[0])
            .outerjoin(*with_sources[1:])
            .where(*where(filters.without("source")))
            .group_by(SourceEntry.source_id),
            "source",
        ),
    ]
    return found


def conditions_for(
    filters: Filters,
    now: datetime,
    dialect: str,
    *,
    status: bool = True,
    search: bool = True,
    search_ids: list[int] | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE conditions on `Opportunity` for every filter (status and search may be left out)."""
    conditions = column_conditions(filters)
    conditions += id_conditions(
        filters, dialect, Opportunity.id, search=search, search_ids=search_ids
    )
    if status:
        conditions += _status_conditions(filters, now)
    return conditions


def column_conditions(filters: Filters) -> list[ColumnElement[bool]]:
    """The filters that test the opportunity's own columns."""
    conditions: list[ColumnElement[bool]] = [Opportunity.status == "published"]
    if filters.kinds:
        conditions.append(Opportunity.kind.in_(filters.kinds))
    if filters.funding:
        conditions.append(or_(*[FUNDING_COLUMNS[name] == true() for name in filters.funding]))
    if filters.online is not None:
        conditions.append(Opportunity.is_online == (true() if filters.online else false()))
    if filters.languages:
        conditions.append(
            or_(
                Opportunity.language.in_(filters.languages),
                *[Opportunity.language.like(f"{code}-%") for code in filters.languages],
            )
        )
    return conditions


def id_conditions(
    filters: Filters, dialect: str, key, *, search: bool = True, search_ids: list[int] | None = None
) -> list[ColumnElement[bool]]:
    """The filters answered by a set of opportunity ids (search, places, sources), on `key`.

    Each set is an uncorrelated subquery, so the database builds it once per query.
    """
    conditions: list[ColumnElement[bool]] = []
    words = search_words(filters.q) if search else ()
    if words and search_ids is not None:
        conditions.append(in_known_hits(key, search_ids, dialect))
    elif words:
        hits = search_hits(words, dialect, ranked=False)
        conditions.append(key.in_(select(hits.c.opportunity_id)))
    if filters.countries:
        conditions.append(key.in_(_in_countries(filters.countries)))
    if filters.regions:
        codes = sorted({code for region in filters.regions for code in REGIONS[region]})
        conditions.append(key.in_(_in_countries(codes)))
    if filters.sources:
        entry = aliased(SourceEntry)
        conditions.append(
            key.in_(select(entry.opportunity_id).where(entry.source_id.in_(filters.sources)))
        )
    return conditions


def similar_open(kind: str, regions: tuple[str, ...]) -> Filters:
    """Filters for "Missed it? These are still open": the same kind, in the same region."""
    return Filters(kinds=(kind,), regions=regions)


def _is_open(now: datetime) -> ColumnElement[bool]:
    """A deadline still ahead, or none stated at all."""
    return or_(Opportunity.closes_at > now, Opportunity.closes_at.is_(None))


def _status_conditions(filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    if filters.status == "past":
        return [Opportunity.closes_at <= now]
    conditions = []
    if filters.closing_days is not None:
        conditions.append(Opportunity.closes_at > now)
        conditions.append(
            _has_deadline(after=now, until=now + timedelta(days=filters.closing_days))
        )
    else:
        conditions.append(_is_open(now))
    if filters.status == "rolling":
        conditions.append(Opportunity.is_rolling == true())
    return conditions


def _deadline_walk(
    filters: Filters, now: datetime, dialect: str, after: tuple[Any, int] | None, limit: int
) -> Select:
    """Walk deadlines ahead of `now` in order, keeping each opportunity's soonest one.

    The opportunity's filters sit in an EXISTS rather than a join, so the database reads
    deadlines in index order and stops after `limit` rows, instead of sorting every match.
    """
    other = aliased(Deadline)
    conditions = [Deadline.due_at > now]
    if filters.closing_days is not None:
        conditions.append(Deadline.due_at <= now + timedelta(days=filters.closing_days))
    # no other deadline of the same opportunity is still ahead and comes sooner
    conditions.append(
        ~select(other.id)
        .where(
            other.opportunity_id == Deadline.opportunity_id,
            other.due_at > now,
            or_(
                other.due_at < Deadline.due_at,
                and_(other.due_at == Deadline.due_at, other.id < Deadline.id),
            ),
        )
        .exists()
    )
    # On SQLite `+ 0` keeps the planner from driving the walk from an id set instead of the
    # due_at index; PostgreSQL weighs both ways well and is left free to choose.
    key = Deadline.opportunity_id + 0 if dialect == "sqlite" else Deadline.opportunity_id
    conditions += id_conditions(filters, dialect, key)
    matching = column_conditions(filters)
    if filters.status == "rolling":
        matching.append(Opportunity.is_rolling == true())
    conditions.append(
        select(Opportunity.id)
        .where(Opportunity.id == Deadline.opportunity_id, *matching)
        .correlate(Deadline)
        .exists()
    )
    if after is not None:
        conditions.append(_after(Deadline.due_at, Deadline.opportunity_id, after, False))
    return (
        select(Deadline.opportunity_id, Deadline.due_at)
        .where(*conditions)
        .order_by(Deadline.due_at, Deadline.opportunity_id)
        .limit(limit)
    )


def _after(key, id_column, after: tuple[Any, int], descending: bool) -> ColumnElement[bool]:
    value, last_id = after
    if descending:
        return or_(key < value, and_(key == value, id_column < last_id))
    return or_(key > value, and_(key == value, id_column > last_id))


def _has_deadline(
    after: datetime | None = None, until: datetime | None = None
) -> ColumnElement[bool]:
    deadline = aliased(Deadline)
    query = select(deadline.id).where(deadline.opportunity_id == Opportunity.id)
    if after is not None:
        query = query.where(deadline.due_at > after)
    if until is not None:
        query = query.where(deadline.due_at <= until)
    return query.correlate(Opportunity).exists()


def _in_countries(codes) -> Select:
    country = aliased(OpportunityCountry)
    return select(country.opportunity_id).where(country.country_code.in_(list(codes)))


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
