"""Run the extractor over a whole feed document, for `flask feeds extract` (no database).

Reading a path or URL is the only I/O here; everything after the bytes is pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from .extract import extract_entry, extraction_record
from .fetch import Fetcher, FetchError, FetchSettings
from .parse import parse_feed


@dataclass(frozen=True)
class FeedBytes:
    """A feed document as read, with what is needed to decode it."""

    content: bytes
    headers: Mapping[str, str]
    base_url: str | None


def read_feed(path_or_url: str, settings: FetchSettings) -> FeedBytes:
    """The bytes of a local file, or of an http(s) URL fetched the way polls fetch it.

    A URL goes through the same fetcher as a poll — size cap, time-outs, redirects and the
    guard against private addresses — so this command cannot reach what a source may not.
    """
    if not path_or_url.startswith(("http://", "https://")):
        return FeedBytes(Path(path_or_url).read_bytes(), {}, None)
    with Fetcher(settings) as fetcher:
        result = fetcher.fetch(path_or_url)
    if result.outcome != "fetched":
        raise FetchError(result.error or f"the server answered {result.status} ({result.outcome})")
    return FeedBytes(result.content, result.headers, result.url)


def extract_records(feed: FeedBytes) -> Iterator[dict]:
    """One `extraction_record` per entry, in feed order."""
    parsed = parse_feed(feed.content, headers=feed.headers, base_url=feed.base_url)
    for entry in parsed.entries:
        result = extract_entry(entry)
        yield extraction_record(entry.key, entry.link, entry.title, entry.published_at, result)


def table_rows(records: list[dict]) -> list[str]:
    """A readable table of records: deadlines (a `?` marks a likely one), kind, language, title."""
    header = f"{'#':>3}  {'deadlines':<26} {'kind':<12} {'lang':<4} {'event':<10}  title"
    rows = [header, "-" * len(header)]
    for number, record in enumerate(records, 1):
        dates = (
            ", ".join(
                d["date"] + ("" if d["confidence"] == "certain" else "?")
                for d in record["deadlines"]
            )
            or "—"
        )
        if len(dates) > 26:
            dates = dates[:25] + "…"
        title = " ".join((record["title"] or "").split())
        if len(title) > 60:
            title = title[:59] + "…"
        rows.append(
            f"{number:>3}  {dates:<26} {record['kind']:<12} "
            f"{record['language'] or '—':<4} {record['event_start'] or '—':<10}  {title}"
        )
    return rows
