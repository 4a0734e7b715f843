"""When sources are fetched: back-off, Retry-After, jitter, due-ness, staleness, intervals."""

from datetime import UTC, datetime, timedelta

import pytest

from feeds.schedule import (
    is_backing_off,
    is_due,
    is_stale,
    must_read_all,
    next_fetch_at,
    parse_interval,
    retry_delay,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("every", "errors", "wait"),
    [
        (HOUR, 0, HOUR),
        (HOUR, 1, HOUR),
        (HOUR, 2, 2 * HOUR),
        (HOUR, 3, 4 * HOUR),
        (HOUR, 5, 16 * HOUR),
        (HOUR, 6, DAY),
        (HOUR, 40, DAY),
        (HOUR, 10_000, DAY),
        (timedelta(minutes=15), 3, timedelta(hours=1)),
        (timedelta(days=7), 3, timedelta(days=7)),
    ],
)
def test_back_off_doubles_up_to_a_day_and_never_below_the_interval(every, errors, wait):
    assert retry_delay(every, errors) == wait


@pytest.mark.parametrize(
    ("errors", "retry_after", "jitter", "expected"),
    [
        (0, None, 0.0, NOW + HOUR),
        (0, None, 0.5, NOW + HOUR + timedelta(minutes=2, seconds=30)),
        (0, None, 0.99, NOW + HOUR + timedelta(minutes=5) * 0.99),
        (3, None, 0.0, NOW + 4 * HOUR),
        (3, None, 1.0, NOW + 4 * HOUR + timedelta(minutes=5)),
        (1, timedelta(hours=3), 0.0, NOW + 3 * HOUR),
        (3, timedelta(minutes=1), 0.0, NOW + 4 * HOUR),
        (1, timedelta(days=30), 0.0, NOW + DAY),
        (12, None, 0.0, NOW + DAY),
    ],
)
def test_next_fetch_at(errors, retry_after, jitter, expected):
    assert (
        next_fetch_at(NOW, HOUR, consecutive_errors=errors, retry_after=retry_after, jitter=jitter)
        == expected
    )


def test_jitter_spreads_sources_added_together():
    times = {next_fetch_at(NOW, HOUR, jitter=j / 10) for j in range(10)}
    assert len(times) == 10
    assert min(times) == NOW + HOUR
    assert max(times) < NOW + HOUR + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("status", "next_fetch", "due"),
    [
        ("active", None, True),
        ("active", NOW - DAY * 10, True),
        ("active", NOW, True),
        ("active", NOW + timedelta(seconds=1), False),
        ("paused", None, False),
        ("paused", NOW - DAY, False),
        ("gone", None, False),
    ],
)
def test_is_due(status, next_fetch, due):
    assert is_due(status, next_fetch, NOW) is due


@pytest.mark.parametrize(
    ("errors", "next_fetch", "backing_off"),
    [
        (0, NOW + HOUR, False),
        (2, NOW + HOUR, True),
        (2, NOW - HOUR, False),
        (2, None, False),
    ],
)
def test_is_backing_off(errors, next_fetch, backing_off):
    assert is_backing_off(errors, next_fetch, NOW) is backing_off


@pytest.mark.parametrize(
    ("status", "last_succeeded", "created", "stale"),
    [
        ("active", NOW - HOUR, NOW - DAY * 30, False),
        ("active", NOW - DAY * 3, NOW - DAY * 30, False),
        ("active", NOW - DAY * 3 - HOUR, NOW - DAY * 30, True),
        ("active", None, NOW - DAY, False),
        ("active", None, NOW - DAY * 4, True),
        ("paused", NOW - DAY * 10, NOW - DAY * 30, False),
        ("gone", None, NOW - DAY * 30, False),
    ],
)
def test_is_stale(status, last_succeeded, created, stale):
    assert is_stale(status, last_succeeded, created, NOW) is stale


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("60m", 60),
        ("45 min", 45),
        ("2h", 120),
        ("1 hour", 60),
        ("1d", 1440),
        ("3 days", 4320),
    ],
)
def test_parse_interval(text, minutes):
    assert parse_interval(text) == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("soon", "cannot read"),
        ("1w", "cannot read"),
        ("-5m", "cannot read"),
        ("1m", "at most every 5"),
    ],
)
def test_parse_interval_refuses(text, message):
    with pytest.raises(ValueError, match=message):
        parse_interval(text)


@pytest.mark.parametrize(
    ("items_read_at", "has_digests", "read_all"),
    [
        (None, False, True),
        (None, True, True),
        (NOW - HOUR, False, True),
        (NOW - HOUR, True, False),
        (NOW - DAY + timedelta(seconds=1), True, False),
        (NOW - DAY, True, True),
    ],
)
def test_must_read_all(items_read_at, has_digests, read_all):
    assert must_read_all(items_read_at, has_digests, NOW) is read_all
