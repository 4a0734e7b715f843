"""iCalendar feeds, parsed back: stable UIDs, SEQUENCE raised on a move, UTC and all-day events."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from icalendar import Calendar

from directory.extensions import db
from feeds.closing import closing_instant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int) -> date:
    return (NOW + timedelta(days=offset)).date()


def events_of(client, url: str) -> tuple[Calendar, dict[str, object]]:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    return calendar, {str(e["UID"]): e for e in calendar.walk("VEVENT")}


@pytest.fixture
def forum(create_opportunity):
    return create_opportunity(
        "Regional forum",
        deadlines=[
            ("travel_support", day(10), time(17, 0), "Africa/Nairobi"),
            ("registration", day(30)),
        ],
        countries=("KE",),
    )


def test_feed_events_carry_uid_sequence_utc_all_day_name_and_alarm(client, forum):
    raw = client.get("/opportunities.ics?region=africa").data
    assert b"DTSTART:20260311T140000Z" in raw
    assert b"DTSTART;VALUE=DATE:20260331" in raw
    calendar, events = events_of(client, "/opportunities.ics?region=africa")
    assert str(calendar["X-WR-CALNAME"]).startswith(
        "Openings: open opportunities in Sub-Saharan Africa"
    )
    assert set(events) == {
        f"opportunity-{forum.id}-travel_support@openings.example.org",
        f"opportunity-{forum.id}-registration@openings.example.org",
    }
    timed = events[f"opportunity-{forum.id}-travel_support@openings.example.org"]
    assert timed["DTSTART"].dt == datetime(2026, 3, 11, 14, 0, tzinfo=UTC)
    all_day = events[f"opportunity-{forum.id}-registration@openings.example.org"]
    assert all_day["DTSTART"].dt == day(30)
    assert all_day["DTEND"].dt == day(31)
    for event in events.values():
        assert int(event["SEQUENCE"]) >= 0
        assert event["URL"] == f"http://localhost/opportunities/{forum.id}"
        alarms = event.walk("VALARM")
        assert len(alarms) == 1 and alarms[0]["TRIGGER"].dt == -timedelta(days=3)


def test_uids_are_stable_and_sequence_rises_when_a_deadline_moves(client, forum):
    _, before = events_of(client, f"/opportunities/{forum.id}.ics")
    _, same = events_of(client, f"/opportunities/{forum.id}.ics")
    assert {uid: int(e["SEQUENCE"]) for uid, e in before.items()} == {
        uid: int(e["SEQUENCE"]) for uid, e in same.items()
    }
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        deadline = next(d for d in forum.deadlines if d.kind == "registration")
        deadline.due_on = day(40)
        deadline.due_at = closing_instant(day(40))
        db.session.commit()
    _, after = events_of(client, f"/opportunities/{forum.id}.ics")
    assert set(after) == set(before)
    for uid in before:
        assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    moved = after[f"opportunity-{forum.id}-registration@openings.example.org"]
    assert moved["DTSTART"].dt == day(40)


def test_uids_survive_ingestion_rewriting_the_deadline_rows(client, forum):
    from directory.models import Deadline

    _, before = events_of(client, f"/opportunities/{forum.id}.ics")
    forum.deadlines = [
        Deadline(
            kind=d.kind,
            due_on=d.due_on,
            due_time=d.due_time,
            time_zone=d.time_zone,
            due_at=d.due_at,
        )
        for d in forum.deadlines
    ]
    db.session.commit()
    _, after = events_of(client, f"/opportunities/{forum.id}.ics")
    assert set(after) == set(before)


def test_two_deadlines_of_one_kind_get_two_uids(client, create_opportunity):
    opportunity = create_opportunity(
        "Two rounds", deadlines=[("application", day(5)), ("application", day(50))]
    )
    _, events = events_of(client, f"/opportunities/{opportunity.id}.ics")
    assert set(events) == {
        f"opportunity-{opportunity.id}-application@openings.example.org",
        f"opportunity-{opportunity.id}-application-2@openings.example.org",
    }


def test_calendar_feed_follows_the_filters_and_answers_304(client, forum, create_opportunity):
    create_opportunity("Lima call", deadlines=[("application", day(3))], countries=("PE",))
    _, events = events_of(client, "/opportunities.ics?country=PE")
    assert len(events) == 1
    first = client.get("/opportunities.ics?country=PE")
    assert first.headers["Last-Modified"]
    assert (
        client.get(
            "/opportunities.ics?country=PE", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/opportunities.ics?country=PE",
            headers={"If-Modified-Since": first.headers["Last-Modified"]},
        ).status_code
        == 304
    )


def test_missing_opportunity_calendar_is_not_found(client):
    assert client.get("/opportunities/424242.ics").status_code == 404


def test_markup_in_a_title_never_reaches_a_calendar_as_markup(client, create_opportunity):
    opportunity = create_opportunity(
        "Summit <b onmouseover=alert(1)>now</b>", deadlines=[("application", day(3))]
    )
    raw = client.get(f"/opportunities/{opportunity.id}.ics").get_data(as_text=True)
    assert "<b" not in raw and "‹b onmouseover=alert(1)›now‹/b›" in raw
