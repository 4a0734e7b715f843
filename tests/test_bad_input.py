"""No combination of query parameters makes a 500: pages and feeds ignore, the API answers 400."""

from datetime import date
from urllib.parse import quote

import pytest

NASTY = [
    "",
    "q=" + "x" * 5000,
    "q=%00%01%02",
    "q=%FF%FE%FD",
    "q=%E2%80%AE%F0%9F%92%A5",
    "q=" + quote('"; DROP TABLE opportunities; --'),
    "q=" + quote('grant AND (justice OR NEAR("x" y)) -z *'),
    "q=" + quote("' OR 1=1 --"),
    "q=%25%25%25_%5C",
    "q=a&q=b&q=c",
    "kind=" + "&kind=".join(["grant"] * 500),
    "kind=&kind=&kind=",
    "country=%00%00",
    "country=" + "K" * 3000,
    "region=../../etc/passwd",
    "closing=1e9",
    "closing=-0",
    "closing=NaN",
    "closing=" + "9" * 400,
    "status[]=open",
    "status=PAST",
    "funding=travel&funding=travel&funding=bogus",
    "online=%F0%9F%98%80",
    "lang=" + "e" * 100,
    "source=1.5",
    "source=0x10",
    "sort=relevance&q=",
    "sort=RELEVANCE&q=grant",
    "cursor=" + "A" * 10000,
    "cursor=.",
    "cursor=WzEsIngiXQ.bad",
    "cursor=%00",
    "x" * 300 + "=1",
    "=&=&=",
    "&&&&",
    "a=1&" * 200,
]

HTML_AND_FEEDS = ["/", "/opportunities.atom", "/opportunities.ics"]


@pytest.mark.parametrize("query", NASTY)
@pytest.mark.parametrize("path", HTML_AND_FEEDS)
def test_pages_and_feeds_answer_normally(client, create_opportunity, path, query):
    create_opportunity("Listed", deadlines=[("application", date(2099, 1, 1))])
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.status_code


@pytest.mark.parametrize("query", NASTY)
def test_the_api_answers_200_or_400_with_json(client, query):
    response = client.get(f"/api/v1/opportunities?{query}")
    assert response.status_code in (200, 400)
    assert response.is_json
    if response.status_code == 400:
        assert response.get_json()["parameter"] is not None


@pytest.mark.parametrize(
    "path",
    [
        "/opportunities/abc",
        "/opportunities/-1",
        "/opportunities/99999999999999999999",
        "/opportunities/1.ics.x",
    ],
)
def test_odd_paths_are_not_found(client, path):
    assert client.get(path).status_code == 404
