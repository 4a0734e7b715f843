"""The product's journeys end to end, in Chromium, against Openings run as in production.

Gunicorn (2 workers) and the scheduler run as child processes on the test database, mail goes
to a real SMTP server the test reads, and feeds come from a local HTTP server. Each journey is
one test; with SCREENSHOTS=1 each step is saved under docs/screenshots/.
"""

from __future__ import annotations

import importlib.util
import json
import re
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from chromium import Screenshots, chromium
from conftest import rss_feed
from icalendar import Calendar
from playwright.sync_api import expect
from production import Site, wait_until

pytestmark = pytest.mark.slow

ATOM = "{http://www.w3.org/2005/Atom}"
WAIT_SECONDS = 60
ALERT_ENGINE = importlib.util.find_spec("directory.alerts") is not None
NO_ENGINE = "the alert engine (issue 6, `flask alerts run`) is not on this branch yet"


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def site(app, app_config, smtp_server, tmp_path: Path) -> Iterator[Site]:
    """Gunicorn and the scheduler on the test database, mailing `smtp_server`."""
    site = Site(
        database_url=app_config["SQLALCHEMY_DATABASE_URI"],
        instance_path=tmp_path / "instance",
        mail_port=app_config["MAIL_PORT"],
        settings={
            "FEEDS_POLL_EVERY_SECONDS": 1,
            "ALERTS_INTERVAL_MINUTES": 0.05,
            "SUBMISSION_MIN_FILL_SECONDS": 0,
        },
    )
    try:
        site.start_web()
        site.start_scheduler()
        yield site
    finally:
        site.stop()


@pytest.fixture
def page(browser, site: Site):
    """A fresh browser tab (its own cookies), at a laptop's size."""
    context = browser.new_context(viewport={"width": 1000, "height": 700}, accept_downloads=True)
    context.set_default_timeout(WAIT_SECONDS * 1000)
    page = context.new_page()
    yield page
    context.close()


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def listed_total(site: Site, query: str = "") -> int:
    """How many opportunities the public API lists for `query`."""
    return get_json(f"{site.base_url}/api/v1/opportunities?{query}")["total"]


def mail_body(mail) -> str:
    return mail.message.get_body(("plain",)).get_content()


def show_email(page, mail) -> None:
    """Open an email's HTML part in the tab, as a mail client shows it (for screenshots)."""
    page.set_content(mail.message.get_body(("html",)).get_content())


def mail_to(smtp_server, address: str):
    """The first email to `address`, once it has arrived (others may come before or after)."""
    with smtp_server.arrived:
        smtp_server.arrived.wait_for(
            lambda: any(m.recipients == [address] for m in smtp_server.messages), WAIT_SECONDS
        )
        found = [m for m in smtp_server.messages if m.recipients == [address]]
    assert found, f"no email to {address} within {WAIT_SECONDS} s"
    return found[0]


def link_in(mail, site: Site, path: str) -> str:
    """The first link in the email's text that starts with the site's address and `path`."""
    match = re.search(re.escape(site.base_url + path) + r"\S+", mail_body(mail))
    assert match, f"no {path} link in:\n{mail_body(mail)}"
    return match.group(0)


def call(number: int, title: str, text: str, published: datetime) -> dict[str, str]:
    return {
        "guid": f"journey-{number}",
        "title": title,
        "link": f"https://example.org/calls/{number}",
        "pubDate": published.strftime("%a, %d %b %Y %H:%M:%S +0000"),
        "description": f"<p>{text}</p>",
    }


def long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- Journey 1: a member finds a travel grant and puts its deadline in their calendar ---------


def test_member_finds_a_travel_grant_and_downloads_its_deadline(site, page, httpserver):
    now = datetime.now(UTC)
    soon, later = (now + timedelta(days=20)).date(), (now + timedelta(days=60)).date()
    httpserver.expect_request("/calls.xml").respond_with_data(
        rss_feed(
            call(
                1,
                "Travel grants for paralegals to the Nairobi summit",
                "Travel grants for community paralegals to attend the summit in Nairobi, "
                f"Kenya. Applications for travel support close on {long(soon)}.",
                now,
            ),
            call(
                2,
                "Travel grant for the Kampala land rights school",
                "Travel grants to the land rights school in Kampala, Uganda. "
                f"Applications close on {long(later)}.",
                now,
            ),
            call(
                3,
                "Travel grant for the Lima convening",
                f"Travel grants to the convening in Lima, Peru. Apply by {long(soon)}.",
                now,
            ),
            call(
                4,
                "Fellowship for community paralegals in Nairobi",
                f"A fellowship in Nairobi, Kenya. Applications close on {long(soon)}.",
                now,
            ),
        ),
        content_type="application/rss+xml",
    )
    site.flask("feeds", "add", httpserver.url_for("/calls.xml"), "--name", "Network calls")
    wait_until(lambda: listed_total(site) == 4, WAIT_SECONDS, "the scheduler to ingest the feed")
    shots = Screenshots("member")

    page.goto(site.base_url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Open opportunities"
    assert page.locator("ol.results h2").count() == 4
    shots.take(page, "home")

    page.get_by_role("searchbox", name="Search").fill("travel grant")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=travel\+grant"))
    titles = page.locator("ol.results h2").all_inner_texts()
    assert sorted(titles) == [
        "Travel grant for the Kampala land rights school",
        "Travel grant for the Lima convening",
        "Travel grants for paralegals to the Nairobi summit",
    ]
    shots.take(page, "search")

    page.locator("summary").click()
    page.get_by_role("checkbox", name="Africa").check()
    page.get_by_role("radio", name="30 days").check()
    shots.take(page, "filters")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"region=africa"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["travel grant"]
    assert query["region"] == ["africa"] and query["closing"] == ["30"]
    assert page.locator("ol.results h2").all_inner_texts() == [
        "Travel grants for paralegals to the Nairobi summit"
    ]
    assert page.locator("p.lede").inner_text().startswith("1 result for “travel grant”")
    shots.take(page, "narrowed")

    page.get_by_role("link", name="Travel grants for paralegals to the Nairobi summit").click()
    page.wait_for_url(re.compile(r"/opportunities/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Travel grants for paralegals to the Nairobi summit"
    )
    deadlines = page.locator("ul.deadlines").inner_text()
    assert f"Applications for travel support close on {long(soon)}." in deadlines
    assert "Kenya" in page.locator("dl.facts").inner_text()
    shots.take(page, "detail")

    with page.expect_download() as downloading:
        page.get_by_role("link", name=re.compile(r"Add these deadlines to your calendar")).click()
    download = downloading.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Calendar.from_ical(Path(download.path()).read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    assert event.decoded("dtstart") == soon  # a date with no time: an all-day event on that date
    assert "Travel grants for paralegals to the Nairobi summit" in str(event["summary"])
    assert str(event["url"]) == page.url


# --- Journey 3: a partner lists an opportunity, a moderator approves it, it is everywhere ------

PARTNER_TITLE = "Nairobi summit on legal empowerment, with travel support"


def test_partner_lists_an_opportunity_and_a_moderator_publishes_it(site, page, smtp_server):
    moderator, password = "moderator@example.org", "a long moderator passphrase"
    created = site.flask(
        "users", "create-admin", moderator, input=f"{password}\n{password}\n"
    ).stdout
    assert f"Created moderator {moderator}" in created
    follower = "kofi@example.org"  # an operator brings over a subscriber who follows Africa
    site.flask("subscribers", "add", follower, "--region", "africa", "--confirmed")
    today = datetime.now(UTC).date()
    event_on, apply_by, travel_by = (today + timedelta(days=n) for n in (60, 40, 10))
    shots = Screenshots("partner")

    page.goto(site.base_url + "/")
    page.get_by_role("link", name="List an opportunity").click()
    page.fill("#organisation", "Red de Abogadas")
    page.fill("#contact_name", "Ana Pérez")
    page.fill("#contact_email", "ana@example.org")
    page.fill("#title", PARTNER_TITLE)
    page.select_option("#kind", "event")
    page.fill("#description", "Three days of workshops for community paralegals.")
    page.fill("#link", "https://example.org/nairobi-summit")
    page.select_option("#countries", ["KE"])
    page.fill("#place", "Nairobi")
    page.fill("#event_start_on", event_on.isoformat())
    page.fill("#event_end_on", (event_on + timedelta(days=2)).isoformat())
    page.select_option("#deadlines-0-kind", "application")
    page.fill("#deadlines-0-due_on", apply_by.isoformat())
    page.fill("#deadlines-0-due_time", "17:00")
    page.select_option("#deadlines-0-time_zone", "Africa/Nairobi")
    page.select_option("#deadlines-1-kind", "travel_support")
    page.fill("#deadlines-1-due_on", travel_by.isoformat())
    page.select_option("#deadlines-1-time_zone", "AoE")
    page.check("#offers_travel")
    page.fill("#eligibility", "Community paralegals from East Africa.")
    shots.take(page, "form")
    page.get_by_role("button", name="Send for review").click()
    page.wait_for_url(re.compile(r"/submit/sent$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    shots.take(page, "sent")

    confirmation = smtp_server.wait_for(1, timeout=WAIT_SECONDS)[0]
    assert confirmation.recipients == ["ana@example.org"]
    if shots.enabled:
        show_email(page, confirmation)
        shots.take(page, "confirmation email", fit=True)
    page.goto(link_in(confirmation, site, "/submit/confirm/"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("is with our moderators")
    shots.take(page, "confirmed")

    notice = smtp_server.wait_for(2, timeout=WAIT_SECONDS)[1]
    assert notice.recipients == [moderator]
    review_link = link_in(notice, site, "/admin/submissions/")

    page.goto(site.base_url + "/admin/login")
    page.get_by_label("Email").fill(moderator)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.get_by_role("link", name=PARTNER_TITLE).click()
    page.wait_for_url(review_link)
    expect(page.locator("main")).to_contain_text("Travel support")
    expect(page.locator("main")).to_contain_text("Nairobi")
    shots.take(page, "review")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator("main")).to_contain_text(f"Published “{PARTNER_TITLE}”")

    approved = [
        m
        for m in smtp_server.wait_for(3, timeout=WAIT_SECONDS)
        if m.recipients == ["ana@example.org"]
    ][-1]
    public = link_in(approved, site, "/opportunities/")
    opportunity_id = int(public.rsplit("/", 1)[1])

    # The public, signed out: the listing in search, with both deadlines.
    visitor = page.context.browser.new_page(viewport=page.viewport_size)
    try:
        visitor.goto(site.base_url + "/")
        visitor.get_by_role("searchbox", name="Search").fill("legal empowerment summit")
        visitor.get_by_role("button", name="Search", exact=True).click()
        visitor.wait_for_url(re.compile(r"q=legal"))
        assert visitor.locator("ol.results h2").all_inner_texts() == [PARTNER_TITLE]
        shots.take(visitor, "in search")
        visitor.get_by_role("link", name=PARTNER_TITLE).click()
        deadlines = visitor.locator("ul.deadlines").inner_text()
        assert "Travel support" in deadlines and "Applications" in deadlines
        shots.take(visitor, "listing")
    finally:
        visitor.close()

    atom = ElementTree.fromstring(get_text(f"{site.base_url}/opportunities.atom?region=africa"))
    entries = {
        entry.findtext(f"{ATOM}title"): entry.find(f"{ATOM}link").get("href")
        for entry in atom.iter(f"{ATOM}entry")
    }
    assert entries == {PARTNER_TITLE: public}

    api = get_json(f"{site.base_url}/api/v1/opportunities?q=legal+empowerment&kind=event")
    assert [item["id"] for item in api["items"]] == [opportunity_id]
    item = get_json(f"{site.base_url}/api/v1/opportunities/{opportunity_id}")
    assert sorted(d["kind"] for d in item["deadlines"]) == ["application", "travel_support"]
    assert item["countries"] == ["KE"]

    if not ALERT_ENGINE:
        pytest.skip(f"published and listed everywhere; {NO_ENGINE}, so no follower's alert")
    # The scheduler's next alert run: the travel-support deadline is 10 days away, within the
    # follower's 14-day lead; the application deadline (40 days) is not yet.
    alert = mail_to(smtp_server, follower)
    body = mail_body(alert)
    assert PARTNER_TITLE in body and public in body
    assert "Travel support" in body and "Applications" not in body
    travel = next(d for d in item["deadlines"] if d["kind"] == "travel_support")
    sent_at = parsedate_to_datetime(alert.message["Date"])
    assert sent_at < datetime.fromisoformat(travel["utc"].replace("Z", "+00:00"))
    if shots.enabled:
        show_email(page, alert)
        shots.take(page, "alert email", fit=True)


# --- Journey 2: a subscriber follows a list, is alerted, changes a choice, unsubscribes -------


def alerts_run(site: Site, now: datetime) -> str:
    """`flask alerts run --now …`: what the engine says it did."""
    return site.flask("alerts", "run", "--now", now.isoformat()).stdout


@pytest.mark.skipif(not ALERT_ENGINE, reason=NO_ENGINE)
def test_subscriber_follows_a_list_is_alerted_and_unsubscribes(site, page, smtp_server, httpserver):
    now = datetime.now(UTC)
    closes_on = (now + timedelta(days=20)).date()
    httpserver.expect_request("/calls.xml").respond_with_data(
        rss_feed(
            call(
                1,
                "Travel grants for paralegals to the Nairobi summit",
                "Travel grants for community paralegals to attend the summit in Nairobi, "
                f"Kenya. Applications for travel support close on {long(closes_on)}.",
                now,
            ),
            call(
                2,
                "Fellowship for community paralegals in Lima",
                f"A fellowship in Lima, Peru. Applications close on {long(closes_on)}.",
                now,
            ),
        ),
        content_type="application/rss+xml",
    )
    site.flask("feeds", "add", httpserver.url_for("/calls.xml"), "--name", "Network calls")
    wait_until(lambda: listed_total(site) == 2, WAIT_SECONDS, "the scheduler to ingest the feed")
    opportunity = get_json(f"{site.base_url}/api/v1/opportunities?kind=travel_grant")["items"][0]
    due_at = datetime.fromisoformat(opportunity["deadlines"][0]["utc"].replace("Z", "+00:00"))
    shots = Screenshots("subscriber")

    page.goto(site.base_url + "/?kind=travel_grant&region=africa")
    assert page.locator("ol.results h2").all_inner_texts() == [opportunity["title"]]
    shots.take(page, "filtered list")
    page.get_by_role("link", name="Email me about these").click()
    page.wait_for_url(re.compile(r"/subscribe"))
    assert page.get_by_label("Sub-Saharan Africa", exact=True).is_checked()
    assert page.get_by_label("Travel grant", exact=True).is_checked()
    assert [page.get_by_label(f"{n} days before", exact=True).is_checked() for n in (14, 3, 1)] == [
        True,
        True,
        True,
    ]
    page.get_by_label("Your email address").fill("amina@example.org")
    shots.take(page, "subscribe")
    page.get_by_role("button", name="Send me the confirmation link").click()
    page.wait_for_url(re.compile(r"/subscribe/sent$"))
    shots.take(page, "check your inbox")

    confirmation = smtp_server.wait_for(1, timeout=WAIT_SECONDS)[0]
    assert confirmation.recipients == ["amina@example.org"]
    page.goto(link_in(confirmation, site, "/alerts/confirm/"))
    page.get_by_role("button", name="Confirm my alerts").click()
    expect(page.locator("main")).to_contain_text("Your alerts are confirmed.")
    shots.take(page, "confirmed")

    # Six days later the deadline is 14 days away: the engine, run then, sends one alert.
    fourteen_days_before = (due_at - timedelta(days=14) + timedelta(hours=1)).isoformat()
    planned = site.flask("alerts", "run", "--dry-run", "--now", fourteen_days_before).stdout
    assert planned.startswith("amina@example.org: 1 deadlines"), planned
    said = alerts_run(site, due_at - timedelta(days=14) + timedelta(hours=1))
    assert "sent 1 alerts in 1 emails" in said, said
    assert re.search(r"^sent\s+1$", site.flask("alerts", "status").stdout, re.M)
    alert = smtp_server.wait_for(2, timeout=WAIT_SECONDS)[1]
    assert alert.recipients == ["amina@example.org"]
    body = mail_body(alert)
    assert opportunity["title"] in body and "Lima" not in body
    assert f"{site.base_url}/opportunities/{opportunity['id']}" in body
    assert alert.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    if shots.enabled:
        show_email(page, alert)
        shots.take(page, "alert email", fit=True)

    page.goto(link_in(alert, site, "/alerts/manage/"))
    page.get_by_label("3 days before", exact=True).uncheck()
    page.get_by_label("7 days before", exact=True).check()
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("main")).to_contain_text("Your choices are saved.")
    page.reload()
    assert [
        page.get_by_label(f"{n} days before", exact=True).is_checked() for n in (14, 7, 3, 1)
    ] == [
        True,
        True,
        False,
        True,
    ]
    shots.take(page, "manage")

    said = alerts_run(site, due_at - timedelta(days=7) + timedelta(hours=1))
    assert "sent 1 alerts in 1 emails" in said, said
    smtp_server.wait_for(3, timeout=WAIT_SECONDS)
    assert "planned 0, sent 0" in alerts_run(site, due_at - timedelta(days=3) + timedelta(hours=1))

    unsubscribe = re.search(r"<(http[^>]+)>", smtp_server.messages[2].message["List-Unsubscribe"])
    request = urllib.request.Request(
        unsubscribe.group(1), data=b"List-Unsubscribe=One-Click", method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # as a mail client does it
        assert response.status == 200
    page.reload()
    expect(page.locator("main")).to_contain_text("You are unsubscribed")
    shots.take(page, "unsubscribed")
    assert "planned 0, sent 0" in alerts_run(site, due_at - timedelta(days=1) + timedelta(hours=1))
    assert "planned 0, sent 0" in site.flask("alerts", "run").stdout  # and today, nothing is due
    assert len(smtp_server.messages) == 3
