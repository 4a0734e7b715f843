"""Deadlines as iCalendar (RFC 5545), for Google Calendar, Outlook and Apple Calendar. Pure.

What calendar clients need to update rather than duplicate:

- UID: the opportunity and the deadline's kind (and its rank among deadlines of that kind),
  never a row id, because ingestion rewrites deadline rows when a listing changes;
- SEQUENCE: whole seconds from 2020 to the opportunity's `updated_at`, which rises whenever
  anything about it changes, a moved deadline included (`models` makes sure of that). So a
  later version always carries a higher number, with no history stored;
- DTSTAMP: the same `updated_at`, so unchanged data gives byte-identical output (and ETag);
- a deadline with a time: a UTC instant (`…Z`); a date only: an all-day `VALUE=DATE` event
  on the date the listing states.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import ngettext
from icalendar import Alarm, Calendar, Event

from .display import DEADLINE_KIND_LABELS, long_date, short_time
from .models import Deadline, Opportunity

SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
ALARM_BEFORE = timedelta(days=3)
REFRESH_INTERVAL = timedelta(hours=6)


def sequence(opportunity: Opportunity) -> int:
    """A number that rises with every change to the opportunity (RFC 5545 SEQUENCE)."""
    return max(0, int((opportunity.updated_at - SEQUENCE_EPOCH).total_seconds()))


def uids(opportunity: Opportunity, domain: str) -> dict[int, str]:
    """A stable UID per deadline (by object id): `opportunity-12-registration-1@domain`."""
    seen: dict[str, int] = {}
    found: dict[int, str] = {}
    for deadline in sorted(opportunity.deadlines, key=lambda d: (d.due_on, d.kind, d.due_at)):
        rank = seen.get(deadline.kind, 0)
        seen[deadline.kind] = rank + 1
        suffix = f"-{rank + 1}" if rank else ""
        found[id(deadline)] = f"opportunity-{opportunity.id}-{deadline.kind}{suffix}@{domain}"
    return found


def build_calendar(
    opportunities: Iterable[Opportunity],
    *,
    name: str,
    domain: str,
    page_url: Callable[[Opportunity], str],
) -> bytes:
    """An iCalendar feed with one event per deadline of each opportunity."""
    calendar = Calendar()
    calendar.add("prodid", "-//Openings//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _plain(name))
    calendar.add("x-wr-caldesc", _("Deadlines from Openings. Always check the original listing."))
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH_INTERVAL)
    for opportunity in opportunities:
        ids = uids(opportunity, domain)
        for deadline in opportunity.deadlines:
            calendar.add_component(
                _event(opportunity, deadline, ids[id(deadline)], page_url(opportunity))
            )
    return calendar.to_ical()


def _event(opportunity: Opportunity, deadline: Deadline, uid: str, url: str) -> Event:
    label = str(DEADLINE_KIND_LABELS.get(deadline.kind) or _("Deadline"))
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence(opportunity))
    event.add("dtstamp", opportunity.updated_at)
    event.add(
        "summary", _plain(_("%(what)s close: %(title)s", what=label, title=opportunity.title))
    )
    if deadline.due_time is None:
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
    else:
        event.add("dtstart", deadline.due_at.astimezone(UTC))
    event.add("url", url)
    event.add("description", _plain(_description(opportunity, deadline, url)))
    event.add_component(_alarm(label, opportunity.title))
    return event


def _alarm(label: str, title: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add(
        "description",
        _plain(
            ngettext(
                "%(what)s close in %(num)d day: %(title)s",
                "%(what)s close in %(num)d days: %(title)s",
                ALARM_BEFORE.days,
                what=label,
                title=title,
            )
        ),
    )
    alarm.add("trigger", -ALARM_BEFORE)
    return alarm


def _description(opportunity: Opportunity, deadline: Deadline, url: str) -> str:
    when = long_date(deadline.due_on)
    if deadline.due_time is not None:
        when += f", {short_time(deadline.due_time)}"
    if deadline.time_zone:
        when += f" {deadline.time_zone}"
    else:
        when += " (" + _("time zone not stated") + ")"
    lines = [f"{DEADLINE_KIND_LABELS.get(deadline.kind) or _('Deadline')}: {when}"]
    if deadline.evidence:
        lines.append(_("From the listing: “%(words)s”", words=deadline.evidence))
    if opportunity.link:
        lines.append(_("Original listing: %(url)s", url=opportunity.link))
    lines.append(_("On Openings: %(url)s", url=url))
    return "\n".join(lines)


_ANGLES = str.maketrans({"<": "‹", ">": "›"})


def _plain(text: str) -> str:
    """Text with its angle brackets swapped for look-alikes: some calendar apps render an
    event's text as HTML, and a listing's title must never become markup there."""
    return text.translate(_ANGLES)
