"""The one step that writes feed entries to the database: insert, update, or merge.

Deciding is separate from writing: `plan_entries` looks only at data (what the feed holds,
what we stored before) and says what to do with each entry; `store_entries` carries it out
in the caller's session and leaves the commit to the caller (one commit per source).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.models import Deadline, Opportunity, OpportunityCountry, Source, SourceEntry

from .closing import closing_instant
from .extract import extract
from .types import Entry, Extraction

log = logging.getLogger(__name__)

Extractor = Callable[..., Extraction]


class Action(Enum):
    """What to do with one entry of a feed."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class IngestReport:
    """How many entries of one poll were new, changed or already known."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0


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


def store_entries(
    session: Session,
    source: Source,
    entries: Sequence[Entry],
    now: datetime,
    *,
    extractor: Extractor = extract,
) -> IngestReport:
    """Write one poll's entries of `source`; only new or changed entries are extracted."""
    stored = {
        row.entry_key: row
        for row in session.scalars(
            select(SourceEntry).where(
                SourceEntry.source_id == source.id,
                SourceEntry.entry_key.in_([e.key for e in entries]),
            )
        )
    }
    counts = {action: 0 for action in Action}
    for action, entry in plan_entries(entries, {k: r.content_hash for k, r in stored.items()}):
        counts[action] += 1
        if action is Action.UNCHANGED:
            stored[entry.key].last_seen_at = now
            continue
        extraction = extractor(
            entry.title,
            entry.summary_text,
            published=entry.published_at,
            language=entry.language,
            link=entry.link,
        )
        if action is Action.NEW:
            opportunity = Opportunity(first_seen_at=now)
            session.add(opportunity)
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
        else:
            row = stored[entry.key]
            row.content_hash, row.link, row.last_seen_at = entry.content_hash, entry.link, now
            opportunity = row.opportunity
        apply_entry(opportunity, entry, extraction, source=source)
    return IngestReport(
        new=counts[Action.NEW], changed=counts[Action.CHANGED], unchanged=counts[Action.UNCHANGED]
    )


def apply_entry(
    opportunity: Opportunity, entry: Entry, extraction: Extraction, *, source: Source
) -> None:
    """Copy an entry and what was extracted from it onto its opportunity.

    What a moderator corrected (kind, place, deadlines) is left as the moderator set it.
    """
    opportunity.title = entry.title
    opportunity.link = entry.link
    opportunity.organiser = entry.author or opportunity.organiser or source.name
    opportunity.summary_html = entry.summary_html
    opportunity.summary_text = entry.summary_text
    opportunity.published_at = entry.published_at
    opportunity.language = extraction.language or opportunity.language
    opportunity.event_start_on = extraction.event_start
    opportunity.event_end_on = extraction.event_end
    funding = extraction.funding
    opportunity.offers_travel = funding.travel
    opportunity.offers_accommodation = funding.accommodation
    opportunity.offers_fees = funding.fees
    opportunity.offers_stipend = funding.stipend
    opportunity.funding_amount = funding.amount
    opportunity.funding_currency = funding.currency
    if opportunity.is_corrected:
        return
    opportunity.kind = extraction.kind
    opportunity.is_online = extraction.is_online
    opportunity.is_rolling = extraction.is_rolling
    opportunity.countries = [
        OpportunityCountry(country_code=code, position=i)
        for i, code in enumerate(extraction.countries)
    ]
    opportunity.deadlines = [
        Deadline(
            kind=found.kind,
            due_on=found.on,
            due_time=found.at,
            time_zone=found.tz,
            due_at=closing_instant(found.on, found.at, found.tz),
            evidence=found.evidence,
            confidence=found.confidence,
            origin="extracted",
        )
        for found in extraction.deadlines
    ]
