"""The demo's sample feeds: tokens render to correct dates, and every file is a valid feed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib import resources

import feedparser
import pytest

from feeds.demo import SAMPLE_FILES, SampleFeed, render_sample, sample_feeds

TODAY = date(2026, 11, 29)
"""A fixed load day for the format table."""

LOAD_DAYS = (
    date(2026, 11, 29),
    date(2026, 12, 31),
    date(2027, 1, 1),
    date(2027, 2, 27),
    date(2027, 9, 30),
    date(2028, 2, 28),
    date(2028, 2, 29),
    date(2028, 10, 15),
)
"""Load days that put the samples' dates across month ends, year ends and a leap day."""

LANGUAGES = {
    "summits.xml": "en",
    "fellowships.atom": "en",
    "convocatorias.xml": "es",
    "appels.xml": "fr",
    "chamadas.json": "pt",
}

# Written out again here, not imported, so that the tests check the module's spelling.
MONTHS = {
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

TOKEN = re.compile(r"\[\[\s*([+-]?\d+)(?:\s*\.\.\s*([+-]?\d+))?\s+(\S+?)\s*\]\]")


def template(name: str) -> str:
    """The unrendered text of one sample file."""
    return (resources.files("feeds") / "samples" / name).read_text(encoding="utf-8")


def entry_blocks(name: str) -> list[str]:
    """The unrendered text of each entry in a sample file."""
    text = template(name)
    if name.endswith(".json"):
        return [json.dumps(item, ensure_ascii=False) for item in json.loads(text)["items"]]
    tag = "entry" if name.endswith(".atom") else "item"
    return re.findall(rf"<{tag}>.*?</{tag}>", text, flags=re.DOTALL)


def parsed_entries(feed: SampleFeed) -> list[dict[str, str]]:
    """Title, link and HTML of each rendered entry, from feedparser or the JSON Feed."""
    if feed.name.endswith(".json"):
        return [
            {"title": item["title"], "link": item["url"], "html": item["content_html"]}
            for item in json.loads(feed.content)["items"]
        ]
    return [
        {
            "title": entry.get("title", ""),
            "link": entry.get("link", ""),
            "html": max(
                [entry.get("summary", "")] + [c.value for c in entry.get("content", [])], key=len
            ),
        }
        for entry in feedparser.parse(feed.content).entries
    ]


# --- rendering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("[[+45 en]]", "13 January 2027"),
        ("[[+45 en-us]]", "January 13, 2027"),
        ("[[+45 en-md]]", "13 January"),
        ("[[+45 es]]", "13 de enero de 2027"),
        ("[[+45 es-md]]", "13 de enero"),
        ("[[+45 fr]]", "13 janvier 2027"),
        ("[[+45 fr-md]]", "13 janvier"),
        ("[[+2 fr]]", "1er décembre 2026"),
        ("[[+45 pt]]", "13 de janeiro de 2027"),
        ("[[+45 pt-md]]", "13 de janeiro"),
        ("[[-10 rfc822]]", "Thu, 19 Nov 2026 09:00:00 +0000"),
        ("[[-10 iso]]", "2026-11-19"),
        ("[[-10 rfc3339]]", "2026-11-19T09:00:00Z"),
        ("[[+45 year]]", "2027"),
        ("[[0 iso]]", "2026-11-29"),
        ("[[ +3 en ]]", "2 December 2026"),
        ("[[+60..+62 en]]", "28–30 January 2027"),
        ("[[+33..+35 en]]", "1–3 January 2027"),
        ("[[+62..+64 en]]", "30 January – 1 February 2027"),
        ("[[+31..+33 en]]", "30 December 2026 – 1 January 2027"),
        ("[[+62..+64 en-md]]", "30 January – 1 February"),
        ("[[+60..+62 en-us]]", "January 28–30, 2027"),
        ("[[+62..+64 en-us]]", "January 30 – February 1, 2027"),
        ("[[+31..+33 en-us]]", "December 30, 2026 – January 1, 2027"),
        ("[[+60..+62 es]]", "28 al 30 de enero de 2027"),
        ("[[+31..+33 es]]", "30 de diciembre de 2026 al 1 de enero de 2027"),
        ("[[+62..+64 fr]]", "30 janvier au 1er février 2027"),
        ("[[+2..+4 fr]]", "1er au 3 décembre 2026"),
        ("[[+62..+64 pt]]", "30 de janeiro a 1 de fevereiro de 2027"),
        ("[[+5..+5 en]]", "4 December 2026"),
    ],
)
def test_render_each_format(token: str, expected: str) -> None:
    assert render_sample(token, TODAY) == expected


def test_render_replaces_every_token_and_keeps_the_rest() -> None:
    text = "<p>Deadline: [[+1 en]]; the forum runs [[+10..+11 en]].</p>[[-1 rfc822]]"
    assert render_sample(text, TODAY) == (
        "<p>Deadline: 30 November 2026; the forum runs 9–10 December 2026.</p>"
        "Sat, 28 Nov 2026 09:00:00 +0000"
    )


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("[[+4 de]]", "unknown date format 'de'"),
        ("[[+4 EN]]", "unknown date format 'EN'"),
        ("[[+4 en-gb]]", "unknown date format 'en-gb'"),
        ("[[soon en]]", "malformed"),
        ("[[+4]]", "malformed"),
        ("[[+1..+2 iso]]", "takes no range"),
        ("[[+5..+2 en]]", "ends before it starts"),
    ],
)
def test_bad_token_is_named_in_the_error(token: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        render_sample(f"<p>Deadline: {token}</p>", TODAY)
    assert token in str(error.value)


# --- dates read back --------------------------------------------------------------------------


def month_number(lang: str, name: str) -> int:
    return MONTHS[lang].index(name) + 1


_READ_SINGLE = {
    "en": r"(?P<d>\d{1,2}) (?P<m>\w+) (?P<y>\d{4})",
    "en-us": r"(?P<m>\w+) (?P<d>\d{1,2}), (?P<y>\d{4})",
    "en-md": r"(?P<d>\d{1,2}) (?P<m>\w+)",
    "es": r"(?P<d>\d{1,2}) de (?P<m>\w+) de (?P<y>\d{4})",
    "es-md": r"(?P<d>\d{1,2}) de (?P<m>\w+)",
    "fr": r"(?P<d>\d{1,2})(?P<er>er)? (?P<m>\w+) (?P<y>\d{4})",
    "fr-md": r"(?P<d>\d{1,2})(?P<er>er)? (?P<m>\w+)",
    "pt": r"(?P<d>\d{1,2}) de (?P<m>\w+) de (?P<y>\d{4})",
    "pt-md": r"(?P<d>\d{1,2}) de (?P<m>\w+)",
}

_READ_RANGE = {
    "en": r"(?P<d1>\d+)(?: (?P<m1>\w+))?(?: (?P<y1>\d{4}))?(?:–| – )"
    r"(?P<d2>\d+) (?P<m2>\w+) (?P<y2>\d{4})",
    "en-md": r"(?P<d1>\d+)(?: (?P<m1>\w+))?(?:–| – )(?P<d2>\d+) (?P<m2>\w+)",
    "en-us": r"(?P<m1>\w+) (?P<d1>\d+)(?:, (?P<y1>\d{4}))?(?:–| – )"
    r"(?:(?P<m2>[A-Z]\w+) )?(?P<d2>\d+), (?P<y2>\d{4})",
    "es": r"(?P<d1>\d+)(?: de (?P<m1>\w+))?(?: de (?P<y1>\d{4}))? al "
    r"(?P<d2>\d+) de (?P<m2>\w+) de (?P<y2>\d{4})",
    "fr": r"(?P<d1>\d+)(?:er)?(?: (?P<m1>\w+))?(?: (?P<y1>\d{4}))? au "
    r"(?P<d2>\d+)(?:er)? (?P<m2>\w+) (?P<y2>\d{4})",
    "pt": r"(?P<d1>\d+)(?: de (?P<m1>\w+))?(?: de (?P<y1>\d{4}))? a "
    r"(?P<d2>\d+) de (?P<m2>\w+) de (?P<y2>\d{4})",
}


def read_single(text: str, fmt: str) -> tuple[int, int, int | None]:
    """(day, month, year or None) from one rendered date, read independently of the module."""
    if fmt == "rfc822":
        moment = parsedate_to_datetime(text)
        assert (moment.utcoffset(), moment.hour, moment.minute) == (timedelta(0), 9, 0)
        return moment.day, moment.month, moment.year
    if fmt == "rfc3339":
        moment = datetime.fromisoformat(text)
        assert text.endswith("T09:00:00Z")
        return moment.day, moment.month, moment.year
    if fmt == "iso":
        on = date.fromisoformat(text)
        return on.day, on.month, on.year
    if fmt == "year":
        assert re.fullmatch(r"\d{4}", text)
        return 0, 0, int(text)
    match = re.fullmatch(_READ_SINGLE[fmt], text)
    assert match, f"{text!r} does not read as {fmt}"
    day = int(match["d"])
    if fmt.startswith("fr"):
        assert bool(match["er"]) == (day == 1), f"French writes '1er' for the first: {text!r}"
    year = match.groupdict().get("y")
    return day, month_number(fmt[:2], match["m"]), int(year) if year else None


def read_range(text: str, fmt: str) -> tuple[tuple[int, int, int | None], ...]:
    """The two ends of a rendered range; a missing month or year is the other end's."""
    match = re.fullmatch(_READ_RANGE[fmt], text)
    assert match, f"{text!r} does not read as a {fmt} range"
    end_year = match.groupdict().get("y2")
    start_year = match.groupdict().get("y1") or end_year
    if fmt == "en-us":  # "January 30 – February 1, 2027": the month leads, the end may omit it
        start_month, end_month = match["m1"], match["m2"] or match["m1"]
    else:  # "30 January – 1 February 2027": the month follows, the start may omit it
        start_month, end_month = match["m1"] or match["m2"], match["m2"]
    lang = fmt[:2]
    start = (
        int(match["d1"]),
        month_number(lang, start_month),
        int(start_year) if start_year else None,
    )
    end = (int(match["d2"]), month_number(lang, end_month), int(end_year) if end_year else None)
    return start, end


def expected(on: date, fmt: str) -> tuple[int, int, int | None]:
    if fmt == "year":
        return 0, 0, on.year
    return on.day, on.month, None if fmt.endswith("-md") else on.year


SINGLE_FORMATS = (*_READ_SINGLE, "rfc822", "rfc3339", "iso", "year")


@pytest.mark.parametrize("today", LOAD_DAYS, ids=str)
def test_every_format_reads_back_as_today_plus_offset(today: date) -> None:
    for offset in range(-100, 200):
        on = today + timedelta(days=offset)
        for fmt in SINGLE_FORMATS:
            rendered = render_sample(f"[[{offset:+d} {fmt}]]", today)
            assert read_single(rendered, fmt) == expected(on, fmt), (offset, fmt, rendered)
        for length in range(4):
            end = on + timedelta(days=length)
            for fmt in _READ_RANGE:
                rendered = render_sample(f"[[{offset:+d}..{offset + length:+d} {fmt}]]", today)
                if length == 0:
                    assert read_single(rendered, fmt) == expected(on, fmt), rendered
                else:
                    assert read_range(rendered, fmt) == (expected(on, fmt), expected(end, fmt)), (
                        rendered
                    )


@pytest.mark.parametrize("today", LOAD_DAYS, ids=str)
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_date_in_the_samples_reads_back(name: str, today: date) -> None:
    tokens = list(TOKEN.finditer(template(name)))
    assert tokens
    for token in tokens:
        first, last, fmt = token.groups()
        rendered = render_sample(token.group(0), today)
        start = today + timedelta(days=int(first))
        if last is None:
            assert read_single(rendered, fmt) == expected(start, fmt), token.group(0)
        else:
            end = today + timedelta(days=int(last))
            assert read_range(rendered, fmt) == (expected(start, fmt), expected(end, fmt))


# --- the sample files -------------------------------------------------------------------------


def test_sample_feeds_come_in_a_stable_order_with_titles() -> None:
    feeds = sample_feeds(TODAY)
    assert [feed.name for feed in feeds] == list(SAMPLE_FILES)
    assert feeds == sample_feeds(TODAY)
    for feed in feeds:
        assert isinstance(feed.content, bytes)
        assert feed.title and "[[" not in feed.title
        feed.content.decode("utf-8")


def test_every_file_in_samples_is_loaded() -> None:
    folder = resources.files("feeds") / "samples"
    assert sorted(path.name for path in folder.iterdir() if path.is_file()) == sorted(SAMPLE_FILES)


def test_templates_state_no_literal_year() -> None:
    for name in SAMPLE_FILES:
        prose = re.sub(r"https?://[^\s\"<>]+", "", template(name))  # namespaces name years
        assert not re.search(r"\b20\d\d\b", prose), f"{name} has a year outside a token"


@pytest.mark.parametrize("today", LOAD_DAYS[:3], ids=str)
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_sample_renders_to_a_valid_feed(name: str, today: date) -> None:
    feed = next(feed for feed in sample_feeds(today) if feed.name == name)
    assert b"[[" not in feed.content
    if name.endswith(".json"):
        document = json.loads(feed.content)
        assert document["version"] == "https://jsonfeed.org/version/1.1"
        assert document["language"] == LANGUAGES[name]
        ids = [item["id"] for item in document["items"]]
        assert ids and len(ids) == len(set(ids))
        for item in document["items"]:
            datetime.fromisoformat(item["date_published"])
        return
    ET.fromstring(feed.content)  # strictly well-formed, not merely accepted
    parsed = feedparser.parse(feed.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.get("language", "").startswith(LANGUAGES[name])
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.get("id")
        assert entry.get("published_parsed")
        assert entry.get("author")


def test_entries_have_titles_unique_links_and_enough_text() -> None:
    entries = [entry for feed in sample_feeds(TODAY) for entry in parsed_entries(feed)]
    assert len(entries) >= 30
    links = [entry["link"] for entry in entries]
    assert len(links) == len(set(links))
    for entry in entries:
        assert entry["title"].strip()
        assert entry["link"].startswith("https://example.org/")
        words = len(re.sub(r"<[^>]+>", " ", entry["html"]).split())
        assert 60 <= words <= 200, (entry["title"], words)
        assert "<p>" in entry["html"] and "<li>" in entry["html"] and "<a href=" in entry["html"]


def offsets(block: str) -> tuple[list[int], list[int]]:
    """The publication offsets (date-time formats) and the other offsets of one entry."""
    published, stated = [], []
    for first, last, fmt in TOKEN.findall(block):
        ends = [int(first)] + ([int(last)] if last else [])
        (published if fmt in ("rfc822", "rfc3339") else stated).extend(ends)
    return published, stated


def test_entries_are_published_before_anything_they_announce() -> None:
    for name in SAMPLE_FILES:
        for block in entry_blocks(name):
            published, stated = offsets(block)
            assert published, block[:80]
            if not stated:
                assert "rolling basis" in block, f"no date and not rolling: {block[:80]}"
                continue
            assert max(published) <= -1, "published before the day the demo is loaded"
            assert min(published) < min(stated), block[:80]


def test_the_mix_of_open_and_closed_listings() -> None:
    blocks = [block for name in SAMPLE_FILES for block in entry_blocks(name)]
    stated = [dates for dates in (offsets(block)[1] for block in blocks) if dates]
    assert len(stated) == len(blocks) - 1, "exactly one listing is open with no date"
    wholly_past = [dates for dates in stated if max(dates) < 0]
    assert 4 <= len(wholly_past) <= 6
    assert sum(1 for dates in stated if max(dates) > 0) >= 20
    soonest = [min(d for d in dates if d >= 0) for dates in stated if max(dates) >= 0]
    assert any(d <= 7 for d in soonest)
    assert any(7 < d <= 30 for d in soonest)
    assert any(30 < d <= 90 for d in soonest)
