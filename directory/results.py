"""Running the list's queries: one page of results, where it ends, and counts per filter value.

Every surface (page, Atom, ICS, API) gets its opportunities from `find`, so they agree.
Pages continue with an opaque cursor: the sort keys of the last row, signed so that a
tampered or stale cursor is recognised (`BadCursor`) instead of paging somewhere odd.
Counts scan every match, so they are kept for a minute per filter set (`MinuteCache`).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from . import queries
from .filters import Filters, query_args
from .fulltext import search_hits, search_words
from .models import Deadline, Opportunity, Source, SourceEntry

PAGE_SIZE = 25
CURSOR_SALT = "openings.results.cursor"


class BadCursor(ValueError):
    """A cursor that was not made by us, or not for these filters."""


@dataclass(frozen=True)
class Result:
    """One opportunity of a list, with the deadline a list shows for it."""

    opportunity: Opportunity
    deadline: Deadline | None
    """Its next deadline still ahead; else its last one, now closed; None when it states none."""


@dataclass(frozen=True)
class Page:
    """One page of results and the cursor of the next page (None on the last page)."""

    results: list[Result]
    next_cursor: str | None


@dataclass(frozen=True)
class Counts:
    """How many opportunities match, and per facet value how many ticking it would give."""

    total: int
    facets: dict[str, dict[Any, int]] = field(default_factory=dict)


def find(
    session: Session,
    filters: Filters,
    now: datetime,
    *,
    secret_key: str,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """The page of results after `cursor` (the first page without one). Raises BadCursor."""
    dialect = session.get_bind().dialect.name
    plan = queries.segments(filters)
    start, after = 0, None
    if cursor:
        name, after = _decode(cursor, filters, secret_key)
        names = [segment.name for segment in plan]
        if name not in names:
            raise BadCursor("cursor for another sort")
        start = names.index(name)
    rows: list[tuple[queries.Segment, int, Any]] = []
    for segment in plan[start:]:
        wanted = limit + 1 - len(rows)
        query = queries.page_query(filters, now, dialect, segment, after, wanted)
        rows += [(segment, opportunity_id, key) for opportunity_id, key in session.execute(query)]
        after = None
        if len(rows) > limit:
            break
    next_cursor = None
    if len(rows) > limit:
        segment, last_id, last_key = rows[limit - 1]
        next_cursor = _encode(filters, segment.name, last_key, last_id, secret_key)
    ids = [opportunity_id for _, opportunity_id, _ in rows[:limit]]
    return Page(
        results=[Result(o, shown_deadline(o, now)) for o in load(session, ids)],
        next_cursor=next_cursor,
    )


def load(session: Session, ids: list[int]) -> list[Opportunity]:
    """The opportunities with these ids, in this order, with what a list shows of them."""
    if not ids:
        return []
    found = session.scalars(
        select(Opportunity)
        .where(Opportunity.id.in_(ids))
        .options(
            selectinload(Opportunity.deadlines),
            selectinload(Opportunity.countries),
            selectinload(Opportunity.entries).selectinload(SourceEntry.source),
        )
    ).all()
    by_id = {o.id: o for o in found}
    return [by_id[i] for i in ids if i in by_id]


def shown_deadline(opportunity: Opportunity, now: datetime) -> Deadline | None:
    """The deadline a list shows: the next one ahead, else the last one that closed."""
    deadlines = sorted(opportunity.deadlines, key=lambda d: (d.due_at, d.id or 0))
    ahead = [d for d in deadlines if d.due_at > now]
    if ahead:
        return ahead[0]
    return deadlines[-1] if deadlines else None


def count(session: Session, filters: Filters, now: datetime) -> int:
    """How many opportunities match the filters."""
    dialect = session.get_bind().dialect.name
    return session.scalar(queries.count_query(filters, now, dialect)) or 0


def counts(session: Session, filters: Filters, now: datetime) -> Counts:
    """The total and the per-value counts of every facet."""
    dialect = session.get_bind().dialect.name
    facets: dict[str, dict[Any, int]] = {}
    search_ids = None
    words = search_words(filters.q)
    if words:
        hits = search_hits(words, dialect, ranked=False)
        search_ids = list(session.scalars(select(hits.c.opportunity_id)))
    for facet_query in queries.facet_queries(filters, now, dialect, search_ids=search_ids):
        result = session.execute(facet_query.query)
        if facet_query.facet is None:
            for label, n in result.mappings().one().items():
                facet, value = label.split(":", 1)
                facets.setdefault(facet, {})[value] = int(n or 0)
            continue
        values = facets.setdefault(facet_query.facet, {})
        for value, n in result:
            if value is None:
                continue
            if facet_query.facet == "lang":
                value = value.split("-")[0].lower()
            values[value] = values.get(value, 0) + int(n)
    return Counts(total=_total(session, filters, now, facets), facets=facets)


def _total(session: Session, filters: Filters, now: datetime, facets: dict) -> int:
    """The number of matches, read off the status or closing counts when they hold it already."""
    if filters.closing_days is None:
        return facets["status"][filters.status]
    if str(filters.closing_days) in facets["closing"]:
        return facets["closing"][str(filters.closing_days)]
    return count(session, filters, now)


def data_version(session: Session) -> tuple[datetime | None, int | None]:
    """When anything listed last changed, and the newest id (two index lookups): part of cache keys.

    An edit with an older clock, or a deletion, goes unseen here; cache keys also carry the
    minute, so such a change shows within a minute.
    """
    newest = select(func.max(Opportunity.id)).scalar_subquery()
    changed = select(func.max(Opportunity.updated_at)).scalar_subquery()
    row = session.execute(select(changed, newest)).one()
    return row[0], row[1]


def source_names(session: Session) -> dict[int, str]:
    """Every source's name by id, for the source filter."""
    return dict(session.execute(select(Source.id, Source.name).order_by(Source.name)).all())


class MinuteCache:
    """A small least-recently-used store, kept per process, for what is costly to recompute.

    Callers put the minute and the data version in each key (see `minute_key`), so an entry
    is never used after the data changed or a minute passed; old entries simply fall out.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The entry for `key`, computed (outside the lock) when it is missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value


def minute_key(session: Session, now: datetime, *parts: Hashable) -> tuple:
    """A cache key valid for this minute and this version of the data."""
    return (*parts, now.replace(second=0, microsecond=0), data_version(session))


def cached_counts(cache: MinuteCache, session: Session, filters: Filters, now: datetime) -> Counts:
    """`counts`, from `cache` when the same filters were counted this minute on the same data."""
    return cache.get(
        minute_key(session, now, "counts", filters), lambda: counts(session, filters, now)
    )


def cached_count(cache: MinuteCache, session: Session, filters: Filters, now: datetime) -> int:
    """`count`, from `cache` when the same filters were counted this minute on the same data."""
    return cache.get(
        minute_key(session, now, "count", filters), lambda: count(session, filters, now)
    )


def _filters_digest(filters: Filters) -> str:
    return hashlib.sha256(repr(query_args(filters)).encode()).hexdigest()[:10]


def _encode(filters: Filters, segment: str, key: Any, last_id: int, secret_key: str) -> str:
    value = key.isoformat() if isinstance(key, datetime) else float(key)
    payload = [1, _filters_digest(filters), segment, value, last_id]
    return URLSafeSerializer(secret_key, salt=CURSOR_SALT).dumps(payload)


def _decode(cursor: str, filters: Filters, secret_key: str) -> tuple[str, tuple[Any, int]]:
    if len(cursor) > 300:
        raise BadCursor("too long")
    try:
        payload = URLSafeSerializer(secret_key, salt=CURSOR_SALT).loads(cursor)
    except (BadSignature, UnicodeError, ValueError) as error:
        raise BadCursor("not one of ours") from error
    if not (isinstance(payload, list) and len(payload) == 5 and payload[0] == 1):
        raise BadCursor("unknown shape")
    _, digest, segment, value, last_id = payload
    if digest != _filters_digest(filters):
        raise BadCursor("made for other filters")
    if not isinstance(last_id, int) or not isinstance(segment, str):
        raise BadCursor("unknown shape")
    if isinstance(value, str):
        try:
            key: Any = datetime.fromisoformat(value)
        except ValueError as error:
            raise BadCursor("bad key") from error
        if key.tzinfo is None:
            raise BadCursor("bad key")
    elif isinstance(value, float):
        key = value
    else:
        raise BadCursor("bad key")
    return segment, (key, last_id)
