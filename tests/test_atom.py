"""The Atom feed of a filtered list: valid, newest first, permanent entry ids, 304 when unchanged."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import feedparser
import pytest
import time_machine

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int):
    return (NOW + timedelta(days=offset)).date()


def test_atom_feed_lists_the_filtered_opportunities_newest_first(client, create_opportunity):
    with time_machine.travel(NOW - timedelta(days=2), tick=False):
        create_opportunity("Older grant", kind="grant", deadlines=[("application", day(3))])
    create_opportunity(
        "Newer grant <&>", kind="grant", deadlines=[("application", day(30))], language="es"
    )
    create_opportunity("A job", kind="job", deadlines=[("application", day(3))])
    response = client.get("/opportunities.atom?kind=grant")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    parsed = feedparser.parse(response.data)
    assert not parsed.bozo, parsed.bozo_exception
    assert [e.title for e in parsed.entries] == ["Newer grant <&>", "Older grant"]
    assert parsed.feed.title == "Openings: grant"
    entry = parsed.entries[0]
    assert entry.id.startswith("tag:openings.example.org,2026:opportunity/")
    assert entry.link.startswith("http://localhost/opportunities/")
    assert "Applications: 31 March 2026." in entry.summary
    assert any(link.rel == "self" for link in parsed.feed.links)


def test_atom_feed_ignores_bad_parameters_and_answers_304(client, create_opportunity):
    create_opportunity("Something", deadlines=[("application", day(3))])
    first = client.get("/opportunities.atom?kind=spaceship&closing=x&cursor=zzz&sort=odd")
    assert first.status_code == 200
    assert len(feedparser.parse(first.data).entries) == 1
    again = client.get(
        "/opportunities.atom?kind=spaceship&closing=x&cursor=zzz&sort=odd",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert again.status_code == 304
