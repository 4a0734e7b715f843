"""Plain text, sentences and language of a listing: what the date rules read.

HTML becomes one line per block (feeds.text.html_to_text) so that a heading and its
paragraph never read as one sentence; sentences keep their offsets into that text so
evidence is an exact substring.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import html_to_text

_TAG = re.compile(r"</?[a-zA-Z][^>]{0,500}>")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+\.[\w.\-]+")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_ABBREVIATIONS = _word_set(
    "a.m p.m mr mrs ms dr st no nr vs etc e.g i.e approx jan feb mar apr jun jul aug sep sept "
    "oct nov dec prof sr jr inc ltd co art núm n pag pp vol ca cf fig ed eds min max"
)
_SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]]*\s+(?=[\"“‘'(¿¡]?[A-ZÁÉÍÓÚÑÇÀÂÊÎÔÛÄÖÜ0-9])")
_HEADING_CUE = re.compile(
    r"(?:deadline|closing date|due date|last date|fecha l[ií]mite|plazo|date limite|date butoir|"
    r"prazo|data limite|bewerbungsfrist|bewerbungsende|einsendeschluss|scadenza|when|dates?|"
    r"fechas?|quand|quando|wann|termine?)\s*:?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a heading line) of the listing, with its place in the cleaned text."""

    start: int
    end: int
    is_title: bool = False


def to_text(markup: str) -> str:
    """Plain text of HTML or text: entities decoded, one line per block, spaces collapsed.

    HTML that was escaped twice (tags still visible after decoding) is read once more.
    """
    text = html_to_text(markup)
    if "<" in text and _TAG.search(text):
        text = html_to_text(text)
    return text


def mask_urls(text: str) -> str:
    """The text with links and e-mail addresses blanked out, offsets unchanged."""
    blank = lambda m: " " * len(m.group())  # noqa: E731
    if "://" in text or "www." in text:
        text = _URL.sub(blank, text)
    if "@" in text:
        for at in [i for i, ch in enumerate(text) if ch == "@"]:
            match = _EMAIL.match(text, _word_start(text, at))
            if match and match.start() < at < match.end():
                text = (
                    text[: match.start()]
                    + " " * (match.end() - match.start())
                    + text[match.end() :]
                )
    return text


def _word_start(text: str, position: int) -> int:
    """Where the run of address characters ending at `position` starts."""
    while position > 0 and (text[position - 1].isalnum() or text[position - 1] in "._+-"):
        position -= 1
    return position


def split_sentences(text: str, offset: int = 0, *, is_title: bool = False) -> list[Sentence]:
    """Sentences of a text: lines, then sentence ends, joining a heading to the line it names."""
    sentences: list[Sentence] = []
    position = 0
    pending_start: int | None = None
    for line in text.split("\n"):
        line_start, line_end = position, position + len(line)
        position = line_end + 1
        if not line.strip():
            continue
        start = line_start if pending_start is None else pending_start
        if len(line) <= 60 and _HEADING_CUE.search(line):
            pending_start = start
            continue
        pending_start = None
        cursor = start
        for match in _SENTENCE_END.finditer(text, line_start, line_end):
            before = text[cursor : match.start()].rsplit(None, 1)
            last_word = before[-1].lower().rstrip(".") if before else ""
            if last_word in _ABBREVIATIONS or (len(last_word) == 1 and last_word.isalpha()):
                continue
            sentences.append(Sentence(offset + cursor, offset + match.end(), is_title))
            cursor = match.end()
        if cursor < line_end:
            sentences.append(Sentence(offset + cursor, offset + line_end, is_title))
    if pending_start is not None and pending_start < len(text):
        sentences.append(Sentence(offset + pending_start, offset + len(text), is_title))
    return sentences


_STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _word_set(
        "the and of to in for is are with on by will be this that you your from at as or an "
        "we our have has it not can all please which their been would should there they"
    ),
    "es": _word_set(
        "el la los las de del que y en un una por para con se es al lo su sus como más pero "
        "este esta hasta son está también sobre entre desde cuando muy sin ya fue han"
    ),
    "fr": _word_set(
        "le la les de des du et est un une pour dans sur au aux avec que qui ce cette pas vous "
        "nous sont par ou ont leur été être mais sera tout très"
    ),
    "pt": _word_set(
        "o os as de do da dos das e em no na nos nas um uma para com que por é ao à se pelo "
        "pela não até são foi também mais como sobre está ser seu sua"
    ),
    "de": _word_set(
        "der die das und ist mit für von zu den dem des ein eine einen auf sich im nicht wir "
        "sie bei oder auch werden wird sind ihre ihr nach über aus"
    ),
    "it": _word_set(
        "il lo la gli le di del della e è che per con un una in al alla dei delle sono si non "
        "nel nella ai degli dal anche più come questo sarà essere"
    ),
}
_LETTER_HINTS: dict[str, re.Pattern] = {
    "pt": re.compile(r"ção|ções|[ãõ]|ência"),
    "es": re.compile(r"ñ|ción|¿|¡"),
    "fr": re.compile(r"[œ]|eau|aux\b|è[rs]"),
    "de": re.compile(r"ß|[äöü]"),
    "it": re.compile(r"zione|zioni|[ìò]\b"),
}
_WORD = re.compile(r"[^\W\d_]+")
_NON_LATIN = re.compile(r"[\u0370-\u1fff\u3000-\uffff]")
_SCRIPTS = (
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("bn", re.compile(r"[\u0980-\u09ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
)
_WEIGHTS: dict[str, dict[str, float]] = {}
for _lang, _words in _STOP_WORDS.items():
    for _word in _words:
        _WEIGHTS.setdefault(_word, {})[_lang] = 1.0
for _owners in _WEIGHTS.values():
    for _lang in _owners:
        _owners[_lang] = 1.0 / len(_owners)


def detect_language(low: str, declared: str | None = None, *, sample: int = 1500) -> str | None:
    """The language of a lower-cased text by stop-word votes (en, es, fr, pt, de, it), or a
    script's code (hi, bn, …) when most letters are in it.

    Falls back to the feed's declared language when the text is too short to tell.
    """
    head = low[:sample]
    declared_code = (declared or "").replace("_", "-").split("-")[0].lower() or None
    if _NON_LATIN.search(head):
        letters = len(_WORD.findall(head)) and sum(len(w) for w in _WORD.findall(head))
        for code, script in _SCRIPTS:
            if letters and len(script.findall(head)) > letters * 0.3:
                return code
    scores: dict[str, float] = dict.fromkeys(_STOP_WORDS, 0.0)
    for word in _WORD.findall(head):
        owners = _WEIGHTS.get(word)
        if owners:
            for lang, weight in owners.items():
                scores[lang] += weight
    for lang, hint in _LETTER_HINTS.items():
        scores[lang] += 0.5 * min(6, len(hint.findall(head)))
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] < 2.5:
        return declared_code
    best = max(scores, key=scores.__getitem__)
    if declared_code in scores and scores[declared_code] >= ranked[0] * 0.8:
        return declared_code
    return best
