"""Date expressions: ordinals, ranges, years left out, day/month order, times and zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from feeds.closing import closing_instant
from feeds.extract import extract
from feeds.extract_dates import find_dates

PUBLISHED_ON = date(2025, 3, 1)
PUBLISHED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def dates_in(
    text: str,
    *,
    published: date | None = PUBLISHED_ON,
    language: str = "en",
    declared: str | None = None,
) -> list[tuple[date, date]]:
    units = find_dates(text, published=published, language=language, declared_language=declared)
    return [(u.first, u.last) for u in units]


# --- Expressions ---------------------------------------------------------------------------

SINGLE = [
    ("15 April 2025", "en", date(2025, 4, 15)),
    ("April 15, 2025", "en", date(2025, 4, 15)),
    ("the 2nd of May 2025", "en", date(2025, 5, 2)),
    ("March 3rd", "en", date(2025, 3, 3)),
    ("Thursday, May 22", "en", date(2025, 5, 22)),
    ("Sept. 9, 2025", "en", date(2025, 9, 9)),
    ("30 de abril de 2025", "es", date(2025, 4, 30)),
    ("1 de septiembre", "es", date(2025, 9, 1)),
    ("viernes 4 de abril de 2025", "es", date(2025, 4, 4)),
    ("1er mai 2025", "fr", date(2025, 5, 1)),
    ("le 3 février 2026", "fr", date(2026, 2, 3)),
    ("mardi 8 avril", "fr", date(2025, 4, 8)),
    ("1º de junho de 2025", "pt", date(2025, 6, 1)),
    ("1.º de junho", "pt", date(2025, 6, 1)),
    ("15 de set. de 2025", "pt", date(2025, 9, 15)),
    ("20. September 2026", "de", date(2026, 9, 20)),
    ("3 aprile 2025", "it", date(2025, 4, 3)),
    ("20.09.2026", "de", date(2026, 9, 20)),
    ("2025-06-30", "en", date(2025, 6, 30)),
    ("15-Apr-2025", "en", date(2025, 4, 15)),
    ("25/12/2025", "en", date(2025, 12, 25)),
]


@pytest.mark.parametrize(("text", "language", "expected"), SINGLE)
def test_date_expressions_in_every_language(text: str, language: str, expected: date) -> None:
    assert dates_in(text, language=language) == [(expected, expected)]


NOT_DATES = [
    "We set 5 goals for the year.",
    "You may 2 or 3 times resubmit.",
    "Room 12, floor 3, 46 Colombo street",
    "Salary: 35,400 – 1,12,400 per month",
    "Ages 18–35 years; 10+2 qualification",
    "31 April 2025",
]


@pytest.mark.parametrize("text", NOT_DATES)
def test_numbers_that_are_not_dates(text: str) -> None:
    assert dates_in(text) == []


RANGES = [
    ("17-19 July 2018", "en", (date(2018, 7, 17), date(2018, 7, 19))),
    ("July 17–19, 2018", "en", (date(2018, 7, 17), date(2018, 7, 19))),
    ("May 29-June 1, 2018", "en", (date(2018, 5, 29), date(2018, 6, 1))),
    ("from 26 September to 16 October 2025", "en", (date(2025, 9, 26), date(2025, 10, 16))),
    ("between 12th September and 1st October 2025", "en", (date(2025, 9, 12), date(2025, 10, 1))),
    ("from 01/12/2025 to 30/12/2025", "en", (date(2025, 12, 1), date(2025, 12, 30))),
    ("28 December 2025 - 3 January 2026", "en", (date(2025, 12, 28), date(2026, 1, 3))),
    ("del 3 al 5 de mayo", "es", (date(2025, 5, 3), date(2025, 5, 5))),
    ("del 28 de abril al 2 de mayo de 2025", "es", (date(2025, 4, 28), date(2025, 5, 2))),
    ("du 3 au 5 mai", "fr", (date(2025, 5, 3), date(2025, 5, 5))),
    ("du 30 mai au 2 juin 2025", "fr", (date(2025, 5, 30), date(2025, 6, 2))),
    ("de 3 a 5 de maio de 2025", "pt", (date(2025, 5, 3), date(2025, 5, 5))),
    ("dal 13 al 22 aprile 2025", "it", (date(2025, 4, 13), date(2025, 4, 22))),
    ("10–11 OCTOBRE", "fr", (date(2025, 10, 10), date(2025, 10, 11))),
]


@pytest.mark.parametrize(("text", "language", "expected"), RANGES)
def test_ranges_in_every_language(text: str, language: str, expected: tuple[date, date]) -> None:
    assert dates_in(text, language=language) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Deadline: 15/4/25", date(2025, 4, 15)),
        ("Apply by 03.04.25.", date(2025, 4, 3)),
        ("Fecha límite: 30/4/25", date(2025, 4, 30)),
    ],
)
def test_a_two_digit_year_is_read_but_only_as_likely(text: str, expected: date) -> None:
    [found] = extract("", text, published=PUBLISHED).deadlines
    assert (found.on, found.confidence) == (expected, "likely")


def test_a_list_of_two_dates_is_not_a_range() -> None:
    assert dates_in("Webinars on 5 May and 12 May 2025.") == [
        (date(2025, 5, 5), date(2025, 5, 5)),
        (date(2025, 5, 12), date(2025, 5, 12)),
    ]


# --- The year when it is left out -----------------------------------------------------------

YEARS = [
    # (text, published, expected): the next such date after publication
    ("Apply by 15 January.", date(2025, 11, 20), date(2026, 1, 15)),
    ("Apply by 15 December.", date(2025, 11, 20), date(2025, 12, 15)),
    ("Deadline: 10 February.", date(2025, 3, 1), date(2026, 2, 10)),
    ("Deadline: 25 February.", date(2025, 3, 1), date(2025, 2, 25)),
    ("Fecha límite: 15 de enero.", date(2025, 11, 20), date(2026, 1, 15)),
    ("Date limite : 15 janvier.", date(2025, 11, 20), date(2026, 1, 15)),
    ("Prazo: 15 de janeiro.", date(2025, 11, 20), date(2026, 1, 15)),
]


@pytest.mark.parametrize(("text", "published", "expected"), YEARS)
def test_a_missing_year_is_the_next_one_after_publication(
    text: str, published: date, expected: date
) -> None:
    assert dates_in(text, published=published, language="en") == [(expected, expected)]


def test_a_weekday_chooses_between_neighbouring_years() -> None:
    [unit] = find_dates("Thursday 9 March", published=date(2016, 8, 8), language="en")
    assert unit.last == date(2017, 3, 9) and not unit.is_ambiguous


def test_a_weekday_that_fits_no_year_makes_the_date_doubtful() -> None:
    [unit] = find_dates("Tuesday 9 March", published=date(2016, 8, 8), language="en")
    assert unit.is_ambiguous
    [found] = extract(
        "", "Apply by Tuesday 9 March.", published=datetime(2016, 8, 8, tzinfo=UTC)
    ).deadlines
    assert found.confidence == "likely"


def test_without_a_publication_date_the_year_comes_from_the_text_and_is_doubtful() -> None:
    text = (
        "On 1 September 2025 the course moves to a new platform: you have until 31 August "
        "to complete it."
    )
    [found] = extract("", text, published=None).deadlines
    assert (found.on, found.confidence) == (date(2025, 8, 31), "likely")


def test_without_any_year_a_date_is_not_guessed() -> None:
    assert extract("", "Applications are open until 22 October.", published=None).deadlines == ()


# --- Day/month order -----------------------------------------------------------------------

ORDER = [
    # (text, declared language, expected date, confidence)
    ("Deadline: 25/04/2025", "en-US", date(2025, 4, 25), "certain"),
    ("Deadline: 04/25/2025", "en-GB", date(2025, 4, 25), "certain"),
    ("Deadline: 04/05/2025", "en-GB", date(2025, 5, 4), "certain"),
    ("Fecha límite: 04/05/2025", "es", date(2025, 5, 4), "certain"),
    ("Date limite : 04/05/2025", "fr-FR", date(2025, 5, 4), "certain"),
    ("La date limite de dépôt des dossiers est le 04/05/2025.", None, date(2025, 5, 4), "certain"),
    ("Prazo: 04/05/2025", "pt-BR", date(2025, 5, 4), "certain"),
    ("Deadline: 04/05/2025", "en-US", date(2025, 4, 5), "likely"),
    ("Deadline: 04/05/2025", "en", date(2025, 4, 5), "likely"),
    ("Deadline: 04.05.2025", "en-US", date(2025, 5, 4), "certain"),
    (
        "The workshop runs from 01/12/2025 to 20/12/2025; the deadline to apply is 05/12/2025.",
        "en-US",
        date(2025, 12, 5),
        "certain",
    ),
]


@pytest.mark.parametrize(("text", "declared", "expected", "confidence"), ORDER)
def test_day_first_or_month_first(
    text: str, declared: str | None, expected: date, confidence: str
) -> None:
    result = extract("", text, published=PUBLISHED, language=declared)
    assert (result.deadlines[-1].on, result.deadlines[-1].confidence) == (expected, confidence)


def test_an_ambiguous_window_takes_the_reading_that_makes_a_window() -> None:
    result = extract(
        "",
        "Candidates can apply online from 07/11/2025 to 06/12/2025.",
        published=datetime(2025, 11, 7, tzinfo=UTC),
        language="en-US",
    )
    [found] = result.deadlines
    assert (found.on, found.confidence) == (date(2025, 12, 6), "likely")


# --- Times and zones -----------------------------------------------------------------------

TIMES = [
    ("Deadline: 30 April 2025, 17:00 CET.", time(17, 0), "CET", "2025-04-30T16:00:00Z"),
    ("Apply by 5 p.m. EST on April 4, 2025.", time(17, 0), "EST", "2025-04-04T22:00:00Z"),
    (
        "Register before midnight (GMT) on 18 January 2026.",
        time(23, 59),
        "GMT",
        "2026-01-18T23:59:00Z",
    ),
    ("Submissions close at 23:59 AoE on 1 May 2025.", time(23, 59), "AoE", "2025-05-02T11:59:00Z"),
    ("Deadline: 1 May 2025 (AoE).", None, "AoE", "2025-05-02T11:59:00Z"),
    ("Deadline: 1 May 2025 at 12:00 UTC+3.", time(12, 0), "UTC+3", "2025-05-01T09:00:00Z"),
    (
        "Applications close at 11:59PM PST on October 22, 2025.",
        time(23, 59),
        "PST",
        "2025-10-23T07:59:00Z",
    ),
    (
        "Inscripciones hasta las 14:00 horas del 10 de abril de 2025 (hora de Madrid).",
        time(14, 0),
        "Europe/Madrid",
        "2025-04-10T12:00:00Z",
    ),
    (
        "Postulaciones hasta las 23:59 del 15 de abril de 2025 (hora de Chile).",
        time(23, 59),
        "America/Santiago",
        "2025-04-16T03:59:00Z",
    ),
    (
        "Inscripciones hasta el 10 de abril de 2025 a las 14:00 (hora de Madrid).",
        time(14, 0),
        "Europe/Madrid",
        "2025-04-10T12:00:00Z",
    ),
    (
        "Date limite : 12 mai 2025 à 23h59 (heure de Paris).",
        time(23, 59),
        "Europe/Paris",
        "2025-05-12T21:59:00Z",
    ),
    ("Inscrições até às 18h do dia 30 de abril de 2025.", time(18, 0), None, None),
    (
        "Prazo: 30 de abril de 2025, às 18h (horário de Brasília).",
        time(18, 0),
        "America/Sao_Paulo",
        "2025-04-30T21:00:00Z",
    ),
    (
        "Please comment by Friday 4 April, 3pm UK time.",
        time(15, 0),
        "Europe/London",
        "2025-04-04T14:00:00Z",
    ),
    (
        "Deadline: April 15, 2025 at 11:59 p.m. PT",
        time(23, 59),
        "America/Los_Angeles",
        "2025-04-16T06:59:00Z",
    ),
    (
        "Closing date: Friday, 4 April 2025 (midnight UK time)",
        time(23, 59),
        "Europe/London",
        "2025-04-04T22:59:00Z",
    ),
    ("Deadline: 15 April 2025, 23:59 (GMT+1)", time(23, 59), "GMT+1", "2025-04-15T22:59:00Z"),
]


@pytest.mark.parametrize(("text", "at", "tz", "utc"), TIMES)
def test_times_and_zones(text: str, at: time | None, tz: str | None, utc: str | None) -> None:
    [found] = extract("", text, published=PUBLISHED).deadlines
    assert (found.at, found.tz) == (at, tz)
    if utc:
        assert closing_instant(found.on, found.at, found.tz).strftime("%Y-%m-%dT%H:%M:%SZ") == utc
