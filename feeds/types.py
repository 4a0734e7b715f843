"""The values that travel through ingestion: plain, frozen, and free of I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

DEADLINE_KINDS = ("application", "registration", "travel_support", "abstract", "other")
"""What a deadline closes: applying, registering, asking for travel support, sending an abstract."""

OPPORTUNITY_KINDS = (
    "event",
    "travel_grant",
    "fellowship",
    "grant",
    "call",
    "award",
    "job",
    "other",
)
"""What an opportunity is, in the words members filter by."""

FUNDING_KINDS = ("travel", "accommodation", "fees", "stipend")
"""What an opportunity may pay for."""

CONFIDENCES = ("certain", "likely")
"""`certain`: the phrase ties the date to a deadline word; `likely`: it does not, or is ambiguous."""


@dataclass(frozen=True)
class Entry:
    """One item of a feed, normalised and sanitised, before extraction."""

    key: str
    """Stable identity within its source: the guid, else the link, else a hash of title and date."""
    title: str
    link: str | None
    """The canonical link (tracking parameters removed), or None when the entry has none."""
    summary_html: str
    """The entry's content, sanitised to a small allow-list of tags."""
    summary_text: str
    """The same content as plain text, for search and extraction."""
    published_at: datetime | None
    """When the publisher says it was published (UTC), if it says."""
    author: str | None = None
    language: str | None = None
    """The feed's declared language (`en`, `es-ES`, …), when it declares one."""
    content_hash: str = ""
    """A hash of what extraction reads, so an unchanged entry is recognised and skipped."""


@dataclass(frozen=True)
class FoundDeadline:
    """A deadline as read from a listing's text (or typed by a partner or moderator)."""

    kind: str
    """One of DEADLINE_KINDS."""
    on: date
    """The calendar date as stated."""
    at: time | None = None
    """The time of day, when stated."""
    tz: str | None = None
    """The zone as stated and resolved: an IANA name, `AoE`, or a fixed offset such as `UTC+03:00`."""
    evidence: str = ""
    """The exact phrase the date came from."""
    confidence: str = "likely"
    """One of CONFIDENCES."""


@dataclass(frozen=True)
class Funding:
    """What an opportunity pays for, and how much when the listing says."""

    travel: bool = False
    accommodation: bool = False
    fees: bool = False
    stipend: bool = False
    amount: Decimal | None = None
    currency: str | None = None
    """ISO 4217 code of `amount`."""

    @property
    def offered(self) -> tuple[str, ...]:
        """The FUNDING_KINDS this opportunity offers, in their canonical order."""
        return tuple(k for k in FUNDING_KINDS if getattr(self, k))


@dataclass(frozen=True)
class Extraction:
    """Everything the extractor finds in one listing."""

    deadlines: tuple[FoundDeadline, ...] = ()
    is_rolling: bool = False
    """True when the listing says it has no fixed deadline ("rolling", "open until filled")."""
    event_start: date | None = None
    event_end: date | None = None
    kind: str = "other"
    countries: tuple[str, ...] = ()
    """ISO 3166-1 alpha-2 codes, in order of first mention."""
    is_online: bool = False
    funding: Funding = field(default_factory=Funding)
    language: str | None = None
    """ISO 639-1 code of the text's language (`en`, `es`, `fr`, `pt`, …), when it can be told."""


FETCH_OUTCOMES = ("fetched", "not_modified", "gone", "failed")
"""How a fetch ended: a body to parse, nothing new (304), 410 Gone, or an error."""


@dataclass(frozen=True)
class FetchResult:
    """What one conditional GET of a feed came to; expected failures are data, not exceptions."""

    outcome: str
    """One of FETCH_OUTCOMES."""
    url: str
    """The address the answer came from, after any redirects."""
    content: bytes = b""
    """The decoded body of a 200 answer, at most the size cap."""
    headers: dict[str, str] = field(default_factory=dict)
    """The answer's headers that parsing needs (content type, location, language)."""
    status: int | None = None
    """The last HTTP status seen; None when no answer came."""
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None
    """The feed's new address, when every redirect up to it was permanent (301/308)."""
    retry_after_seconds: float | None = None
    """How long the server asked us to wait (`Retry-After` on 429 or 503)."""
    error: str | None = None
    """What went wrong, in one line for the operator; None unless `outcome` is `failed`."""
