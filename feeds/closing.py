"""When exactly a deadline closes: one rule, used by extraction, partner forms, pages and alerts.

A deadline is stored as the date and time its listing states, in the zone it states, plus one
UTC instant derived here. When the listing leaves something out we choose the earliest
reading, so that no one is told they have more time than they do:

- no time of day: the window is open until the end of that day (23:59 in its zone);
- no zone (or one we cannot resolve): the zone where that day ends first, UTC+14.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

END_OF_DAY = time(23, 59)
"""The closing time of a deadline stated as a date only."""

EARLIEST_ZONE = timezone(timedelta(hours=14), "UTC+14")
"""Where a day ends first (Line Islands): the zone assumed when a deadline states none."""

AOE = timezone(timedelta(hours=-12), "AoE")
"""Anywhere on Earth: a day ends when it has ended everywhere, at UTC-12."""

ZONE_ABBREVIATIONS: dict[str, timedelta] = {
    # Common in listings; the ones with several meanings take the reading most listings mean.
    "UTC": timedelta(0),
    "GMT": timedelta(0),
    "Z": timedelta(0),
    "WET": timedelta(0),
    "WEST": timedelta(hours=1),
    "BST": timedelta(hours=1),
    "CET": timedelta(hours=1),
    "WAT": timedelta(hours=1),
    "CEST": timedelta(hours=2),
    "CAT": timedelta(hours=2),
    "EET": timedelta(hours=2),
    "SAST": timedelta(hours=2),
    "EEST": timedelta(hours=3),
    "EAT": timedelta(hours=3),
    "MSK": timedelta(hours=3),
    "GST": timedelta(hours=4),
    "PKT": timedelta(hours=5),
    "IST": timedelta(hours=5, minutes=30),
    "NPT": timedelta(hours=5, minutes=45),
    "BDT": timedelta(hours=6),
    "ICT": timedelta(hours=7),
    "WIB": timedelta(hours=7),
    "SGT": timedelta(hours=8),
    "HKT": timedelta(hours=8),
    "PHT": timedelta(hours=8),
    "AWST": timedelta(hours=8),
    "JST": timedelta(hours=9),
    "KST": timedelta(hours=9),
    "AEST": timedelta(hours=10),
    "AEDT": timedelta(hours=11),
    "NZST": timedelta(hours=12),
    "NZDT": timedelta(hours=13),
    "BRT": timedelta(hours=-3),
    "ART": timedelta(hours=-3),
    "CLT": timedelta(hours=-4),
    "AST": timedelta(hours=-4),
    "EDT": timedelta(hours=-4),
    "EST": timedelta(hours=-5),
    "COT": timedelta(hours=-5),
    "PET": timedelta(hours=-5),
    "CDT": timedelta(hours=-5),
    "CST": timedelta(hours=-6),
    "MDT": timedelta(hours=-6),
    "MST": timedelta(hours=-7),
    "PDT": timedelta(hours=-7),
    "PST": timedelta(hours=-8),
    "HST": timedelta(hours=-10),
}

_OFFSET = re.compile(r"^(?:UTC|GMT)\s*([+-−])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def resolve_zone(name: str | None) -> tzinfo | None:
    """The zone a label names: an IANA name, `AoE`, an abbreviation, or `UTC+3`-style offset.

    Returns None for an empty or unknown label; callers then fall back to EARLIEST_ZONE.
    """
    if not name:
        return None
    label = name.strip()
    if label.upper() == "AOE":
        return AOE
    offset = ZONE_ABBREVIATIONS.get(label.upper())
    if offset is not None:
        return timezone(offset, label.upper())
    match = _OFFSET.match(label)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            return None
        return timezone(-delta if sign in "-−" else delta)
    if "/" in label:
        try:
            return ZoneInfo(label)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return None


def closing_instant(on: date, at: time | None = None, tz: str | None = None) -> datetime:
    """The UTC instant a deadline closes, reading what is left unstated in the earliest way."""
    zone = resolve_zone(tz) or EARLIEST_ZONE
    local = datetime.combine(on, at or END_OF_DAY).replace(tzinfo=zone)
    return local.astimezone(UTC)


def is_zone_known(tz: str | None) -> bool:
    """True when the label names a zone we can resolve, so a page can show the stated time."""
    return resolve_zone(tz) is not None
