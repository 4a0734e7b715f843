"""Where a listing happens: the countries it names (ISO 3166) and whether it is online.

Country names come from pycountry (English, plus its Spanish, French, Portuguese, German and
Italian translations) and a short list of the names people actually write ("USA", "UK",
"South Korea", "Côte d'Ivoire"). A name counts only capitalised, so "turkey" or "chad" in
running text do not.
"""

from __future__ import annotations

import gettext
import re

import pycountry

_ALIASES: dict[str, str] = {
    "USA": "US",
    "U.S.A.": "US",
    "U.S.": "US",
    "United States of America": "US",
    "United States": "US",
    "EE.UU.": "US",
    "EEUU": "US",
    "EUA": "US",
    "New Mexico": "US",
    "New Jersey": "US",
    "New York": "US",
    "Washington, DC": "US",
    "UK": "GB",
    "U.K.": "GB",
    "Britain": "GB",
    "Great Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Reino Unido": "GB",
    "Royaume-Uni": "GB",
    "Inglaterra": "GB",
    "Angleterre": "GB",
    "Escocia": "GB",
    "Russia": "RU",
    "Rusia": "RU",
    "Russie": "RU",
    "Rússia": "RU",
    "South Korea": "KR",
    "Korea": "KR",
    "Corea del Sur": "KR",
    "Corée du Sud": "KR",
    "Coreia do Sul": "KR",
    "Südkorea": "KR",
    "North Korea": "KP",
    "Iran": "IR",
    "Syria": "SY",
    "Vietnam": "VN",
    "Viet Nam": "VN",
    "Laos": "LA",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Tanzania": "TZ",
    "Moldova": "MD",
    "Czechia": "CZ",
    "Czech Republic": "CZ",
    "Ivory Coast": "CI",
    "Côte d'Ivoire": "CI",
    "Cote d'Ivoire": "CI",
    "Costa de Marfil": "CI",
    "Costa do Marfim": "CI",
    "DRC": "CD",
    "DR Congo": "CD",
    "Democratic Republic of the Congo": "CD",
    "Democratic Republic of Congo": "CD",
    "Republic of the Congo": "CG",
    "Congo-Brazzaville": "CG",
    "Palestine": "PS",
    "Palestina": "PS",
    "Taiwan": "TW",
    "Türkiye": "TR",
    "Turkey": "TR",
    "Turquía": "TR",
    "Turquie": "TR",
    "Turquia": "TR",
    "Holland": "NL",
    "The Netherlands": "NL",
    "Cape Verde": "CV",
    "Cabo Verde": "CV",
    "Swaziland": "SZ",
    "Eswatini": "SZ",
    "Burma": "MM",
    "Myanmar": "MM",
    "Macedonia": "MK",
    "North Macedonia": "MK",
    "Kosovo": "XK",
    "Vatican": "VA",
    "Micronesia": "FM",
    "Brunei": "BN",
    "East Timor": "TL",
    "Timor-Leste": "TL",
    "Gambia": "GM",
    "The Gambia": "GM",
    "Bahamas": "BS",
    "UAE": "AE",
    "New South Wales": "AU",
    "Emiratos Árabes Unidos": "AE",
    "Émirats arabes unis": "AE",
    "Brasil": "BR",
    "Perú": "PE",
    "México": "MX",
    "Méjico": "MX",
    "Panamá": "PA",
    "Haití": "HT",
    "Hong Kong": "HK",
    "Macau": "MO",
    "Macao": "MO",
    "Kyrgyzstan": "KG",
    "Sao Tome and Principe": "ST",
    "Saint Lucia": "LC",
    "St Lucia": "LC",
    "Trinidad": "TT",
    "Tobago": "TT",
    "Bosnia": "BA",
    "Herzegovina": "BA",
}
_EXCLUDED = frozenset(
    {
        "Jordan",
        "Chad",
        "Georgia",
        "Guinea",
        "Niger",
        "Dominica",
        "Maurice",
        "Island",
        "Salvador",
        "Réunion",
        "Reunion",
        "Sint Maarten",
        "Saint Martin",
        "Mayotte",
    }
)
"""Names that are as often a first name, a US state or a word as a country."""
_CONTEXTUAL = {"Jordan": "JO", "Georgia": "GE", "Guinea": "GN", "Niger": "NE", "Chad": "TD"}
"""Of those, the ones read as a country after "in", "to", "from" … ("held in Jordan")."""
_CONTEXT_BEFORE = re.compile(
    r"(?:\b(?:in|to|from|of|at|across|en|à|au|em|no|na|nach|aus|a|de|del|do|da)\s+|,\s*)$"
)


def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    translations = []
    for code in ("es", "fr", "pt", "de", "it"):
        try:
            translations.append(
                gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[code])
            )
        except OSError:
            continue
    for country in pycountry.countries:
        english = [
            country.name,
            getattr(country, "common_name", None),
            getattr(country, "official_name", None),
        ]
        for name in english:
            if name and "," not in name and "(" not in name:
                names.setdefault(name, country.alpha_2)
        for translation in translations:
            local = translation.gettext(country.name)
            if local and local != country.name and "," not in local and "(" not in local:
                names.setdefault(local, country.alpha_2)
    for name in _EXCLUDED:
        names.pop(name, None)
    names.update(_ALIASES)
    names.update(_CONTEXTUAL)
    return {name: code for name, code in names.items() if code}


_NAMES = _country_names()
_BY_FIRST_WORD: dict[str, list[str]] = {}
for _name in sorted(_NAMES, key=len, reverse=True):
    _BY_FIRST_WORD.setdefault(re.split(r"[\s\-'’.]", _name, maxsplit=1)[0], []).append(_name)
_CAPITALISED = re.compile(r"(?<![\w.])[A-ZÀ-ÖØ-Þ][^\W\d_]*")

_ONLINE = re.compile(
    r"\b(?:webinars?|web seminar|virtual(?:ly)?(?! reality| machines?| assistants?)|"
    r"(?:será|sera|serão|serán|seront|est|é|is|are|will be|ist|sarà|saranno) "
    r"(?:realizad[oa]s? |held |tenue?s? |celebrad[oa]s? )?(?:online|en ligne|en l[ií]nea|"
    r"a dist[âa]ncia|à distance)|online (?:event|conference|meeting|workshop|"
    r"session|course|training|hackathon|datathon|forum|summit|seminar|festival|program(?:me)?|"
    r"residency|fellowship|edition|format)|(?:held|hosted|run|takes? place|delivered|"
    r"streamed|organi[sz]ed) (?:entirely |fully |exclusively )?(?:online|remotely)|"
    r"(?:fully|entirely|100%) (?:online|remote)|remote (?:position|role|job|work|working)|"
    r"work(?:ing)? remotely|via (?:zoom|teams|microsoft teams|google meet|webex|jitsi)|"
    r"on zoom|live ?stream(?:ed)?|"
    r"en l[ií]nea|(?:evento|curso|taller|seminario|jornada|encuentro|formaci[oó]n|modalidad) "
    r"(?:virtual|online|en l[ií]nea|a distancia)|a distancia|teletrabajo|"
    r"en ligne|(?:à|a) distance|distanciel|visioconf[ée]rence|t[ée]l[ée]travail|"
    r"(?:evento|curso|oficina|semin[aá]rio|encontro|modalidade) (?:virtual|online|remot[oa])|"
    r"(?:realizad[oa]|celebrad[oa]|transmitid[oa]|organizad[oa]|en formato|em formato|"
    r"de forma|sous forme|en format) (?:online|virtual|en l[ií]nea|en ligne)|"
    r"remot[oa]|ao vivo pela internet|transmiss[ãa]o online|"
    r"online-(?:veranstaltung|seminar|konferenz|format)|virtuell|homeoffice|"
    r"in modalit[àa] (?:online|telematica|a distanza)|a distanza|da remoto)\b"
)
_ONLINE_HINTS = (
    "online",
    "virtual",
    "webinar",
    "web seminar",
    "zoom",
    "teams",
    "meet",
    "webex",
    "jitsi",
    "remot",
    "distanc",
    "distânc",
    "ligne",
    "línea",
    "linea",
    "stream",
    "telet",
    "télét",
    "homeoffice",
    "visioconf",
    "ao vivo",
    "virtuell",
    "distanza",
    "distanciel",
)
"""Substrings one of which every online phrase contains: a cheap test before the pattern."""
_NOT_ONLINE = re.compile(
    r"\b(?:apply|applications?|register|registration|submit|submission|form|portal|payment|"
    r"pay|fill|inscri\w*|postula\w*|candidat\w*|solicitud|bewerb\w*|iscri\w*|domanda)\W+"
    r"(?:\w+\W+){0,2}(?:online|en l[ií]nea|en ligne)\b|\bin-person (?:or|and) (?:virtual|online)\b"
    r"|\bno (?:virtual|online|remote)\b"
)


def find_countries(text: str) -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes of the countries a text names, in order of first mention."""
    codes: list[str] = []
    consumed = 0
    for word in _CAPITALISED.finditer(text):
        start = word.start()
        names = _BY_FIRST_WORD.get(word.group())
        if start < consumed or not names:
            continue
        for name in names:
            end = start + len(name)
            if not text.startswith(name, start) or (end < len(text) and text[end].isalnum()):
                continue
            consumed = end
            if name in _CONTEXTUAL and not _CONTEXT_BEFORE.search(text, max(0, start - 12), start):
                break
            code = _NAMES[name]
            if code not in codes:
                codes.append(code)
            break
    return tuple(codes)


def is_online(low: str) -> bool:
    """True when the text says the opportunity itself is virtual or remote (not just the form).

    `low` is the lower-cased text."""
    if not any(hint in low for hint in _ONLINE_HINTS):
        return False
    for match in _ONLINE.finditer(low):
        window = low[max(0, match.start() - 40) : match.end()]
        if _NOT_ONLINE.search(window) and "webinar" not in match.group().lower():
            continue
        return True
    return False
