"""Managing feed sources: add (with the address checked), list, pause, resume, remove.

The `feeds …` commands are thin wrappers over these functions; each commits its change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from directory.models import Opportunity, Source, SourceEntry

from .fetch import FetchError, RefusedAddress, Resolver, check_url, resolve
from .poll import default_name
from .schedule import is_stale


class SourceError(ValueError):
    """An operator's request that cannot be done; the message says why."""


@dataclass(frozen=True)
class SourceRow:
    """One source as `feeds list` shows it."""

    id: int
    name: str
    url: str | None
    kind: str
    status: str
    is_stale: bool
    """Active, but no successful fetch for three days."""
    fetch_every_minutes: int
    last_fetched_at: datetime | None
    last_succeeded_at: datetime | None
    next_fetch_at: datetime | None
    consecutive_errors: int
    last_error: str | None
    last_warning: str | None
    items: int
    """How many of its entries are stored, counting those merged with another source's."""

    def as_json(self) -> dict[str, Any]:
        """The row with instants as ISO 8601 text."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class Removal:
    """What removing a source took away and what it left listed."""

    entries: int
    opportunities_deleted: int
    opportunities_kept: int


def add_source(
    session: Session,
    url: str,
    *,
    name: str | None = None,
    every_minutes: int = 60,
    allow_private: bool = False,
    resolver: Resolver = resolve,
) -> Source:
    """Add a feed to poll, first at the next poll; refuses other schemes, private hosts and repeats."""
    url = url.strip()
    try:
        check_url(url, allow_private=allow_private, resolver=resolver)
    except RefusedAddress as error:
        raise SourceError(
            f"{error} (feeds are fetched from public addresses only; "
            "FEEDS_ALLOW_PRIVATE_ADDRESSES=true allows private ones, e.g. on an intranet)"
        ) from None
    except FetchError as error:
        raise SourceError(str(error)) from None
    existing = session.scalar(select(Source).where(Source.url == url))
    if existing:
        raise SourceError(f"{url} is already source #{existing.id} ({existing.name})")
    source = Source(
        name=(name or default_name(url))[:200],
        url=url,
        kind="feed",
        status="active",
        fetch_every_minutes=every_minutes,
    )
    session.add(source)
    session.commit()
    return source


def list_sources(session: Session, now: datetime) -> list[SourceRow]:
    """Every source with its state and how many of its entries are stored."""
    items = dict(
        session.execute(
            select(SourceEntry.source_id, func.count()).group_by(SourceEntry.source_id)
        ).all()
    )
    return [
        SourceRow(
            id=s.id,
            name=s.name,
            url=s.url,
            kind=s.kind,
            status=s.status,
            is_stale=s.kind == "feed"
            and is_stale(s.status, s.last_succeeded_at, s.created_at, now),
            fetch_every_minutes=s.fetch_every_minutes,
            last_fetched_at=s.last_fetched_at,
            last_succeeded_at=s.last_succeeded_at,
            next_fetch_at=s.next_fetch_at,
            consecutive_errors=s.consecutive_errors,
            last_error=s.last_error,
            last_warning=s.last_warning,
            items=items.get(s.id, 0),
        )
        for s in session.scalars(select(Source).order_by(Source.id))
    ]


def get_sources(session: Session, ids: Sequence[int]) -> list[Source]:
    """The sources with these ids, in the order given; SourceError naming any missing."""
    found = {s.id: s for s in session.scalars(select(Source).where(Source.id.in_(ids)))}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise SourceError(f"no source with id {', '.join(missing)}")
    return [found[i] for i in ids]


def pause_source(session: Session, source_id: int) -> Source:
    """Stop polling a source until it is resumed; what it listed stays listed."""
    (source,) = get_sources(session, [source_id])
    source.status = "paused"
    session.commit()
    return source


def resume_source(session: Session, source_id: int) -> Source:
    """Poll a paused or gone source again, at the next poll, with its error count reset."""
    (source,) = get_sources(session, [source_id])
    if source.kind != "feed":
        raise SourceError(f"source #{source_id} is a {source.kind} source, not a feed")
    source.status = "active"
    source.consecutive_errors = 0
    source.next_fetch_at = None
    session.commit()
    return source


def remove_source(session: Session, source_id: int, *, purge: bool = False) -> Removal:
    """Forget a source. Its opportunities stay listed, unless `purge`: then those that no
    other source lists are deleted too."""
    (source,) = get_sources(session, [source_id])
    listed_here = set(
        session.scalars(
            select(SourceEntry.opportunity_id).where(SourceEntry.source_id == source_id)
        )
    )
    listed_elsewhere = set(
        session.scalars(
            select(SourceEntry.opportunity_id).where(
                SourceEntry.source_id != source_id,
                SourceEntry.opportunity_id.in_(listed_here),
            )
        )
    )
    entries = session.execute(
        delete(SourceEntry).where(SourceEntry.source_id == source_id)
    ).rowcount
    doomed = listed_here - listed_elsewhere if purge else set()
    if doomed:
        session.execute(delete(Opportunity).where(Opportunity.id.in_(doomed)))
    session.delete(source)
    session.commit()
    session.expire_all()
    return Removal(
        entries=entries,
        opportunities_deleted=len(doomed),
        opportunities_kept=len(listed_here) - len(doomed),
    )
