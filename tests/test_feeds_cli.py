"""The `feeds …` commands: add, list (text and JSON), fetch, pause, resume, remove."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import rss_feed, rss_item

from directory.extensions import db
from directory.models import Opportunity, Source, SourceEntry
from feeds.poll import poll_sources

LIST_FIELDS = {
    "id",
    "name",
    "url",
    "status",
    "last_fetched_at",
    "next_fetch_at",
    "consecutive_errors",
    "last_error",
    "last_warning",
    "items",
    "is_stale",
}


def run(runner, *args: str):
    return runner.invoke(args=["feeds", *args], catch_exceptions=False)


def add(runner, url: str, *options: str) -> int:
    result = run(runner, "add", url, *options)
    assert result.exit_code == 0, result.output
    return int(result.output.split("#", 1)[1].split()[0])


@pytest.fixture
def feed_url(httpserver) -> str:
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss_feed(rss_item(1), rss_item(2)), content_type="application/rss+xml"
    )
    return httpserver.url_for("/feed.xml")


def test_add_then_fetch_then_list(runner, feed_url):
    source_id = add(runner, feed_url, "--every", "2h")
    source = db.session.get(Source, source_id)
    assert (source.name, source.fetch_every_minutes, source.next_fetch_at) == (
        "127.0.0.1",
        120,
        None,
    )

    result = run(runner, "fetch")
    assert result.exit_code == 0
    assert f"#{source_id} Justice network calls: 2 new" in result.output

    result = run(runner, "list")
    assert "Justice network calls  [active]  2 items" in result.output
    assert feed_url in result.output
    assert "every 2h, 0 errors in a row" in result.output

    (row,) = json.loads(run(runner, "list", "--json").output)
    assert set(row) >= LIST_FIELDS
    assert (row["id"], row["status"], row["items"], row["is_stale"]) == (
        source_id,
        "active",
        2,
        False,
    )
    assert datetime.fromisoformat(row["last_fetched_at"]).tzinfo is not None


def test_add_names_and_defaults(runner, app, feed_url):
    source_id = add(runner, feed_url, "--name", "Namati calls")
    source = db.session.get(Source, source_id)
    assert (source.name, source.fetch_every_minutes) == ("Namati calls", 60)


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("ftp://example.org/feed.xml", [], "only http and https"),
        ("not a url", [], "only http and https"),
        ("http://169.254.169.254/latest/", [], "cloud metadata address"),
    ],
)
def test_add_refuses(runner, url, options, message):
    result = run(runner, "add", url, *options)
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Source)) == 0


@pytest.mark.parametrize("every", ["fortnightly", "1m", "0"])
def test_add_refuses_an_unreadable_or_too_short_interval(runner, every):
    result = run(runner, "add", "https://example.org/feed.xml", "--every", every)
    assert result.exit_code == 2
    assert "--every" in result.output


def test_add_refuses_a_repeat(runner, feed_url):
    source_id = add(runner, feed_url)
    result = run(runner, "add", feed_url)
    assert result.exit_code == 1
    assert f"already source #{source_id}" in result.output


def test_add_refuses_private_addresses_unless_allowed(app_config, app):
    app.config["FEEDS_ALLOW_PRIVATE_ADDRESSES"] = False
    result = app.test_cli_runner().invoke(args=["feeds", "add", "http://127.0.0.1:9/feed.xml"])
    assert result.exit_code == 1
    assert "127.0.0.1 is a loopback address" in result.output
    assert "FEEDS_ALLOW_PRIVATE_ADDRESSES" in result.output


def test_list_says_when_there_is_nothing(runner):
    assert "No sources yet" in run(runner, "list").output
    assert json.loads(run(runner, "list", "--json").output) == []


def test_list_flags_stale_and_gone_sources_and_shows_errors(runner, app):
    now = datetime.now(UTC)
    db.session.add_all(
        [
            Source(
                name="Quiet",
                url="https://quiet.example.org/feed",
                last_succeeded_at=now - timedelta(days=4),
                consecutive_errors=5,
                last_error="HTTP 503 Service Unavailable",
            ),
            Source(name="Closed", url="https://closed.example.org/feed", status="gone"),
            Source(name="Samples", url=None, kind="sample"),
        ]
    )
    db.session.commit()
    output = run(runner, "list").output
    assert "Quiet  [active, STALE: no successful fetch for 3 days]" in output
    assert "5 errors in a row" in output
    assert "last error: HTTP 503 Service Unavailable" in output
    assert "Closed  [gone: it answered 410 Gone and is no longer polled" in output
    assert "last fetched never, next never" in output
    assert "a sample source: not polled" in output
    rows = {row["name"]: row for row in json.loads(run(runner, "list", "--json").output)}
    assert rows["Quiet"]["is_stale"] is True
    assert rows["Closed"]["status"] == "gone"


def test_items_count_entries_merged_with_another_sources(runner, httpserver):
    item = rss_item(1)
    httpserver.expect_request("/a.xml").respond_with_data(rss_feed(item))
    httpserver.expect_request("/b.xml").respond_with_data(
        rss_feed(dict(item, guid="elsewhere-1", title="Same call, other words"), rss_item(2))
    )
    first = add(runner, httpserver.url_for("/a.xml"))
    second = add(runner, httpserver.url_for("/b.xml"))
    run(runner, "fetch", str(first))
    output = run(runner, "fetch", str(second)).output
    assert "1 new, 1 merged" in output
    rows = {row["id"]: row for row in json.loads(run(runner, "list", "--json").output)}
    assert (rows[first]["items"], rows[second]["items"]) == (1, 2)
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 2


def test_fetch_all_fetches_sources_that_are_not_due_with_conditional_requests(runner, httpserver):
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/feed.xml").respond_with_data(
        rss_feed(rss_item(1)), headers={"ETag": '"v1"'}
    )
    add(runner, httpserver.url_for("/feed.xml"))
    run(runner, "fetch")
    assert "Nothing to fetch" in run(runner, "fetch").output
    assert "not modified" in run(runner, "fetch", "--all").output
    assert len(httpserver.log) == 2


def test_fetch_skips_a_source_backing_off_unless_forced(runner, httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data("Oops", status=500)
    source_id = add(runner, httpserver.url_for("/feed.xml"))
    assert "failed: HTTP 500" in run(runner, "fetch", str(source_id)).output
    output = run(runner, "fetch", str(source_id)).output
    assert "backing off after 1 error until" in output
    assert "--force" in output
    assert "backing off" in run(runner, "fetch", "--all").output
    assert len(httpserver.log) == 1
    assert "failed: HTTP 500" in run(runner, "fetch", "--all", "--force").output
    assert db.session.get(Source, source_id).consecutive_errors == 2


def test_fetch_refuses_ids_and_all_together_and_unknown_ids(runner):
    result = runner.invoke(args=["feeds", "fetch", "1", "--all"])
    assert result.exit_code == 2
    assert "not both" in result.output
    result = runner.invoke(args=["feeds", "fetch", "41", "42"])
    assert result.exit_code == 1
    assert "no source with id 41, 42" in result.output


def test_pause_and_resume(runner, feed_url):
    source_id = add(runner, feed_url)
    assert "Paused source" in run(runner, "pause", str(source_id)).output
    assert "Nothing to fetch" in run(runner, "fetch").output
    assert "it is paused; `feeds resume" in run(runner, "fetch", str(source_id)).output
    assert "[paused]" in run(runner, "list").output
    assert "Resumed source" in run(runner, "resume", str(source_id)).output
    assert "2 new" in run(runner, "fetch").output


def test_resume_polls_a_gone_source_again(runner, feed_url):
    source_id = add(runner, feed_url)
    source = db.session.get(Source, source_id)
    source.status, source.consecutive_errors = "gone", 4
    db.session.commit()
    run(runner, "resume", str(source_id))
    db.session.expire_all()
    source = db.session.get(Source, source_id)
    assert (source.status, source.consecutive_errors, source.next_fetch_at) == ("active", 0, None)


@pytest.mark.parametrize("command", ["pause", "resume", "remove"])
def test_commands_on_an_unknown_source(runner, command):
    result = runner.invoke(args=["feeds", command, "99"])
    assert result.exit_code == 1
    assert "no source with id 99" in result.output


def test_remove_keeps_opportunities_listed(runner, feed_url):
    source_id = add(runner, feed_url)
    run(runner, "fetch")
    output = run(runner, "remove", str(source_id)).output
    assert "its 2 opportunities stay listed" in output
    assert db.session.get(Source, source_id) is None
    assert db.session.scalar(db.select(db.func.count()).select_from(SourceEntry)) == 0
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 2


def test_remove_purge_deletes_only_what_no_other_source_lists(runner, app, httpserver, fetcher):
    shared = rss_item(1)
    httpserver.expect_request("/a.xml").respond_with_data(rss_feed(shared, rss_item(2)))
    httpserver.expect_request("/b.xml").respond_with_data(rss_feed(dict(shared, guid="b-1")))
    first = add(runner, httpserver.url_for("/a.xml"))
    add(runner, httpserver.url_for("/b.xml"))
    poll_sources(
        db.session,
        list(db.session.scalars(db.select(Source).order_by(Source.id))),
        datetime.now(UTC),
        fetcher=fetcher,
        workers=1,
    )
    output = run(runner, "remove", str(first), "--purge").output
    assert "deleted 1 of its opportunities, kept 1 that other sources list" in output
    titles = list(db.session.scalars(db.select(Opportunity.title)))
    assert titles == [shared["title"]]
