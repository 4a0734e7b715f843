"""What a listing is, where, in which language, and what it pays for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from feeds.extract import extract
from feeds.extract_place import find_countries, is_online

PUBLISHED = datetime(2025, 3, 1, tzinfo=UTC)

# --- Kind of opportunity ------------------------------------------------------------------

KINDS = [
    ("Regional summit on digital rights", "Join activists from across the region.", "event"),
    ("Webinar: litigating climate cases", "A one-hour online session.", "event"),
    ("Travel grants for RightsCon", "We cover flights and hotel.", "travel_grant"),
    ("Open call: fellowship for investigative journalists", "Six months.", "fellowship"),
    ("Small grants for community radio", "Up to €5,000 per project.", "grant"),
    ("Call for papers: law and social movements", "Abstracts of 300 words.", "call"),
    ("Human rights defender award 2025", "Nominate someone.", "award"),
    ("We are hiring: programme officer", "Full-time position in Nairobi.", "job"),
    ("Newsletter", "News from our partners.", "other"),
    ("Convocatoria de ponencias", "Congreso de derecho ambiental.", "call"),
    ("Becas de viaje para el foro", "Cubrimos pasajes y alojamiento.", "travel_grant"),
    ("Appel à communications", "Colloque international.", "call"),
    ("Offre d'emploi : chargé de plaidoyer", "Poste basé à Dakar.", "job"),
    ("Bolsas de estudo para mestrado", "Inscrições abertas.", "fellowship"),
    ("Seminário internacional de direitos humanos", "Em São Paulo.", "event"),
    ("", "The annual conference takes place in June.", "event"),
]


@pytest.mark.parametrize(("title", "text", "kind"), KINDS)
def test_the_kind_of_opportunity(title: str, text: str, kind: str) -> None:
    assert extract(title, text, published=PUBLISHED).kind == kind


# --- Countries --------------------------------------------------------------------------

COUNTRIES = [
    ("The meeting is held in Lisbon, Portugal.", ("PT",)),
    ("Open to applicants from the USA and the UK.", ("US", "GB")),
    (
        "Participants from South Korea, Viet Nam and the Democratic Republic of the Congo.",
        ("KR", "VN", "CD"),
    ),
    ("Talleres en Bogotá, Colombia y en México.", ("CO", "MX")),
    ("Ateliers au Sénégal et en Côte d'Ivoire.", ("SN", "CI")),
    ("Oficinas no Brasil e em Moçambique.", ("BR", "MZ")),
    ("Workshops in Germany; Alemania, Allemagne and Alemanha are the same place.", ("DE",)),
    ("A retreat held in Jordan.", ("JO",)),
    ("Michael Jordan and Chad Smith spoke about georgia peaches.", ()),
    ("The event is in New Mexico.", ("US",)),
    ("Papua New Guinea and Guinea-Bissau", ("PG", "GW")),
    ("no country here, just turkey and chile peppers", ()),
]


@pytest.mark.parametrize(("text", "codes"), COUNTRIES)
def test_countries_by_name_and_common_short_form(text: str, codes: tuple[str, ...]) -> None:
    assert find_countries(text) == codes


def test_countries_come_in_order_of_first_mention_across_title_and_text() -> None:
    result = extract("Forum in Kenya", "Delegates from Uganda and Kenya.", published=PUBLISHED)
    assert result.countries == ("KE", "UG")


# --- Online -------------------------------------------------------------------------------

ONLINE = [
    ("This is an online event for organisers.", True),
    ("The webinar will be on Zoom.", True),
    ("The training is held entirely online.", True),
    ("Remote position, flexible hours.", True),
    ("El taller será virtual.", True),
    ("La formation se déroulera en ligne.", True),
    ("O curso será online.", True),
    ("Apply online by 5 May.", False),
    ("Fill in the online application form.", False),
    ("Inscripción en línea hasta el 5 de mayo.", False),
    ("Inscription en ligne avant le 5 mai.", False),
    ("The workshop takes place in Dakar.", False),
    ("A course on virtual reality in Lagos.", False),
]


@pytest.mark.parametrize(("text", "expected"), ONLINE)
def test_online_means_the_opportunity_itself_is_virtual(text: str, expected: bool) -> None:
    assert is_online(text.lower()) is expected


# --- Funding -----------------------------------------------------------------------------

FUNDING = [
    ("Travel and accommodation costs will be covered.", ("travel", "accommodation"), None, None),
    ("We offer a monthly stipend of €1,200.", ("stipend",), Decimal("1200"), "EUR"),
    ("Registration fees are waived for selected participants.", ("fees",), None, None),
    (
        "Grants of up to USD 2,500 are available to cover travel.",
        ("travel",),
        Decimal("2500"),
        "USD",
    ),
    ("Participants must cover their own travel costs.", (), None, None),
    ("Hotel information is on the website.", (), None, None),
    ("Se cubren los gastos de viaje y el alojamiento.", ("travel", "accommodation"), None, None),
    ("Une allocation mensuelle de 800 euros est versée.", ("stipend",), Decimal("800"), "EUR"),
    (
        "Les frais de voyage et l'hébergement sont pris en charge.",
        ("travel", "accommodation"),
        None,
        None,
    ),
    ("A bolsa inclui passagens aéreas e hospedagem.", ("travel", "accommodation"), None, None),
    (
        "Serão concedidas bolsas que cobrem passagens e hospedagem.",
        ("travel", "accommodation"),
        None,
        None,
    ),
    ("Ajuda de custo de R$ 1.500,00 por mês.", ("stipend",), Decimal("1500.00"), "BRL"),
    ("Salary: £32,000 a year.", (), None, None),
]


@pytest.mark.parametrize(("text", "offered", "amount", "currency"), FUNDING)
def test_what_the_opportunity_pays_for(
    text: str, offered: tuple[str, ...], amount: Decimal | None, currency: str | None
) -> None:
    funding = extract("", text, published=PUBLISHED).funding
    assert (funding.offered, funding.amount, funding.currency) == (offered, amount, currency)


# --- Language ---------------------------------------------------------------------------

LANGUAGES = [
    ("The deadline for applications is approaching, so please send us your proposal.", "en"),
    (
        "La convocatoria está abierta hasta el 30 de abril para las organizaciones de la región.",
        "es",
    ),
    ("Les candidatures sont ouvertes jusqu'au 30 avril pour les associations de la région.", "fr"),
    ("As inscrições estão abertas até 30 de abril para as organizações da região.", "pt"),
    ("Die Bewerbungsfrist endet am 30. April für alle Organisationen in der Region.", "de"),
    ("Le iscrizioni sono aperte fino al 30 aprile per tutte le associazioni della regione.", "it"),
    ("राजस्थान पुलिस कांस्टेबल भर्ती पात्रता मानदंड", "hi"),
]


@pytest.mark.parametrize(("text", "language"), LANGUAGES)
def test_the_language_of_the_text(text: str, language: str) -> None:
    assert extract("", text, published=PUBLISHED).language == language


def test_the_text_outvotes_the_declared_language() -> None:
    text = "Las solicitudes deben enviarse antes del 1 de abril a la coordinación del proyecto."
    assert extract("", text, language="en-US").language == "es"


def test_a_short_text_keeps_the_declared_language() -> None:
    assert extract("Prazo", "1 de abril", language="pt-BR").language == "pt"


# --- Event dates ------------------------------------------------------------------------

EVENTS = [
    ("The summit takes place 17-19 July 2025 in Nairobi.", date(2025, 7, 17), date(2025, 7, 19)),
    ("El encuentro será del 3 al 5 de mayo de 2025 en Quito.", date(2025, 5, 3), date(2025, 5, 5)),
    ("Le forum se tiendra du 3 au 5 mai 2025 à Tunis.", date(2025, 5, 3), date(2025, 5, 5)),
    ("O fórum acontecerá de 3 a 5 de maio de 2025 em Maputo.", date(2025, 5, 3), date(2025, 5, 5)),
    (
        "O evento será realizado nos dias 12 e 13 de junho de 2025.",
        date(2025, 6, 12),
        date(2025, 6, 13),
    ),
    (
        "El encuentro se realizará los días 12 y 13 de junio de 2025.",
        date(2025, 6, 12),
        date(2025, 6, 13),
    ),
    ("Webinar on 20 March 2025 at 15:00 UTC.", date(2025, 3, 20), None),
]


@pytest.mark.parametrize(("text", "start", "end"), EVENTS)
def test_event_dates(text: str, start: date, end: date | None) -> None:
    result = extract("", text, published=PUBLISHED)
    assert (result.event_start, result.event_end) == (start, end)
    assert result.deadlines == ()


def test_a_date_range_in_the_title_is_the_event() -> None:
    result = extract(
        "Strategic litigation school, 6-9 October 2025, Dar es Salaam",
        "Apply by 1 August 2025.",
        published=PUBLISHED,
    )
    assert (result.event_start, result.event_end) == (date(2025, 10, 6), date(2025, 10, 9))
    assert [d.on for d in result.deadlines] == [date(2025, 8, 1)]
