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

from .filters import CLOSING_CHOICES, Filters
from .fulltext import search_hits, search_words
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
    if segment in (AHEAD, CLOSED):
        return _deadline_walk(filters, now, dialect, segment, after, limit)
    if segment is RELEVANCE:
        hits = search_hits(search_words(filters.q), dialect)
        key: Any = hits.c.rank
        query = select(Opportunity.id, key).join(hits, hits.c.opportunity_id == Opportunity.id)
        conditions = conditions_for(filters, now, dialect, search=False)
    else:
        key = Opportunity.first_seen_at
        query = select(Opportunity.id, key)
        conditions = conditions_for(filters, now, dialect)
        if segment is UNDATED:
            conditions.append(~_has_deadline())
    if after is not None:
        conditions.append(_after(key, Opportunity.id, after, segment.descending))
    order = (key.desc(), Opportunity.id.desc()) if segment.descending else (key, Opportunity.id)
    return query.where(*conditions).order_by(*order).limit(limit)


def count_query(filters: Filters, now: datetime, dialect: str) -> Select:
    """How many opportunities match."""
    return (
        select(func.count()).select_from(Opportunity).where(*conditions_for(filters, now, dialect))
    )


def facet_queries(filters: Filters, now: datetime, dialect: str) -> dict[str, Select]:
    """For each facet, a query counting what each of its values would give with the other filters.

    Each facet's own filter is left out of its count (choosing another kind widens the list,
    it does not narrow it), so the counts read as "tick this and you get N".
    """

    def where(facet: str, **options: bool) -> list[ColumnElement[bool]]:
        return conditions_for(filters.without(facet), now, dialect, **options)

    region_of_country = case(
        *[
            (OpportunityCountry.country_code.in_(codes), literal(region))
            for region, codes in REGIONS.items()
        ],
        else_=literal("other"),
    )
    future = _has_deadline(after=now)
    any_deadline = _has_deadline()
    is_open = or_(future, ~any_deadline)
    status_base = conditions_for(filters.without("status"), now, dialect, status=False)
    return {
        "kind": select(Opportunity.kind, func.count())
        .where(*where("kind"))
        .group_by(Opportunity.kind),
        "country": select(OpportunityCountry.country_code, func.count())
        .join(Opportunity, Opportunity.id == OpportunityCountry.opportunity_id)
        .where(*where("country"))
        .group_by(OpportunityCountry.country_code),
        "region": select(region_of_country, func.count(distinct(OpportunityCountry.opportunity_id)))
        .join(Opportunity, Opportunity.id == OpportunityCountry.opportunity_id)
        .where(*where("region"))
        .group_by(region_of_country),
        "lang": select(Opportunity.language, func.count())
        .where(*where("lang"))
        .group_by(Opportunity.language),
        "source": select(SourceEntry.source_id, func.count(distinct(SourceEntry.opportunity_id)))
        .join(Opportunity, Opportunity.id == SourceEntry.opportunity_id)
        .where(*where("source"))
        .group_by(SourceEntry.source_id),
        "online": select(Opportunity.is_online, func.count())
        .where(*where("online"))
        .group_by(Opportunity.is_online),
        "funding": select(
            *[_count_if(column).label(name) for name, column in FUNDING_COLUMNS.items()]
        ).where(*where("funding")),
        "status": select(
            _count_if(is_open).label("open"),
            _count_if(and_(Opportunity.is_rolling, is_open)).label("rolling"),
            _count_if(and_(any_deadline, ~future)).label("past"),
        ).where(*status_base),
        "closing": select(
            *[
                _count_if(_has_deadline(after=now, until=now + timedelta(days=days))).label(
                    str(days)
                )
                for days in CLOSING_CHOICES
            ]
        ).where(*where("closing")),
    }


def conditions_for(
    filters: Filters, now: datetime, dialect: str, *, status: bool = True, search: bool = True
) -> list[ColumnElement[bool]]:
    """WHERE conditions on `Opportunity` for every filter (status and search may be left out)."""
    conditions: list[ColumnElement[bool]] = [Opportunity.status == "published"]
    if search and filters.q:
        words = search_words(filters.q)
        if words:
            hits = search_hits(words, dialect)
            conditions.append(Opportunity.id.in_(select(hits.c.opportunity_id)))
    if filters.kinds:
        conditions.append(Opportunity.kind.in_(filters.kinds))
    if filters.countries:
        conditions.append(_in_countries(filters.countries))
    if filters.regions:
        codes = sorted({code for region in filters.regions for code in REGIONS[region]})
        conditions.append(_in_countries(codes))
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
    if filters.sources:
        entry = aliased(SourceEntry)
        conditions.append(
            select(entry.id)
            .where(entry.opportunity_id == Opportunity.id, entry.source_id.in_(filters.sources))
            .correlate(Opportunity)
            .exists()
        )
    if status:
        conditions += _status_conditions(filters, now)
    return conditions


def similar_open(kind: str, regions: tuple[str, ...]) -> Filters:
    """Filters for "Missed it? These are still open": the same kind, in the same region."""
    return Filters(kinds=(kind,), regions=regions)


def _status_conditions(filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    future = _has_deadline(after=now)
    if filters.status == "past":
        return [_has_deadline(), ~future]
    conditions = []
    if filters.closing_days is not None:
        conditions.append(
            _has_deadline(after=now, until=now + timedelta(days=filters.closing_days))
        )
    else:
        conditions.append(or_(future, ~_has_deadline()))
    if filters.status == "rolling":
        conditions.append(Opportunity.is_rolling == true())
    return conditions


def _deadline_walk(
    filters: Filters,
    now: datetime,
    dialect: str,
    segment: Segment,
    after: tuple[Any, int] | None,
    limit: int,
) -> Select:
    """Walk deadlines in order, keeping one per opportunity: its next one ahead (`AHEAD`), or
    its last one when every deadline has passed (`CLOSED`)."""
    other = aliased(Deadline)
    if segment is AHEAD:
        in_window = [Deadline.due_at > now]
        if filters.closing_days is not None:
            in_window.append(Deadline.due_at <= now + timedelta(days=filters.closing_days))
        # no other deadline of the same opportunity comes sooner and is still ahead
        first = (
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
        conditions = [*in_window, first]
        if filters.status == "rolling":
            conditions.append(Opportunity.is_rolling == true())
    else:
        # the opportunity's last deadline, and it has passed
        last = (
            ~select(other.id)
            .where(
                other.opportunity_id == Deadline.opportunity_id,
                or_(
                    other.due_at > Deadline.due_at,
                    and_(other.due_at == Deadline.due_at, other.id > Deadline.id),
                ),
            )
            .exists()
        )
        conditions = [Deadline.due_at <= now, last]
    conditions += conditions_for(filters, now, dialect, status=False)
    if after is not None:
        conditions.append(
            _after(Deadline.due_at, Deadline.opportunity_id, after, segment.descending)
        )
    order = (
        (Deadline.due_at.desc(), Deadline.opportunity_id.desc())
        if segment.descending
        else (Deadline.due_at, Deadline.opportunity_id)
    )
    return (
        select(Deadline.opportunity_id, Deadline.due_at)
        .join(Opportunity, Opportunity.id == Deadline.opportunity_id)
        .where(*conditions)
        .order_by(*order)
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


def _in_countries(codes) -> ColumnElement[bool]:
    country = aliased(OpportunityCountry)
    return (
        select(country.opportunity_id)
        .where(country.opportunity_id == Opportunity.id, country.country_code.in_(list(codes)))
        .correlate(Opportunity)
        .exists()
    )


def _count_if(condition) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
