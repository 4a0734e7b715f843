"""Opportunities as an Atom feed (RFC 4287), for feed readers. Pure.

Entry ids are `tag:` URIs of the opportunity, so they stay the same wherever the site moves;
`updated` is the opportunity's `updated_at`, so a moved deadline shows as an update.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from flask_babel import gettext as _

from .display import (
    DEADLINE_KIND_LABELS,
    OPPORTUNITY_KIND_LABELS,
    country_name,
    long_date,
    short_time,
)
from .models import Opportunity

ATOM = "http://www.w3.org/2005/Atom"
SUMMARY_LENGTH = 600


def build_feed(
    opportunities: Iterable[Opportunity],
    *,
    title: str,
    feed_id: str,
    self_url: str,
    html_url: str,
    updated: datetime,
    domain: str,
    page_url: Callable[[Opportunity], str],
) -> bytes:
    """An Atom document with one entry per opportunity, in the order given."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_id)
    _text(feed, "updated", _instant(updated))
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml", href=self_url)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=html_url)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", "Openings")
    _text(feed, "generator", "Openings")
    for opportunity in opportunities:
        feed.append(_entry(opportunity, domain, page_url(opportunity)))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def entry_id(opportunity: Opportunity, domain: str) -> str:
    """The entry's permanent id: `tag:domain,2026:opportunity/12`."""
    return f"tag:{domain},2026:opportunity/{opportunity.id}"


def _entry(opportunity: Opportunity, domain: str, url: str) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    if opportunity.language:
        entry.set("{http://www.w3.org/XML/1998/namespace}lang", opportunity.language)
    _text(entry, "title", opportunity.title)
    _text(entry, "id", entry_id(opportunity, domain))
    _text(entry, "updated", _instant(opportunity.updated_at))
    published = opportunity.published_at or opportunity.first_seen_at
    _text(entry, "published", _instant(published))
    ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url)
    if opportunity.link:
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="related", href=opportunity.link)
    kind = str(OPPORTUNITY_KIND_LABELS.get(opportunity.kind) or _("Other"))
    ET.SubElement(entry, f"{{{ATOM}}}category", term=opportunity.kind, label=kind)
    if opportunity.organiser:
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", opportunity.organiser)
    _text(entry, "summary", _summary(opportunity))
    return entry


def _summary(opportunity: Opportunity) -> str:
    lines = []
    for deadline in opportunity.deadlines:
        when = long_date(deadline.due_on)
        if deadline.due_time is not None:
            when += f", {short_time(deadline.due_time)}"
        if deadline.time_zone:
            when += f" {deadline.time_zone}"
        lines.append(f"{DEADLINE_KIND_LABELS.get(deadline.kind) or _('Deadline')}: {when}.")
    if not opportunity.deadlines:
        lines.append(
            _("Rolling.")
            if opportunity.is_rolling
            else _("Deadline not stated — check the listing.")
        )
    if opportunity.countries:
        places = ", ".join(country_name(c) for c in opportunity.country_codes)
        lines.append(_("Where: %(places)s.", places=places))
    text = opportunity.summary_text or ""
    if len(text) > SUMMARY_LENGTH:
        text = text[: SUMMARY_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return " ".join(lines) + ("\n\n" + text if text else "")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}")
    element.text = _xml_safe(value)
    return element


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _xml_safe(value: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters a feed may have let through)."""
    return "".join(ch for ch in value if ch in "\t\n\r" or (ch >= " " and ch not in "\ufffe\uffff"))
