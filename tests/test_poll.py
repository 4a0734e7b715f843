"""Polling over real HTTP: bad input of every kind, back-off, 410, validators, redirects.

Each bad input ends with an error or warning recorded on its source, the poll returning
normally, and every opportunity stored before still there.
"""

import functools
import gzip
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import rss_feed, rss_item
from werkzeug import Request, Response

from directory.extensions import db
from directory.models import Opportunity, Source, SourceEntry
from directory.polling import poll_due
from directory.scheduler import JOBS, run_forever
from feeds.extract import extract
from feeds.parse import parse_feed
from feeds.poll import due_sources, poll_sources
from feeds.types import Extraction

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
GOOD = rss_feed(rss_item(1), rss_item(2))
GOOD_TITLES = {rss_item(1)["title"], rss_item(2)["title"]}


@pytest.fixture
def add_source(app, httpserver):
    """Factory: a feed source at a path of the local server."""

    def add(path: str = "/feed.xml", **fields) -> Source:
        fields.setdefault("name", f"Feed at {path}")
        source = Source(url=httpserver.url_for(path), kind="feed", **fields)
        db.session.add(source)
        db.session.commit()
        return source

    return add


@pytest.fixture
def poll(app, fetcher):
    """Poll the given sources at `now` with the test fetcher and no jitter."""

    def run(*sources: Source, now: datetime = NOW, extractor=extract):
        return poll_sources(
            db.session,
            list(sources),
            now,
            fetcher=fetcher,
            extractor=extractor,
            workers=2,
            jitter=lambda: 0.0,
        )

    return run


def stored_titles() -> set[str]:
    return set(db.session.scalars(db.select(Opportunity.title)))


def serve(httpserver, body: bytes | str, **options) -> None:
    httpserver.clear()
    options.setdefault("content_type", "application/rss+xml")
    httpserver.expect_request("/feed.xml").respond_with_data(body, **options)


def drip(request: Request) -> Response:
    def body():
        yield b'<?xml version="1.0"?><rss version="2.0"><channel>'
        for _ in range(50):
            time.sleep(0.1)
            yield b" "

    return Response(body(), content_type="application/rss+xml")


def bomb_of_entities() -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [' + "".join(levels) + "]>"
        '<rss version="2.0"><channel><title>Bomb</title>'
        "<item><title>&lol9;</title><link>https://example.org/bomb</link></item>"
        "</channel></rss>"
    ).encode()


def install(httpserver, case: str) -> None:
    httpserver.clear()
    feed = httpserver.expect_request("/feed.xml")
    feed.respond_with_data = functools.partial(
        feed.respond_with_data, content_type="application/rss+xml"
    )
    match case:
        case "malformed XML":
            feed.respond_with_data(
                GOOD.replace(b"</channel></rss>", b"<item><title>Half & open</title><link>x")
            )
        case "an HTML page":
            feed.respond_with_data(
                "<!doctype html><html><body><h1>Our calls</h1></body></html>",
                content_type="text/html",
            )
        case "an empty body":
            feed.respond_with_data(b"", content_type="application/rss+xml")
        case "a 20 MB body":
            feed.respond_with_data(b"<rss>" + b" " * (20 * 1024 * 1024))
        case "a server dripping bytes":
            feed.respond_with_handler(drip)
        case "a redirect loop":
            feed.respond_with_data("", status=302, headers={"Location": "/elsewhere"})
            httpserver.expect_request("/elsewhere").respond_with_data(
                "", status=301, headers={"Location": "/feed.xml"}
            )
        case "404":
            feed.respond_with_data("Not here", status=404)
        case "410":
            feed.respond_with_data("Gone", status=410)
        case "500":
            feed.respond_with_data("Oops", status=500)
        case "an entity-expansion bomb":
            feed.respond_with_data(bomb_of_entities(), content_type="application/rss+xml")
        case "a gzip bomb":
            feed.respond_with_data(
                gzip.compress(b" " * (20 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}
            )
        case "a wrong declared charset":
            feed.respond_with_data(
                rss_feed(rss_item(3, title="Bourse de mobilité à Genève"))
                .decode()
                .encode("latin-1"),
                content_type="application/rss+xml; charset=utf-8",
            )
        case "duplicate and missing guids":
            no_guid = {k: v for k, v in rss_item(4).items() if k != "guid"}
            feed.respond_with_data(rss_feed(rss_item(3), rss_item(3), no_guid))
        case "entries without links or titles":
            feed.respond_with_data(
                rss_feed(
                    {"title": "No link, still a listing", "description": "Apply by 1 May 2026."},
                    {"description": "<p>Untitled call: apply by 2 May 2026</p>"},
                    {"pubDate": "Sun, 01 Mar 2026 09:00:00 +0000"},
                )
            )
        case _:
            raise AssertionError(case)


BAD_INPUTS = [
    ("malformed XML", "warning", "recoverable feed error"),
    ("an HTML page", "error", "not a feed"),
    ("an empty body", "error", "not a feed"),
    ("a 20 MB body", "error", "larger than"),
    ("a server dripping bytes", "error", "timed out"),
    ("a redirect loop", "error", "redirect loop"),
    ("404", "error", "HTTP 404"),
    ("410", "error", "410 Gone"),
    ("500", "error", "HTTP 500"),
    ("an entity-expansion bomb", "warning", "ignored the entity declarations"),
    ("a gzip bomb", "error", "once decompressed"),
    ("a wrong declared charset", "warning", "declared as utf-8"),
    ("duplicate and missing guids", "warning", "repeated an id"),
    ("entries without links or titles", "warning", "1 entries skipped"),
]


@pytest.mark.parametrize(("case", "kind", "message"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_recorded_and_nothing_stored_is_lost(
    httpserver, add_source, poll, case, kind, message
):
    serve(httpserver, GOOD)
    source = add_source()
    poll(source)
    assert stored_titles() == GOOD_TITLES
    assert (source.last_error, source.last_warning) == (None, None)

    install(httpserver, case)
    (report,) = poll(source, now=NOW + 2 * HOUR)

    db.session.expire_all()
    source = db.session.get(Source, source.id)
    assert source.last_fetched_at == NOW + 2 * HOUR
    if kind == "error":
        assert message in source.last_error
        assert source.consecutive_errors == (0 if case == "410" else 1)
        assert report.outcome in ("failed", "gone")
    else:
        assert source.last_error is None
        assert message in source.last_warning
        assert report.outcome == "fetched"
    assert stored_titles() >= GOOD_TITLES


def test_a_wrong_charset_keeps_its_entries_readable(httpserver, add_source, poll):
    install(httpserver, "a wrong declared charset")
    poll(add_source())
    assert stored_titles() == {"Bourse de mobilité à Genève"}


def test_duplicate_guids_are_stored_once_and_missing_ones_fall_back_to_the_link(
    httpserver, add_source, poll
):
    install(httpserver, "duplicate and missing guids")
    source = add_source()
    (report,) = poll(source)
    assert report.stored.new == 2
    keys = set(db.session.scalars(db.select(SourceEntry.entry_key)))
    # a guid is a permalink unless it says isPermaLink="false": relative, it is resolved
    assert keys == {httpserver.url_for("/call-3"), "https://example.org/calls/4"}


def test_relative_guids_resolve_against_the_sources_address_not_a_temporary_redirect(
    httpserver, add_source, poll
):
    for n in (1, 2):
        httpserver.expect_ordered_request("/feed.xml").respond_with_data(
            "", status=302, headers={"Location": f"/mirror-{n}/feed.xml"}
        )
        httpserver.expect_ordered_request(f"/mirror-{n}/feed.xml").respond_with_data(
            rss_feed(rss_item(3)), content_type="application/rss+xml"
        )
    source = add_source()
    poll(source)
    (report,) = poll(source, now=NOW + 2 * HOUR)
    assert (report.stored.new, report.stored.unchanged) == (0, 1)
    assert db.session.scalar(db.select(SourceEntry.entry_key)) == httpserver.url_for("/call-3")


def test_entries_without_links_or_titles_are_stored_when_they_say_something(
    httpserver, add_source, poll
):
    install(httpserver, "entries without links or titles")
    poll(add_source())
    assert stored_titles() == {"No link, still a listing", "Untitled call: apply by 2 May 2026"}


@pytest.mark.parametrize("format_", ["rss", "json"])
def test_scripts_and_javascript_links_never_reach_the_database(
    httpserver, add_source, poll, format_
):
    html = (
        '<p onclick="steal()">Apply <a href="javascript:alert(1)">here</a>'
        "<script>alert('x')</script><img src=x onerror=alert(2)>"
        '<a href="https://example.org/apply">or here</a></p><style>p{}</style>'
    )
    if format_ == "rss":
        serve(httpserver, rss_feed(rss_item(1, description=html)))
    else:
        serve(
            httpserver,
            json.dumps(
                {
                    "version": "https://jsonfeed.org/version/1.1",
                    "title": "Calls",
                    "items": [{"id": "1", "title": "A call", "content_html": html}],
                }
            ),
            content_type="application/feed+json",
        )
    source = add_source()
    (report,) = poll(source)
    assert report.outcome == "fetched"
    stored = db.session.scalar(db.select(Opportunity))
    for unsafe in ("<script", "javascript:", "onclick", "onerror", "<style", "<img", "alert("):
        assert unsafe not in stored.summary_html
        assert unsafe not in stored.summary_text.replace("alert(1)", "")
    assert 'href="https://example.org/apply"' in stored.summary_html
    assert "removed scripts, event handlers or javascript: links from 1 entries" in (
        source.last_warning or ""
    )


def test_plain_entries_record_no_active_content_warning(httpserver, add_source, poll):
    serve(httpserver, rss_feed(rss_item(1, description="<p>Apply <b>online</b> by 1 May.</p>")))
    source = add_source()
    poll(source)
    assert "scripts" not in (source.last_warning or "")


def test_500_backs_off_then_recovery_resets_the_source(httpserver, add_source, poll):
    serve(httpserver, GOOD)
    source = add_source()
    poll(source)
    serve(httpserver, "Oops", status=500)
    for errors, at in [(1, 2), (2, 4), (3, 8)]:
        poll(source, now=NOW + at * HOUR)
        assert source.consecutive_errors == errors
        assert source.next_fetch_at == NOW + at * HOUR + HOUR * 2 ** (errors - 1)
    assert source.last_succeeded_at == NOW

    serve(httpserver, rss_feed(rss_item(1), rss_item(2), rss_item(3)))
    (report,) = poll(source, now=NOW + 20 * HOUR)
    assert (report.outcome, report.stored.new, report.stored.unchanged) == ("fetched", 1, 2)
    assert (source.consecutive_errors, source.last_error) == (0, None)
    assert source.last_succeeded_at == NOW + 20 * HOUR
    assert source.next_fetch_at == NOW + 21 * HOUR


def test_retry_after_is_honoured(httpserver, add_source, poll):
    serve(httpserver, "Slow down", status=429, headers={"Retry-After": "10800"})
    source = add_source()
    (report,) = poll(source)
    assert report.outcome == "failed"
    assert source.next_fetch_at == NOW + 3 * HOUR


def test_410_stops_polling_and_says_so(httpserver, add_source, poll, caplog):
    serve(httpserver, GOOD)
    source = add_source()
    poll(source)
    serve(httpserver, "Gone", status=410)
    with caplog.at_level(logging.WARNING, logger="feeds"):
        (report,) = poll(source, now=NOW + 2 * HOUR)
    assert report.outcome == "gone"
    assert "no longer polled" in report.describe()
    assert (source.status, source.next_fetch_at) == ("gone", None)
    assert any("410 Gone" in r.getMessage() for r in caplog.records)
    assert due_sources(db.session, NOW + 100 * HOUR) == []
    assert stored_titles() == GOOD_TITLES


def test_both_validators_are_stored_from_every_200_and_kept_on_304(httpserver, add_source, poll):
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        GOOD, headers={"ETag": '"v1"', "Last-Modified": "Sun, 01 Mar 2026 09:00:00 GMT"}
    )
    source = add_source()
    poll(source)
    assert (source.etag, source.last_modified) == ('"v1"', "Sun, 01 Mar 2026 09:00:00 GMT")
    (report,) = poll(source, now=NOW + 2 * HOUR)
    assert report.outcome == "not_modified"
    assert (source.etag, source.last_modified) == ('"v1"', "Sun, 01 Mar 2026 09:00:00 GMT")
    assert source.last_succeeded_at == NOW + 2 * HOUR

    serve(httpserver, GOOD, headers={"Last-Modified": "Mon, 02 Mar 2026 09:00:00 GMT"})
    poll(source, now=NOW + 4 * HOUR)
    assert (source.etag, source.last_modified) == (None, "Mon, 02 Mar 2026 09:00:00 GMT")


def test_validators_of_a_page_that_is_not_a_feed_are_not_kept(httpserver, add_source, poll):
    serve(httpserver, "<html><body>Login</body></html>", headers={"ETag": '"html"'})
    source = add_source(etag='"old"')
    poll(source)
    assert source.etag is None


def test_a_permanent_redirect_updates_the_stored_address(httpserver, add_source, poll):
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": "/feed.xml"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(GOOD)
    source = add_source("/old.xml")
    poll(source)
    assert source.url == httpserver.url_for("/feed.xml")


def test_a_permanent_redirect_to_another_sources_address_is_not_followed_in_storage(
    httpserver, add_source, poll
):
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": "/feed.xml"}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(GOOD)
    add_source("/feed.xml")
    source = add_source("/old.xml")
    (report,) = poll(source)
    assert report.outcome == "fetched"
    assert source.url == httpserver.url_for("/old.xml")


def test_an_unnamed_source_takes_its_feeds_title(httpserver, add_source, poll):
    serve(httpserver, GOOD)
    source = add_source(name="127.0.0.1")
    poll(source)
    assert source.name == "Justice network calls"


def test_one_sources_failure_to_store_does_not_stop_the_others(httpserver, add_source, poll):
    httpserver.expect_request("/a.xml").respond_with_data(rss_feed(rss_item(1)))
    httpserver.expect_request("/b.xml").respond_with_data(
        rss_feed(rss_item(2, title="This one breaks the extractor"))
    )

    def fragile(title, text, **context):
        if "breaks" in title:
            raise RuntimeError("extractor bug")
        return Extraction()

    a, b = add_source("/a.xml"), add_source("/b.xml")
    reports = poll(a, b, extractor=fragile)
    assert sorted(r.outcome for r in reports) == ["failed", "fetched"]
    assert stored_titles() == {rss_item(1)["title"]}
    db.session.expire_all()
    assert "could not store: extractor bug" in db.session.get(Source, b.id).last_error
    assert db.session.get(Source, a.id).last_error is None


def test_an_unexpected_error_while_fetching_is_recorded(app, add_source):
    class Broken:
        def fetch(self, url, **kwargs):
            raise RuntimeError("bug in the fetcher")

    source = add_source()
    (report,) = poll_sources(db.session, [source], NOW, fetcher=Broken(), jitter=lambda: 0.0)
    assert report.outcome == "failed"
    assert "internal error" in source.last_error


def test_a_stopped_scheduler_catches_up_with_one_fetch_per_overdue_source(
    app, httpserver, add_source
):
    httpserver.expect_request("/feed.xml").respond_with_data(GOOD)
    sources = [
        add_source(f"/feed.xml?n={n}", name=f"Feed {n}", next_fetch_at=NOW - timedelta(days=10))
        for n in range(3)
    ]
    later = add_source("/feed.xml", name="Not yet", next_fetch_at=NOW + HOUR)

    poll_due(app, NOW)
    assert len(httpserver.log) == 3
    assert all(s.next_fetch_at >= NOW + HOUR for s in sources)
    poll_due(app, NOW)
    assert len(httpserver.log) == 3
    assert later.last_fetched_at is None


def test_creating_the_app_registers_the_polling_job(app):
    job = next(j for j in JOBS if j.name == "poll feeds")
    assert job.every == timedelta(seconds=60)


def test_the_scheduler_polls_due_sources(app, httpserver, add_source):
    arrived = threading.Event()

    def respond(request: Request) -> Response:
        arrived.set()
        return Response(GOOD, content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(respond)
    source_id = add_source().id
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(app, stop))
    worker.start()
    try:
        assert arrived.wait(10), "the scheduler did not poll"
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    db.session.expire_all()
    assert db.session.get(Source, source_id).last_succeeded_at is not None
    assert stored_titles() == GOOD_TITLES


@pytest.fixture
def parsed_entries(monkeypatch) -> list[int]:
    """How many entries each parse in the poll pipeline produced."""
    import feeds.poll

    counts: list[int] = []

    def counting(*args, **kwargs):
        feed = parse_feed(*args, **kwargs)
        counts.append(len(feed.entries))
        return feed

    monkeypatch.setattr(feeds.poll, "parse_feed", counting)
    return counts


def test_only_items_not_seen_before_are_parsed_and_extracted(
    httpserver, add_source, poll, parsed_entries
):
    items = [rss_item(n) for n in range(1, 21)]
    serve(httpserver, rss_feed(*items))
    source = add_source()
    poll(source)
    assert parsed_entries == [20]
    assert len(source.item_digests) == 20 and source.items_read_at == NOW

    calls: list[str] = []

    def extractor(title, text, **context):
        calls.append(title)
        return Extraction()

    changed = dict(items[4], description="<p>Extended: applications close on 30 April.</p>")
    serve(httpserver, rss_feed(rss_item(21), *items[:4], changed, *items[5:]))
    (report,) = poll(source, now=NOW + HOUR, extractor=extractor)
    assert parsed_entries == [20, 2]
    assert calls == [rss_item(21)["title"], items[4]["title"]]
    assert (report.stored.new, report.stored.changed, report.stored.unchanged) == (1, 1, 19)
    assert source.items_read_at == NOW

    (report,) = poll(source, now=NOW + 2 * HOUR, extractor=extractor)
    assert parsed_entries == [20, 2]  # nothing new: nothing parsed at all
    assert report.stored.unchanged == 21

    poll(source, now=NOW + 25 * HOUR, extractor=extractor)
    assert parsed_entries == [20, 2, 21]
    assert source.items_read_at == NOW + 25 * HOUR
    assert len(calls) == 2


def test_a_warning_from_the_last_whole_read_stays_while_only_new_items_are_read(
    httpserver, add_source, poll
):
    serve(httpserver, rss_feed(rss_item(1), {"pubDate": "Sun, 01 Mar 2026 09:00:00 +0000"}))
    source = add_source()
    poll(source)
    assert "1 entries skipped" in source.last_warning
    serve(
        httpserver,
        rss_feed(rss_item(2), rss_item(1), {"pubDate": "Sun, 01 Mar 2026 09:00:00 +0000"}),
    )
    (report,) = poll(source, now=NOW + HOUR)
    assert report.stored.new == 1
    assert "1 entries skipped" in source.last_warning
