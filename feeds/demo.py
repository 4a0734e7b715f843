"""Sample feeds for the demo: invented organisations, dates that never go stale.

The files in `feeds/samples/` are templates. Every date in them is a token relative to the
day the demo is loaded, so a newcomer always sees some listings closing this week, some this
quarter and some already closed. Loaded on 29 November 2026:

    [[+45 en]]        13 January 2027           [[+45 es]]      13 de enero de 2027
    [[+45 en-us]]     January 13, 2027          [[+45 fr]]      13 janvier 2027 (1er for the 1st)
    [[+45 en-md]]     13 January (no year)      [[+45 pt]]      13 de janeiro de 2027
    [[-10 rfc822]]    Thu, 19 Nov 2026 09:00:00 +0000   (RSS pubDate, 09:00 UTC)
    [[-10 iso]]       2026-11-19                [[-10 rfc3339]] 2026-11-19T09:00:00Z
    [[+45 year]]      2027

`es-md`, `fr-md` and `pt-md` drop the year like `en-md`. A range such as `[[+60..+62 en]]`
writes an event's dates the way listings do ("17–19 March 2027", "30 March – 1 April 2027"),
correct across month and year ends; it takes the prose formats only.

Nothing here depends on the machine's locale: month names are spelled out below.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources

from sqlalchemy.orm import Session

from directory.models import Source

from .ingest import store_entries
from .parse import parse_feed

SAMPLE_FILES = (
    "summits.xml",
    "fellowships.atom",
    "convocatorias.xml",
    "appels.xml",
    "chamadas.json",
)
"""The sample files in the order they are loaded: English first, then by language."""

PUBLISHED_HOUR = 9
"""The hour (UTC) given to the date-time formats, so a publication reads like a working day."""

_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "pt": (
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ),
}

_RFC822_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC822_MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)

_TOKEN = re.compile(r"\[\[([^\[\]]*)\]\]")
_SPEC = re.compile(r"\s*([+-]?\d+)(?:\s*\.\.\s*([+-]?\d+))?\s+(\S+)\s*")


@dataclass(frozen=True)
class SampleFeed:
    """One sample feed, rendered for a given day and ready to ingest."""

    name: str
    """The file name in `feeds/samples/`, e.g. `summits.xml`."""
    title: str
    """The feed's own title (its channel, feed or JSON Feed title)."""
    content: bytes
    """The rendered feed, UTF-8, with no tokens left."""


def _day_fr(on: date) -> str:
    return "1er" if on.day == 1 else str(on.day)


def _en(on: date, year: bool) -> str:
    text = f"{on.day} {_MONTHS['en'][on.month - 1]}"
    return f"{text} {on.year}" if year else text


def _en_us(on: date, year: bool) -> str:
    text = f"{_MONTHS['en'][on.month - 1]} {on.day}"
    return f"{text}, {on.year}" if year else text


def _de(lang: str) -> Callable[[date, bool], str]:
    """Spanish and Portuguese: "13 de enero de 2027"."""

    def render(on: date, year: bool) -> str:
        text = f"{on.day} de {_MONTHS[lang][on.month - 1]}"
        return f"{text} de {on.year}" if year else text

    return render


def _fr(on: date, year: bool) -> str:
    text = f"{_day_fr(on)} {_MONTHS['fr'][on.month - 1]}"
    return f"{text} {on.year}" if year else text


_SINGLE: dict[str, tuple[Callable[[date, bool], str], bool]] = {
    "en": (_en, True),
    "en-md": (_en, False),
    "en-us": (_en_us, True),
    "es": (_de("es"), True),
    "es-md": (_de("es"), False),
    "fr": (_fr, True),
    "fr-md": (_fr, False),
    "pt": (_de("pt"), True),
    "pt-md": (_de("pt"), False),
}
"""Prose formats: the function that writes a date, and whether it writes the year."""


def _rfc822(on: date) -> str:
    return (
        f"{_RFC822_DAYS[on.weekday()]}, {on.day:02d} {_RFC822_MONTHS[on.month - 1]} "
        f"{on.year} {PUBLISHED_HOUR:02d}:00:00 +0000"
    )


_MACHINE: dict[str, Callable[[date], str]] = {
    "rfc822": _rfc822,
    "iso": date.isoformat,
    "rfc3339": lambda on: f"{on.isoformat()}T{PUBLISHED_HOUR:02d}:00:00Z",
    "year": lambda on: str(on.year),
}
"""Formats for feed metadata (and the year alone, for titles); these take no ranges."""

_RANGE_WORD = {"es": " al ", "fr": " au ", "pt": " a "}
"""What joins the two ends of a range: "17 al 19 de marzo", "17 au 19 mars", "17 a 19 de março"."""


def _range(fmt: str, start: date, end: date) -> str:
    """Two dates as one span, naming a shared month and year only once."""
    write, year = _SINGLE[fmt]
    if start == end:
        return write(start, year)
    if start.year != end.year:
        first = write(start, year)  # "30 December 2026 – 1 January 2027"
    elif start.month != end.month:
        first = write(start, False)  # "30 January – 1 February 2027"
    elif fmt == "en-us":  # "January 28–30, 2027"
        month = _MONTHS["en"][start.month - 1]
        return f"{month} {start.day}–{end.day}" + (f", {end.year}" if year else "")
    else:  # "28–30 January 2027"
        first = _day_fr(start) if fmt.startswith("fr") else str(start.day)
    joiner = _RANGE_WORD.get(fmt[:2]) or ("–" if start.month == end.month else " – ")
    return f"{first}{joiner}{write(end, year)}"


def _render_token(match: re.Match[str], today: date) -> str:
    token = match.group(0)
    spec = _SPEC.fullmatch(match.group(1))
    if spec is None:
        raise ValueError(f"malformed sample date token {token!r}: expected e.g. [[+45 en]]")
    first, last, fmt = spec.groups()
    start = today + timedelta(days=int(first))
    if last is None:
        if fmt in _MACHINE:
            return _MACHINE[fmt](start)
        if fmt in _SINGLE:
            write, year = _SINGLE[fmt]
            return write(start, year)
        raise ValueError(f"unknown date format {fmt!r} in sample token {token!r}")
    if fmt not in _SINGLE:
        raise ValueError(f"date format {fmt!r} takes no range, in sample token {token!r}")
    end = today + timedelta(days=int(last))
    if end < start:
        raise ValueError(f"range ends before it starts in sample token {token!r}")
    return _range(fmt, start, end)


def render_sample(template: str, today: date) -> str:
    """Replace every `[[offset format]]` token with that date, counted in days from `today`.

    Raises ValueError naming the token when its format is unknown or it cannot be read.
    """
    return _TOKEN.sub(lambda match: _render_token(match, today), template)


def _title(name: str, content: bytes) -> str:
    """The title a feed gives itself, read from the rendered file."""
    if name.endswith(".json"):
        return str(json.loads(content)["title"])
    root = ET.fromstring(content)
    node = root.find("channel/title")
    if node is None:
        node = root.find("{http://www.w3.org/2005/Atom}title")
    if node is None or not node.text:
        raise ValueError(f"sample feed {name} has no title")
    return node.text.strip()


def sample_feeds(today: date) -> list[SampleFeed]:
    """Every sample feed rendered for `today`, in the order of SAMPLE_FILES."""
    folder = resources.files("feeds") / "samples"
    feeds = []
    for name in SAMPLE_FILES:
        rendered = render_sample((folder / name).read_text(encoding="utf-8"), today)
        content = rendered.encode("utf-8")
        feeds.append(SampleFeed(name=name, title=_title(name, content), content=content))
    return feeds


@dataclass(frozen=True)
class DemoReport:
    """What loading the demo stored."""

    sources: int
    new: int


def load_samples(session: Session, now: datetime) -> DemoReport:
    """Store every sample feed, rendered for today, through the same parse and store steps as a poll.

    The caller decides whether the demo is wanted (an empty database); this commits once per feed.
    """
    new = 0
    samples = sample_feeds(now.date())
    for sample in samples:
        source = Source(name=sample.title, url=f"sample:{sample.name}", kind="sample")
        session.add(source)
        session.flush()
        report = store_entries(session, source, parse_feed(sample.content).entries, now)
        session.commit()
        new += report.new
    return DemoReport(sources=len(samples), new=new)
