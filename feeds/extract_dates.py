"""Every calendar date a listing writes, with its span, range partner, time of day and zone.

Our own compiled patterns find the date expressions (fast, and they know which words are
months in which language); dateparser reads each month word in its language (once per word:
its per-call cost is what would otherwise dominate). Which day, what the year is when
unstated, and whether 03/04 is March or April are decided here, because they depend on the
listing rather than on the expression.

Patterns run on a lower-cased copy of the text with the same offsets (case-sensitive
matching is several times faster); the original is consulted where case carries meaning
("May" the month, "EST" the zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import dateparser

from . import lexicon
from .closing import ZONE_ABBREVIATIONS as ZONE_OFFSETS
from .closing import resolve_zone

_MONTH_NUMBER = {word: number for number, words in lexicon.MONTHS.items() for word in words}
_WEEKDAY_NUMBER = {word: number for number, words in lexicon.WEEKDAYS.items() for word in words}


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_NOT_LETTER_AFTER = r"(?![^\W\d_])"
_NOT_LETTER_BEFORE = r"(?<![^\W\d_])"
_MONTH = rf"(?P<month>{_alternation(_MONTH_NUMBER)}){_NOT_LETTER_AFTER}\.?"
_WEEKDAY_ALT = _alternation(_WEEKDAY_NUMBER)
_ORDINAL = r"(?:st|nd|rd|th|er|ère|re|ème|e|º|ª|°|o|a|\.º|\.ª)?"
_DAY = rf"(?P<day>3[01]|[12]\d|0?[1-9]){_ORDINAL}(?![\d:])"
_YEAR = r"(?P<year>(?:19|20)\d{2})(?!\d)"

_DIGITS = re.compile(r"\d+")
_DAY_FIRST = re.compile(
    rf"{_DAY}\.?\s*,?\s*(?:(?:of|de|del|the)\s+)?{_MONTH}"
    rf"(?:\s*,?\s*(?:(?:de|del|of)\s+)?{_YEAR})?"
)
_HYPHENATED = re.compile(rf"{_DAY}-{_MONTH}-{_YEAR}")
"""15-Apr-2025, as many calendars and mailing lists write it."""
_MONTH_BEFORE = re.compile(rf"{_NOT_LETTER_BEFORE}{_MONTH}\s*(?:the\s+)?$")
_MONTH_FIRST = re.compile(rf"{_MONTH}\s*(?:the\s+)?{_DAY}(?:\s*,?\s*{_YEAR})?")
_WEEKDAY_BEFORE = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?P<weekday>{_WEEKDAY_ALT}){_NOT_LETTER_AFTER}\.?,?\s+"
    r"(?:(?:the|le|el|den|o|dia|il)\s+)?$"
)
_NUMERIC = re.compile(
    r"(?P<a>[0-3]?\d)(?P<sep>[./-])(?P<b>[0-3]?\d)(?P=sep)(?P<year>(?:19|20)\d{2})"
    r"(?!\d|[/\-]\d|\.\d)"
)
_NUMERIC_SHORT_YEAR = re.compile(
    r"(?P<a>[0-3]?\d)(?P<sep>[./])(?P<b>[0-3]?\d)(?P=sep)(?P<yy>[0-9]{2})(?!\d|[/\-]\d|\.\d)"
)
"""15/4/25: read (20yy, day-first by the same rule), always flagged as a guess."""
_ISO = re.compile(r"(?P<year>(?:19|20)\d{2})-(?P<b>0[1-9]|1[0-2])-(?P<a>0[1-9]|[12]\d|3[01])(?!\d)")

_RANGE_PREFIX = (
    r"(?:from|between|du|del|dal|dalle|de|desde|entre|vom|von|zwischen|tra|fra|da|"
    r"days|d[ií]as|jours|giorni|tage)"
)
_CONNECTOR = (
    r"-|–|—|to|au|al|a|bis|até|ao|e|y|et|and|&|\+|und|till|until|through to|through|"
    r"thru|hasta el|hasta|jusqu'au|jusqu’au|fino al"
)
_BARE_DAY_BEFORE = re.compile(
    rf"(?:{_NOT_LETTER_BEFORE}(?P<prefix>{_RANGE_PREFIX})\s+)?(?:(?:{_WEEKDAY_ALT})\.?,?\s+)?"
    rf"(?<![\d.,/])(?P<day>3[01]|[12]\d|0?[1-9]){_ORDINAL}\.?\s*(?P<conn>{_CONNECTOR})\s*"
    rf"(?:(?:{_WEEKDAY_ALT})\.?,?\s+)?(?:(?:the|le|el)\s+)?$"
)
_DAY_AFTER = re.compile(
    rf"\s*(?P<conn>-|–|—|to|through|thru|until|till|&|and)\s*{_DAY}(?:\s*,?\s*{_YEAR})?"
)
_RANGE_GAP = re.compile(
    r"\s*,?\s*(?P<conn>-|–|—|to|till|until|through to|through|thru|au|à|al|a|hasta(?: el)?|"
    r"até(?: (?:o|ao|a)(?: dia)?)?|ao|bis(?: zum)?|fino al|jusqu'au|jusqu’au|and|&|y|et|e|und)"
    r"\s*(?:(?:the|le|el|o|il|zum|den)\s+)?"
)
_GAP_END = re.compile(
    r"(?:^|\s)(?P<conn>-|–|—|to|till|until|through|au|al|a|hasta(?: el)?|até|ao|bis(?: zum)?|"
    r"fino al|and|y|et|e|und)\s*(?:(?:the|le|el|o|il|zum|den)\s+)?$"
)
_AND_CONNECTORS = frozenset({"and", "&", "y", "et", "e", "und", "+"})
_SHORT_CONNECTORS = frozenset({"a", "e", "à", "ao"})
"""Connectors that are also ordinary words: a range only after "from", "del", "du" …"""
_PREFIX_BEFORE = re.compile(
    rf"{_NOT_LETTER_BEFORE}(?P<prefix>{_RANGE_PREFIX})\s+(?:(?:the|le|el|o)\s+)?$"
)
_BETWEEN = frozenset({"between", "entre", "zwischen", "tra", "fra"})


def _time_pattern(named: bool) -> str:
    def group(name: str) -> str:
        return f"(?P<{name}>" if named else "(?:"

    return (
        rf"(?:{group('h12')}1[0-2]|0?[1-9])(?:[:.]{group('m12')}[0-5]\d))?\s*{group('ap')}[ap])"
        rf"\.?\s?m{_NOT_LETTER_AFTER}\.?"
        rf"|(?:ore|h)\s*{group('hit')}[01]?\d|2[0-3])[,.:]{group('mit')}[0-5]\d)"
        rf"|{group('h24')}[01]?\d|2[0-3])(?::{group('m24')}[0-5]\d)|h{group('mh')}[0-5]\d)?|"
        rf"\.{group('md')}[0-5]\d))(?:\s*(?:h|hrs|hours|horas|heures|uhr|ore){_NOT_LETTER_AFTER})?"
        rf"|{group('midnight')}midnight|minuit|medianoche|meia-noite|mezzanotte|mitternacht)"
        rf"|{group('noon')}noon|midday|midi|mediod[ií]a|meio-dia|mezzogiorno|mittag))"
    )


_ZONE_NAMES: dict[str, str] = {
    "uk": "Europe/London",
    "london": "Europe/London",
    "british": "Europe/London",
    "brussels": "Europe/Brussels",
    "bruxelles": "Europe/Brussels",
    "paris": "Europe/Paris",
    "madrid": "Europe/Madrid",
    "peninsular": "Europe/Madrid",
    "lisboa": "Europe/Lisbon",
    "lisbon": "Europe/Lisbon",
    "berlin": "Europe/Berlin",
    "rome": "Europe/Rome",
    "roma": "Europe/Rome",
    "italian": "Europe/Rome",
    "italiana": "Europe/Rome",
    "geneva": "Europe/Zurich",
    "genève": "Europe/Zurich",
    "brasília": "America/Sao_Paulo",
    "brasilia": "America/Sao_Paulo",
    "eastern": "America/New_York",
    "new york": "America/New_York",
    "pacific": "America/Los_Angeles",
    "central european": "Europe/Brussels",
    "mountain": "America/Denver",
    "central": "America/Chicago",
    "nairobi": "Africa/Nairobi",
    "mexico": "America/Mexico_City",
    "méxico": "America/Mexico_City",
    "ciudad de méxico": "America/Mexico_City",
    "cdmx": "America/Mexico_City",
    "bogotá": "America/Bogota",
    "bogota": "America/Bogota",
    "colombia": "America/Bogota",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "argentina": "America/Argentina/Buenos_Aires",
    "chile": "America/Santiago",
    "santiago": "America/Santiago",
    "lima": "America/Lima",
    "perú": "America/Lima",
    "peru": "America/Lima",
    "quito": "America/Guayaquil",
    "ecuador": "America/Guayaquil",
    "la paz": "America/La_Paz",
    "bolivia": "America/La_Paz",
    "caracas": "America/Caracas",
    "venezuela": "America/Caracas",
    "montevideo": "America/Montevideo",
    "uruguay": "America/Montevideo",
    "asunción": "America/Asuncion",
    "paraguay": "America/Asuncion",
    "guatemala": "America/Guatemala",
    "costa rica": "America/Costa_Rica",
    "españa": "Europe/Madrid",
    "spain": "Europe/Madrid",
    "portugal": "Europe/Lisbon",
    "brasil": "America/Sao_Paulo",
    "brazil": "America/Sao_Paulo",
    "são paulo": "America/Sao_Paulo",
    "france": "Europe/Paris",
    "belgique": "Europe/Brussels",
    "belgium": "Europe/Brussels",
    "dakar": "Africa/Dakar",
    "sénégal": "Africa/Dakar",
    "abidjan": "Africa/Abidjan",
    "kinshasa": "Africa/Kinshasa",
    "kenya": "Africa/Nairobi",
    "east africa": "Africa/Nairobi",
    "lagos": "Africa/Lagos",
    "nigeria": "Africa/Lagos",
    "west africa": "Africa/Lagos",
    "johannesburg": "Africa/Johannesburg",
    "south africa": "Africa/Johannesburg",
    "cairo": "Africa/Cairo",
    "egypt": "Africa/Cairo",
    "maputo": "Africa/Maputo",
    "moçambique": "Africa/Maputo",
    "luanda": "Africa/Luanda",
    "angola": "Africa/Luanda",
    "india": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "manila": "Asia/Manila",
    "jakarta": "Asia/Jakarta",
    "bangkok": "Asia/Bangkok",
    "beirut": "Asia/Beirut",
    "amman": "Asia/Amman",
}
"""Zones written as a place ("UK time", "hora de Madrid"), by the place, lower-case."""


def _zone_pattern(named: bool) -> str:
    places = _alternation(_ZONE_NAMES)
    return (
        rf"\(?\s*(?{'P<zone>' if named else ':'}(?i:aoe|anywhere on earth){_NOT_LETTER_AFTER}|"
        r"(?:UTC|GMT)\s*[+\-−]\s*\d{1,2}(?::?\d{2})?|"
        rf"(?:[A-Z]{{1,4}}T|UTC|GMT|Z|WIB){_NOT_LETTER_AFTER}|"
        rf"(?i:(?:{places})\s+(?:standard\s+)?time){_NOT_LETTER_AFTER}|"
        rf"(?i:(?:hora de|heure de|horário de|ora di|hora|heure|ora)\s+(?:{places}))"
        rf"{_NOT_LETTER_AFTER})\s*\)?"
    )


_TIME_BEFORE = re.compile(
    rf"(?i:{_time_pattern(True)})\s*(?:{_zone_pattern(True)})?\s*,?\s*"
    r"(?i:(?:on|le|el|del|de|do|da|am|il|the|dia|of)\s*){0,2}$"
)
_TIME_AFTER = re.compile(
    r"\s*,?\s*\(?\s*(?:(?i:at|à|a las|a la|às|as|alle ore|alle|um|by|before|until|till|-|–|,)"
    rf"\s*)?(?i:{_time_pattern(True)})\s*(?:{_zone_pattern(True)})?"
)
_ZONE_AFTER = re.compile(
    rf"\s*,?\s*\(?\s*(?P<zone>(?i:aoe|anywhere on earth)){_NOT_LETTER_AFTER}"
    r"\s*\)?"
)
_ZONE_ONLY_AFTER = re.compile(rf"\s*,?\s*(?:{_zone_pattern(True)})")
_TIME_IN_GAP = re.compile(
    rf"(?:(?i:at|à|a las|às|alle|um)\s*)?(?i:{_time_pattern(False)})\s*(?:{_zone_pattern(False)})?"
)

PUBLICATION_GRACE = timedelta(days=14)
"""A date without a year this close before publication is read in the publication's year."""

_PLACEHOLDER_YEAR = 2000
_PARSER_BASE = datetime(_PLACEHOLDER_YEAR, 1, 1)


@dataclass(frozen=True)
class DateUnit:
    """One date or date range as written, located in the text."""

    start: int
    end: int
    first: date
    last: date
    is_range: bool = False
    year_stated: bool = True
    year_from_text: bool = False
    """True when the year came from another date in the text rather than from the publication."""
    is_ambiguous: bool = False
    """True when the reading rests on a guess (day/month order, a weekday that does not fit)."""
    at: time | None = None
    tz: str | None = None
    span_start: int = 0
    """Where the date, with a time and zone written before it, starts in the text."""
    span_end: int = 0
    """Where the date, with a time and zone written after it, ends in the text."""


@dataclass
class _Raw:
    """A single date expression before years and ranges are settled."""

    start: int
    end: int
    day: int
    month: int
    token: str | None
    year: int | None
    weekday: int | None = None
    numeric: tuple[int, int] | None = None
    """The two numbers of a slashed or dashed date, whose order may be a guess (dotted dates
    are always day-first and carry None)."""
    day_first_form: bool = True
    guessed: bool = False
    """True when the expression itself leaves doubt (a two-digit year)."""


@lru_cache(maxsize=1024)
def _month_by_dateparser(token: str, language: str) -> int | None:
    """The month dateparser reads in a month word, in that word's language (cached: the word,
    not the whole date, is what depends on the language)."""
    parsed = dateparser.parse(
        f"15 {token} {_PLACEHOLDER_YEAR}",
        languages=[language],
        settings={
            "RELATIVE_BASE": _PARSER_BASE,
            "REQUIRE_PARTS": ["day", "month", "year"],
            "DATE_ORDER": "DMY",
            "PREFER_LOCALE_DATE_ORDER": False,
        },
    )
    return parsed.month if parsed else None


def _month_language(token: str, hint: str | None) -> str:
    owners = [lang for lang, words in lexicon.MONTH_LANGUAGES.items() if token in words]
    if hint in owners:
        return hint
    return owners[0] if owners else "en"


def _calendar_date(raw: _Raw, year: int, language: str | None) -> date | None:
    if (
        raw.token is not None
        and _month_by_dateparser(raw.token, _month_language(raw.token, language)) != raw.month
    ):
        return None
    try:
        return date(year, raw.month, raw.day)
    except ValueError:
        return None


_DAY_FIRST_LANGUAGES = frozenset({"es", "fr", "pt", "de", "it", "nl", "ca", "gl"})
_DAY_FIRST_ENGLISH = frozenset(
    {
        "en-gb",
        "en-ie",
        "en-au",
        "en-nz",
        "en-in",
        "en-za",
        "en-ng",
        "en-ke",
        "en-gh",
        "en-pk",
        "en-sg",
        "en-ph",
    }
)


def numeric_order(
    text: str, language: str | None, declared: str | None = None
) -> tuple[bool, bool]:
    """Whether numeric dates here are day-first, and whether that is only a guess.

    A date like 25/12/2025 in the same listing settles it; so does a language that writes the
    day first (Spanish, French, Portuguese …, British English). Otherwise (English with no
    region, or US English, which many feeds declare by default) month-first is the guess and
    an ambiguous date such as 04/05/2025 is flagged.
    """
    day_first = month_first = 0
    for match in _NUMERIC.finditer(text):
        a, b = int(match["a"]), int(match["b"])
        if match["sep"] == "." or a > 12 >= b:
            day_first += 1
        elif b > 12 >= a:
            month_first += 1
    if day_first and not month_first:
        return True, False
    if month_first and not day_first:
        return False, False
    region = (declared or "").replace("_", "-").lower()
    if (language or "") in _DAY_FIRST_LANGUAGES or region in _DAY_FIRST_ENGLISH:
        return True, False
    if region[:2] in _DAY_FIRST_LANGUAGES:
        return True, False
    return False, True


def _raw_mentions(low: str, text: str, language: str | None, day_first: bool) -> list[_Raw]:
    """Date expressions, found from their digits outwards."""
    found: list[_Raw] = []
    consumed = 0
    for digits in _DIGITS.finditer(low):
        position = digits.start()
        if position < consumed:
            continue
        raw = _mention_at(low, text, position, len(digits.group()), language, day_first)
        if raw is None:
            continue
        weekday = _WEEKDAY_BEFORE.search(low, max(0, raw.start - 26), raw.start)
        if weekday:
            raw.weekday = _WEEKDAY_NUMBER[weekday["weekday"]]
            raw.start = weekday.start()
        if found and raw.start < found[-1].end:
            continue
        found.append(raw)
        consumed = raw.end
    return found


def _mention_at(
    low: str, text: str, position: int, length: int, language: str | None, day_first: bool
) -> _Raw | None:
    before = low[position - 1] if position else " "
    if before in "/." and position > 1 and low[position - 2].isdigit():
        return None
    if length <= 2:
        numeric = _NUMERIC.match(low, position)
        if numeric:
            a, b = int(numeric["a"]), int(numeric["b"])
            if numeric["sep"] == "." or a > 12:
                day, month = a, b
            elif b > 12:
                day, month = b, a
            else:
                day, month = (a, b) if day_first else (b, a)
            return _Raw(
                position,
                numeric.end(),
                day,
                month,
                None,
                int(numeric["year"]),
                numeric=None if numeric["sep"] == "." else (a, b),
            )
        short = _NUMERIC_SHORT_YEAR.match(low, position)
        if short and not before.isalnum():
            a, b = int(short["a"]), int(short["b"])
            day, month = (a, b) if short["sep"] == "." or day_first or a > 12 else (b, a)
            if 1 <= month <= 12:
                return _Raw(
                    position,
                    short.end(),
                    day,
                    month,
                    None,
                    2000 + int(short["yy"]),
                    numeric=None if short["sep"] == "." else (a, b),
                    guessed=True,
                )
        named = _HYPHENATED.match(low, position) or _DAY_FIRST.match(low, position)
        if named and _month_ok(named, text, True, language):
            return _named(named, position, True)
        before_word = low[max(0, position - 3) : position].rstrip(" \u00a0")
        month = (
            _MONTH_BEFORE.search(low, max(0, position - 16), position)
            if before_word and (before_word[-1].isalpha() or before_word[-1] == ".")
            else None
        )
        if month:
            named = _MONTH_FIRST.match(low, month.start())
            if named and named.start("day") == position and _month_ok(named, text, False, language):
                return _named(named, month.start(), False)
    elif length == 4:
        iso = _ISO.match(low, position)
        if iso:
            return _Raw(position, iso.end(), int(iso["a"]), int(iso["b"]), None, int(iso["year"]))
    return None


def _named(match: re.Match, start: int, day_first: bool) -> _Raw:
    token = match["month"].rstrip(".")
    return _Raw(
        start,
        match.end(),
        int(match["day"]),
        _MONTH_NUMBER[token],
        token,
        int(match["year"]) if match["year"] else None,
        day_first_form=day_first,
    )


def _month_ok(match: re.Match, text: str, day_first: bool, language: str | None) -> bool:
    """A month word that is also an ordinary word counts only in an unmistakable date shape."""
    token = match["month"].rstrip(".")
    if token not in lexicon.RISKY_MONTHS:
        return True
    if token in ("set", "ago", "gen", "mag", "out"):
        owners = [code for code, words in lexicon.MONTH_LANGUAGES.items() if token in words]
        return (language or "")[:2] in owners and day_first
    return day_first or text[match.start("month")].isupper()


def _infer_year(month: int, day: int, weekday: int | None, published: date) -> tuple[int, bool]:
    """The year of a yearless date: the next such date from publication (with a grace period).

    A stated weekday that fits a neighbouring year moves it there; one that fits none is a
    reason for doubt.
    """
    year = published.year
    try:
        if date(year, month, day) < published - PUBLICATION_GRACE:
            year += 1
    except ValueError:
        return year, True
    if weekday is None:
        return year, False
    for candidate in (year, year - 1, year + 1):
        try:
            if date(candidate, month, day).weekday() == weekday:
                return candidate, candidate < year and date(candidate, month, day) < published
        except ValueError:
            continue
    return year, True


def find_dates(
    text: str,
    low: str | None = None,
    *,
    published: date | None,
    language: str | None,
    declared_language: str | None = None,
) -> list[DateUnit]:
    """Every date and date range in `text`, in order, with years, times and zones resolved.

    `low` is `text` lower-cased with the same length (computed when not given).
    """
    low = low if low is not None else text.lower()
    day_first, order_guessed = numeric_order(low, language, declared_language)
    raws = _raw_mentions(low, text, language, day_first)
    stated_years = [(r.start, r.year) for r in raws if r.year]
    units: list[DateUnit] = []
    index = 0
    while index < len(raws):
        raw = raws[index]
        partner = raws[index + 1] if index + 1 < len(raws) else None
        start_raw: _Raw | None = None
        end_raw = raw
        consumed = 1
        if partner is not None and _is_range_gap(low, raw, partner):
            start_raw, end_raw, consumed = raw, partner, 2
        else:
            start_raw = _bare_day_before(low, raw)
            if start_raw is None:
                trailing = _day_after(low, raw)
                if trailing is not None:
                    start_raw, end_raw = raw, trailing
        unit = _make_unit(
            text,
            low,
            start_raw,
            end_raw,
            published,
            language,
            stated_years,
            day_first,
            order_guessed,
        )
        if unit is not None:
            units.append(unit)
        index += consumed
    return units


def _is_range_gap(low: str, first: _Raw, second: _Raw) -> bool:
    gap = low[first.end : second.start]
    if len(gap) > 48 or "\n" in gap:
        return False
    prefix = _PREFIX_BEFORE.search(low, max(0, first.start - 14), first.start)
    prefix_word = prefix["prefix"] if prefix else None
    bare = _TIME_IN_GAP.sub(" ", gap)
    match = _RANGE_GAP.fullmatch(bare)
    if match:
        connector = match["conn"]
        if connector in _AND_CONNECTORS:
            return prefix_word in _BETWEEN
        if connector in _SHORT_CONNECTORS:
            return prefix_word is not None
        return len(gap) <= 24 or prefix_word is not None
    if re.search(r"[.;!?]", bare):
        return False
    if prefix_word in _BETWEEN:
        return True
    return prefix_word is not None and _GAP_END.search(bare) is not None


def _bare_day_before(low: str, raw: _Raw) -> _Raw | None:
    if not raw.day_first_form or raw.numeric is not None or raw.token is None:
        return None
    match = _BARE_DAY_BEFORE.search(low, max(0, raw.start - 40), raw.start)
    if not match:
        return None
    connector = match["conn"]
    if connector in _SHORT_CONNECTORS and not match["prefix"]:
        return None
    day = int(match["day"])
    month = raw.month
    if day >= raw.day:
        if connector in _AND_CONNECTORS:
            return None
        month = raw.month - 1 or 12
    return _Raw(match.start(), match.end(), day, month, None, None)


def _day_after(low: str, raw: _Raw) -> _Raw | None:
    if raw.day_first_form or raw.year is not None or raw.token is None:
        return None
    match = _DAY_AFTER.match(low, raw.end, min(len(low), raw.end + 30))
    if not match or int(match["day"]) <= raw.day:
        return None
    return _Raw(
        match.start(),
        match.end(),
        int(match["day"]),
        raw.month,
        raw.token,
        int(match["year"]) if match["year"] else None,
        day_first_form=False,
    )


def _make_unit(
    text: str,
    low: str,
    start_raw: _Raw | None,
    end_raw: _Raw,
    published: date | None,
    language: str | None,
    stated_years: list[tuple[int, int]],
    day_first: bool,
    order_guessed: bool,
) -> DateUnit | None:
    anchor = start_raw or end_raw
    ambiguous = False
    year_from_text = False
    end_year = end_raw.year
    year_stated = end_year is not None
    if end_year is None and start_raw is not None and start_raw.year is not None:
        wraps = (end_raw.month, end_raw.day) < (start_raw.month, start_raw.day)
        end_year, year_stated = start_raw.year + wraps, True
    if end_year is None:
        if published is not None:
            end_year, doubtful = _infer_year(
                end_raw.month,
                end_raw.day,
                end_raw.weekday if start_raw is None else None,
                published,
            )
            ambiguous |= doubtful
        else:
            end_year = _nearest_year(stated_years, anchor.start)
            if end_year is None:
                return None
            year_from_text = True
    end_raw, end_flag = _settle_order(end_raw, end_year, published, order_guessed)
    last = _calendar_date(end_raw, end_year, language)
    if last is None:
        return None
    ambiguous |= end_flag or end_raw.guessed
    if end_raw.weekday is not None and last.weekday() != end_raw.weekday:
        ambiguous = True
    first = last
    if start_raw is not None:
        wraps = (start_raw.month, start_raw.day) > (last.month, last.day)
        first_year = start_raw.year or last.year - wraps
        start_raw, start_flag = _settle_order(
            start_raw, first_year, published, order_guessed, before=last
        )
        first = _calendar_date(start_raw, first_year, language)
        if first is None or first > last:
            return None
        ambiguous |= start_flag
    at, tz, span_start, span_end = _time_and_zone(text, low, anchor.start, end_raw.end)
    return DateUnit(
        start=anchor.start,
        end=end_raw.end,
        first=first,
        last=last,
        is_range=start_raw is not None,
        year_stated=year_stated,
        year_from_text=year_from_text,
        is_ambiguous=ambiguous,
        at=at,
        tz=tz,
        span_start=span_start,
        span_end=span_end,
    )


def _settle_order(
    raw: _Raw, year: int, published: date | None, order_guessed: bool, before: date | None = None
) -> tuple[_Raw, bool]:
    """For 03/04/2025 read by a guess: the reading that fits (a range, the publication)."""
    if raw.numeric is None or not order_guessed:
        return raw, False
    a, b = raw.numeric
    if a > 12 or b > 12 or a == b:
        return raw, False
    readings = []
    for day, month in ((a, b), (b, a)):
        try:
            readings.append(date(year, month, day))
        except ValueError:
            continue
    if before is not None:
        fitting = [r for r in readings if r <= before]
        if len(fitting) == 1:
            chosen = fitting[0]
            return _Raw(
                raw.start,
                raw.end,
                chosen.day,
                chosen.month,
                None,
                raw.year,
                raw.weekday,
                raw.numeric,
                guessed=raw.guessed,
            ), True
    if published is not None and readings:
        chosen = min(
            readings,
            key=lambda r: (
                abs((r - published).days),
                r != date(year, raw.month, raw.day) if _valid(year, raw.month, raw.day) else True,
            ),
        )
        return _Raw(
            raw.start,
            raw.end,
            chosen.day,
            chosen.month,
            None,
            raw.year,
            raw.weekday,
            raw.numeric,
            guessed=raw.guessed,
        ), True
    return raw, True


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _nearest_year(stated_years: list[tuple[int, int]], position: int) -> int | None:
    if not stated_years:
        return None
    return min(stated_years, key=lambda item: abs(item[0] - position))[1]


def _time_and_zone(
    text: str, low: str, start: int, end: int
) -> tuple[time | None, str | None, int, int]:
    after = _TIME_AFTER.match(text, end, min(len(text), end + 45))
    if after:
        at = _read_time(after)
        if at is not None:
            return at, _read_zone(after), start, after.end()
    before = _TIME_BEFORE.search(text, max(0, start - 50), start)
    if before:
        at = _read_time(before)
        if at is not None:
            zone = _read_zone(before)
            span_end = end
            if zone is None:
                later = _ZONE_ONLY_AFTER.match(text, end, min(len(text), end + 40))
                if later and _read_zone(later):
                    zone, span_end = _read_zone(later), later.end()
            return at, zone, before.start(), span_end
    zone = _ZONE_AFTER.match(text, end, min(len(text), end + 25))
    if zone:
        return None, "AoE", start, zone.end()
    return None, None, start, end


def _read_time(match: re.Match) -> time | None:
    if match["midnight"]:
        return time(23, 59)
    if match["noon"]:
        return time(12, 0)
    if match["h12"]:
        hour = int(match["h12"]) % 12 + (12 if match["ap"].lower() == "p" else 0)
        return time(hour, int(match["m12"] or 0))
    if match["hit"]:
        return time(int(match["hit"]), int(match["mit"]))
    if match["h24"]:
        minutes = match["m24"] or match["mh"] or match["md"] or "0"
        return time(int(match["h24"]), int(minutes))
    return None


def _read_zone(match: re.Match) -> str | None:
    label = match["zone"]
    if not label:
        return None
    lower = " ".join(label.split()).lower()
    if lower in ("aoe", "anywhere on earth"):
        return "AoE"
    for name, zone in sorted(_ZONE_NAMES.items(), key=lambda item: -len(item[0])):
        if re.search(rf"\b{re.escape(name)}\b", lower):
            return zone
    label = label.replace("−", "-").replace(" ", "").upper()
    if label in _NORTH_AMERICAN:
        return _NORTH_AMERICAN[label]
    return label if resolve_zone(label) else None


_NORTH_AMERICAN = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "AKT": "America/Anchorage",
}
"""Zones written without standard or daylight ("5 p.m. ET"): the place, so the date decides."""

ZONE_ABBREVIATIONS = (frozenset(ZONE_OFFSETS) - {"Z"}) | {"AOE", *_NORTH_AMERICAN}
"""Zone abbreviations that may stand between a closing word and its time ("by 5 pm CET on")."""
