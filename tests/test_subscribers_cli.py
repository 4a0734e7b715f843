"""`flask subscribers …`: import a mailing list, add, list and remove subscribers."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from directory.extensions import db
from directory.models import AlertDelivery, OutboxMessage, Subscriber


def stored(email: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Subscriber).where(Subscriber.email == email))


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


CSV = """email,kinds,countries,regions,keywords,funding,lead_days,buffer_days,digest,time_zone,language
ana@example.org,fellowship;travel_grant,KE;UG,,visa;human rights,travel,14;3,21,no,Africa/Nairobi,es
rafi@example.org,,,asia-pacific,,,,,,,
bad-address,,,,,,,,,,
carla@example.org,free_money,,,,,,,,,
dora@example.org,,,,,,2,,,,
eli@example.org,,,,,,,,maybe,,
fay@example.org,,,,,,,,,Mars/Base,
gus@example.org,,,,,,,,,,de
Old@Example.org,grant,,,,,,,,,
"hal@example.org
Bcc: x@example.com",,,,,,,,,,
ivy@example.org,,,,"visa
Bcc: x@example.com",,,,,,
jon@example.org,,,,,,,,,,,extra
"""


def write(tmp_path, text: str):
    path = tmp_path / "list.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_keeps_good_rows_reports_bad_ones_by_line_and_sends_confirmations(
    runner, smtp_server, tmp_path
):
    db.session.add(Subscriber(email="old@example.org", status="active", follows={"kinds": ["job"]}))
    db.session.commit()

    result = runner.invoke(args=["subscribers", "import", write(tmp_path, CSV)])

    assert result.exit_code == 0, result.output
    assert "Added 2 subscribers (waiting for confirmation)" in result.output
    assert "1 already known" in result.output
    for line in ("line 4: email", "line 5: kinds", "line 6: lead_days", "line 7: digest"):
        assert line in result.stderr
    assert "line 8: time_zone" in result.stderr and "line 9: language" in result.stderr
    for line in ("line 11: email", "line 13: keywords", "line 15: row"):
        assert line in result.stderr
    assert "9 problems" in result.output
    ana = stored("ana@example.org")
    assert ana.status == "pending"
    assert ana.follows == {
        "kinds": ["fellowship", "travel_grant"],
        "countries": ["KE", "UG"],
        "keywords": ["visa", "human rights"],
        "funding": ["travel"],
    }
    assert (ana.lead_days, ana.buffer_days, ana.wants_digest) == ([14, 3], 21, False)
    assert (ana.time_zone, ana.language) == ("Africa/Nairobi", "es")
    rafi = stored("rafi@example.org")
    assert rafi.follows == {"regions": ["asia-pacific"]} and rafi.lead_days == [14, 3, 1]
    assert stored("old@example.org").follows == {"kinds": ["job"]}  # nothing stored is lost
    assert count(Subscriber) == 3
    mails = smtp_server.wait_for(2)
    assert sorted(m.recipients[0] for m in mails) == ["ana@example.org", "rafi@example.org"]
    assert all("/alerts/confirm/" in m.message.get_body(("plain",)).get_content() for m in mails)


def test_import_confirmed_list_is_active_at_once_and_sends_nothing(runner, tmp_path):
    text = "email,lead_days\nana@example.org,7\nrafi@example.org,\nana@example.org,3\n"
    result = runner.invoke(args=["subscribers", "import", "--confirmed", write(tmp_path, text)])
    assert result.exit_code == 0, result.output
    assert "Added 2 subscribers (active)" in result.output and "1 already known" in result.output
    assert stored("ana@example.org").status == "active"
    assert stored("ana@example.org").lead_days == [7]
    assert stored("ana@example.org").confirmed_at is not None
    assert count(OutboxMessage) == 0


def test_import_without_an_email_column_stores_nothing(runner, tmp_path):
    result = runner.invoke(
        args=["subscribers", "import", write(tmp_path, "mail\nana@example.org\n")]
    )
    assert "line 1" in result.stderr and "email" in result.stderr
    assert count(Subscriber) == 0


def test_add_list_and_remove(runner, smtp_server, create_opportunity):
    result = runner.invoke(
        args=[
            "subscribers",
            "add",
            "Ana@Example.org",
            "--kind",
            "grant",
            "--country",
            "ke",
            "--region",
            "africa",
            "--keyword",
            "visa",
            "--lead",
            "30",
            "--lead",
            "7",
            "--confirmed",
        ]
    )
    assert result.exit_code == 0, result.output
    ana = stored("ana@example.org")
    assert ana.status == "active"
    assert ana.follows == {
        "kinds": ["grant"],
        "countries": ["KE"],
        "regions": ["africa"],
        "keywords": ["visa"],
    }
    assert ana.lead_days == [30, 7]

    result = runner.invoke(args=["subscribers", "add", "rafi@example.org"])
    assert result.exit_code == 0 and "confirmation link was sent" in result.output
    assert stored("rafi@example.org").status == "pending"
    assert stored("rafi@example.org").follows == {}
    assert smtp_server.wait_for(1)[0].recipients == ["rafi@example.org"]

    assert runner.invoke(args=["subscribers", "add", "ana@example.org"]).exit_code == 1
    bad = runner.invoke(args=["subscribers", "add", "x@example.org", "--kind", "lottery"])
    assert bad.exit_code == 1 and "kinds" in bad.output
    assert runner.invoke(args=["subscribers", "add", "x@example.org", "--lead", "5"]).exit_code == 1

    listed = runner.invoke(args=["subscribers", "list"]).output
    assert "ana@example.org  active  30/7 days  kinds: grant" in listed
    assert "rafi@example.org  pending  14/3/1 days  every listing" in listed
    rows = json.loads(runner.invoke(args=["subscribers", "list", "--json"]).output)
    assert [r["email"] for r in rows] == ["ana@example.org", "rafi@example.org"]
    assert rows[0]["follows"]["countries"] == ["KE"] and rows[1]["status"] == "pending"

    opportunity = create_opportunity(
        deadlines=[("application", datetime(2030, 1, 1, tzinfo=UTC).date())]
    )
    db.session.add(
        AlertDelivery(
            subscriber_id=ana.id,
            deadline_id=opportunity.deadlines[0].id,
            lead_days=7,
            deadline_due_at=opportunity.deadlines[0].due_at,
        )
    )
    db.session.commit()
    result = runner.invoke(args=["subscribers", "remove", "ana@example.org"])
    assert result.exit_code == 0, result.output
    assert stored("ana@example.org") is None and count(AlertDelivery) == 0
    assert runner.invoke(args=["subscribers", "remove", "ana@example.org"]).exit_code == 1
    assert "No subscribers" not in runner.invoke(args=["subscribers", "list"]).output
