"""The JSON API: the list's filters and pages, strict about bad parameters, described by OpenAPI."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from openapi_spec_validator import validate

from directory.filters import PARAMETERS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def day(offset: int):
    return (NOW + timedelta(days=offset)).date()


def test_items_carry_every_documented_field(client, create_opportunity):
    opportunity = create_opportunity(
        "Forum",
        kind="event",
        deadlines=[("travel_support", day(10), time(17, 0), "Africa/Nairobi")],
        countries=("KE", "UG"),
        event_start_on=day(40),
        offers_travel=True,
        funding_amount=Decimal("1500.00"),
        funding_currency="USD",
        language="en",
    )
    body = client.get("/api/v1/opportunities").get_json()
    assert body["total"] == 1 and body["next"] is None
    item = body["items"][0]
    assert item == client.get(f"/api/v1/opportunities/{opportunity.id}").get_json()
    assert item["id"] == opportunity.id
    assert item["url"] == f"http://localhost/opportunities/{opportunity.id}"
    assert item["link"] == opportunity.link
    assert item["kind"] == "event" and item["countries"] == ["KE", "UG"]
    assert item["online"] is False
    assert item["event_start"] == day(40).isoformat() and item["event_end"] is None
    assert item["funding"] == {"offered": ["travel"], "amount": "1500.00", "currency": "USD"}
    assert item["language"] == "en"
    assert item["sources"] == [{"name": "Test feed", "link": opportunity.link}]
    assert item["deadlines"] == [
        {
            "kind": "travel_support",
            "date": "2026-03-11",
            "time": "17:00",
            "tz": "Africa/Nairobi",
            "utc": "2026-03-11T14:00:00Z",
            "evidence": "Deadline: 11 March 2026",
            "confidence": "certain",
        }
    ]


def test_cursor_pagination_walks_every_item_once(client, create_opportunity):
    for i in range(7):
        create_opportunity(f"Item {i}", deadlines=[("application", day(1 + i))])
    seen, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/opportunities", query_string=query).get_json()
        assert body["total"] == 7
        seen += [item["title"] for item in body["items"]]
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [f"Item {i}" for i in range(7)]


def test_same_filters_as_the_page(client, create_opportunity):
    create_opportunity("Kenya", deadlines=[("application", day(3))], countries=("KE",))
    create_opportunity("Peru", deadlines=[("application", day(3))], countries=("PE",))
    body = client.get("/api/v1/opportunities?region=latin-america-caribbean&q=peru").get_json()
    assert [i["title"] for i in body["items"]] == ["Peru"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=spaceship", "kind"),
        ("country=XX", "country"),
        ("closing=tomorrow", "closing"),
        ("status=open&status=past", "status"),
        ("online=maybe", "online"),
        ("source=-1", "source"),
        ("sort=relevance", "sort"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("page=2", "page"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(client, query, parameter):
    response = client.get(f"/api/v1/opportunities?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "bad_parameter"
    assert body["parameter"] == parameter
    assert body["message"]


def test_missing_opportunity_is_a_json_404(client):
    response = client.get("/api/v1/opportunities/999999")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert client.get("/api/v1/nothing-here").get_json()["error"] == "not_found"


def test_conditional_requests(client, create_opportunity):
    create_opportunity("Cached", deadlines=[("application", day(3))])
    first = client.get("/api/v1/opportunities")
    assert (
        client.get(
            "/api/v1/opportunities", headers={"If-None-Match": first.headers["ETag"]}
        ).status_code
        == 304
    )


def test_openapi_document_is_valid_and_names_every_parameter(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    named = {p["name"] for p in document["paths"]["/opportunities"]["get"]["parameters"]}
    assert named == {*PARAMETERS, "limit"}
    item_fields = set(document["components"]["schemas"]["Opportunity"]["properties"])
    assert {
        "id",
        "url",
        "link",
        "title",
        "kind",
        "countries",
        "online",
        "event_start",
        "event_end",
        "funding",
        "language",
        "sources",
        "deadlines",
    } <= item_fields
