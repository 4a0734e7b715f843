"""Deadline rules of the extractor, one table per rule, in English, Spanish, French, Portuguese.

Every sentence here is written for the test; none comes from the corpus. Unless a row says
otherwise the listing was published on 1 March 2025 (UTC).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from feeds.extract import extract, extraction_record
from feeds.types import CONFIDENCES, DEADLINE_KINDS, OPPORTUNITY_KINDS

PUBLISHED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


def deadlines(
    text: str,
    *,
    title: str = "",
    published: datetime | None = PUBLISHED,
    language: str | None = None,
) -> dict[date, tuple[str, str]]:
    """The extracted deadlines as {date: (confidence, kind)}."""
    result = extract(title, text, published=published, language=language)
    return {d.on: (d.confidence, d.kind) for d in result.deadlines}


def certain_dates(text: str, **kwargs) -> set[date]:
    return {
        on for on, (confidence, _) in deadlines(text, **kwargs).items() if confidence == "certain"
    }


# --- A deadline word tied to a date is certain ---------------------------------------------

CERTAIN = [
    # English
    ("Deadline: 15 April 2025.", date(2025, 4, 15)),
    ("Applications must be received by March 31, 2025.", date(2025, 3, 31)),
    ("Apply by March 3rd.", date(2025, 3, 3)),
    ("The closing date for applications is Friday 11 April.", date(2025, 4, 11)),
    ("Submit your abstract no later than 2 May 2025.", date(2025, 5, 2)),
    ("Registration closes on 20 May.", date(2025, 5, 20)),
    ("Travel support requests must reach us before 10 April 2025.", date(2025, 4, 10)),
    ("Abstracts are due June 1.", date(2025, 6, 1)),
    ("Nominations are open until 30 June 2025.", date(2025, 6, 30)),
    ("15 April 2025 is the deadline for applications.", date(2025, 4, 15)),
    ("Submissions due: April 15, 2025", date(2025, 4, 15)),
    ("Candidates can apply online from 1 March to 31 March 2025.", date(2025, 3, 31)),
    ("Send your CV and a cover letter before the 2nd of May.", date(2025, 5, 2)),
    ("The last day to register is Monday, 12 May 2025.", date(2025, 5, 12)),
    ("Please comment on the draft by Friday 21 March.", date(2025, 3, 21)),
    ("The call for proposals closes on 9 April 2025.", date(2025, 4, 9)),
    ("The consultation period runs until 31 March 2025.", date(2025, 3, 31)),
    ("Please RSVP by 10 March.", date(2025, 3, 10)),
    (
        "Proposals are due no later than 5:00 PM Eastern Time on Monday, April 14, 2025.",
        date(2025, 4, 14),
    ),
    ("Registration opens on 1 April 2025 and closes on 30 April 2025.", date(2025, 4, 30)),
    (
        "The application process will begin on 10 March 2025 and continue till 9 April 2025.",
        date(2025, 4, 9),
    ),
    # Spanish
    ("Fecha límite: 30 de abril de 2025.", date(2025, 4, 30)),
    ("Plazo de inscripción: hasta el 15 de mayo.", date(2025, 5, 15)),
    ("Las postulaciones se reciben hasta el 20 de marzo de 2025.", date(2025, 3, 20)),
    ("La convocatoria cierra el 10 de abril de 2025.", date(2025, 4, 10)),
    ("Envío de propuestas: del 1 al 30 de abril de 2025.", date(2025, 4, 30)),
    ("Inscripciones abiertas hasta el 2 de junio.", date(2025, 6, 2)),
    ("Cierre de convocatoria: 15/05/2025.", date(2025, 5, 15)),
    ("Las solicitudes deben enviarse antes del 1 de abril.", date(2025, 4, 1)),
    ("Recepción de propuestas: 1 al 31 de marzo de 2025.", date(2025, 3, 31)),
    ("El plazo para inscribirse vence el 5 de mayo.", date(2025, 5, 5)),
    ("Periodo de inscripción: del 1 al 15 de abril de 2025.", date(2025, 4, 15)),
    # French
    ("Date limite : 12 mai 2025.", date(2025, 5, 12)),
    ("Les candidatures sont ouvertes jusqu'au 1er juin.", date(2025, 6, 1)),
    ("Date limite de soumission des propositions : 15 avril 2025.", date(2025, 4, 15)),
    ("Clôture des inscriptions le 20 mai.", date(2025, 5, 20)),
    ("Envoyez votre dossier avant le 30 avril 2025.", date(2025, 4, 30)),
    ("Les propositions doivent parvenir au plus tard le 3 mars 2025.", date(2025, 3, 3)),
    ("Inscriptions jusqu’au vendredi 18 avril.", date(2025, 4, 18)),
    ("Période de candidature : du 1er au 15 avril 2025.", date(2025, 4, 15)),
    ("La date limite de dépôt est fixée au 30 avril 2025.", date(2025, 4, 30)),
    # Portuguese
    ("Inscrições até 1º de junho de 2025.", date(2025, 6, 1)),
    ("Prazo final: 30 de abril de 2025.", date(2025, 4, 30)),
    ("As candidaturas devem ser enviadas até o dia 15 de maio.", date(2025, 5, 15)),
    ("Submissão de resumos: de 1 a 31 de março de 2025.", date(2025, 3, 31)),
    ("As inscrições encerram em 10 de abril.", date(2025, 4, 10)),
    ("Data limite para envio: 05/05/2025.", date(2025, 5, 5)),
    ("Os interessados devem se inscrever até o dia 15 de abril.", date(2025, 4, 15)),
    ("As inscrições vão até 30 de abril de 2025.", date(2025, 4, 30)),
    ("Período de inscrições: de 1 a 15 de abril de 2025.", date(2025, 4, 15)),
    ("O prazo de candidatura termina a 28 de março de 2025.", date(2025, 3, 28)),
]


@pytest.mark.parametrize(("text", "expected"), CERTAIN)
def test_a_deadline_word_tied_to_a_date_is_certain(text: str, expected: date) -> None:
    assert certain_dates(text) == {expected}


# --- What a deadline closes ------------------------------------------------------------------

KINDS = [
    ("Registration deadline: 20 May 2025.", "registration"),
    ("Abstract submission deadline: 2 May 2025.", "abstract"),
    ("Travel grant applications close on 10 March 2025.", "travel_support"),
    ("The deadline for applications is 30 April 2025.", "application"),
    ("Please send your comments by 14 March.", "other"),
    ("Fecha límite para el envío de ponencias: 30 de abril de 2025.", "abstract"),
    ("Inscripciones hasta el 15 de mayo de 2025.", "registration"),
    ("Date limite des candidatures : 12 mai 2025.", "application"),
    ("Bourses de voyage : date limite le 12 mai 2025.", "travel_support"),
    ("Prazo para envio de resumos: 10 de abril de 2025.", "abstract"),
    ("Prazo de inscrição: 10 de abril de 2025.", "registration"),
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_the_deadline_says_what_it_closes(text: str, kind: str) -> None:
    [(confidence, found)] = deadlines(text).values()
    assert (confidence, found) == ("certain", kind)


LISTS = [
    (
        "Deadline: 15 April 2025 (abstracts), 1 June 2025 (full papers).",
        {date(2025, 4, 15), date(2025, 6, 1)},
    ),
    (
        "Fechas límite: 15 de abril de 2025 (resúmenes) y 1 de junio de 2025 (textos).",
        {date(2025, 4, 15), date(2025, 6, 1)},
    ),
    (
        "Date limite : 15 avril 2025 (résumés), 1er juin 2025 (textes complets).",
        {date(2025, 4, 15), date(2025, 6, 1)},
    ),
    (
        "Prazos: 15 de abril de 2025 (resumos) e 1 de junho de 2025 (artigos).",
        {date(2025, 4, 15), date(2025, 6, 1)},
    ),
    ("Deadline 5 May 2025, conference 10 June 2025.", {date(2025, 5, 5)}),
    ("Apply by 5 May 2025, results on 10 June 2025.", {date(2025, 5, 5)}),
]


@pytest.mark.parametrize(("text", "expected"), LISTS)
def test_a_list_after_a_deadline_word_shares_it_until_something_else_is_named(
    text: str, expected: set[date]
) -> None:
    assert certain_dates(text) == expected


def test_a_labelled_action_in_a_list_of_key_dates_is_likely() -> None:
    text = (
        "Important dates: Abstract submission: 15 April 2025; Notification: 15 May 2025; "
        "Conference: 1-3 July 2025."
    )
    assert deadlines(text) == {date(2025, 4, 15): ("likely", "abstract")}


def test_several_deadlines_in_one_text_are_all_found_and_told_apart() -> None:
    text = (
        "<p>Abstract deadline: 1 March 2025.</p>"
        "<p>Travel grant applications close on 10 March 2025.</p>"
        "<p>Registration deadline: 15 April 2025.</p>"
    )
    found = deadlines(text, published=datetime(2025, 1, 10, tzinfo=UTC))
    assert found == {
        date(2025, 3, 1): ("certain", "abstract"),
        date(2025, 3, 10): ("certain", "travel_support"),
        date(2025, 4, 15): ("certain", "registration"),
    }
    result = extract("", text, published=datetime(2025, 1, 10, tzinfo=UTC))
    assert [d.on for d in result.deadlines] == sorted(found)


# --- Dates that are not deadlines ----------------------------------------------------------

NOT_DEADLINES = [
    # past tense
    ("The deadline was 3 March 2025.", None),
    ("Applications closed on 20 February 2025.", None),
    ("El plazo venció el 3 de marzo.", None),
    ("La date limite était le 3 mars.", None),
    ("O prazo terminou em 3 de março.", None),
    # events
    ("The conference will be held on 17-19 July 2025 in Lisbon.", None),
    ("El congreso se celebrará del 3 al 5 de mayo de 2025 en Lima.", None),
    ("Le colloque aura lieu du 3 au 5 juin 2025.", None),
    ("O seminário será realizado de 3 a 5 de junho de 2025.", None),
    ("The exam is on 12 May 2025.", None),
    # publication, results, openings
    ("Published on 12 March 2025.", None),
    ("Publicado el 2 de marzo de 2025.", None),
    ("Publié le 2 mars 2025.", None),
    ("Publicado em 2 de março de 2025.", None),
    ("Results will be announced on 30 June 2025.", None),
    ("Applications open on 1 April 2025.", None),
    ("A partir del 10 de marzo de 2025 se puede consultar el programa.", None),
    # closures, ages, validity
    ("The office will be closed from 1 to 15 August.", None),
    ("La oficina permanecerá cerrada del 1 al 15 de agosto.", None),
    ("Candidates must be under 35 years old as on 1 January 2025.", None),
    ("The library is available until Friday 4 April 2025.", None),
    ("Applicants must hold a degree obtained before 1 January 2020.", None),
    # notices to applicants
    ("Selected applicants will be notified by 15 June 2025.", None),
    ("Los seleccionados serán notificados antes del 15 de junio de 2025.", None),
    ("Les résultats seront communiqués avant le 15 juin 2025.", None),
    ("Os resultados serão divulgados até 15 de junho de 2025.", None),
    ("Last year, applications were due by 1 April.", None),
    ("Les candidatures étaient ouvertes jusqu'au 28 février.", None),
    ("Note: the deadline of 15 March 2025 has now passed.", None),
    ("Applications received before 15 March will receive priority consideration.", None),
    ("We received over 500 applications by 30 January 2025.", None),
    ("The selection committee, which reviews applications, will work until 30 June 2025.", None),
    # deadline words without a date
    ("Ability to work independently and meet deadlines.", None),
    ("Please apply before the deadline.", None),
    ("Fecha límite: por confirmar.", None),
]


@pytest.mark.parametrize(("text", "_"), NOT_DEADLINES)
def test_dates_that_are_not_deadlines_are_never_certain(text: str, _: None) -> None:
    assert certain_dates(text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "The deadline was 3 March 2025.",
        "El plazo venció el 3 de marzo.",
        "The conference will be held on 17-19 July 2025 in Lisbon.",
        "Published on 12 March 2025.",
        "The office will be closed from 1 to 15 August.",
    ],
)
def test_past_events_publications_and_closures_give_no_date_at_all(text: str) -> None:
    assert deadlines(text) == {}


def test_an_event_date_inside_the_deadline_phrase_is_not_the_deadline() -> None:
    assert deadlines("The deadline for the 20 May workshop is 1 May 2025.") == {
        date(2025, 5, 1): ("certain", "registration"),
    }


def test_a_deadline_and_an_event_in_one_sentence_are_told_apart() -> None:
    text = "Register by 1 May for the workshop on 20 May 2025."
    result = extract("Workshop", text, published=PUBLISHED)
    assert [(d.on, d.confidence) for d in result.deadlines] == [(date(2025, 5, 1), "certain")]
    assert result.event_start == date(2025, 5, 20)


# --- "Extended to": the new date wins --------------------------------------------------------

EXTENSIONS = [
    (
        "The deadline for proposals, originally 1 April, has been extended to 15 April 2025.",
        date(2025, 4, 15),
    ),
    ("The deadline was extended to 30 April 2025.", date(2025, 4, 30)),
    ("Submission deadline EXTENDED to April 20", date(2025, 4, 20)),
    (
        "El plazo de inscripción, que vencía el 1 de abril, se amplía hasta el 15 de abril de "
        "2025.",
        date(2025, 4, 15),
    ),
    ("La date limite est reportée au 20 mai 2025.", date(2025, 5, 20)),
    ("O prazo foi prorrogado até 20 de maio de 2025.", date(2025, 5, 20)),
    ("Prazo prorrogado para 20 de maio de 2025.", date(2025, 5, 20)),
    (
        "Registration deadline: 1 April 2025. Update: the registration deadline has been "
        "extended to 15 April 2025.",
        date(2025, 4, 15),
    ),
]


@pytest.mark.parametrize(("text", "expected"), EXTENSIONS)
def test_an_extended_deadline_wins(text: str, expected: date) -> None:
    assert certain_dates(text) == {expected}


def test_the_date_extended_from_is_dropped() -> None:
    text = "Please send feedback by Friday 9 May (extended from 2 May)."
    assert deadlines(text) == {date(2025, 5, 9): ("certain", "other")}


# --- Rolling calls --------------------------------------------------------------------------

ROLLING = [
    "Applications are reviewed on a rolling basis.",
    "The position is open until filled.",
    "There is no closing date: apply at any time.",
    "Convocatoria permanente, sin fecha límite.",
    "Candidatures au fil de l'eau.",
    "Inscrições em fluxo contínuo.",
]


@pytest.mark.parametrize("text", ROLLING)
def test_rolling_calls_are_marked_and_have_no_date(text: str) -> None:
    result = extract("Call", text, published=PUBLISHED)
    assert result.is_rolling
    assert result.deadlines == ()


@pytest.mark.parametrize(
    "text",
    [
        "Our events are held throughout the year.",
        "Puede contactarnos en cualquier momento.",
        "Vous pouvez nous écrire en continu sur le forum.",
        "O pedido pode ser cancelado a qualquer momento.",
    ],
)
def test_words_of_always_that_are_not_about_applying_are_not_rolling(text: str) -> None:
    assert not extract("News", text, published=PUBLISHED).is_rolling


def test_a_call_with_a_date_is_not_rolling() -> None:
    assert not extract("Call", "Deadline: 15 April 2025.", published=PUBLISHED).is_rolling


# --- Relative deadlines ---------------------------------------------------------------------

RELATIVE = [
    ("Applications must be submitted within two weeks of publication.", date(2025, 3, 15)),
    ("Send your proposal within 30 days of the publication of this notice.", date(2025, 3, 31)),
    (
        "Las solicitudes se presentarán dentro de los 15 días hábiles siguientes a la publicación.",
        date(2025, 3, 21),
    ),
    ("Les dossiers sont reçus dans les 30 jours suivant la publication.", date(2025, 3, 31)),
    (
        "As candidaturas devem ser enviadas no prazo de 10 dias a contar da publicação.",
        date(2025, 3, 11),
    ),
]


@pytest.mark.parametrize(("text", "expected"), RELATIVE)
def test_a_deadline_counted_from_publication_is_likely(text: str, expected: date) -> None:
    assert deadlines(text) == {expected: ("likely", deadlines(text)[expected][1])}


def test_a_relative_deadline_needs_a_publication_date() -> None:
    assert deadlines("Apply within two weeks of publication.", published=None) == {}


# --- Weak ties are likely, never certain ----------------------------------------------------

LIKELY = [
    ("We will post the programme by 5 May 2025.", date(2025, 5, 5)),
    ("Deadline: TBC (expected around 15 May 2025).", date(2025, 5, 15)),
    ("The early bird rate is valid until 15 April 2025.", date(2025, 4, 15)),
    ("Fecha límite provisional: 15 de mayo de 2025.", date(2025, 5, 15)),
    ("Consultation on the draft strategy (3-17 March)", date(2025, 3, 17)),
    (
        "On Monday 17 March we start the clean-up, so please send suggestions by then.",
        date(2025, 3, 17),
    ),
    ("Candidates can apply online from 1 to 20 December 2023.", date(2023, 12, 20)),
]


@pytest.mark.parametrize(("text", "expected"), LIKELY)
def test_a_date_loosely_tied_to_a_close_is_likely(text: str, expected: date) -> None:
    found = deadlines(text)
    assert found[expected][0] == "likely"
    assert certain_dates(text) == set()


# --- Headings and HTML ----------------------------------------------------------------------


def test_a_deadline_heading_names_the_date_on_the_next_line() -> None:
    html = "<h3>Application deadline</h3><p>15 April 2025</p><p>The fellowship lasts a year.</p>"
    assert certain_dates(html) == {date(2025, 4, 15)}


def test_entities_are_decoded_and_tags_dropped() -> None:
    html = "<p>Fecha l&iacute;mite:&nbsp;<strong>30 de abril de 2025</strong></p>"
    result = extract("", html, published=PUBLISHED)
    assert [d.on for d in result.deadlines] == [date(2025, 4, 30)]
    assert result.deadlines[0].evidence == "Fecha límite: 30 de abril de 2025"


def test_evidence_is_the_phrase_the_date_came_from() -> None:
    text = (
        "We are pleased to announce the 2025 edition. Applications must be received by "
        "March 31, 2025. Good luck!"
    )
    [found] = extract("", text, published=PUBLISHED).deadlines
    assert found.evidence == "Applications must be received by March 31, 2025."


def test_the_title_is_read_too() -> None:
    result = extract(
        "Call for papers — deadline 20 March 2025", "Join us in Accra.", published=PUBLISHED
    )
    assert [(d.on, d.confidence) for d in result.deadlines] == [(date(2025, 3, 20), "certain")]


def test_dates_inside_links_are_not_read() -> None:
    text = "Read more at https://example.org/2025/04/15/call-deadline-15-april-2025 ."
    assert deadlines(text) == {}


# --- Vocabulary of the output -------------------------------------------------------------


@pytest.mark.parametrize("text", [row[0] for row in CERTAIN + KINDS + LIKELY])
def test_every_value_is_from_the_shared_vocabularies(text: str) -> None:
    result = extract("", text, published=PUBLISHED)
    assert result.kind in OPPORTUNITY_KINDS
    for found in result.deadlines:
        assert found.kind in DEADLINE_KINDS
        assert found.confidence in CONFIDENCES
        assert found.evidence


def test_the_record_has_exactly_the_documented_fields() -> None:
    published = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    text = (
        "The summit takes place 17-19 July 2025 in Nairobi, Kenya. Travel and accommodation "
        "are covered. Apply by 5 p.m. EST on April 4, 2025."
    )
    result = extract("Travel grants for the summit", text, published=published, language="en")
    record = extraction_record(
        "tag:example.org,2025:1", "https://example.org/a", "Travel grants", published, result
    )
    assert record == {
        "id": "tag:example.org,2025:1",
        "link": "https://example.org/a",
        "title": "Travel grants",
        "published": "2025-03-01T09:30:00Z",
        "language": "en",
        "kind": "travel_grant",
        "countries": ["KE"],
        "online": False,
        "event_start": "2025-07-17",
        "event_end": "2025-07-19",
        "funding": {"offered": ["travel", "accommodation"], "amount": None, "currency": None},
        "deadlines": [
            {
                "kind": "travel_support",
                "date": "2025-04-04",
                "time": "17:00",
                "tz": "EST",
                "utc": "2025-04-04T22:00:00Z",
                "evidence": "Apply by 5 p.m. EST on April 4, 2025.",
                "confidence": "certain",
            }
        ],
    }


def test_an_empty_listing_gives_an_empty_record() -> None:
    record = extraction_record(None, None, "", None, extract("", ""))
    assert record["deadlines"] == [] and record["funding"] is None
    assert record["published"] is None and record["event_start"] is None
    assert record["kind"] == "other" and record["countries"] == []


def test_a_date_only_deadline_closes_at_the_end_of_the_earliest_day() -> None:
    result = extract("", "Deadline: 15 April 2025.", published=PUBLISHED)
    record = extraction_record("x", None, "", PUBLISHED, result)
    assert record["deadlines"][0]["time"] is None
    assert record["deadlines"][0]["utc"] == "2025-04-15T09:59:00Z"


def test_a_time_without_zone_is_kept_without_zone() -> None:
    [found] = extract("", "Apply by 15 April 2025 at 17:00.", published=PUBLISHED).deadlines
    assert (found.at, found.tz) == (time(17, 0), None)
