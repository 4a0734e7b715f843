"""HTML in, safe HTML or plain text out: the one place feed content is sanitised."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "a",
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "blockquote",
    "h2",
    "h3",
    "h4",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_BLOCK_BOUNDARY = re.compile(
    r"<\s*(?:br\s*/?|/\s*(?:p|div|li|ul|ol|h[1-6]|tr|table|blockquote|pre|section|article)\s*)>"
    r"|<\s*(?:p|div|li|h[1-6]|tr|blockquote|pre|section|article)(?:\s[^>]*)?>",
    re.IGNORECASE,
)
_ACTIVE_CONTENT = re.compile(r"<\s*script\b|javascript\s*:|<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def sanitize_html(markup: str) -> str:
    """Keep a small allow-list of tags; drop scripts, styles, event handlers and unsafe links."""
    return nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener nofollow ugc",
    )


def has_active_content(markup: str) -> bool:
    """Whether a fragment carries scripts, event handlers or `javascript:` links.

    `sanitize_html` removes them all; this only tells the operator that a feed sends them.
    """
    return bool(_ACTIVE_CONTENT.search(markup))


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, one line per block, entities decoded."""
    if "<" not in markup and "&" not in markup:
        return _tidy(markup)
    with_breaks = _BLOCK_BOUNDARY.sub("\n", markup)
    return _tidy(html.unescape(nh3.clean(with_breaks, tags=set())))


def _tidy(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()
