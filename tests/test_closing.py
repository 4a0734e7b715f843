"""When a deadline closes, read the earliest way when the listing leaves something out."""

from datetime import UTC, date, datetime, time

import pytest

from feeds.closing import closing_instant, is_zone_known, resolve_zone

DAY = date(2027, 4, 15)


@pytest.mark.parametrize(
    ("at", "tz", "expected"),
    [
        (None, None, datetime(2027, 4, 15, 9, 59, tzinfo=UTC)),  # ends first at UTC+14
        (None, "AoE", datetime(2027, 4, 16, 11, 59, tzinfo=UTC)),  # ends last, at UTC-12
        (None, "UTC", datetime(2027, 4, 15, 23, 59, tzinfo=UTC)),
        (time(17, 0), "Europe/Paris", datetime(2027, 4, 15, 15, 0, tzinfo=UTC)),  # CEST in April
        (time(17, 0), "CET", datetime(2027, 4, 15, 16, 0, tzinfo=UTC)),  # as written: +01:00
        (time(23, 59), "GMT", datetime(2027, 4, 15, 23, 59, tzinfo=UTC)),
        (time(12, 0), "EAT", datetime(2027, 4, 15, 9, 0, tzinfo=UTC)),
        (time(17, 0), "EST", datetime(2027, 4, 15, 22, 0, tzinfo=UTC)),
        (time(23, 59), "UTC+5:30", datetime(2027, 4, 15, 18, 29, tzinfo=UTC)),
        (time(23, 59), "GMT-3", datetime(2027, 4, 16, 2, 59, tzinfo=UTC)),
        (time(12, 0), None, datetime(2027, 4, 14, 22, 0, tzinfo=UTC)),  # time without zone
        (None, "Mars/Olympus", datetime(2027, 4, 15, 9, 59, tzinfo=UTC)),  # unknown zone
        (None, "America/Lima", datetime(2027, 4, 16, 4, 59, tzinfo=UTC)),
    ],
)
def test_closing_instant(at, tz, expected):
    assert closing_instant(DAY, at, tz) == expected


@pytest.mark.parametrize("label", ["", None, "Nowhere", "UTC+15", "Foo/Bar"])
def test_unknown_zones_resolve_to_none(label):
    assert resolve_zone(label) is None
    assert not is_zone_known(label)


@pytest.mark.parametrize("label", ["AoE", "aoe", "Africa/Nairobi", "cest", "UTC−3", "GMT+02:00"])
def test_known_zones(label):
    assert is_zone_known(label)


def test_an_unstated_zone_never_gives_more_time_than_any_stated_one():
    earliest = closing_instant(DAY)
    for label in ["AoE", "UTC", "Pacific/Kiritimati", "Asia/Dhaka", "America/Lima", "NZDT"]:
        assert earliest <= closing_instant(DAY, None, label)
