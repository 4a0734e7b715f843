"""`flask feeds extract PATH_OR_URL [--json]`: one record per entry, from a file or a URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from directory.extensions import db
from directory.models import Opportunity

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Calls</title><link>https://example.org/</link>
<language>en</language>
<item><title>Travel grants for the assembly</title><link>https://example.org/grants</link>
<guid>grant-1</guid><pubDate>Mon, 03 Mar 2025 10:00:00 +0000</pubDate>
<description>&lt;p&gt;The assembly takes place 17-19 July 2025 in Accra, Ghana.&lt;/p&gt;
&lt;p&gt;Deadline: 4 April 2025, 17:00 GMT.&lt;/p&gt;</description></item>
<item><title>Convocatoria de ponencias</title><link>https://example.org/ponencias</link>
<guid>cfp-2</guid><pubDate>Tue, 04 Mar 2025 10:00:00 +0000</pubDate>
<description>Fecha límite para el envío de propuestas: 30 de abril.</description></item>
<item><title>Our annual report</title><link>https://example.org/report</link>
<guid>report-3</guid><description>Read what we did this year.</description></item>
</channel></rss>
"""


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "calls.xml"
    path.write_text(FEED, encoding="utf-8")
    return path


def test_json_gives_one_record_per_entry_in_feed_order(runner, feed_file: Path) -> None:
    result = runner.invoke(args=["feeds", "extract", str(feed_file), "--json"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in records] == ["grant-1", "cfp-2", "report-3"]
    grant, cfp, report = records
    assert grant["kind"] == "travel_grant" and grant["countries"] == ["GH"]
    assert (grant["event_start"], grant["event_end"]) == ("2025-07-17", "2025-07-19")
    assert grant["deadlines"] == [
        {
            "kind": "travel_support",
            "date": "2025-04-04",
            "time": "17:00",
            "tz": "GMT",
            "utc": "2025-04-04T17:00:00Z",
            "evidence": "Deadline: 4 April 2025, 17:00 GMT.",
            "confidence": "certain",
        }
    ]
    assert cfp["language"] == "es" and cfp["kind"] == "call"
    assert [(d["date"], d["kind"]) for d in cfp["deadlines"]] == [("2025-04-30", "abstract")]
    assert report["deadlines"] == [] and report["published"] is None


def test_without_json_a_readable_table(runner, feed_file: Path) -> None:
    result = runner.invoke(args=["feeds", "extract", str(feed_file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "deadlines" in lines[0] and "title" in lines[0]
    assert "2025-04-04" in lines[2] and "Travel grants for the assembly" in lines[2]
    assert "—" in lines[4] and "Our annual report" in lines[4]


def test_a_url_is_fetched(runner, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml; charset=utf-8"
    )
    result = runner.invoke(args=["feeds", "extract", httpserver.url_for("/feed.xml"), "--json"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 3


def test_extraction_writes_nothing(app, runner, feed_file: Path) -> None:
    runner.invoke(args=["feeds", "extract", str(feed_file), "--json"])
    assert db.session.scalar(select(func.count()).select_from(Opportunity)) == 0


@pytest.mark.parametrize("target", ["missing.xml", "http://127.0.0.1:9/feed.xml"])
def test_an_unreadable_source_is_one_clear_error(runner, tmp_path: Path, target: str) -> None:
    if not target.startswith("http"):
        target = str(tmp_path / target)
    result = runner.invoke(args=["feeds", "extract", target, "--json"])
    assert result.exit_code == 1
    assert "cannot read" in result.output and "Traceback" not in result.output


def test_bytes_that_are_no_feed_are_one_clear_error(runner, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body>Not a feed</body></html>")
    result = runner.invoke(args=["feeds", "extract", str(page)])
    assert result.exit_code == 1 and "cannot read" in result.output
