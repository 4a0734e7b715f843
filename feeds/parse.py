"""Feed bytes in, normalised entries out: RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed.

Parsing never fetches anything. One bad entry is skipped and counted; a feed with recoverable
errors keeps its usable entries and carries a warning; only bytes with no feed in them raise.
"""

from __future__ import annotations

import calendar
import hashlib
import itertools
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

from .text import has_active_content, html_to_text, sanitize_html
from .types import Entry

log = logging.getLogger(__name__)

TRACKING_PARAMETERS = {
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_hsenc",
    "_hsmi",
}
"""Query parameters that say who sent a reader, not what they read (plus every `utm_*`)."""

MAX_TITLE_LENGTH = 500
_ITEM_PATTERNS = (
    (re.compile(rb"<item[\s>].*?</item\s*>", re.DOTALL), re.compile(rb"<item[\s/>]")),
    (re.compile(rb"<entry[\s>].*?</entry\s*>", re.DOTALL), re.compile(rb"<entry[\s/>]")),
)
"""An RSS item or Atom entry, whole; and how one opens (to find any left outside)."""
_PROLOG_BYTES = 64 * 1024
_INTERNAL_SUBSET = re.compile(rb"<!DOCTYPE[^\[>]*(\[.*?\])\s*>", re.IGNORECASE | re.DOTALL)
MAX_LINK_LENGTH = 2000
"""Longer links are dropped rather than cut: a cut link leads nowhere."""
MAX_KEY_LENGTH = 500
"""Longer identities are replaced by their hash, which stays unique and stable."""


class FeedError(ValueError):
    """The bytes hold no feed we can read (HTML, empty, broken beyond recovery)."""


@dataclass(frozen=True)
class ParsedFeed:
    """What one feed document holds, after normalising."""

    title: str | None
    language: str | None
    entries: list[Entry]
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0
    """Entries left out: unreadable, or repeating an identity already seen in this document."""


def parse_feed(
    content: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> ParsedFeed:
    """Parse a feed document; `headers` are the HTTP response's, so declared charsets resolve."""
    if _looks_like_json(content):
        return _parse_json_feed(content)
    content, dropped_entities = _without_entity_declarations(content)
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if base_url:
        response_headers.setdefault("content-location", base_url)
    # nh3 sanitises every fragment we keep (see `_normalise`), so feedparser's own, slower
    # sanitiser would only do the same work twice.
    parsed = feedparser.parse(content, response_headers=response_headers, sanitize_html=False)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception") or "no RSS, Atom or JSON Feed found"
        raise FeedError(f"not a feed: {_first_line(reason)}")
    warnings = []
    if dropped_entities:
        warnings.append("ignored the entity declarations in the document's DOCTYPE")
    if parsed.get("bozo"):
        warnings.append(f"recoverable feed error: {_first_line(parsed.get('bozo_exception'))}")
    feed = parsed.get("feed", {})
    language = feed.get("language") or None
    return _normalise_all(
        feed.get("title"),
        language,
        parsed.entries,
        lambda item: _feedparser_fields(item, feed),
        warnings,
    )


@dataclass(frozen=True)
class ItemSplit:
    """A feed document cut at its items, so that only new ones need parsing.

    `head` runs up to the first item (the channel, its namespaces, language and base),
    `tail` from the end of the last; `head + items + tail` is the document again, less only
    whitespace between items.
    """

    head: bytes
    items: list[bytes]
    tail: bytes

    @property
    def digests(self) -> list[str]:
        """A digest of each item's bytes, in order."""
        return [item_digest(item) for item in self.items]

    def document(self, items: Iterable[bytes]) -> bytes:
        """The same document holding only `items`."""
        return self.head + b"".join(items) + self.tail


def split_items(content: bytes) -> ItemSplit | None:
    """Cut an RSS or Atom document at its `<item>` or `<entry>` elements.

    None when it cannot be cut cleanly: JSON, no items, another encoding than an ASCII
    superset, or anything but whitespace between items (a comment, a self-closed item),
    in which case the caller parses the whole document as usual.
    """
    if _looks_like_json(content):
        return None
    for whole, opening in _ITEM_PATTERNS:
        spans = [m.span() for m in whole.finditer(content)]
        if spans:
            return _split_at(content, spans, opening)
    return None


def _split_at(
    content: bytes, spans: list[tuple[int, int]], opening: re.Pattern[bytes]
) -> ItemSplit | None:
    for (_, end), (start, _) in itertools.pairwise(spans):
        if content[end:start].strip():
            return None
    head, tail = content[: spans[0][0]], content[spans[-1][1] :]
    if opening.search(head) or opening.search(tail):
        return None
    return ItemSplit(head=head, items=[content[start:end] for start, end in spans], tail=tail)


def item_digest(item: bytes) -> str:
    """A short digest of one item's bytes, to recognise it unchanged in the next fetch."""
    return hashlib.sha256(item).hexdigest()[:32]


def canonical_link(link: str | None) -> str | None:
    """The link without tracking parameters or fragment; None unless it is http(s)."""
    if not link:
        return None
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMETERS
    ]
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), "")
    )


def _normalise_all(
    title: str | None,
    language: str | None,
    items: Iterable[Any],
    fields_of: Callable[[Any], dict],
    warnings: list[str],
) -> ParsedFeed:
    entries: list[Entry] = []
    seen: set[str] = set()
    skipped = repeated = scripted = 0
    for index, item in enumerate(items):
        try:
            fields = fields_of(item)
            scripted += has_active_content(fields.get("body") or "")
            entry = _normalise(fields, language)
        except Exception as error:  # one bad entry never fails the feed
            log.warning("skipping entry %d: %s", index, error)
            skipped += 1
            continue
        if entry is None:
            skipped += 1
            continue
        if entry.key in seen:
            repeated += 1
            continue
        seen.add(entry.key)
        entries.append(entry)
    if skipped:
        warnings.append(f"{skipped} entries skipped: no title, text or link")
    if repeated:
        warnings.append(f"{repeated} entries repeated an id already seen in this feed")
    if scripted:
        warnings.append(
            f"removed scripts, event handlers or javascript: links from {scripted} entries"
        )
    return ParsedFeed(
        title=_clean_title(title or "") or None,
        language=language,
        entries=entries,
        warnings=warnings,
        skipped=skipped + repeated,
    )


def _feedparser_fields(item: Any, feed: Any) -> dict:
    """The fields we use, taken out of a feedparser entry."""
    contents = [c.get("value", "") for c in item.get("content", [])]
    body = max([item.get("summary", ""), *contents], key=len)
    stamp = item.get("published_parsed") or item.get("updated_parsed")
    published = datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None
    return {
        "id": item.get("id"),
        "link": item.get("link"),
        "title": item.get("title", ""),
        "body": body,
        "published_at": published,
        "author": item.get("author") or feed.get("author"),
        "language": item.get("language"),
    }


def _normalise(fields: dict, feed_language: str | None) -> Entry | None:
    body_html = sanitize_html(fields.get("body") or "")
    text = html_to_text(body_html)
    title = _clean_title(fields.get("title") or "")
    link = canonical_link(fields.get("link"))
    if link and len(link) > MAX_LINK_LENGTH:
        link = None
    if not title:
        title = text.split("\n", 1)[0][:120]
    if not title and not link:
        return None
    published_at = fields.get("published_at")
    stamp = published_at.isoformat() if published_at else ""
    key = (fields.get("id") or "").strip() or link or _digest(f"{title}\n{stamp}")[:40]
    if len(key) > MAX_KEY_LENGTH:
        key = f"sha256:{_digest(key)}"
    content_hash = _digest("\n".join((title, link or "", stamp, text)))
    return Entry(
        key=key,
        title=title,
        link=link,
        summary_html=body_html,
        summary_text=text,
        published_at=published_at,
        author=_clean_title(fields.get("author") or "") or None,
        language=fields.get("language") or feed_language,
        content_hash=content_hash,
    )


def _without_entity_declarations(content: bytes) -> tuple[bytes, bool]:
    """The document with its DOCTYPE's internal subset removed, if it declares entities.

    No feed needs its own entities, and they are how a few hundred bytes expand to
    gigabytes (the "billion laughs"); without them the references are just left unresolved.
    """
    head = content[:_PROLOG_BYTES]
    match = _INTERNAL_SUBSET.search(head)
    if not match or b"<!ENTITY" not in match.group(0).upper():
        return content, False
    return head[: match.start(1)] + head[match.end(1) :] + content[_PROLOG_BYTES:], True


def _looks_like_json(content: bytes) -> bool:
    return content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _parse_json_feed(content: bytes) -> ParsedFeed:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"not a feed: invalid JSON ({error})") from None
    if not isinstance(document, dict) or "jsonfeed.org/version" not in str(document.get("version")):
        raise FeedError("not a feed: JSON without a JSON Feed version")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without items")
    language = document.get("language") if isinstance(document.get("language"), str) else None
    author = _json_author(document)
    return _normalise_all(
        document.get("title"), language, items, lambda item: _json_fields(item, author), []
    )


def _json_fields(item: Any, feed_author: str | None) -> dict:
    if not isinstance(item, dict):
        raise ValueError("item is not an object")
    body = item.get("content_html") or item.get("content_text") or item.get("summary") or ""
    stamp = item.get("date_published") or item.get("date_modified")
    return {
        "id": str(item["id"]) if item.get("id") is not None else None,
        "link": item.get("url") or item.get("external_url"),
        "title": item.get("title") or "",
        "body": body if isinstance(body, str) else "",
        "published_at": _rfc3339(stamp) if isinstance(stamp, str) else None,
        "author": _json_author(item) or feed_author,
        "language": item.get("language") if isinstance(item.get("language"), str) else None,
    }


def _json_author(obj: dict) -> str | None:
    authors = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    names = [a.get("name") for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names) or None


def _rfc3339(stamp: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clean_title(title: str) -> str:
    return " ".join(html_to_text(title).split())[:MAX_TITLE_LENGTH]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _first_line(value: object) -> str:
    text = str(value or "").strip()
    return text.splitlines()[0][:300] if text else "unknown error"
