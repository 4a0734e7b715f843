"""Polling: due sources → fetch → parse → decide → store, one commit per source.

Fetching runs in a few worker threads, one host's sources in turn (so no host gets two
requests at once); parsing and storing run in the caller's thread and session, while the
workers fetch what comes next. Every outcome is recorded on its source, and a failure of
one source never stops the others.
"""

from __future__ import annotations

import logging
import queue
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, scoped_session

from directory.models import Source

from .extract import extract
from .fetch import Fetcher
from .ingest import Extractor, IngestReport, store_entries
from .parse import FeedError, ParsedFeed, parse_feed, split_items
from .schedule import is_backing_off, must_read_all, next_fetch_at
from .types import FetchResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchJob:
    """What a worker thread needs to fetch one source: plain values, no database objects."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None
    known_items: frozenset[str] = frozenset()
    """Digests of the items read last time: those are not parsed again."""
    read_all: bool = True
    """Parse every item, known or not (the first read, and once a day)."""


@dataclass(frozen=True)
class Fetched:
    """A worker's answer for one source: the fetch, and the feed parsed from it if any."""

    source_id: int
    result: FetchResult
    feed: ParsedFeed | None = None
    error: str | None = None
    """Why nothing can be stored: the fetch failed, or the bytes are not a feed."""
    item_digests: list[str] | None = None
    """A digest of each item of the document, when it could be cut into items."""
    read_all: bool = True
    """Every item was parsed; else only those not known from the last read."""
    known_unchanged: int = 0
    """Items left unparsed because they are byte for byte the ones read last time."""


@dataclass(frozen=True)
class PollReport:
    """How polling one source went, for the log and the `feeds fetch` command."""

    source_id: int
    name: str
    outcome: str
    """`fetched`, `not_modified`, `gone` or `failed`."""
    stored: IngestReport = field(default_factory=IngestReport)
    error: str | None = None
    warning: str | None = None

    def describe(self) -> str:
        """One line for an operator."""
        head = f"#{self.source_id} {self.name}"
        if self.outcome == "failed":
            return f"{head}: failed: {self.error}"
        if self.outcome == "gone":
            return f"{head}: gone (410): it is no longer polled; `feeds resume {self.source_id}` polls it again"
        if self.outcome == "not_modified":
            return f"{head}: not modified"
        s = self.stored
        line = (
            f"{head}: {s.new} new, {s.merged} merged, {s.changed} changed, {s.unchanged} unchanged"
        )
        return f"{line} (warning: {self.warning})" if self.warning else line


def due_sources(session: Session, now: datetime) -> list[Source]:
    """Active feed sources whose time has come, longest-waiting first."""
    return list(
        session.scalars(
            select(Source)
            .where(Source.kind == "feed", Source.status == "active")
            .where(Source.next_fetch_at.is_(None) | (Source.next_fetch_at <= now))
            .order_by(Source.next_fetch_at.is_not(None), Source.next_fetch_at, Source.id)
        )
    )


def choose_sources(
    sources: Sequence[Source], now: datetime, *, force: bool = False
) -> tuple[list[Source], list[tuple[Source, str]]]:
    """Which of the named sources to fetch now, due or not, and why the others are left.

    Paused, gone and non-feed sources are left; so is a source waiting out its back-off
    after errors, unless `force`.
    """
    chosen, left = [], []
    for source in sources:
        if source.kind != "feed" or not source.url:
            left.append((source, f"it is a {source.kind} source, not a feed"))
        elif source.status != "active":
            left.append((source, f"it is {source.status}; `feeds resume {source.id}` first"))
        elif not force and is_backing_off(source.consecutive_errors, source.next_fetch_at, now):
            left.append(
                (
                    source,
                    f"it is backing off after {_errors(source.consecutive_errors)} until "
                    f"{source.next_fetch_at:%Y-%m-%d %H:%M} UTC; --force fetches it anyway",
                )
            )
        else:
            chosen.append(source)
    return chosen, left


def poll_sources(
    session: Session,
    sources: Sequence[Source],
    now: datetime,
    *,
    fetcher: Fetcher,
    extractor: Extractor = extract,
    workers: int = 4,
    jitter: Callable[[], float] = random.random,
) -> list[PollReport]:
    """Fetch, parse and store each source, committing after each; returns one report each."""
    jobs = [
        FetchJob(
            s.id,
            s.url,
            s.etag,
            s.last_modified,
            known_items=frozenset(s.item_digests or ()),
            read_all=must_read_all(s.items_read_at, bool(s.item_digests), now),
        )
        for s in sources
        if s.url
    ]
    reports = []
    with _kept_loaded(session):
        for job, result in fetch_all(jobs, fetcher, workers=workers, now=now):
            fetched = _parse_safely(job, result)
            reports.append(_store(session, fetched, now, extractor=extractor, jitter=jitter()))
    return reports


@contextmanager
def _kept_loaded(session: Session | scoped_session) -> Iterator[None]:
    """Commit per source without expiring every loaded object at each commit.

    Expiring costs work for each object in the session, so a poll of a thousand sources
    would do a million of them; nothing else writes a source while it is polled (the
    scheduler holds the lease), and updates name only the columns they change.
    """
    target = session.registry() if isinstance(session, scoped_session) else session
    saved = target.expire_on_commit
    target.expire_on_commit = False
    try:
        yield
    finally:
        target.expire_on_commit = saved


def fetch_all(
    jobs: Sequence[FetchJob], fetcher: Fetcher, *, workers: int, now: datetime
) -> Iterator[tuple[FetchJob, FetchResult]]:
    """Fetch every job in worker threads, one host's jobs in turn; yield each as it is done.

    The caller parses and stores one answer while the workers fetch the next ones.
    """
    by_host: dict[str, list[FetchJob]] = defaultdict(list)
    for job in jobs:
        by_host[(urlsplit(job.url).hostname or "").lower()].append(job)
    done: queue.Queue[tuple[FetchJob, FetchResult]] = queue.Queue()

    def work(host_jobs: list[FetchJob]) -> None:
        for job in host_jobs:
            done.put((job, _fetch_one(job, fetcher, now)))

    if not jobs:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(by_host)))) as pool:
        for host_jobs in by_host.values():
            pool.submit(work, host_jobs)
        for _ in jobs:
            yield done.get()


def record_fetch(source: Source, fetched: Fetched, now: datetime, *, jitter: float = 0.0) -> None:
    """Write how a fetch went onto its source: validators, errors, warnings, next fetch."""
    result = fetched.result
    every = timedelta(minutes=source.fetch_every_minutes)
    source.last_fetched_at = now
    if result.outcome == "gone":
        source.status = "gone"
        source.last_error = result.error
        source.next_fetch_at = None
        return
    if fetched.error:
        source.consecutive_errors += 1
        source.last_error = fetched.error
        if result.outcome == "fetched":
            source.etag = source.last_modified = None  # what they validate is not a usable feed
        retry_after = result.retry_after_seconds
        source.next_fetch_at = next_fetch_at(
            now,
            every,
            consecutive_errors=source.consecutive_errors,
            retry_after=timedelta(seconds=retry_after) if retry_after is not None else None,
            jitter=jitter,
        )
        return
    source.consecutive_errors = 0
    source.last_error = None
    source.last_succeeded_at = now
    source.next_fetch_at = next_fetch_at(now, every, jitter=jitter)
    if result.outcome == "fetched":
        source.etag, source.last_modified = result.etag, result.last_modified
        feed = fetched.feed
        if fetched.read_all or (feed and feed.warnings):
            source.last_warning = "; ".join(feed.warnings) if feed and feed.warnings else None
        source.item_digests = fetched.item_digests
        if fetched.read_all:
            source.items_read_at = now
        if feed and feed.title and source.name == default_name(source.url):
            source.name = feed.title[:200]
    else:
        source.etag = result.etag or source.etag
        source.last_modified = result.last_modified or source.last_modified


def _errors(count: int) -> str:
    return f"{count} error" if count == 1 else f"{count} errors"


def default_name(url: str | None) -> str:
    """The name a source gets when added without one: its host, until its feed gives a title."""
    return (urlsplit(url or "").hostname or url or "feed").lower()


def _fetch_one(job: FetchJob, fetcher: Fetcher, now: datetime) -> FetchResult:
    try:
        return fetcher.fetch(job.url, etag=job.etag, last_modified=job.last_modified, now=now)
    except Exception as error:  # a bug must not stop the other sources; it is logged in full
        log.exception("fetching source %s (%s) failed unexpectedly", job.source_id, job.url)
        return FetchResult("failed", url=job.url, error=f"internal error: {error!r}")


def _parse_safely(job: FetchJob, result: FetchResult) -> Fetched:
    if result.outcome != "fetched":
        return Fetched(job.source_id, result, error=result.error)
    try:
        return _parse(job, result)
    except Exception as error:  # as above: recorded on the source, logged in full
        log.exception("parsing source %s (%s) failed unexpectedly", job.source_id, job.url)
        failed = FetchResult("failed", url=job.url, error=f"internal error: {error!r}")
        return Fetched(job.source_id, failed, error=failed.error)


def _parse(job: FetchJob, result: FetchResult) -> Fetched:
    """Parse what is new in a fetched document: every item on a whole read, else only the
    items whose bytes were not in the last one (each parsed within the document's own head,
    so it reads exactly as in a whole parse)."""
    split = split_items(result.content)
    digests = split.digests if split else None
    read_all = job.read_all or split is None
    content: bytes | None = result.content
    skipped = 0
    if split and not read_all:
        fresh = [
            item for item, d in zip(split.items, digests, strict=True) if d not in job.known_items
        ]
        skipped = len(split.items) - len(fresh)
        content = split.document(fresh) if fresh else None
    try:
        # Relative permalink guids resolve against the address we asked for, not the one a
        # temporary redirect led to (a CDN's signed path would change every entry's id).
        feed = (
            parse_feed(content, headers=result.headers, base_url=job.url)
            if content is not None
            else ParsedFeed(title=None, language=None, entries=[])
        )
    except FeedError as error:
        return Fetched(job.source_id, result, error=str(error))
    return Fetched(
        job.source_id,
        result,
        feed=feed,
        item_digests=digests,
        read_all=read_all,
        known_unchanged=skipped,
    )


def _store(
    session: Session, fetched: Fetched, now: datetime, *, extractor: Extractor, jitter: float
) -> PollReport:
    source = session.get(Source, fetched.source_id)
    if source is None:  # removed while it was being fetched
        return PollReport(fetched.source_id, "(removed)", "failed", error="source removed")
    stored = IngestReport()
    try:
        _follow_permanent_redirect(session, source, fetched.result)
        record_fetch(source, fetched, now, jitter=jitter)
        if fetched.feed is not None:
            stored = store_entries(session, source, fetched.feed.entries, now, extractor=extractor)
        session.commit()
    except Exception as error:  # a bug or a database refusal: this source only, recorded
        session.rollback()
        log.exception("storing source %s failed", fetched.source_id)
        source = session.get(Source, fetched.source_id)
        failure = FetchResult("failed", url=fetched.result.url, error=f"could not store: {error}")
        record_fetch(source, Fetched(source.id, failure, error=failure.error), now, jitter=jitter)
        session.commit()
        return _report(source, "failed", IngestReport())
    outcome = fetched.result.outcome
    stored = replace(stored, unchanged=stored.unchanged + fetched.known_unchanged)
    return _report(source, "failed" if fetched.error and outcome != "gone" else outcome, stored)


def _follow_permanent_redirect(session: Session, source: Source, result: FetchResult) -> None:
    """Store a feed's new address after a permanent redirect, unless another source has it."""
    moved_to = result.moved_to
    if not moved_to or moved_to == source.url or result.outcome not in ("fetched", "not_modified"):
        return
    if len(moved_to) > 2000:
        return
    taken = session.scalar(select(Source.id).where(Source.url == moved_to, Source.id != source.id))
    if taken:
        log.warning("source %s moved to %s, which is already source %s", source.id, moved_to, taken)
        return
    log.info("source %s moved permanently from %s to %s", source.id, source.url, moved_to)
    source.url = moved_to


def _report(source: Source, outcome: str, stored: IngestReport) -> PollReport:
    report = PollReport(
        source.id,
        source.name,
        outcome,
        stored=stored,
        error=source.last_error if outcome in ("failed", "gone") else None,
        warning=source.last_warning if outcome == "fetched" else None,
    )
    if outcome == "gone":
        log.warning(
            "source %s (%s) answered 410 Gone; it is no longer polled", source.id, source.url
        )
    elif outcome == "failed":
        log.warning(
            "source %s (%s) failed (%d in a row): %s",
            source.id,
            source.url,
            source.consecutive_errors,
            source.last_error,
        )
    else:
        log.info(report.describe())
    return report
