"""The one step that writes feed entries to the database: insert, update, or merge.

Deciding is separate from writing: `plan_entries` looks only at data (what the feed holds,
what we stored before) and says what to do with each entry, and `same_opportunity` says
whether a new entry is another source's listing of an opportunity already stored;
`store_entries` carries the decisions out in the caller's session and leaves the commit to
the caller (one commit per source). Nothing is ever deleted because it left a feed.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from enum import Enum
from urllib.parse import urlsplit

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from directory.models import Deadline, Opportunity, OpportunityCountry, Source, SourceEntry

from .closing import closing_instant
from .extract import extract, extract_entry
from .types import Entry, Extraction

log = logging.getLogger(__name__)

Extractor = Callable[..., Extraction]

MERGE_WINDOW = timedelta(days=3)
"""Two listings with near-identical titles from one organiser are one opportunity when
published this close together."""
TITLE_SIMILARITY = 0.9
"""How alike two titles must be (difflib ratio of their normalised forms) to be one."""
SEEN_RESOLUTION = timedelta(days=1)
"""An unchanged entry's `last_seen_at` is rewritten at most this often, so a poll that finds
one new entry among a hundred writes one entry, not a hundred."""
MIN_TITLE_KEY_LENGTH = 10
"""Titles shorter than this ("News", "Jobs") say too little to merge on."""

_NUMBER = re.compile(r"\d+")
_NOT_WORD = re.compile(r"[\W_]+")


class Action(Enum):
    """What to do with one entry of a feed."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class IngestReport:
    """How many entries of one poll were new, changed or already known.

    `merged` counts new entries stored as another source of an opportunity already listed;
    `new` counts only the entries that became new opportunities.
    """

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    merged: int = 0


@dataclass(frozen=True)
class Candidate:
    """A stored opportunity that a new entry might be another listing of."""

    opportunity_id: int
    link: str | None
    title: str
    organiser: str | None
    published_at: datetime | None
    source_ids: frozenset[int]
    """The sources that already list it."""


def plan_entries(
    entries: Sequence[Entry], stored_hashes: dict[str, str]
) -> list[tuple[Action, Entry]]:
    """Pair each entry with its action, given the content hash stored for each known entry key."""
    plan = []
    for entry in entries:
        known = stored_hashes.get(entry.key)
        if known is None:
            plan.append((Action.NEW, entry))
        elif known != entry.content_hash:
            plan.append((Action.CHANGED, entry))
        else:
            plan.append((Action.UNCHANGED, entry))
    return plan


def same_opportunity(
    entry: Entry,
    organiser: str | None,
    candidates: Sequence[Candidate],
    *,
    source_id: int,
    repeated_links: Collection[str] = (),
    repeated_titles: Collection[str] = (),
) -> int | None:
    """The stored opportunity that `entry` (from source `source_id`) is another listing of.

    One opportunity reached through two sources: the same canonical link, or a near-identical
    title from the same organiser published within MERGE_WINDOW. A signal counts only when it
    points at exactly one stored opportunity and is not repeated within the entry's own feed
    (a site's home page, or "Academic Office closure" posted for three faculties, identify
    nothing). A source's own entries are never merged with each other: its ids are its own.
    """
    if entry.link and _is_distinctive_link(entry.link) and entry.link not in repeated_links:
        found = _only([c for c in candidates if c.link == entry.link])
        if found and source_id not in found.source_ids:
            return found.opportunity_id
    key = title_key(entry.title)
    if (
        len(key) >= MIN_TITLE_KEY_LENGTH
        and key not in repeated_titles
        and organiser
        and entry.published_at
    ):
        found = _only(
            [
                c
                for c in candidates
                if c.organiser
                and _organiser_key(c.organiser) == _organiser_key(organiser)
                and c.published_at
                and abs(c.published_at - entry.published_at) <= MERGE_WINDOW
                and titles_match(key, title_key(c.title))
            ]
        )
        if found and source_id not in found.source_ids:
            return found.opportunity_id
    return None


@functools.lru_cache(maxsize=4096)
def title_key(title: str) -> str:
    """A title folded for comparison: no case, accents, punctuation or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", title.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare).split())


def titles_match(first_key: str, second_key: str) -> bool:
    """Near-identical folded titles with the same numbers ("2026" is not "2027")."""
    if first_key == second_key:
        return True
    if _NUMBER.findall(first_key) != _NUMBER.findall(second_key):
        return False
    return SequenceMatcher(None, first_key, second_key).ratio() >= TITLE_SIMILARITY


def store_entries(
    session: Session,
    source: Source,
    entries: Sequence[Entry],
    now: datetime,
    *,
    extractor: Extractor = extract,
) -> IngestReport:
    """Write one poll's entries of `source`; only new or changed entries are extracted.

    A new entry that another source already listed becomes a second source of that
    opportunity. The first source's listing stays its text; a later one only fills what the
    first left empty (see `supplement_entry`).
    """
    stored = {
        row.entry_key: row
        for row in session.scalars(
            select(SourceEntry).where(
                SourceEntry.source_id == source.id,
                SourceEntry.entry_key.in_([e.key for e in entries]),
            )
        )
    }
    plan = plan_entries(entries, {k: r.content_hash for k, r in stored.items()})
    new_entries = [entry for action, entry in plan if action is Action.NEW]
    candidates = _candidates(session, new_entries, source) if new_entries else []
    links = Counter(e.link for e in entries if e.link)
    titles = Counter(title_key(e.title) for e in entries)
    repeated_links = {link for link, count in links.items() if count > 1}
    repeated_titles = {key for key, count in titles.items() if count > 1}
    counts: Counter[str] = Counter()
    new_listings: list[tuple[Entry, Extraction]] = []
    for action, entry in plan:
        if action is Action.UNCHANGED:
            counts["unchanged"] += 1
            row = stored[entry.key]
            if now - row.last_seen_at >= SEEN_RESOLUTION:
                row.last_seen_at = now
            continue
        extraction = extract_entry(entry, extractor)
        if action is Action.CHANGED:
            counts["changed"] += 1
            row = stored[entry.key]
            row.content_hash, row.link, row.last_seen_at = entry.content_hash, entry.link, now
            if _is_first_listing(row):
                apply_entry(row.opportunity, entry, extraction, source=source)
            else:
                supplement_entry(row.opportunity, entry, extraction)
            continue
        match = same_opportunity(
            entry,
            entry.author or source.name,
            candidates,
            source_id=source.id,
            repeated_links=repeated_links,
            repeated_titles=repeated_titles,
        )
        if match is None:
            counts["new"] += 1
            new_listings.append((entry, extraction))
            continue
        counts["merged"] += 1
        opportunity = session.get(Opportunity, match)
        supplement_entry(opportunity, entry, extraction)
        candidates = [
            replace(c, source_ids=c.source_ids | {source.id}) if c.opportunity_id == match else c
            for c in candidates
        ]
        log.debug(
            "%s: entry %r is another listing of opportunity %s", source.name, entry.key, match
        )
        session.add(
            SourceEntry(
                source=source,
                opportunity=opportunity,
                entry_key=entry.key,
                link=entry.link,
                content_hash=entry.content_hash,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    _insert_new(session, source, new_listings, now)
    return IngestReport(**counts)


def apply_entry(
    opportunity: Opportunity, entry: Entry, extraction: Extraction, *, source: Source
) -> None:
    """Copy an entry and what was extracted from it onto its opportunity.

    What a moderator corrected (kind, place, deadlines) is left as the moderator set it.
    """
    values = listing_values(entry, extraction, organiser=opportunity.organiser or source.name)
    values["language"] = values["language"] or opportunity.language
    if opportunity.is_corrected:
        values = {k: v for k, v in values.items() if k not in CORRECTABLE}
    for name, value in values.items():
        setattr(opportunity, name, value)
    if not opportunity.is_corrected:
        opportunity.countries = [OpportunityCountry(**v) for v in _country_values(extraction)]
        opportunity.deadlines = [Deadline(**v) for v in _deadline_values(extraction)]


CORRECTABLE = frozenset({"kind", "is_online", "is_rolling"})
"""Columns (besides countries and deadlines) that a moderator's correction protects."""


def listing_values(entry: Entry, extraction: Extraction, *, organiser: str | None) -> dict:
    """An opportunity's columns as one listing and its extraction give them."""
    funding = extraction.funding
    return {
        "title": entry.title,
        "link": entry.link,
        "organiser": _fit(entry.author or organiser, 300),
        "summary_html": entry.summary_html,
        "summary_text": entry.summary_text,
        "published_at": entry.published_at,
        "language": _fit(extraction.language, 10),
        "event_start_on": extraction.event_start,
        "event_end_on": extraction.event_end,
        "offers_travel": funding.travel,
        "offers_accommodation": funding.accommodation,
        "offers_fees": funding.fees,
        "offers_stipend": funding.stipend,
        "funding_amount": funding.amount,
        "funding_currency": funding.currency,
        "kind": extraction.kind,
        "is_online": extraction.is_online,
        "is_rolling": extraction.is_rolling,
    }


def supplement_entry(opportunity: Opportunity, entry: Entry, extraction: Extraction) -> None:
    """Fill what an opportunity's first listing left empty from another source's listing.

    The first listing keeps its title, text and what was read from it; a moderator's
    corrections are left alone as always.
    """
    if not opportunity.summary_text and entry.summary_text:
        opportunity.summary_html = entry.summary_html
        opportunity.summary_text = entry.summary_text
    opportunity.link = opportunity.link or entry.link
    opportunity.published_at = opportunity.published_at or entry.published_at
    if opportunity.event_start_on is None and extraction.event_start:
        opportunity.event_start_on = extraction.event_start
        opportunity.event_end_on = extraction.event_end
    if opportunity.is_corrected:
        return
    if opportunity.kind == "other":
        opportunity.kind = extraction.kind
    if not opportunity.countries and extraction.countries:
        opportunity.countries = [OpportunityCountry(**v) for v in _country_values(extraction)]
    if not opportunity.deadlines and extraction.deadlines:
        opportunity.deadlines = [Deadline(**v) for v in _deadline_values(extraction)]
        opportunity.is_rolling = extraction.is_rolling


def _country_values(extraction: Extraction) -> list[dict]:
    return [{"country_code": code, "position": i} for i, code in enumerate(extraction.countries)]


def _deadline_values(extraction: Extraction) -> list[dict]:
    return [
        {
            "kind": found.kind,
            "due_on": found.on,
            "due_time": found.at,
            "time_zone": found.tz,
            "due_at": closing_instant(found.on, found.at, found.tz),
            "evidence": found.evidence,
            "confidence": found.confidence,
            "origin": "extracted",
        }
        for found in extraction.deadlines
    ]


def _insert_new(
    session: Session,
    source: Source,
    listings: Sequence[tuple[Entry, Extraction]],
    now: datetime,
) -> None:
    """Insert new opportunities with their entries, deadlines and countries, a few
    statements for the lot: the ORM's object-by-object work would cost more than the parse."""
    if not listings:
        return
    rows = [
        {
            **listing_values(entry, extraction, organiser=source.name),
            "first_seen_at": now,
            "updated_at": now,
            # the ORM's flush hook keeps `closes_at`; a bulk insert must set it itself
            "closes_at": max((d["due_at"] for d in _deadline_values(extraction)), default=None),
        }
        for entry, extraction in listings
    ]
    ids = session.scalars(
        insert(Opportunity).returning(Opportunity.id, sort_by_parameter_order=True), rows
    ).all()
    session.execute(
        insert(SourceEntry),
        [
            {
                "source_id": source.id,
                "opportunity_id": opportunity_id,
                "entry_key": entry.key,
                "link": entry.link,
                "content_hash": entry.content_hash,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for opportunity_id, (entry, _) in zip(ids, listings, strict=True)
        ],
    )
    deadlines = [
        {**values, "opportunity_id": opportunity_id}
        for opportunity_id, (_, extraction) in zip(ids, listings, strict=True)
        for values in _deadline_values(extraction)
    ]
    if deadlines:
        session.execute(insert(Deadline), deadlines)
    countries = [
        {**values, "opportunity_id": opportunity_id}
        for opportunity_id, (_, extraction) in zip(ids, listings, strict=True)
        for values in _country_values(extraction)
    ]
    if countries:
        session.execute(insert(OpportunityCountry), countries)


def _candidates(session: Session, entries: Sequence[Entry], source: Source) -> list[Candidate]:
    """Stored opportunities sharing a link with `entries`, or their organiser and dates."""
    conditions = []
    links = {e.link for e in entries if e.link and _is_distinctive_link(e.link)}
    if links:
        conditions.append(Opportunity.link.in_(links))
    dated = [e.published_at for e in entries if e.published_at]
    organisers = {(e.author or source.name).lower() for e in entries}
    if dated:
        conditions.append(
            and_(
                func.lower(Opportunity.organiser).in_(organisers),
                Opportunity.published_at.between(
                    min(dated) - MERGE_WINDOW, max(dated) + MERGE_WINDOW
                ),
            )
        )
    if not conditions:
        return []
    rows = session.execute(
        select(
            Opportunity.id,
            Opportunity.link,
            Opportunity.title,
            Opportunity.organiser,
            Opportunity.published_at,
        ).where(or_(*conditions))
    ).all()
    if not rows:
        return []
    listed_by: dict[int, set[int]] = {row.id: set() for row in rows}
    for opportunity_id, source_id in session.execute(
        select(SourceEntry.opportunity_id, SourceEntry.source_id).where(
            SourceEntry.opportunity_id.in_(listed_by)
        )
    ):
        listed_by[opportunity_id].add(source_id)
    return [
        Candidate(
            row.id,
            row.link,
            row.title,
            row.organiser,
            row.published_at,
            frozenset(listed_by[row.id]),
        )
        for row in rows
    ]


def _is_first_listing(row: SourceEntry) -> bool:
    """Whether this entry is the opportunity's first listing, whose text the opportunity shows."""
    return min(e.id for e in row.opportunity.entries if e.id is not None) == row.id


def _is_distinctive_link(link: str) -> bool:
    """A link to a page deeper than a site's home page can identify one listing."""
    parts = urlsplit(link)
    return parts.path.strip("/") != "" or parts.query != ""


def _only(candidates: list[Candidate]) -> Candidate | None:
    return candidates[0] if len(candidates) == 1 else None


def _organiser_key(organiser: str) -> str:
    return " ".join(organiser.casefold().split())


def _fit(text: str | None, length: int) -> str | None:
    """Text cut to a column's length, so one long field never fails a whole feed."""
    return text[:length] if text else text
