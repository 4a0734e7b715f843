"""The rules of a listing, without Flask: dates, deadlines, links, previews, the description."""

from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from directory.listings import (
    DeadlineInput,
    ListingInput,
    blocked_domain,
    check_deadlines,
    check_event_dates,
    check_listing,
    description_html,
    description_text,
    has_line_break,
    is_currency,
    link_problem,
    listing_from_details,
    parse_amount,
    reader_times,
    today_everywhere,
    zone_choices,
)
from feeds.closing import closing_instant
from feeds.types import Funding

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
BLOCKED = ("waset.org", "predatory.example")


def listing(**fields) -> ListingInput:
    values = {
        "title": "Regional summit on legal empowerment",
        "kind": "event",
        "description": "Three days of workshops.",
        "link": "https://example.org/summit",
        "countries": ("KE",),
        "event_start_on": date(2027, 6, 10),
        "event_end_on": date(2027, 6, 12),
        "deadlines": (DeadlineInput("application", date(2027, 4, 15)),),
        **fields,
    }
    return ListingInput(**values)


def test_a_good_listing_has_no_problems():
    assert check_listing(listing(), now=NOW, blocked_domains=BLOCKED) == {}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2027, 6, 10), date(2027, 6, 12), {}),
        (date(2027, 6, 10), None, {}),
        (None, None, {}),
        (date(2027, 6, 10), date(2027, 6, 10), {}),
        (
            date(2027, 6, 12),
            date(2027, 6, 10),
            {"event_end_on": "The event cannot end before it starts."},
        ),
        (
            None,
            date(2027, 6, 10),
            {"event_start_on": "Give the first day too (the same day for a one-day event)."},
        ),
        (date(2027, 2, 27), date(2027, 3, 5), {"event_start_on": "This date has passed."}),
        (
            date(2027, 2, 1),
            date(2027, 2, 2),
            {"event_start_on": "This date has passed.", "event_end_on": "This date has passed."},
        ),
        (date(2027, 3, 1), None, {}),  # today is not past
        (date(2027, 2, 28), None, {"event_start_on": "This date has passed."}),
    ],
)
def test_event_dates(start, end, expected):
    assert check_event_dates(start, end, NOW) == expected


def test_a_day_is_past_only_once_it_is_over_everywhere():
    # 11:00 UTC on 1 March: in Samoa it is 2 March already, at UTC−12 it is still 28 February.
    late = datetime(2027, 3, 1, 11, 0, tzinfo=UTC)
    assert today_everywhere(late) == date(2027, 2, 28)
    assert check_event_dates(date(2027, 2, 28), None, late) == {}


def test_a_moderator_may_keep_past_dates():
    assert check_event_dates(date(2020, 1, 1), date(2020, 1, 2), NOW, allow_past=True) == {}


@pytest.mark.parametrize(
    ("deadline", "last_day", "expected"),
    [
        (DeadlineInput("application", date(2027, 4, 15)), None, {}),
        (DeadlineInput("application", date(2027, 4, 15), time(17), "Africa/Nairobi"), None, {}),
        (
            DeadlineInput("application", date(2027, 4, 15), time(17)),
            None,
            {"deadlines.0.time_zone": "Choose the time zone of this time."},
        ),
        (
            DeadlineInput("registration", date(2027, 2, 20)),
            None,
            {"deadlines.0.due_on": "This deadline has already passed."},
        ),
        # Today at 11:00 in Lima is 16:00 UTC: still ahead of NOW (12:00 UTC).
        (DeadlineInput("registration", date(2027, 3, 1), time(11), "America/Lima"), None, {}),
        # Today at 11:00 in Dhaka was 05:00 UTC: over.
        (
            DeadlineInput("registration", date(2027, 3, 1), time(11), "Asia/Dhaka"),
            None,
            {"deadlines.0.due_on": "This deadline has already passed."},
        ),
        (DeadlineInput("travel_support", date(2027, 6, 12)), date(2027, 6, 12), {}),
        (
            DeadlineInput("travel_support", date(2027, 6, 13)),
            date(2027, 6, 12),
            {"deadlines.0.due_on": "This deadline is after the event ends (12 June 2027)."},
        ),
    ],
)
def test_one_deadline(deadline, last_day, expected):
    assert check_deadlines([deadline], NOW, last_day) == expected


def test_at_least_one_deadline_is_needed():
    assert check_deadlines([], NOW) == {
        "deadlines": "Add at least one deadline: the date by which people must act."
    }


def test_problems_name_the_deadline_by_position():
    deadlines = (
        DeadlineInput("application", date(2027, 4, 15)),
        DeadlineInput("travel_support", date(2027, 7, 1)),
    )
    problems = check_listing(listing(deadlines=deadlines), now=NOW)
    assert list(problems) == ["deadlines.1.due_on"]


def test_deadline_after_the_event_uses_the_start_when_there_is_no_end():
    deadlines = (DeadlineInput("registration", date(2027, 6, 11)),)
    problems = check_listing(listing(event_end_on=None, deadlines=deadlines), now=NOW)
    assert "after the event ends (10 June 2027)" in problems["deadlines.0.due_on"]


def test_a_bad_event_date_does_not_also_blame_the_deadlines():
    problems = check_listing(
        listing(event_start_on=date(2027, 6, 12), event_end_on=date(2027, 6, 1)), now=NOW
    )
    assert list(problems) == ["event_end_on"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.org/call", None),
        ("http://example.org", None),
        ("HTTPS://Example.org/Call?id=3", None),
        ("example.org/call", "Enter a full web address, starting with https://"),
        ("javascript:alert(1)", "Enter a full web address, starting with https://"),
        (
            "data:text/html,<script>alert(1)</script>",
            "Enter a full web address, starting with https://",
        ),
        ("ftp://example.org/file", "Enter a full web address, starting with https://"),
        ("https://", "Enter a full web address, starting with https://"),
        ("https://exa mple.org/", "Enter a full web address, starting with https://"),
        ("https://[::1/", "Enter a full web address, starting with https://"),
        (
            "https://localhost/call",
            "Enter a full web address with a domain name, like https://example.org/call",
        ),
        ("https://" + "a" * 2000 + ".org", "This address is too long (2,000 characters at most)."),
        (
            "https://waset.org/conference",
            "We do not list opportunities from waset.org: it is on our list of predatory conference organisers.",
        ),
        (
            "https://www.WASET.org./x",
            "We do not list opportunities from waset.org: it is on our list of predatory conference organisers.",
        ),
        ("https://notwaset.org/x", None),
        ("https://waset.org@example.org/x", None),
        (
            "https://example.org@waset.org/x",
            "We do not list opportunities from waset.org: it is on our list of predatory conference organisers.",
        ),
    ],
)
def test_links(url, message):
    assert link_problem(url, BLOCKED) == message


def test_blocked_links_in_the_description_and_the_feed_are_refused():
    problems = check_listing(
        listing(
            description="Register at https://conf.predatory.example/register now.",
            feed_url="https://waset.org/feed",
        ),
        now=NOW,
        blocked_domains=BLOCKED,
    )
    assert "predatory.example" in problems["description"]
    assert "waset.org" in problems["feed_url"]


def test_blocked_domain_ignores_empty_entries():
    assert blocked_domain("https://example.org", ["", " "]) is None


def test_place_needs_a_country_or_online():
    assert "countries" in check_listing(listing(countries=()), now=NOW)
    assert check_listing(listing(countries=(), is_online=True), now=NOW) == {}


def test_an_amount_needs_its_currency():
    problems = check_listing(listing(funding=Funding(travel=True, amount=Decimal(500))), now=NOW)
    assert problems == {"funding_currency": "Give the currency of the amount."}


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1500", Decimal("1500.00")),
        ("1,500", Decimal("1500.00")),
        ("99.5", Decimal("99.50")),
        ("-3", None),
        ("lots", None),
        ("NaN", None),
        ("1e20", None),
        ("", None),
    ],
)
def test_amounts(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    ("code", "known"), [("EUR", True), ("kes", True), ("XYZ", False), ("EURO", False)]
)
def test_currencies(code, known):
    assert is_currency(code) is known


@pytest.mark.parametrize(
    ("value", "broken"),
    [
        ("Ana María", False),
        ("Ana\r\nBcc: x@example.org", True),
        ("Ana\nX", True),
        ("Ana\rX", True),
        ("a\u2028b", True),
        ("", False),
        (None, False),
    ],
)
def test_line_breaks(value, broken):
    assert has_line_break(value) is broken


def test_reader_times_show_one_instant_on_four_clocks():
    instant = closing_instant(date(2027, 4, 15), time(17), "Africa/Nairobi")
    shown = {r.city: r.local.strftime("%Y-%m-%d %H:%M") for r in reader_times(instant)}
    assert shown == {
        "Lima": "2027-04-15 09:00",
        "Lagos": "2027-04-15 15:00",
        "Nairobi": "2027-04-15 17:00",
        "Dhaka": "2027-04-15 20:00",
    }


def test_a_date_alone_closes_at_the_end_of_that_day_in_its_zone():
    deadline = DeadlineInput("application", date(2027, 4, 15), None, "AoE")
    assert deadline.due_at == datetime(2027, 4, 16, 11, 59, tzinfo=UTC)
    lima = reader_times(deadline.due_at)[0]
    assert (lima.city, lima.local.strftime("%d %H:%M")) == ("Lima", "16 06:59")


def test_the_zone_list_offers_aoe_utc_and_iana_names_only():
    values = [value for value, _ in zone_choices()]
    assert values[:2] == ["AoE", "UTC"]
    assert {"America/Lima", "Africa/Lagos", "Africa/Nairobi", "Asia/Dhaka"} <= set(values)
    assert "US/Eastern" not in values and "Etc/GMT+5" not in values


def test_description_becomes_paragraphs_with_live_links_and_nothing_else():
    text = (
        "First paragraph,\nsecond line.\n\nApply at https://example.org/apply?a=1&b=2.\n\n"
        '<script>alert(1)</script> <a href="javascript:alert(1)">x</a>'
    )
    html = description_html(text)
    assert html.startswith("<p>First paragraph,<br>second line.</p>")
    assert '<a href="https://example.org/apply?a=1&amp;b=2" rel="noopener nofollow ugc">' in html
    assert "</a>.</p>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="javascript' not in html
    assert description_text(text).split("\n\n")[0] == "First paragraph, second line."


def test_details_round_trip():
    original = listing(
        deadlines=(
            DeadlineInput("application", date(2027, 4, 15), time(17, 30), "Africa/Nairobi"),
            DeadlineInput("travel_support", date(2027, 4, 1)),
        ),
        funding=Funding(travel=True, stipend=True, amount=Decimal("1500.00"), currency="EUR"),
        eligibility="Paralegals",
        languages="English, Swahili",
        feed_url="https://example.org/feed",
    )
    assert listing_from_details(original.to_details()) == original
