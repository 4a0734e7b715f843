"""The list page: filters that combine, counts, search, stable pages, the reader's zone, caching."""

import gzip
import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from conftest import csrf_token

from directory.extensions import db
from directory.models import Deadline, Opportunity, Source
from feeds.closing import closing_instant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int):
    return (NOW + timedelta(days=offset)).date()


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="/opportunities/\d+"[^>]*>([^<]+)</a></h2>', html)


@pytest.fixture
def directory(create_opportunity):
    """A small directory with one of everything the filters tell apart."""
    other = Source(name="Partner list", url="https://partner.example.org/feed", kind="feed")
    db.session.add(other)
    db.session.commit()
    create_opportunity(
        "Nairobi summit travel grants for Justice defenders",
        kind="travel_grant",
        deadlines=[("travel_support", day(5))],
        countries=("KE",),
        offers_travel=True,
        language="en",
        summary_text="Travel grants cover flights for paralegals.",
    )
    create_opportunity(
        "Bogotá fellowship in legal empowerment",
        kind="fellowship",
        deadlines=[("application", day(20))],
        countries=("CO",),
        offers_stipend=True,
        language="es",
        source=other,
    )
    create_opportunity(
        "Online course on community paralegals",
        kind="event",
        deadlines=[("registration", day(60))],
        is_online=True,
        language="en",
    )
    create_opportunity("Rolling small grants", kind="grant", is_rolling=True, countries=("BR",))
    create_opportunity(
        "Closed fellowship in Lima",
        kind="fellowship",
        deadlines=[("application", day(-10))],
        countries=("PE",),
    )
    return other


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Nairobi summit", "Bogotá fellowship", "Online course", "Rolling small grants"]),
        ("kind=fellowship", ["Bogotá fellowship"]),
        ("kind=fellowship&kind=event", ["Bogotá fellowship", "Online course"]),
        ("region=latin-america-caribbean", ["Bogotá fellowship", "Rolling small grants"]),
        ("region=latin-america-caribbean&kind=grant", ["Rolling small grants"]),
        ("country=ke", ["Nairobi summit"]),
        ("closing=7", ["Nairobi summit"]),
        ("closing=30", ["Nairobi summit", "Bogotá fellowship"]),
        ("status=rolling", ["Rolling small grants"]),
        ("status=past", ["Closed fellowship in Lima"]),
        ("status=past&region=latin-america-caribbean", ["Closed fellowship in Lima"]),
        ("funding=travel", ["Nairobi summit"]),
        ("funding=travel&funding=stipend", ["Nairobi summit", "Bogotá fellowship"]),
        ("online=yes", ["Online course"]),
        ("online=no&closing=90", ["Nairobi summit", "Bogotá fellowship"]),
        ("lang=es", ["Bogotá fellowship"]),
        ("q=travel+grant+justice", ["Nairobi summit"]),
        ("q=paralegal", ["Nairobi summit", "Online course"]),
        ("q=PARALEGALS&online=yes", ["Online course"]),
        (
            "sort=newest",
            ["Rolling small grants", "Online course", "Bogotá fellowship", "Nairobi summit"],
        ),
    ],
)
def test_filters_combine(client, directory, query, expected):
    found = titles(html_of(client, f"/?{query}"))
    assert [t for t in found if any(t.startswith(e) for e in expected)] == found
    assert [next(t for t in found if t.startswith(e)) for e in expected] == found


def test_source_filter(client, directory):
    assert [t[:6] for t in titles(html_of(client, f"/?source={directory.id}"))] == ["Bogotá"]


def test_every_filter_shows_how_many_it_would_give(client, directory):
    html = html_of(client, "/?kind=fellowship")
    assert re.search(r'value="fellowship" checked> Fellowship <span class="n">\(1\)', html)
    assert re.search(r'value="event"> Event <span class="n">\(1\)', html)
    assert re.search(r'value="past"> Closed <span class="n">\(1\)', html)
    assert re.search(r'value="stipend"> Stipend <span class="n">\(1\)', html)
    assert "1 result " in html


def test_search_ranks_by_relevance_when_asked(client, create_opportunity):
    create_opportunity(
        "A summit", deadlines=[("registration", day(3))], summary_text="Some word about grants."
    )
    create_opportunity("Grants, grants and more grants", deadlines=[("registration", day(9))])
    soonest = titles(html_of(client, "/?q=grants"))
    relevant = titles(html_of(client, "/?q=grants&sort=relevance"))
    assert soonest == ["A summit", "Grants, grants and more grants"]
    assert relevant == ["Grants, grants and more grants", "A summit"]


def test_search_follows_edits_and_deletions(client, create_opportunity):
    opportunity = create_opportunity("Summit on water rights", deadlines=[("registration", day(3))])
    assert titles(html_of(client, "/?q=water")) == ["Summit on water rights"]
    # pages are kept for the minute: each change happens a minute later, as it would
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        opportunity.title = "Summit on land rights"
        db.session.commit()
        assert titles(html_of(client, "/?q=water")) == []
        assert titles(html_of(client, "/?q=land")) == ["Summit on land rights"]
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        db.session.execute(db.delete(Opportunity).where(Opportunity.id == opportunity.id))
        db.session.commit()
        assert titles(html_of(client, "/?q=land")) == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "grant OR",
        "NEAR(grant",
        "grant*",
        "'; DROP TABLE opportunities; --",
        "-grant",
        "a:b",
        "^grant",
        "(",
        "\\",
    ],
)
def test_search_syntax_is_plain_text(client, create_opportunity, query):
    create_opportunity("Grant for defenders", deadlines=[("application", day(3))])
    response = client.get("/?" + urlencode({"q": query}))
    assert response.status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 1


def make_many(create_opportunity, count: int, *, dated: bool = True, prefix: str = "Item"):
    for i in range(count):
        deadlines = [("application", day(1 + i % 7))] if dated else []
        create_opportunity(f"{prefix} {i:02d}", deadlines=deadlines)


def follow_pages(client, url: str) -> list[list[str]]:
    pages = []
    while url:
        html = html_of(client, url)
        pages.append(titles(html))
        match = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        assert len(pages) < 10
    return pages


def test_pages_cover_every_result_once_across_both_segments(client, create_opportunity):
    make_many(create_opportunity, 20, prefix="Dated")
    make_many(create_opportunity, 12, dated=False, prefix="Undated")
    pages = follow_pages(client, "/")
    assert [len(p) for p in pages] == [25, 7]
    everything = [t for p in pages for t in p]
    assert len(set(everything)) == 32
    assert all(t.startswith("Dated") for t in everything[:20])
    assert all(t.startswith("Undated") for t in everything[20:])


def test_pages_are_stable_when_listings_arrive(client, create_opportunity):
    make_many(create_opportunity, 30)
    first = html_of(client, "/")
    next_url = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    create_opportunity("Newcomer closing first", deadlines=[("application", day(0))])
    second = titles(html_of(client, next_url))
    assert "Newcomer closing first" not in second
    assert not set(second) & set(titles(first))
    assert len(second) == 5


@pytest.mark.parametrize("sort", ["newest", "relevance"])
def test_other_sorts_page_too(client, create_opportunity, sort):
    make_many(create_opportunity, 27)
    pages = follow_pages(client, f"/?q=item&sort={sort}")
    assert [len(p) for p in pages] == [25, 2]
    assert len({t for p in pages for t in p}) == 27


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ.AAAA", "", "x" * 5000, "%00", "[1,2,3]"])
def test_a_bad_cursor_gives_the_first_page_with_a_note(client, create_opportunity, cursor):
    make_many(create_opportunity, 3)
    html = html_of(client, "/?" + urlencode({"cursor": cursor}))
    assert len(titles(html)) == 3
    if cursor:
        assert "no longer fits the list" in html


def test_a_cursor_made_for_other_filters_is_not_used(client, create_opportunity):
    make_many(create_opportunity, 30)
    html = html_of(client, "/")
    cursor = re.search(r"cursor=([^\"&]+)", html).group(1)
    other = html_of(client, f"/?kind=other&cursor={cursor}")
    assert "no longer fits the list" in other
    assert titles(other)[0] == "Item 00"


def test_times_are_shown_in_the_readers_zone_beside_the_stated_one(client, create_opportunity):
    create_opportunity(
        "Forum", deadlines=[("registration", day(10), time(17, 0), "Africa/Nairobi")]
    )
    html = html_of(client, "/")
    assert "11 March 2026, 14:00 UTC" in html
    assert "11 March 2026, 17:00 Africa/Nairobi as stated" in html
    assert "times in UTC" in html

    token = csrf_token(client, "/time-zone")
    response = client.post(
        "/time-zone", data={"tz": "America/Bogota", "next": "/?kind=event", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/?kind=event")
    cookie = response.headers["Set-Cookie"]
    assert "tz=America/Bogota" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    html = html_of(client, "/")
    assert "11 March 2026, 09:00 America/Bogota" in html
    assert "times in America/Bogota" in html


def test_the_time_zone_form_refuses_unknown_zones_and_foreign_redirects(client):
    token = csrf_token(client, "/time-zone")
    assert client.post("/time-zone", data={"tz": "UTC"}).status_code == 400  # no CSRF token
    bad = client.post("/time-zone", data={"tz": "Mars/Olympus", "csrf_token": token})
    assert bad.status_code == 400 and "Choose a time zone" in bad.get_data(as_text=True)
    for target in (
        "//evil.example.org/",
        "https://evil.example.org/",
        "javascript:alert(1)",
        "/\\evil",
    ):
        response = client.post(
            "/time-zone", data={"tz": "UTC", "next": target, "csrf_token": token}
        )
        assert response.headers["Location"].endswith("/"), target
        assert "evil" not in response.headers["Location"]
    page = html_of(client, "/time-zone?next=/")
    assert '<label for="tz">' in page and "Europe/Paris" in page


def test_a_date_without_zone_says_time_not_stated_and_counts_to_the_earliest_end(
    client, create_opportunity
):
    create_opportunity("Dateonly", deadlines=[("application", day(3))])
    html = html_of(client, "/")
    assert '4 March 2026</time> <span class="muted">(time not stated)' in html
    # the day ends first at UTC+14: 4 March 23:59 there is 4 March 09:59 UTC, 2 days 21 h away
    assert "closes in 2 days" in html


def test_aoe_is_the_end_of_the_day_everywhere(client, create_opportunity):
    create_opportunity("Aoe call", deadlines=[("abstract", day(3), None, "AoE")])
    html = html_of(client, "/")
    assert "5 March 2026, 11:59 UTC" in html
    assert "4 March 2026, end of day AoE as stated" in html
    assert "closes in 3 days" in html


def test_list_answers_conditional_requests(client, create_opportunity):
    create_opportunity("Cached", deadlines=[("application", day(3))])
    first = client.get("/?kind=other")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "Cookie" in first.headers["Vary"]
    assert client.get("/?kind=other", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/?kind=other", headers={"If-Modified-Since": modified}).status_code == 304
    create_opportunity("Another", deadlines=[("application", day(4))])
    assert client.get("/?kind=other", headers={"If-None-Match": etag}).status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        assert (
            client.get("/?kind=other", headers={"If-Modified-Since": modified}).status_code == 200
        )


def test_page_of_25_results_with_its_stylesheet_fits_in_14_kb_gzipped(client, create_opportunity):
    for i in range(30):
        create_opportunity(
            f"Regional summit {i} on legal empowerment and community paralegals in East Africa",
            kind="event",
            deadlines=[("travel_support", day(3 + i), time(17, 0), "Africa/Nairobi")],
            countries=("KE", "UG", "TZ"),
            offers_travel=True,
            offers_accommodation=True,
            organiser="Network of community paralegals",
            language="en",
        )
    page = client.get("/?" + urlencode({"q": "summit", "kind": "event", "region": "africa"}))
    html = page.get_data()
    assert len(titles(html.decode())) == 25
    with client.get("/static/site.css") as response:
        stylesheet = response.get_data()
    weight = len(gzip.compress(html, 9)) + len(gzip.compress(stylesheet, 9))
    assert weight <= 14 * 1024, weight


def test_no_script_is_needed_or_sent(client, directory):
    html = html_of(client, "/")
    assert "<script" not in html and " style=" not in html and "onclick" not in html


def test_the_form_is_labelled(client, directory):
    html = html_of(client, "/")
    assert '<label for="q">Search</label>' in html
    assert html.count("<fieldset>") == html.count("<legend>")
    assert '<label for="f-country"' in html and '<label for="sort">' in html


def test_moved_deadlines_raise_updated_at(app, create_opportunity):
    opportunity = create_opportunity("Moves", deadlines=[("application", day(3))])
    before = opportunity.updated_at
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        deadline = opportunity.deadlines[0]
        deadline.due_on = day(5)
        deadline.due_at = closing_instant(day(5))
        db.session.commit()
    assert opportunity.updated_at > before
    assert opportunity.closes_at == closing_instant(day(5))
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        opportunity.deadlines = [
            Deadline(kind="application", due_on=day(9), due_at=closing_instant(day(9)))
        ]
        db.session.commit()
    assert opportunity.updated_at == NOW + timedelta(hours=2)
    assert opportunity.closes_at == closing_instant(day(9))
    opportunity.deadlines = []
    db.session.commit()
    assert opportunity.closes_at is None


def test_a_deadline_added_on_its_own_sets_closes_at(app, create_opportunity):
    opportunity = create_opportunity("Later", deadlines=[("application", day(3))])
    db.session.add(
        Deadline(
            opportunity_id=opportunity.id,
            kind="registration",
            due_on=day(20),
            due_at=closing_instant(day(20)),
        )
    )
    db.session.commit()
    db.session.refresh(opportunity)
    assert opportunity.closes_at == closing_instant(day(20))


def test_a_page_kept_for_the_minute_never_counts_down_more_time_than_is_left(
    client, create_opportunity
):
    create_opportunity("Exact", deadlines=[("application", day(3), time(12, 0), "UTC")])
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        first = client.get("/")
        assert "closes in 2 days" in first.get_data(as_text=True)  # 2 days 23 h 59 min 30 s left
    with time_machine.travel(NOW + timedelta(seconds=59), tick=False):
        assert client.get("/").headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "closing=7",
        "closing=45",
        "status=past",
        "status=rolling",
        "kind=fellowship&closing=30",
        "q=grants",
    ],
)
def test_the_total_read_off_the_counts_is_the_count(app, directory, query):
    from directory import results
    from directory.filters import parse_filters

    filters = parse_filters(
        {k: [v] for k, v in (p.split("=") for p in query.split("&") if p)}
    ).filters
    assert results.counts(db.session, filters, NOW).total == results.count(db.session, filters, NOW)


def test_ingested_listings_carry_closes_at(app, runner):
    runner.invoke(args=["demo", "load"])
    opportunities = db.session.scalars(db.select(Opportunity)).all()
    assert any(o.deadlines for o in opportunities)
    for opportunity in opportunities:
        latest = max((d.due_at for d in opportunity.deadlines), default=None)
        assert opportunity.closes_at == latest, opportunity.title
