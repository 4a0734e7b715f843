"""The list of open opportunities and each opportunity's page."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

from directory.extensions import db
from directory.models import Opportunity

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int):
    return (NOW + timedelta(days=offset)).date()


def titles_in_order(html: str, titles: list[str]) -> list[str]:
    found = [(html.find(t), t) for t in titles if t in html]
    return [t for _, t in sorted(found)]


def test_list_shows_open_opportunities_soonest_deadline_first(client, create_opportunity):
    create_opportunity("Fellowship closing later", deadlines=[("application", day(40))])
    create_opportunity(
        "Summit closing soon", deadlines=[("registration", day(5))], countries=("KE",)
    )
    create_opportunity("Grant already closed", deadlines=[("application", day(-3))])
    create_opportunity("Rolling call", is_rolling=True)
    create_opportunity("Hidden listing", deadlines=[("application", day(2))], status="hidden")
    html = client.get("/").get_data(as_text=True)
    assert titles_in_order(
        html, ["Fellowship closing later", "Summit closing soon", "Rolling call"]
    ) == [
        "Summit closing soon",
        "Fellowship closing later",
        "Rolling call",
    ]
    assert "Grant already closed" not in html
    assert "Hidden listing" not in html
    assert "Kenya" in html
    assert "closes in 4 days" in html  # 5 days ahead, unknown zone: closes at UTC+14's day end


def test_next_deadline_is_the_soonest_still_ahead(client, create_opportunity):
    create_opportunity(
        "Conference with two windows",
        deadlines=[("travel_support", day(-1)), ("registration", day(20)), ("abstract", day(10))],
    )
    html = client.get("/").get_data(as_text=True)
    assert "Abstracts and proposals" in html
    assert "Travel support" not in html


def test_titles_are_escaped(client, create_opportunity):
    create_opportunity("<script>alert(1)</script> Summit", deadlines=[("application", day(3))])
    html = client.get("/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


def test_detail_shows_every_deadline_with_its_phrase_and_countdown(client, create_opportunity):
    opportunity = create_opportunity(
        "Regional forum",
        deadlines=[
            ("travel_support", day(10), time(17, 0), "Africa/Nairobi"),
            ("registration", day(30)),
        ],
        countries=("KE", "UG"),
        event_start_on=day(45),
        event_end_on=day(47),
        offers_travel=True,
        summary_html="<p>Join us in <strong>Nairobi</strong>.</p>",
    )
    response = client.get(f"/opportunities/{opportunity.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Travel support" in html and "Registration" in html
    assert "17:00 Africa/Nairobi" in html
    assert "time not stated" in html  # the registration deadline has no time
    assert "closes in 10 days" in html
    assert "From the listing" in html
    assert "Kenya, Uganda" in html
    assert "<strong>Nairobi</strong>" in html
    assert "Travel" in html
    assert "original listing" in html


def test_detail_without_a_stated_deadline_says_so(client, create_opportunity):
    opportunity = create_opportunity("Announcement without dates")
    html = client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    assert "Deadline not stated — check the listing" in html


def test_hidden_and_missing_opportunities_are_not_found(client, create_opportunity):
    hidden = create_opportunity("Hidden", status="hidden")
    assert client.get(f"/opportunities/{hidden.id}").status_code == 404
    assert client.get("/opportunities/999999").status_code == 404
    assert b"Page not found" in client.get("/opportunities/999999").data


def test_pages_carry_security_headers(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_pages_have_a_skip_link_and_a_main_landmark(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="#main"' in html and '<main id="main"' in html
    assert '<html lang="en">' in html


def test_instants_round_trip_as_utc(app, create_opportunity):
    opportunity = create_opportunity(
        "Timed", deadlines=[("application", day(3), time(9, 30), "UTC")]
    )
    db.session.expire_all()
    stored = db.session.get(Opportunity, opportunity.id)
    assert stored.deadlines[0].due_at == datetime.combine(day(3), time(9, 30), UTC)
    assert stored.deadlines[0].due_at.tzinfo is not None
