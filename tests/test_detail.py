"""An opportunity's page: every deadline with its phrase, what it offers, and what is still open."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int) -> date:
    return (NOW + timedelta(days=offset)).date()


def test_detail_shows_deadlines_event_place_funding_sources_and_calendar(
    client, create_opportunity
):
    opportunity = create_opportunity(
        "Regional forum on legal empowerment",
        kind="event",
        deadlines=[
            ("travel_support", day(10), time(17, 0), "Africa/Nairobi"),
            ("registration", day(30)),
        ],
        countries=("KE",),
        place="Nairobi",
        event_start_on=day(45),
        event_end_on=day(47),
        offers_travel=True,
        offers_accommodation=True,
        funding_amount=Decimal("1500"),
        funding_currency="USD",
    )
    response = client.get(f"/opportunities/{opportunity.id}")
    html = response.get_data(as_text=True)
    assert "Travel support" in html and "Registration" in html
    assert "17:00 Africa/Nairobi as stated" in html
    assert "(time not stated)" in html
    assert "closes in 10 days" in html
    assert "From the listing: “<q" in html
    assert "15 April 2026 – 17 April 2026" in html
    assert "Nairobi, Kenya" in html
    assert "Travel, Accommodation (up to US$1,500)" in html
    assert "Test feed" in html and "original listing" in html
    assert f'href="/opportunities/{opportunity.id}.ics"' in html
    assert "Missed it?" not in html
    assert response.headers["ETag"]


def test_a_closed_opportunity_says_so_and_offers_open_ones_of_its_kind_and_region(
    client, create_opportunity
):
    closed = create_opportunity(
        "Closed fellowship in Nairobi",
        kind="fellowship",
        deadlines=[("application", day(-5))],
        countries=("KE",),
    )
    create_opportunity(
        "Open fellowship in Kampala",
        kind="fellowship",
        deadlines=[("application", day(9))],
        countries=("UG",),
    )
    create_opportunity(
        "Open fellowship in Lima",
        kind="fellowship",
        deadlines=[("application", day(9))],
        countries=("PE",),
    )
    create_opportunity(
        "Open grant in Kampala",
        kind="grant",
        deadlines=[("application", day(9))],
        countries=("UG",),
    )
    html = client.get(f"/opportunities/{closed.id}").get_data(as_text=True)
    assert "Every deadline of this opportunity has passed." in html
    assert html.index("has passed") < html.index('id="deadlines"')
    assert "Missed it? These are still open" in html
    assert "Open fellowship in Kampala" in html
    assert "Open fellowship in Lima" not in html and "Open grant in Kampala" not in html
    assert "closed 5 days ago" in html


def test_a_deadline_that_is_not_stated_says_check_the_listing(client, create_opportunity):
    opportunity = create_opportunity("No dates here")
    html = client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    assert "Deadline not stated — check the listing." in html
    assert ".ics" not in html


def test_detail_answers_conditional_requests(client, create_opportunity):
    opportunity = create_opportunity("Cached page", deadlines=[("application", day(3))])
    first = client.get(f"/opportunities/{opportunity.id}")
    again = client.get(
        f"/opportunities/{opportunity.id}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        later = client.get(
            f"/opportunities/{opportunity.id}", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert later.status_code == 200  # the countdown moved on
