"""When a source is fetched next: its interval, back-off after errors, jitter, staleness.

Pure rules on plain values, so the schedule can be read from a table of tests. Time is
always passed in. Back-off doubles the source's interval after each error in a row, up to a
day, and never stops: a feed that recovers is picked up again within a day.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

MAX_BACKOFF = timedelta(days=1)
"""The longest wait after errors (or asked for by `Retry-After`), unless the interval is longer."""
STALE_AFTER = timedelta(days=3)
"""An active source with no successful fetch for this long is flagged as stale."""
JITTER_SHARE = 0.1
"""A fetch is delayed by up to this share of the wait, so sources added together drift apart."""
MAX_JITTER = timedelta(minutes=5)
READ_ALL_EVERY = timedelta(days=1)
"""A feed is parsed whole at least this often; in between, only items not seen before are."""
MIN_INTERVAL_MINUTES = 5
"""No feed is polled more often than this: it is somebody else's server."""

_INTERVAL = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)?\s*$", re.IGNORECASE)


def retry_delay(every: timedelta, consecutive_errors: int) -> timedelta:
    """The wait after `consecutive_errors` failures in a row: every × 2^(n−1), at most a day.

    Never shorter than the source's own interval, and never longer than a day unless the
    interval itself is.
    """
    if consecutive_errors <= 0:
        return every
    cap = max(MAX_BACKOFF, every)
    exponent = min(consecutive_errors - 1, 32)
    return min(every * (2**exponent), cap)


def next_fetch_at(
    now: datetime,
    every: timedelta,
    *,
    consecutive_errors: int = 0,
    retry_after: timedelta | None = None,
    jitter: float = 0.0,
) -> datetime:
    """When to fetch next, given the errors in a row and what the server asked for.

    `jitter` is a number in [0, 1) (random in production, fixed in tests); it adds up to a
    tenth of the wait, at most five minutes. `Retry-After` is honoured up to a day.
    """
    wait = retry_delay(every, consecutive_errors)
    if retry_after is not None:
        wait = max(wait, min(retry_after, max(MAX_BACKOFF, every)))
    spread = min(wait * JITTER_SHARE, MAX_JITTER) * min(max(jitter, 0.0), 1.0)
    return now + wait + spread


def is_due(status: str, next_fetch: datetime | None, now: datetime) -> bool:
    """An active source is due when it has never been scheduled or its time has come."""
    return status == "active" and (next_fetch is None or next_fetch <= now)


def is_backing_off(consecutive_errors: int, next_fetch: datetime | None, now: datetime) -> bool:
    """True while a source that failed waits out its back-off."""
    return consecutive_errors > 0 and next_fetch is not None and next_fetch > now


def is_stale(
    status: str, last_succeeded_at: datetime | None, created_at: datetime, now: datetime
) -> bool:
    """An active source that has not been fetched successfully for three days (or ever, since
    it was added three days ago)."""
    if status != "active":
        return False
    return now - (last_succeeded_at or created_at) > STALE_AFTER


def must_read_all(items_read_at: datetime | None, has_digests: bool, now: datetime) -> bool:
    """Whether the next fetch parses the whole feed rather than only its new items: when
    nothing is known of its items yet, or the last whole read is a day old."""
    return not has_digests or items_read_at is None or now - items_read_at >= READ_ALL_EVERY


def parse_interval(text: str) -> int:
    """Minutes from `90`, `90m`, `2h` or `1d`; ValueError with a sentence when unreadable."""
    match = _INTERVAL.match(text)
    if not match:
        raise ValueError(f"cannot read {text!r} as an interval; write it like 30m, 2h or 1d")
    amount = int(match.group(1))
    unit = (match.group(2) or "m")[0].lower()
    minutes = amount * {"m": 1, "h": 60, "d": 1440}[unit]
    if minutes < MIN_INTERVAL_MINUTES:
        raise ValueError(f"feeds are polled at most every {MIN_INTERVAL_MINUTES} minutes")
    return minutes
