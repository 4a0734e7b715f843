"""Text → deadlines, event dates, kind, place and funding of one listing (pure, no I/O).

Dates are found first (feeds.extract_dates); each is then judged by the words nearest before
it in its sentence: a deadline word ("deadline", "fecha límite", "Bewerbungsfrist") ties it
for certain; a closing preposition ("by", "hasta", "jusqu'au") ties it when the clause says
what to do by then, and only makes it likely otherwise; an event, start, publication or
closure word makes it something else. Precision comes first: anything that rests on a guess
is emitted as `likely`, never `certain`.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from . import lexicon
from .closing import closing_instant
from .extract_dates import ZONE_ABBREVIATIONS, DateUnit, find_dates
from .extract_place import find_countries, is_online
from .extract_text import Sentence, detect_language, mask_urls, split_sentences, to_text
from .types import Entry, Extraction, FoundDeadline, Funding


def _words(fragments: Iterable[str]) -> re.Pattern:
    """One pattern for a list of lower-case fragments, matched as whole words on lower text."""
    body = "|".join(sorted(fragments, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{body})(?![^\W\d_])")


def _named_words(groups: dict[str, Iterable[str]]) -> re.Pattern:
    """One whole-word pattern with a named group per key, so one pass tells which key matched."""
    body = "|".join(
        f"(?P<{name}>{'|'.join(sorted(fragments, key=len, reverse=True))})"
        for name, fragments in groups.items()
    )
    return re.compile(rf"(?<![^\W\d_])(?:{body})(?![^\W\d_])")


_NOUN = "noun"
_WEAK = "weak"
_CLOSING = "closing"
_EXTENSION = "extension"
_SUPERSEDED = "superseded"
_ACTION = "action"
_CALL = "call"
_OPEN = "open"
_EVENT_VERB = "event"
_EVENT_NOUN = "event_noun"
_START = "start"
_TIGHT = "tight"
_PUBLICATION = "publication"
_CLOSURE = "closure"
_PERIOD = "period"

_CUE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    (_NOUN, _words(lexicon.DEADLINE_NOUNS)),
    (_WEAK, _words(lexicon.WEAK_PREPOSITIONS)),
    (_CLOSING, _words(lexicon.CLOSING_VERBS)),
    (_EXTENSION, _words(lexicon.EXTENSION)),
    (_SUPERSEDED, _words(lexicon.SUPERSEDED)),
    (_ACTION, _words(lexicon.ACTIONS)),
    (_CALL, _words(lexicon.CALLS)),
    (_OPEN, _words(lexicon.OPEN_WORDS)),
    (_EVENT_VERB, _words(lexicon.EVENT_VERBS)),
    (_EVENT_NOUN, _words(lexicon.EVENT_NOUN_CUES)),
    (_START, _words(lexicon.START_CUES)),
    (_TIGHT, _words(lexicon.TIGHT_CUES)),
    (_PUBLICATION, _words(lexicon.PUBLICATION_CUES)),
    (_CLOSURE, _words(lexicon.CLOSURE_CUES)),
    (_PERIOD, _words(lexicon.PERIOD_CUES)),
)
_CLASS_RANK = {name: rank for rank, (name, _) in enumerate(_CUE_PATTERNS)}
_NEGATIVE_CLASSES = frozenset(
    {_EVENT_VERB, _EVENT_NOUN, _START, _TIGHT, _PUBLICATION, _CLOSURE, _PERIOD}
)
_ROLE_OF = {
    _EVENT_VERB: "event",
    _EVENT_NOUN: "event",
    _START: "start",
    _TIGHT: "start",
    _PUBLICATION: "publication",
    _CLOSURE: "closure",
    _PERIOD: "period",
}

_PAST = _words(lexicon.PAST)
_ACTION_RE = _words(lexicon.ACTIONS)
_RIGHT_ACTION_RE = _words(lexicon.IMPERATIVE_ACTIONS)
_NOUN_RE = _words(lexicon.DEADLINE_NOUNS)
_CALL_RE = _words(lexicon.CALLS)
_ZONE_ABBREVIATIONS = {label.lower() for label in ZONE_ABBREVIATIONS} | {"et", "ct", "mt", "pt"}
_FILLER = re.compile(
    r"(?:\s|[(),:;.\-–—]|(?<![^\W\d_])(?:on|the|le|la|las|los|el|il|lo|o|a|as|am|dia|day|soon|is|are|"
    r"will be|be|at|of|de|del|do|da|au|à|às|um|zum|den|der|that|this|next|coming|midnight|"
    r"noon|gmt|utc|aoe|ore|alle|uhr|h|hrs|\d{1,2}[:.h]\d{2}|\d{1,2}\s*[ap]\.?\s?m\.?|"
    rf"{'|'.join(sorted(_ZONE_ABBREVIATIONS, key=len, reverse=True))})(?![^\W\d_]))*"
)
_RANGE_PREFIX_END = re.compile(
    r"(?<![^\W\d_])(?:from|between|du|del|dal|dalle|de|desde|entre|vom|von|zwischen|tra|fra|"
    r"da)\s+(?:(?:the|le|el|o)\s+)?$"
)
_COPULA_GAP = re.compile(
    r"\s*,?\s*(?:is|are|will be|es|est|será|sera|é|ist|è|was|:)\s*(?:on|the|el|le|il|o)?\s*"
)
_RIGHT_NOUN = re.compile(
    r"[\s,:;(\-–—]*(?:(?:is|will be|was|es|est|será|sera|é|ist|è|era|fue|foi)\s+)?"
    r"(?:(?:the|la|el|o|il|die|der|le|a)\s+)?(?:(?:final|last|new|nueva|nouvelle|nova|neue|"
    r"nuova|extended|application|registration|submission)\s+)?"
    rf"(?:{'|'.join(sorted(lexicon.DEADLINE_NOUNS, key=len, reverse=True))})(?![^\W\d_])"
)
_RIGHT_EVENT = re.compile(
    rf"[ \t]+(?:{'|'.join(sorted(lexicon.EVENT_NOUN_CUES, key=len, reverse=True))})(?![^\W\d_])"
)
_TENTATIVE = re.compile(
    r"(?<![^\W\d_])(?:tbc|tbd|tba|to be (?:confirmed|announced|determined)|provisional(?:ly)?|"
    r"tentative(?:ly)?|expected|around|approximately|about|circa|por confirmar|a confirmar|"
    r"por definir|provisional|aproximadamente|alrededor del?|à confirmer|à déterminer|"
    r"provisoire(?:ment)?|environ|vers le|a definir|provis[óo]ri[oa]|por volta d[eo]|"
    r"da definire|da confermare|circa|voraussichtlich|ungefähr|vorläufig)(?![^\W\d_])"
)
_LABEL_BEFORE = re.compile(
    rf"(?<![^\W\d_])(?:{'|'.join(sorted(lexicon.ACTIONS, key=len, reverse=True))})"
    r"(?![^\W\d_])\s*[:–—\-]\s*$"
)
"""An action named as a label ("Abstract submission: 15 April"), as in a list of key dates."""
_CONTINUATION = re.compile(r"\s*,?\s*(?:(?:and|y|et|e|und|ed)(?:\s+[^\W\d_]+){0,2})?\s*")
"""What may join a window's opening date to its closing word ("… and continue till")."""
_LIST_SEPARATOR = re.compile(r"[,;/]|(?<![^\W\d_])(?:and|or|y|o|et|ou|e|und|oder)(?![^\W\d_])")
_RIGHT_PAST = re.compile(
    r"[\s,:;(\-–—]*(?:(?:was|era|fue|foi|war)(?![^\W\d_])|(?:has|have) (?:now |already )?"
    r"(?:passed|closed|expired|ended)|is (?:now )?(?:over|closed)|ya (?:pasó|venció|cerró)|"
    r"est (?:passée|dépassée|close)|já (?:passou|encerrou|terminou))"
)
_PRIORITY = re.compile(
    r"(?<![^\W\d_])(?:priority|early consideration|prioritaire|prioritari[oa]|prioridad|"
    r"prioridade|vorrangig|bevorzugt)(?![^\W\d_])"
)
_CLAUSE_END = re.compile(
    r"[;.!?]|(?<![^\W\d_])(?:but|while|whereas|pero|mais|mas|aber|ma)(?![^\W\d_])"
)
_BY_THEN = re.compile(
    r"(?<![^\W\d_])(?:by then|by that (?:date|day|time)|hasta entonces|para entonces|"
    r"d'ici là|d’ici là|até lá|até essa data|bis dahin|entro tale data|entro quella data)"
    r"(?![^\W\d_])"
)
_ROLLING = re.compile(
    r"(?<![^\W\d_])(?:rolling(?: basis| deadline| admissions?| applications?)|on a rolling|"
    r"(?:open|remain open|accepted|considered) until (?:the )?(?:position|post|role|vacancy) "
    r"is filled|until filled|open until filled|no (?:closing date|deadline|fixed deadline)|"
    r"there is no (?:closing date|deadline)|apply (?:at )?any ?time|"
    r"(?:apply|applications? (?:are )?(?:accepted|welcome)|submit)[^.;]{0,30}"
    r"(?:throughout the year|all year round|year-round)|"
    r"applications? (?:are )?accepted (?:at )?any ?time|"
    r"convocatoria (?:abierta )?permanente|(?:abierta|abierto) todo el año|"
    r"sin fecha l[ií]mite|sin plazo|au fil de l'eau|recrutement en continu|"
    r"candidatures? (?:re[çc]ues )?en continu|sans date limite|candidatures? spontan[ée]es?|"
    r"fluxo cont[ií]nuo|inscri[çc][õo]es permanentes|sem prazo|"
    r"(?:inscri[çc][õo]es|candidaturas?)(?: abertas?)? a qualquer momento|"
    r"bewerbungen (?:sind )?jederzeit|jederzeit bewerben|laufende? bewerbung|"
    r"a sportello|senza scadenza|candidature in qualsiasi momento)(?![^\W\d_])"
)
_ROLLING_HINTS = (
    "rolling",
    "filled",
    "no closing",
    "no deadline",
    "no fixed",
    "any time",
    "anytime",
    "year round",
    "the year",
    "permanente",
    "todo el año",
    "sin fecha",
    "sin plazo",
    "continu",
    "fil de l",
    "sans date",
    "spontan",
    "fluxo",
    "sem prazo",
    "qualquer momento",
    "laufend",
    "jederzeit",
    "sportello",
    "senza scadenza",
    "sempre apert",
    "qualsiasi momento",
    "there is no",
)
"""Substrings one of which every rolling phrase contains: a cheap test before the pattern."""
_RELATIVE = re.compile(
    r"(?<![^\W\d_])(?:within|in the|no later than|not later than)\s+(?P<n>\d{1,3}|[a-z\-]+)\s+"
    r"(?P<unit>(?:calendar |working |business )?(?:days?|weeks?|months?))\s+"
    r"(?:of|from|after|following)\s+(?:the\s+)?(?:date\s+of\s+)?(?:the\s+)?(?:this\s+)?"
    r"(?:publication|posting|publishing|announcement|notice|call|advertisement|post)"
    r"|(?<![^\W\d_])(?:dentro de(?: los)?|en (?:el|un) plazo (?:m[aá]ximo )?de)\s+"
    r"(?P<n_es>\d{1,3}|[a-zñ]+)\s+(?P<unit_es>d[ií]as|semanas|meses)"
    r"(?:\s+(?:h[aá]biles|naturales|calendario))?\s+"
    r"(?:siguientes a|a (?:partir|contar) de|desde|tras|despu[eé]s de)\s+(?:la|su)\s+"
    r"publicaci[oó]n"
    r"|(?<![^\W\d_])(?:dans les|dans un d[ée]lai de|sous)\s+(?P<n_fr>\d{1,3}|[a-z\-]+)\s+"
    r"(?P<unit_fr>jours|semaines|mois)(?:\s+(?:ouvrables|ouvr[ée]s|calendaires))?\s+"
    r"(?:suivant|à compter de|apr[eè]s|qui suivent)\s+(?:la|sa)\s+publication"
    r"|(?<![^\W\d_])(?:no prazo de|dentro de|em até)\s+(?P<n_pt>\d{1,3}|[a-zç]+)\s+"
    r"(?P<unit_pt>dias|semanas|meses)(?:\s+(?:[uú]teis|corridos))?\s+"
    r"(?:a contar da|a partir da|ap[oó]s a|contados a partir da|da)\s+(?:sua\s+)?"
    r"publica[çc][ãa]o"
)
_RELATIVE_ANCHORS = ("publica", "posting", "announcement", "notice", "advertis", "call", "post")
_RELATIVE_LEADS = (
    "within",
    "later than",
    "in the",
    "dentro",
    "plazo",
    "dans",
    "délai",
    "sous",
    "prazo",
    "em até",
)
_BUSINESS_DAYS = re.compile(r"working|business|h[aá]biles|ouvr|[uú]teis")

_DEADLINE_KIND_RE = _named_words(lexicon.DEADLINE_KIND_WORDS)
_OPPORTUNITY_KIND_RE = _named_words(lexicon.OPPORTUNITY_KIND_WORDS)
_OPPORTUNITY_ORDER = tuple(lexicon.OPPORTUNITY_KIND_WORDS)
_OPPORTUNITY_TO_DEADLINE = {
    "event": "registration",
    "call": "abstract",
    "travel_grant": "travel_support",
    "fellowship": "application",
    "grant": "application",
    "award": "application",
    "job": "application",
    "other": "other",
}

LONG_PAST = timedelta(days=30)
"""A deadline this long before the listing's publication is reported as likely: it is either
history or not the applicants' deadline ("a degree obtained before 1 January 2020")."""

_NOUN_WINDOW = 140
_TIE_WINDOW = 70
"""How far before "by", "until", "closes" the action it closes may be named."""
_NEGATIVE_WINDOW = 42
_ACTION_WINDOW = 160


@dataclass(frozen=True)
class _Verdict:
    """What the words around one date say about it."""

    role: str
    """'deadline', 'event', 'start', 'publication', 'closure', 'superseded', 'past' or 'none'."""
    confidence: str = "likely"
    cue_start: int | None = None
    extended: bool = False


@dataclass(frozen=True)
class _Found:
    deadline: FoundDeadline
    extended: bool
    position: int


def extract(
    title: str,
    text: str,
    *,
    published: datetime | None = None,
    language: str | None = None,
    link: str | None = None,
) -> Extraction:
    """Deadlines, event dates, kind, countries, online, funding and language of one listing.

    `text` may be HTML or plain text; `published` (UTC) anchors years left unstated and
    relative deadlines; `language` is the feed's declared language, a hint only. `link` is
    accepted for the callers' convenience and not read: a listing is judged by its words.
    """
    clean_title = " ".join(to_text(title or "").split())
    body = to_text(text or "")
    full = f"{clean_title}\n{body}" if clean_title else body
    masked = mask_urls(full)
    low = _lower_same_length(masked)
    title_end = len(clean_title)
    lang = detect_language(low, language)
    published_on = published.astimezone(UTC).date() if published else None

    sentences = split_sentences(masked[:title_end], is_title=True) if clean_title else []
    if body:
        sentences += split_sentences(
            masked[title_end + 1 :] if clean_title else masked,
            offset=title_end + 1 if clean_title else 0,
        )
    units = find_dates(
        masked, low, published=published_on, language=lang, declared_language=language
    )
    opportunity_kind = _opportunity_kind(low[:title_end], low[title_end:])
    default_kind = _OPPORTUNITY_TO_DEADLINE[opportunity_kind]

    by_sentence = _group(units, sentences)
    verdicts: dict[int, _Verdict] = {}
    found: list[_Found] = []
    for sentence, members in by_sentence:
        previous: _Verdict | None = None
        for index, unit in enumerate(members):
            verdict = _judge(low, sentence, members, index)
            if (
                verdict.role == "none"
                and previous is not None
                and _continues_list(low, members[index - 1], unit)
            ):
                verdict = replace(previous, cue_start=unit.span_start, extended=False)
            verdicts[id(unit)] = verdict
            previous = verdict if verdict.role == "deadline" else None
            if verdict.role == "deadline":
                found.append(
                    _deadline(full, low, sentence, unit, verdict, default_kind, published_on)
                )
        if members:
            found.extend(_by_then(full, low, sentence, members, verdicts, default_kind))
    found.extend(_relative(full, low, sentences, published_on, default_kind))
    deadlines = _settle(found)
    event_start, event_end = _event_dates(by_sentence, verdicts, opportunity_kind)
    return Extraction(
        deadlines=deadlines,
        is_rolling=any(hint in low for hint in _ROLLING_HINTS) and bool(_ROLLING.search(low)),
        event_start=event_start,
        event_end=event_end,
        kind=opportunity_kind,
        countries=find_countries(masked),
        is_online=is_online(low),
        funding=_funding(masked, low),
        language=lang,
    )


def _lower_same_length(text: str) -> str:
    """`text` lower-cased, keeping every offset (the rare letters that grow stay as they are)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)


def _group(
    units: list[DateUnit], sentences: list[Sentence]
) -> list[tuple[Sentence, list[DateUnit]]]:
    grouped: list[tuple[Sentence, list[DateUnit]]] = []
    cursor = 0
    for sentence in sentences:
        members = []
        while cursor < len(units) and units[cursor].start < sentence.end:
            if units[cursor].start >= sentence.start:
                members.append(units[cursor])
            cursor += 1
        grouped.append((sentence, members))
    return grouped


def _cues(low: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """Cue words in low[lo:hi] as (start, end, class), nearest to `hi` first."""
    found: list[tuple[int, int, str]] = []
    for name, pattern in _CUE_PATTERNS:
        for match in pattern.finditer(low, lo, hi):
            found.append((match.start(), match.end(), name))
    found.sort(key=lambda c: (-c[1], c[0], _CLASS_RANK[c[2]]))
    kept: list[tuple[int, int, str]] = []
    for cue in found:
        if any(k[0] <= cue[0] and cue[1] <= k[1] for k in kept):
            continue
        kept.append(cue)
    return kept


def _is_adjacent(gap: str) -> bool:
    return _FILLER.fullmatch(gap) is not None


def _window_start(
    low: str, sentence: Sentence, members: list[DateUnit], index: int
) -> tuple[int, tuple[int, int] | None]:
    """Where the words about members[index] begin, and a span inside them to ignore.

    Normally the window starts after the previous date; when that date only qualifies the
    subject ("the deadline for the 20 May workshop is 1 May"), it reaches past it.
    """
    unit = members[index]
    lo = max(sentence.start, unit.start - 220)
    if index == 0:
        return lo, None
    prior = members[index - 1]
    prior_end = prior.span_end
    modifier = _RIGHT_EVENT.match(low, prior_end)
    if modifier:
        prior_end = modifier.end()
    if _COPULA_GAP.fullmatch(low, prior_end, unit.span_start):
        earlier = members[index - 2].span_end if index >= 2 else lo
        return max(lo, earlier), (prior.span_start, prior_end)
    return max(lo, prior.span_end), None


def _judge(low: str, sentence: Sentence, members: list[DateUnit], index: int) -> _Verdict:
    """Read the words before (then after) one date and say what the date is."""
    unit = members[index]
    if _RIGHT_EVENT.match(low, unit.span_end):
        return _Verdict("event")
    if _RIGHT_PAST.match(low, unit.span_end):
        return _Verdict("past")
    lo, skipped = _window_start(low, sentence, members, index)
    hi = max(lo, unit.span_start)
    if unit.is_range:
        prefix = _RANGE_PREFIX_END.search(low, max(lo, hi - 14), hi)
        if prefix:
            hi = prefix.start()
    weak_at: int | None = None
    closing_at: int | None = None
    participation_at: int | None = None
    extended = False
    event_between = False
    period_tie = False
    for start, end, name in _cues(low, lo, hi):
        if skipped and skipped[0] <= start < skipped[1]:
            continue
        gap = low[end:hi]
        adjacent = _is_adjacent(gap)
        if name == _SUPERSEDED:
            if len(gap) <= 40:
                return _Verdict("superseded")
            continue
        if name in _NEGATIVE_CLASSES:
            if unit.is_range and name in (_START, _TIGHT):
                continue
            applies = _negative_applies(low, name, start, gap, adjacent, lo)
            if name == _EVENT_NOUN or (name == _EVENT_VERB and applies):
                event_between = event_between or len(gap) <= _ACTION_WINDOW
            if not applies:
                continue
            if weak_at is not None or closing_at is not None:
                tied = weak_at if weak_at is not None else closing_at
                if name == _CLOSURE:
                    return _Verdict("closure")
                if tied - end <= 14 and _is_adjacent(low[end:tied]):
                    if name != _PERIOD:
                        return _Verdict(_ROLE_OF[name])
                    period_tie = True
                continue
            if participation_at is not None and unit.is_range and name != _CLOSURE:
                continue
            return _Verdict(_ROLE_OF[name])
        if name == _EXTENSION and len(gap) <= 100:
            extended = True
        elif name == _WEAK and adjacent and weak_at is None and closing_at is None:
            weak_at = start
        elif name == _CLOSING and adjacent and weak_at is None and closing_at is None:
            closing_at = start
        elif name == _NOUN and len(gap) <= _NOUN_WINDOW:
            if _is_past(low, start, unit.start, extended):
                return _Verdict("past")
            tentative = _TENTATIVE.search(low, end, hi) is not None
            return _Verdict("deadline", "likely" if tentative else "certain", start, extended)
        elif name == _ACTION and (
            (unit.is_range and len(gap) <= _ACTION_WINDOW)
            or (weak_at is not None and weak_at - end <= _TIE_WINDOW)
            or (closing_at is not None and closing_at - end <= _TIE_WINDOW)
        ):
            if _is_past(low, start, unit.start, extended):
                return _Verdict("past")
            doubtful = period_tie or (
                unit.is_range and weak_at is None and closing_at is None and event_between
            )
            return _Verdict("deadline", "likely" if doubtful else "certain", start, extended)
        elif (
            name == _CALL
            and len(gap) <= _ACTION_WINDOW
            and (closing_at is not None or weak_at is not None)
        ):
            return _Verdict("deadline", "certain", start, extended)
        elif name in (_CALL, _OPEN) and participation_at is None and len(gap) <= _ACTION_WINDOW:
            participation_at = start
    right = _right_context(low, sentence, members, index)
    if _RIGHT_NOUN.match(right):
        return _Verdict("deadline", "certain", unit.span_start, extended)
    clause = _clause(right)
    tied = weak_at if weak_at is not None else closing_at
    if period_tie:
        if tied is not None and _action_earlier(low, sentence, members, index, tied):
            return _Verdict("deadline", "certain", tied, extended)
        return _Verdict("period")
    if tied is not None:
        if _is_past(low, tied, unit.start, extended):
            return _Verdict("past")
        if (
            _RIGHT_ACTION_RE.search(clause)
            or _action_earlier(low, sentence, members, index, tied)
            or (extended and _NOUN_RE.search(low, sentence.start, hi))
        ):
            return _Verdict("deadline", "certain", tied, extended)
        return _Verdict("deadline", "likely", tied, extended)
    if unit.is_range and _RIGHT_ACTION_RE.search(clause):
        return _Verdict("deadline", "certain", unit.span_start, extended)
    labelled = _LABEL_BEFORE.search(low, max(lo, hi - 40), hi)
    if labelled and not unit.is_range:
        return _Verdict("deadline", "likely", labelled.start(), extended)
    if participation_at is not None and (unit.is_range or extended):
        return _Verdict("deadline", "likely", participation_at, extended)
    if extended:
        noun = _NOUN_RE.search(low, sentence.start, hi)
        return _Verdict(
            "deadline",
            "certain" if noun else "likely",
            noun.start() if noun else unit.span_start,
            extended,
        )
    return _Verdict("none")


def _negative_applies(low: str, name: str, start: int, gap: str, adjacent: bool, lo: int) -> bool:
    """Whether a negative cue really speaks about the date: near it, and about the thing
    itself (an "application process scheduled from … to …" is still an application window, a
    "consultation period runs until …" a consultation's close)."""
    if name == _TIGHT:
        return adjacent
    if name == _EVENT_NOUN:
        return adjacent or re.fullmatch(r"\s*\d{1,2}\s*", gap) is not None
    if len(gap) > _NEGATIVE_WINDOW:
        return False
    if name != _EVENT_VERB:
        return True
    subject = max(lo, start - 40)
    return not (_ACTION_RE.search(low, subject, start) or _CALL_RE.search(low, subject, start))


def _continues_list(low: str, prior: DateUnit, unit: DateUnit) -> bool:
    """Whether a date follows a deadline date as the next item of one list ("Deadline: 15 April
    (abstracts), 1 June (full papers)"): a short gap of separators and kind words only."""
    gap = low[prior.span_end : unit.span_start]
    if len(gap) > 40 or not _LIST_SEPARATOR.search(gap):
        return False
    return not any(
        name in _NEGATIVE_CLASSES or name in (_WEAK, _CLOSING, _SUPERSEDED)
        for _, _, name in _cues(low, prior.span_end, unit.span_start)
    )


def _action_earlier(
    low: str, sentence: Sentence, members: list[DateUnit], index: int, tied: int
) -> bool:
    """An action word before the previous date when the closing word only continues it
    ("Registration opens on 1 April and closes on 30 April")."""
    if index == 0 or not _CONTINUATION.fullmatch(low, members[index - 1].span_end, tied):
        return False
    before = members[index - 1].span_start
    return _ACTION_RE.search(low, max(sentence.start, before - _ACTION_WINDOW), before) is not None


def _is_past(low: str, cue_start: int, unit_start: int, extended: bool) -> bool:
    """A past tense between the cue (or just before it) and the date: "were due by", "the
    deadline was"; an extension ("was extended to") is never past."""
    if extended:
        return False
    return _PAST.search(low, max(0, min(cue_start - 15, unit_start - 45)), unit_start) is not None


def _right_context(low: str, sentence: Sentence, members: list[DateUnit], index: int) -> str:
    unit = members[index]
    stop = members[index + 1].span_start if index + 1 < len(members) else sentence.end
    return low[unit.span_end : max(unit.span_end, min(stop, sentence.end, unit.span_end + 90))]


def _clause(right: str) -> str:
    match = _CLAUSE_END.search(right)
    return right[: match.start()] if match else right


def _deadline(
    full: str,
    low: str,
    sentence: Sentence,
    unit: DateUnit,
    verdict: _Verdict,
    default_kind: str,
    published: date | None,
) -> _Found:
    confidence = verdict.confidence
    if unit.is_ambiguous or unit.year_from_text:
        confidence = "likely"
    if published is not None and unit.last < published - LONG_PAST:
        confidence = "likely"
    if _PRIORITY.search(low, sentence.start, sentence.end):
        confidence = "likely"
    cue = verdict.cue_start if verdict.cue_start is not None else unit.span_start
    kind = _deadline_kind(low, sentence, cue, unit, default_kind)
    evidence = _evidence(full, sentence, min(cue, unit.span_start), unit.span_end)
    return _Found(
        FoundDeadline(
            kind=kind,
            on=unit.last,
            at=unit.at,
            tz=unit.tz,
            evidence=evidence,
            confidence=confidence,
        ),
        verdict.extended,
        unit.start,
    )


def _deadline_kind(
    low: str, sentence: Sentence, cue: int, unit: DateUnit, default_kind: str
) -> str:
    """What the deadline closes: the kind word nearest before the date, else after it, else
    what the listing is (a fellowship's "deadline" is an application deadline)."""
    lo = max(sentence.start, cue - 60)
    kinds = [m.lastgroup for m in _DEADLINE_KIND_RE.finditer(low, lo, unit.start)]
    if not kinds:
        after = _DEADLINE_KIND_RE.search(low, unit.span_end, min(sentence.end, unit.span_end + 80))
        kinds = [after.lastgroup] if after else []
    if not kinds:
        return default_kind
    for preferred in ("travel_support", "abstract", "registration"):
        if preferred in kinds:
            return preferred
    kind = kinds[-1]
    if kind == "submission":
        kind = default_kind if default_kind != "other" else "application"
    if kind == "application" and default_kind == "travel_support":
        kind = default_kind
    return kind


def _evidence(full: str, sentence: Sentence, start: int, end: int) -> str:
    """The phrase a deadline was read from: its sentence, or a window of it when long."""
    if sentence.end - sentence.start <= 240:
        lo, hi = sentence.start, sentence.end
    else:
        lo = max(sentence.start, start - 40)
        hi = min(sentence.end, max(end, lo) + 40)
        while lo > sentence.start and not full[lo - 1].isspace():
            lo -= 1
        while hi < sentence.end and not full[hi].isspace():
            hi += 1
    return " ".join(full[lo:hi].split()).rstrip(" ,;:(")


def _by_then(
    full: str,
    low: str,
    sentence: Sentence,
    members: list[DateUnit],
    verdicts: dict[int, _Verdict],
    default_kind: str,
) -> list[_Found]:
    """A "… on Monday 18 Feb, so send suggestions by then" deadline: the date named before."""
    match = _BY_THEN.search(low, sentence.start, sentence.end)
    if not match:
        return []
    earlier = [u for u in members if u.span_end <= match.start()]
    if not earlier or verdicts[id(earlier[-1])].role == "deadline":
        return []
    unit = earlier[-1]
    kind = _deadline_kind(low, sentence, match.start(), unit, default_kind)
    evidence = _evidence(full, sentence, unit.span_start, match.end())
    return [
        _Found(
            FoundDeadline(
                kind=kind,
                on=unit.last,
                at=unit.at,
                tz=unit.tz,
                evidence=evidence,
                confidence="likely",
            ),
            False,
            unit.start,
        )
    ]


def _relative(
    full: str, low: str, sentences: list[Sentence], published: date | None, default_kind: str
) -> list[_Found]:
    """Deadlines counted from publication ("within two weeks of publication"): always likely,
    since the feed's date is not always the notice's."""
    if (
        published is None
        or not any(word in low for word in _RELATIVE_ANCHORS)
        or not any(word in low for word in _RELATIVE_LEADS)
    ):
        return []
    found = []
    for match in _RELATIVE.finditer(low):
        count_text = match["n"] or match["n_es"] or match["n_fr"] or match["n_pt"]
        unit_text = match["unit"] or match["unit_es"] or match["unit_fr"] or match["unit_pt"]
        count = int(count_text) if count_text.isdigit() else lexicon.NUMBER_WORDS.get(count_text)
        if not count:
            continue
        on = _add(published, count, unit_text, bool(_BUSINESS_DAYS.search(match.group())))
        sentence = next((s for s in sentences if s.start <= match.start() < s.end), None)
        if sentence is None:
            continue
        point = DateUnit(
            start=match.start(),
            end=match.end(),
            first=on,
            last=on,
            span_start=match.start(),
            span_end=match.end(),
        )
        kind = _deadline_kind(low, sentence, match.start(), point, default_kind)
        evidence = _evidence(full, sentence, match.start(), match.end())
        found.append(
            _Found(
                FoundDeadline(kind=kind, on=on, evidence=evidence, confidence="likely"),
                False,
                match.start(),
            )
        )
    return found


def _add(start: date, count: int, unit: str, business: bool) -> date:
    if unit.startswith(("month", "mes", "mois")):
        month_index = start.month - 1 + count
        year, month = start.year + month_index // 12, month_index % 12 + 1
        return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    days = count * (7 if unit.startswith(("week", "seman", "semaine")) else 1)
    if not business:
        return start + timedelta(days=days)
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _settle(found: list[_Found]) -> tuple[FoundDeadline, ...]:
    """One deadline per date (the most confident reading); an extension retires older dates
    of the same kind to `likely`."""
    extended = [f for f in found if f.extended and f.deadline.confidence == "certain"]
    best: dict[date, _Found] = {}
    for item in found:
        if not item.extended and any(
            e.deadline.kind == item.deadline.kind and item.deadline.on < e.deadline.on
            for e in extended
        ):
            item = replace(item, deadline=replace(item.deadline, confidence="likely"))
        current = best.get(item.deadline.on)
        if current is None or _rank(item) > _rank(current):
            if current is not None and item.deadline.kind == "other" != current.deadline.kind:
                item = replace(item, deadline=replace(item.deadline, kind=current.deadline.kind))
            best[item.deadline.on] = item
    return tuple(f.deadline for f in sorted(best.values(), key=lambda f: f.deadline.on))


def _rank(item: _Found) -> tuple[bool, bool, bool, int]:
    d = item.deadline
    return (d.confidence == "certain", item.extended, d.at is not None, -item.position)


def _event_dates(
    by_sentence: list[tuple[Sentence, list[DateUnit]]],
    verdicts: dict[int, _Verdict],
    opportunity_kind: str,
) -> tuple[date | None, date | None]:
    """The event's own dates: a date in the title, else the first one the text calls an event."""
    candidates: list[tuple[int, int, DateUnit]] = []
    for sentence, members in by_sentence:
        for unit in members:
            role = verdicts[id(unit)].role
            if role == "event":
                candidates.append((1 if sentence.is_title else 2, unit.start, unit))
            elif role == "none" and sentence.is_title:
                candidates.append((0 if unit.is_range else 1, unit.start, unit))
            elif role == "none" and unit.is_range and opportunity_kind == "event":
                candidates.append((3, unit.start, unit))
    if not candidates:
        return None, None
    unit = min(candidates, key=lambda c: (c[0], c[1]))[2]
    return unit.first, unit.last if unit.is_range else None


def _opportunity_kind(title: str, body: str) -> str:
    """The kind members filter by: the title's kind words decide (most frequent, then the
    vocabulary's order); the body's words vote only when the title names no kind.

    Both arguments are lower-case."""
    for text in (title, body[:1500]):
        scores: dict[str, int] = {}
        for match in _OPPORTUNITY_KIND_RE.finditer(text):
            scores[match.lastgroup] = scores.get(match.lastgroup, 0) + 1
        if scores:
            return max(scores, key=lambda k: (scores[k], -_OPPORTUNITY_ORDER.index(k)))
    return "other"


# --- Funding ----------------------------------------------------------------------------

_FUNDING_RE = _named_words(lexicon.FUNDING_WORDS)
_SELF_OFFERING = frozenset({"stipend"})
"""Funding words that are an offer by themselves ("a monthly stipend"); the others ("travel",
"accommodation") count only with a verb of paying in the same sentence."""
_OFFER = _words(
    (
        r"cover(?:s|ed|ing)?",
        r"paid",
        r"pays?",
        r"provided",
        r"provides?",
        r"fund(?:s|ed)?",
        r"reimburs(?:e|ed|ement)",
        r"includ(?:es?|ed|ing)",
        r"offer(?:s|ed)?",
        r"receive",
        r"support(?:s|ed)?",
        r"grants?",
        r"bursar(?:y|ies)",
        r"waiv(?:er|ed)",
        r"free",
        r"sponsor(?:s|ed)?",
        r"take care of",
        r"cubr(?:e|en|irá)",
        r"cubiert[oa]s?",
        r"cobr(?:e|em|irá|ir)",
        r"pagad[oa]s?",
        r"incluid[oa]s?",
        r"incluye",
        r"ofrece",
        r"financiad[oa]s?",
        r"pris en charge",
        r"prend en charge",
        r"couverts?",
        r"rembours[ée]s?",
        r"inclus",
        r"offert[es]?",
        r"custead[oa]s?",
        r"pag[oa]s",
        r"inclu[ií]d[oa]s?",
        r"inclui(?:rá)?",
        r"oferece",
        r"cobert[oa]s?",
        r"übernommen",
        r"erstattet",
        r"inklusive",
        r"coperte?",
        r"copert[oi]",
        r"rimborsat[ei]",
        r"incluse",
        r"garantit",
    )
)
_NOT_OFFERED = _words(
    (
        r"not (?:be )?(?:covered|paid|provided|funded|included|reimbursed|intended to cover)",
        r"at (?:their|your|his|her) own (?:cost|expense)",
        r"self-funded",
        r"no funding",
        r"not able to (?:cover|fund|pay)",
        r"cannot (?:cover|fund|pay)",
        r"unable to (?:cover|fund)",
        r"no (?:se )?(?:cubre|cubren|incluye)",
        r"ne (?:sont|seront|est) pas (?:pris|couverts?|"
        r"inclus|rembours)",
        r"n[ãa]o (?:ser[ãa]o|s[ãa]o|est[ãa]o) (?:cobert|custead|inclu)",
        r"nicht übernommen",
        r"nicht erstattet",
        r"non (?:sono|saranno) (?:coperte|rimborsat)",
        r"options",
        r"information on",
        r"insurance",
        r"book (?:your|their)",
        r"deposit",
        r"(?:their|your|his|her) own",
        r"must (?:cover|pay|bear)",
        r"self-financed",
        r"(?:a|por) cargo de(?:l| los| las)? (?:participantes|postulantes|asistentes)",
        r"por (?:su|sua) cuenta",
        r"à la charge des (?:participants|candidats)",
        r"à leurs frais",
        r"por conta (?:própria|dos participantes)",
        r"às suas custas",
        r"auf eigene kosten",
        r"a carico dei partecipanti",
    )
)
_CURRENCY_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "₹": "INR",
    "¥": "JPY",
    "R$": "BRL",
    "US$": "USD",
    "$": "USD",
    "CHF": "CHF",
}
_CURRENCY_WORDS = {
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "usd": "USD",
    "dollars": "USD",
    "us dollars": "USD",
    "dólares": "USD",
    "dollari": "USD",
    "gbp": "GBP",
    "pounds": "GBP",
    "chf": "CHF",
    "inr": "INR",
    "rupees": "INR",
    "brl": "BRL",
    "reais": "BRL",
    "mxn": "MXN",
    "cop": "COP",
    "ars": "ARS",
    "clp": "CLP",
    "pen": "PEN",
    "cad": "CAD",
    "aud": "AUD",
    "kes": "KES",
    "ngn": "NGN",
    "zar": "ZAR",
    "xof": "XOF",
    "fcfa": "XOF",
    "cfa": "XOF",
    "jpy": "JPY",
    "sek": "SEK",
    "nok": "NOK",
    "dkk": "DKK",
}
_AMOUNT = re.compile(
    r"(?P<sym>US\$|R\$|€|£|₹|¥|\$|(?<![A-Za-z])(?:EUR|USD|GBP|CHF|INR|BRL|MXN|CAD|AUD)(?![A-Za-z]))"
    r"\s?(?P<num>\d{1,3}(?:[.,\s ]\d{2,3})*(?:[.,]\d{1,2})?|\d+)(?!\d)"
    r"|(?<![\d.,])(?P<num2>\d{1,3}(?:[.,\s ]\d{2,3})*(?:[.,]\d{1,2})?|\d+)\s?"
    r"(?P<word>€|euros?|EUR|USD|US dollars|dollars|dólares|GBP|pounds|CHF|INR|rupees|BRL|reais|"
    r"MXN|COP|ARS|CLP|PEN|CAD|AUD|KES|NGN|ZAR|XOF|F?CFA)(?![A-Za-z])",
)
_CURRENCY_HINT = re.compile(
    r"[€£₹¥$]|EUR|USD|GBP|CHF|INR|BRL|MXN|COP|ARS|CLP|PEN|CAD|AUD|KES|NGN|ZAR|XOF|CFA|"
    r"(?i:euro|dollar|dólar|pound|rupee|reais)"
)
_AMOUNT_CONTEXT = _words(
    (
        r"stipends?",
        r"allowances?",
        r"per diems?",
        r"grants?",
        r"bursar(?:y|ies)",
        r"scholarships?",
        r"fellowships?",
        r"travel",
        r"accommodation",
        r"reimburs\w*",
        r"up to",
        r"hasta",
        r"jusqu'à",
        r"até",
        r"bis zu",
        r"fino a",
        r"becas?",
        r"bourses?",
        r"bolsas?",
        r"ayudas?",
        r"aides?",
        r"aux[ií]lio",
        r"zuschuss",
        r"contributo",
        r"honorari(?:um|a)",
        r"support of",
        r"funding of",
    )
)


def _funding(text: str, low: str) -> Funding:
    """What the listing says it pays for, with an amount and currency when one is tied to it."""
    offered: set[str] = set()
    for match in _FUNDING_RE.finditer(low):
        kind = match.lastgroup
        if kind in offered:
            continue
        lo, hi = _sentence_bounds(low, match.start())
        if _NOT_OFFERED.search(low, lo, hi):
            continue
        if kind in _SELF_OFFERING or _OFFER.search(low, lo, hi):
            offered.add(kind)
    amount: Decimal | None = None
    currency: str | None = None
    for hint in _CURRENCY_HINT.finditer(text):
        match = _AMOUNT.search(text, max(0, hint.start() - 24), hint.end() + 24)
        if not match:
            continue
        lo, hi = _sentence_bounds(low, match.start())
        if (
            _AMOUNT_CONTEXT.search(low, lo, hi) or _FUNDING_RE.search(low, lo, hi)
        ) and not _NOT_OFFERED.search(low, lo, hi):
            amount, currency = _read_amount(match)
            if amount is not None:
                break
    return Funding(
        amount=amount,
        currency=currency if amount is not None else None,
        **dict.fromkeys(offered, True),
    )


def _sentence_bounds(low: str, position: int, reach: int = 240) -> tuple[int, int]:
    """The sentence around a position, by the nearest stops either side, at most `reach`
    characters each way (cheap, approximate)."""
    floor = max(0, position - reach)
    lo = (
        max(
            low.rfind(". ", floor, position),
            low.rfind("\n", floor, position),
            low.rfind("! ", floor, position),
            low.rfind("? ", floor, position),
            floor - 1,
        )
        + 1
    )
    ceiling = min(len(low), position + reach)
    ends = [
        i
        for i in (
            low.find(". ", position, ceiling),
            low.find("\n", position, ceiling),
            low.find("! ", position, ceiling),
            low.find("? ", position, ceiling),
        )
        if i != -1
    ]
    return lo, min(ends) if ends else ceiling


def _read_amount(match: re.Match) -> tuple[Decimal | None, str | None]:
    number = match["num"] or match["num2"]
    label = match["sym"] or match["word"]
    currency = _CURRENCY_SYMBOLS.get(label) or _CURRENCY_WORDS.get(label.lower())
    digits = re.sub(r"[\s ]", "", number)
    if "," in digits and "." in digits:
        decimal_mark = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif digits.count(",") == 1 and len(digits.split(",")[1]) <= 2:
        decimal_mark = ","
    elif digits.count(".") == 1 and len(digits.split(".")[1]) <= 2:
        decimal_mark = "."
    else:
        decimal_mark = None
    if decimal_mark:
        whole, _, cents = digits.rpartition(decimal_mark)
        digits = re.sub(r"[.,]", "", whole) + "." + cents
    else:
        digits = re.sub(r"[.,]", "", digits)
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None, None
    return Decimal(int(value)) if value == value.to_integral() else value, currency


def extract_entry(entry: Entry, extractor: Callable[..., Extraction] | None = None) -> Extraction:
    """What a feed entry states, read the same way by polls, the demo and `feeds extract`.

    The sanitised HTML is read rather than its plain text, so block boundaries still separate
    sentences; `extractor` stands in for `extract` in tests.
    """
    return (extractor or extract)(
        entry.title,
        entry.summary_html or entry.summary_text,
        published=entry.published_at,
        language=entry.language,
        link=entry.link,
    )


def extraction_record(
    entry_id: str | None,
    link: str | None,
    title: str,
    published: datetime | None,
    extraction: Extraction,
) -> dict:
    """The JSON object `feeds extract --json` prints for one entry (absent values are null)."""
    funding = extraction.funding
    offered = list(funding.offered)
    return {
        "id": entry_id,
        "link": link,
        "title": title,
        "published": _instant(published) if published else None,
        "language": extraction.language,
        "kind": extraction.kind,
        "countries": list(extraction.countries),
        "online": extraction.is_online,
        "event_start": extraction.event_start.isoformat() if extraction.event_start else None,
        "event_end": extraction.event_end.isoformat() if extraction.event_end else None,
        "funding": {
            "offered": offered,
            "amount": _amount_text(funding.amount),
            "currency": funding.currency,
        }
        if offered or funding.amount is not None
        else None,
        "deadlines": [
            {
                "kind": d.kind,
                "date": d.on.isoformat(),
                "time": d.at.strftime("%H:%M") if d.at else None,
                "tz": d.tz,
                "utc": _instant(closing_instant(d.on, d.at, d.tz)),
                "evidence": d.evidence,
                "confidence": d.confidence,
            }
            for d in extraction.deadlines
        ],
    }


def _instant(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _amount_text(amount: Decimal | None) -> str | None:
    if amount is None:
        return None
    return format(amount, "f")
