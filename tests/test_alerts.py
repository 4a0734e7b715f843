"""The alert engine against a real SMTP server: what is due, once, in one email per subscriber."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from time import sleep

import pytest

from directory.alerts import AlertSettings, dry_run, run_alerts, status_counts
from directory.extensions import db
from directory.models import AlertDelivery, Deadline, Subscriber
from feeds.closing import closing_instant

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def subscribe(app):
    """Factory: an active subscriber (unless told otherwise) with the given settings."""

    def create(
        email: str = "ada@example.org",
        *,
        follows: dict | None = None,
        lead_days: list[int] | None = None,
        buffer_days: int = 0,
        language: str = "en",
        time_zone: str = "UTC",
        status: str = "active",
        wants_digest: bool = True,
    ) -> Subscriber:
        subscriber = Subscriber(
            email=email,
            status=status,
            follows=follows or {},
            lead_days=lead_days or [14, 3, 1],
            buffer_days=buffer_days,
            language=language,
            time_zone=time_zone,
            wants_digest=wants_digest,
            confirmed_at=NOW if status == "active" else None,
        )
        db.session.add(subscriber)
        db.session.commit()
        return subscriber

    return create


def day(offset: int) -> date:
    return (NOW + timedelta(days=offset)).date()


def utc_deadline(offset_days: int, at: time = time(12, 0)) -> tuple:
    """A deadline `offset_days` after NOW at `at` UTC, as create_opportunity takes it."""
    return ("application", day(offset_days), at, "UTC")


def deliveries() -> list[AlertDelivery]:
    db.session.commit()
    return list(db.session.scalars(db.select(AlertDelivery).order_by(AlertDelivery.id)))


def test_an_alert_is_due_at_its_lead_time_and_sent_once(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe(lead_days=[3])
    create_opportunity("Fellowship", deadlines=[utc_deadline(10)], kind="fellowship")

    report = run_alerts(NOW)
    assert report.planned == 0 and smtp_server.messages == []

    # 3 days before the deadline (10 days from NOW, at noon), and not a minute sooner
    report = run_alerts(NOW + timedelta(days=7) - timedelta(minutes=1))
    assert report.sent == 0
    report = run_alerts(NOW + timedelta(days=7))
    assert (report.planned, report.sent, report.emails_sent) == (1, 1, 1)
    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["ada@example.org"]
    assert "Fellowship" in mail.message["Subject"]

    again = run_alerts(NOW + timedelta(days=7, minutes=15))
    assert (again.planned, again.sent) == (0, 0)
    assert len(smtp_server.messages) == 1
    assert [d.status for d in deliveries()] == ["sent"]


def test_one_email_lists_every_due_deadline_soonest_first_with_headers_and_links(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe(lead_days=[14], time_zone="America/Lima", buffer_days=2)
    create_opportunity(
        "Later grant", deadlines=[utc_deadline(9)], kind="grant", link="https://example.org/later"
    )
    create_opportunity(
        "Sooner summit",
        deadlines=[("registration", day(5), None, None)],
        kind="event",
        link="https://example.org/sooner",
    )

    report = run_alerts(NOW)

    assert (report.planned, report.emails_sent) == (2, 1)
    [mail] = smtp_server.wait_for(1)
    message = mail.message
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert text.index("Sooner summit") < text.index("Later grant")
    assert "America/Lima" in text  # dates in the subscriber's zone
    assert "07:00" in text  # noon UTC is 07:00 in Lima
    assert "states no time zone" in text  # the summit's deadline gave no zone
    assert "Deadline: " in text  # each deadline's evidence phrase
    assert "be ready by" in text and "2 days of margin" in text
    assert "https://example.org/sooner" in html
    assert "http://openings.example.org/opportunities/" in text
    assert "/alerts/manage/" in text and "/alerts/unsubscribe/" in text
    assert message["List-Id"].startswith("Openings deadline alerts <alerts.openings.example.org>")
    https, mailto = [part.strip(" <>") for part in message["List-Unsubscribe"].split(",")]
    assert https.startswith("http://openings.example.org/alerts/unsubscribe/")
    assert mailto.startswith("mailto:")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] and message["Date"]


def test_the_buffer_brings_alerts_forward(app, smtp_server, subscribe, create_opportunity):
    subscribe("visa@example.org", lead_days=[3], buffer_days=21)
    subscribe("plain@example.org", lead_days=[3])
    create_opportunity("Far away summit", deadlines=[utc_deadline(24)])

    run_alerts(NOW)
    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["visa@example.org"]


def test_the_email_is_written_in_the_subscribers_language(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe("ana@example.org", lead_days=[14], language="es", time_zone="Europe/Madrid")
    create_opportunity("Beca", deadlines=[utc_deadline(5)])

    run_alerts(NOW)

    [mail] = smtp_server.wait_for(1)
    text = mail.message.get_body(("plain",)).get_content()
    assert "marzo" in text  # the month in Spanish, whatever the catalogue holds


@pytest.mark.parametrize(
    ("follows", "expected"),
    [
        ({}, {"Kenya fellowship", "Peru grant", "Online travel grant"}),
        ({"kinds": ["fellowship"]}, {"Kenya fellowship"}),
        ({"kinds": ["grant", "travel_grant"]}, {"Peru grant", "Online travel grant"}),
        ({"countries": ["PE"]}, {"Peru grant"}),
        ({"regions": ["africa"]}, {"Kenya fellowship"}),
        ({"regions": ["africa"], "countries": ["PE"]}, {"Kenya fellowship", "Peru grant"}),
        ({"regions": ["africa"], "kinds": ["grant"]}, set()),
        ({"funding": ["travel"]}, {"Online travel grant"}),
        ({"keywords": ["TRAVEL"]}, {"Online travel grant"}),
        ({"keywords": ["nothing like it", "kenya"]}, {"Kenya fellowship"}),
        ({"kinds": ["grant"], "keywords": []}, {"Peru grant"}),
    ],
)
def test_subscribers_get_what_they_follow_as_the_list_filters_it(
    app, smtp_server, subscribe, create_opportunity, follows, expected
):
    subscribe(follows=follows, lead_days=[14])
    create_opportunity(
        "Kenya fellowship", deadlines=[utc_deadline(3)], kind="fellowship", countries=("KE",)
    )
    create_opportunity("Peru grant", deadlines=[utc_deadline(4)], kind="grant", countries=("PE",))
    create_opportunity(
        "Online travel grant",
        deadlines=[utc_deadline(5)],
        kind="travel_grant",
        offers_travel=True,
        is_online=True,
    )

    run_alerts(NOW)

    if not expected:
        assert smtp_server.messages == []
        return
    [mail] = smtp_server.wait_for(1)
    text = mail.message.get_body(("plain",)).get_content()
    found = {t for t in ("Kenya fellowship", "Peru grant", "Online travel grant") if t in text}
    assert found == expected


def test_remind_me_follows_only_that_opportunity(app, smtp_server, subscribe, create_opportunity):
    wanted = create_opportunity("Wanted", deadlines=[utc_deadline(3)])
    create_opportunity("Unwanted", deadlines=[utc_deadline(3)])
    subscribe(follows={"opportunity_ids": [wanted.id]})

    run_alerts(NOW)

    [mail] = smtp_server.wait_for(1)
    text = mail.message.get_body(("plain",)).get_content()
    assert "Wanted" in text and "Unwanted" not in text


def test_only_active_subscribers_get_alerts(app, smtp_server, subscribe, create_opportunity):
    for status in ("pending", "paused", "unsubscribed", "bounced"):
        subscribe(f"{status}@example.org", status=status)
    subscribe("active@example.org")
    create_opportunity("Open call", deadlines=[utc_deadline(2)])

    run_alerts(NOW)

    assert [m.recipients for m in smtp_server.wait_for(1)] == [["active@example.org"]]


def test_no_alert_is_planned_or_sent_after_the_deadline(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe(lead_days=[3])
    create_opportunity("Closed", deadlines=[utc_deadline(-1)])
    create_opportunity("Closing now", deadlines=[utc_deadline(0)])  # noon today: at NOW exactly

    report = run_alerts(NOW)

    assert report.planned == 0 and smtp_server.messages == []


def test_an_alert_that_could_not_be_sent_before_its_deadline_is_missed(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe(lead_days=[1])
    create_opportunity("Tomorrow", deadlines=[utc_deadline(1)])
    smtp_server.data_replies.append("451 4.3.0 Try again later")

    first = run_alerts(NOW)
    assert (first.planned, first.retrying) == (1, 1)

    late = run_alerts(NOW + timedelta(days=1, minutes=1))
    assert late.missed == 1 and late.sent == 0
    assert smtp_server.messages == []
    assert status_counts()["missed"] == 1


def test_dry_run_sends_and_records_nothing(app, smtp_server, subscribe, create_opportunity):
    subscribe("ada@example.org", lead_days=[14])
    create_opportunity("Open call", deadlines=[utc_deadline(2)])

    planned = dry_run(NOW)

    assert [p.email for p in planned] == ["ada@example.org"]
    assert "Open call" in planned[0].deadlines[0]
    assert deliveries() == []
    assert smtp_server.messages == []
    assert run_alerts(NOW).sent == 1  # nothing was recorded as planned by the dry run


def test_the_cli_runs_and_reports(app, runner, smtp_server, subscribe, create_opportunity):
    subscribe(lead_days=[14])
    create_opportunity("Open call", deadlines=[utc_deadline(2)])

    dry = runner.invoke(args=["alerts", "run", "--now", "2026-03-01T12:00:00", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "ada@example.org: 1 deadlines" in dry.output
    assert smtp_server.messages == []

    result = runner.invoke(args=["alerts", "run", "--now", "2026-03-01T12:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert "sent 1 alerts in 1 emails" in result.output
    smtp_server.wait_for(1)

    status = runner.invoke(args=["alerts", "status"])
    assert "sent       1" in status.output and "missed     0" in status.output

    bad = runner.invoke(args=["alerts", "run", "--now", "yesterday"])
    assert bad.exit_code == 2 and "ISO 8601" in bad.output


# --- deadlines that change --------------------------------------------------------------------


def move(opportunity_id: int, new_day: date) -> None:
    deadline = db.session.scalar(
        db.select(Deadline).where(Deadline.opportunity_id == opportunity_id)
    )
    deadline.due_on = new_day
    deadline.due_at = closing_instant(new_day, time(12, 0), "UTC")
    db.session.commit()


def test_an_extended_deadline_is_announced_once_then_planned_again(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe("alerted@example.org", lead_days=[3])
    opportunity = create_opportunity("Extended call", deadlines=[utc_deadline(3)])
    run_alerts(NOW)
    smtp_server.wait_for(1)
    subscribe("newcomer@example.org", lead_days=[3])

    move(opportunity.id, day(20))
    report = run_alerts(NOW + timedelta(hours=1))
    messages = smtp_server.wait_for(2)
    assert report.sent == 1 and len(messages) == 2
    assert messages[1].recipients == ["alerted@example.org"]
    assert "extended" in messages[1].message["Subject"].lower()

    assert run_alerts(NOW + timedelta(hours=2)).sent == 0

    # the new instant is planned again: 3 days before day 20, both subscribers
    run_alerts(NOW + timedelta(days=17))
    messages = smtp_server.wait_for(4)
    assert sorted(m.recipients[0] for m in messages[2:]) == [
        "alerted@example.org",
        "newcomer@example.org",
    ]


def test_a_deadline_moved_earlier_is_announced(app, smtp_server, subscribe, create_opportunity):
    subscribe(lead_days=[14, 3])
    opportunity = create_opportunity("Hurried call", deadlines=[utc_deadline(10)])
    run_alerts(NOW)
    smtp_server.wait_for(1)

    move(opportunity.id, day(2))
    run_alerts(NOW + timedelta(minutes=15))

    messages = smtp_server.wait_for(2)
    assert "moved earlier" in messages[1].message["Subject"].lower()
    assert len(messages) == 2
    kinds = sorted((d.kind, d.lead_days) for d in deliveries())
    assert kinds == [("moved", 0), ("reminder", 3), ("reminder", 14), ("reminder", 14)]


def test_a_withdrawn_listing_stops_its_alerts(app, smtp_server, subscribe, create_opportunity):
    subscribe(lead_days=[14, 3])
    opportunity = create_opportunity("Withdrawn", deadlines=[utc_deadline(10)])
    run_alerts(NOW)
    smtp_server.wait_for(1)

    opportunity.status = "hidden"
    db.session.commit()
    report = run_alerts(NOW + timedelta(days=7, minutes=1))

    assert report.planned == 0 and len(smtp_server.messages) == 1


def test_a_pending_alert_of_a_withdrawn_listing_is_cancelled(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe(lead_days=[14])
    opportunity = create_opportunity("Withdrawn", deadlines=[utc_deadline(10)])
    smtp_server.data_replies.append("451 4.3.0 Try again later")
    assert run_alerts(NOW).retrying == 1

    opportunity.status = "hidden"
    db.session.commit()
    report = run_alerts(NOW + timedelta(hours=3))

    assert report.cancelled == 1 and smtp_server.messages == []
    assert [d.status for d in deliveries()] == ["cancelled"]


# --- the relay misbehaving --------------------------------------------------------------------


def many_subscribers(subscribe, count: int) -> list[str]:
    addresses = [f"reader{n:02d}@example.org" for n in range(count)]
    for address in addresses:
        subscribe(address, lead_days=[14])
    return addresses


def test_a_421_in_the_middle_of_a_batch_retries_that_email_later(
    app, smtp_server, subscribe, create_opportunity
):
    addresses = many_subscribers(subscribe, 6)
    create_opportunity("Open call", deadlines=[utc_deadline(5)])

    original = smtp_server.handle_DATA
    count = {"n": 0}

    async def third_refused(server, session, envelope):
        count["n"] += 1
        if count["n"] == 3:
            return "421 4.7.0 Too busy, closing"
        return await original(server, session, envelope)

    smtp_server.handle_DATA = third_refused
    report = run_alerts(NOW)

    assert (report.sent, report.retrying) == (5, 1)
    first = {m.recipients[0] for m in smtp_server.wait_for(5)}
    [waiting] = set(addresses) - first
    retry = [d for d in deliveries() if d.status == "retrying"]
    assert len(retry) == 1 and retry[0].attempts == 1 and "421" in retry[0].last_error

    assert run_alerts(NOW + timedelta(seconds=30)).sent == 0  # backing off
    later = run_alerts(NOW + timedelta(minutes=2))
    assert later.sent == 1
    messages = smtp_server.wait_for(6)
    assert messages[-1].recipients == [waiting]
    assert sorted(m.recipients[0] for m in messages) == addresses


def test_a_connection_dropped_mid_batch_loses_and_doubles_nothing(
    app, smtp_server, subscribe, create_opportunity
):
    addresses = many_subscribers(subscribe, 6)
    create_opportunity("Open call", deadlines=[utc_deadline(5)])
    original = smtp_server.handle_DATA
    count = {"n": 0}

    async def drop_on_fourth(server, session, envelope):
        count["n"] += 1
        if count["n"] == 4:
            server.transport.close()
            return "250 never read"
        return await original(server, session, envelope)

    smtp_server.handle_DATA = drop_on_fourth
    report = run_alerts(NOW)

    assert report.sent + report.retrying == 6 and report.retrying >= 1
    run_alerts(NOW + timedelta(minutes=2))
    messages = smtp_server.wait_for(6)
    assert sorted(m.recipients[0] for m in messages) == addresses
    assert {d.status for d in deliveries()} == {"sent"}


def test_a_550_for_one_recipient_bounces_that_subscriber_only(
    app, smtp_server, subscribe, create_opportunity
):
    addresses = many_subscribers(subscribe, 3)
    create_opportunity("Open call", deadlines=[utc_deadline(5)])
    create_opportunity("Other call", deadlines=[utc_deadline(13)])
    smtp_server.rcpt_replies[addresses[1]] = "550 5.1.1 No such user"

    report = run_alerts(NOW)

    assert report.bounced == 2 and report.emails_sent == 2
    assert sorted(m.recipients[0] for m in smtp_server.wait_for(2)) == [addresses[0], addresses[2]]
    bounced = db.session.scalar(db.select(Subscriber).where(Subscriber.email == addresses[1]))
    assert bounced.status == "bounced"
    assert run_alerts(NOW + timedelta(days=1)).sent == 0


def test_a_run_killed_after_some_emails_is_finished_by_the_next_run(
    app, smtp_server, subscribe, create_opportunity
):
    addresses = many_subscribers(subscribe, 8)
    create_opportunity("Open call", deadlines=[utc_deadline(5)])

    class Killed(BaseException):
        pass

    def kill_after_three(sent: int) -> None:
        if sent == 3:
            raise Killed

    settings = AlertSettings(batch_size=100, claim_timeout=timedelta(minutes=10))
    with pytest.raises(Killed):
        run_alerts(NOW, settings=settings, after_send=kill_after_three)
    db.session.rollback()
    assert len(smtp_server.wait_for(3)) == 3

    # the rest stay claimed by the dead run until the claim times out
    assert run_alerts(NOW + timedelta(minutes=5), settings=settings).sent == 0
    report = run_alerts(NOW + timedelta(minutes=11), settings=settings)

    assert report.sent == 5
    messages = smtp_server.wait_for(8)
    assert sorted(m.recipients[0] for m in messages) == addresses
    assert {d.status for d in deliveries()} == {"sent"}


def test_the_rate_cap_and_the_batch_size_are_honoured(
    app, smtp_server, subscribe, create_opportunity
):
    addresses = many_subscribers(subscribe, 5)
    create_opportunity("Open call", deadlines=[utc_deadline(5)])
    connections = []
    original = smtp_server.handle_DATA

    async def remember(server, session, envelope):
        connections.append(session.peer)
        return await original(server, session, envelope)

    smtp_server.handle_DATA = remember
    report = run_alerts(NOW, settings=AlertSettings(batch_size=2, max_per_second=200))

    assert report.sent == 5
    assert sorted(m.recipients[0] for m in smtp_server.wait_for(5)) == addresses
    assert len(set(connections)) == 3  # batches of 2, 2 and 1, one connection each


# --- the delivery log -------------------------------------------------------------------------


def test_the_delivery_log_is_for_moderators_only(app, client):
    response = client.get("/admin/deliveries")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_delivery_log_shows_each_status_and_filters_by_one(
    app, admin_client, smtp_server, subscribe, create_opportunity
):
    subscribe("ok@example.org", lead_days=[14])
    subscribe("gone@example.org", lead_days=[14])
    create_opportunity("Logged call", deadlines=[utc_deadline(4)])
    smtp_server.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    run_alerts(NOW)

    page = admin_client.get("/admin/deliveries").get_data(as_text=True)
    assert "Logged call" in page and "ok@example.org" in page and "gone@example.org" in page
    assert ">sent</a>: 1" in page and ">bounced</a>: 1" in page and ">missed</a>: 0" in page
    assert 'href="/admin/deliveries"' in page  # listed in the admin menu

    bounced = admin_client.get("/admin/deliveries?status=bounced").get_data(as_text=True)
    assert "gone@example.org" in bounced and "ok@example.org" not in bounced
    assert "550 5.1.1 No such user" in bounced


# --- the weekly digest ------------------------------------------------------------------------


MONDAY = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_the_weekly_digest_lists_new_matching_listings_once_a_week(
    app, smtp_server, subscribe, create_opportunity
):
    from directory.digest import run_digest

    subscribe("grants@example.org", follows={"kinds": ["grant"], "regions": ["africa"]})
    subscribe("nodigest@example.org", wants_digest=False)
    reminded = create_opportunity("Old listing", deadlines=[utc_deadline(30)], kind="grant")
    subscribe("remind@example.org", follows={"opportunity_ids": [reminded.id]})
    for n in range(33):
        create_opportunity(
            f"New grant {n:02d}",
            deadlines=[utc_deadline(10 + n)],
            kind="grant",
            countries=("KE",),
            first_seen_at=MONDAY - timedelta(days=2),
        )
    create_opportunity(
        "New event", deadlines=[utc_deadline(10)], kind="event", first_seen_at=MONDAY
    )
    create_opportunity(
        "Old grant",
        deadlines=[utc_deadline(10)],
        kind="grant",
        countries=("KE",),
        first_seen_at=MONDAY - timedelta(days=9),
    )

    report = run_digest(MONDAY)

    assert (report.planned, report.sent, report.empty) == (2, 1, 1)
    [mail] = smtp_server.wait_for(1)
    assert mail.recipients == ["grants@example.org"]
    text = mail.message.get_body(("plain",)).get_content()
    assert text.count("New grant") == 30 and "New event" not in text and "Old grant" not in text
    assert "New grant 00" in text and "New grant 32" not in text  # soonest deadlines first
    see_all = "http://openings.example.org/?kind=grant&region=africa&sort=newest"
    assert see_all in text
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    assert run_digest(MONDAY + timedelta(hours=1)).sent == 0
    assert run_digest(MONDAY + timedelta(days=1)).planned == 0  # not the digest day
    next_week = run_digest(MONDAY + timedelta(days=7))
    assert next_week.planned == 2 and next_week.sent == 0  # nothing new that week
    assert len(smtp_server.messages) == 1


def test_the_digest_command_reports(app, runner, smtp_server, subscribe, create_opportunity):
    subscribe()
    create_opportunity("Fresh", deadlines=[utc_deadline(10)], first_seen_at=MONDAY)

    result = runner.invoke(args=["alerts", "digest", "--now", MONDAY.isoformat()])

    assert result.exit_code == 0, result.output
    assert "planned 1, sent 1" in result.output
    smtp_server.wait_for(1)


def test_a_subscriber_who_changes_what_they_follow_is_planned_again(
    app, smtp_server, subscribe, create_opportunity
):
    subscriber = subscribe(follows={"kinds": ["event"]}, lead_days=[14])
    create_opportunity("Research grant", deadlines=[utc_deadline(5)], kind="grant")
    assert run_alerts(NOW).planned == 0

    subscriber.follows = {"kinds": ["grant"]}
    db.session.commit()
    assert run_alerts(NOW + timedelta(minutes=15)).sent == 1

    subscriber.status = "paused"
    db.session.commit()
    create_opportunity("Second grant", deadlines=[utc_deadline(6)], kind="grant")
    assert run_alerts(NOW + timedelta(minutes=30)).planned == 0
    subscriber.status = "active"
    db.session.commit()
    assert run_alerts(NOW + timedelta(minutes=45)).sent == 1
    assert len(smtp_server.wait_for(2)) == 2


def test_non_ascii_subjects_and_bodies_arrive_intact(
    app, smtp_server, subscribe, create_opportunity
):
    subscribe("joao@example.org", language="pt", lead_days=[14])
    create_opportunity("Bolsa de investigação — São Paulo", deadlines=[utc_deadline(5)])

    run_alerts(NOW)

    [mail] = smtp_server.wait_for(1)
    assert "Bolsa de investigação — São Paulo" in mail.message["Subject"]
    assert "Bolsa de investigação — São Paulo" in mail.message.get_body(("plain",)).get_content()
    assert "São Paulo" in mail.message.get_body(("html",)).get_content()
    assert "março" in mail.message.get_body(("plain",)).get_content()


def test_the_scheduler_runs_the_alerts_at_the_configured_interval_and_the_digest(app_config):
    from directory import create_app
    from directory.scheduler import JOBS

    create_app({**app_config, "ALERTS_INTERVAL_MINUTES": 5})

    jobs = {job.name: job.every for job in JOBS}
    assert jobs["send alerts"] == timedelta(minutes=5)
    assert jobs["weekly digest"] == timedelta(hours=1)


def test_a_deadline_passing_mid_run_costs_only_its_own_alert(
    app, smtp_server, subscribe, create_opportunity
):
    """The second email lost its soonest deadline while the first was sent; the rest go out."""
    subscribe("ada@example.org", lead_days=[1])
    subscribe("bea@example.org", lead_days=[1])
    closing_soon = NOW + timedelta(seconds=1)
    create_opportunity("Closing in a second", deadlines=[utc_deadline(0, closing_soon.time())])
    create_opportunity("Still open", deadlines=[utc_deadline(0, time(18, 0))])

    def wait_past_the_first_deadline(sent: int) -> None:
        if sent == 1:
            sleep(1.2)

    report = run_alerts(NOW, after_send=wait_past_the_first_deadline)

    assert (report.missed, report.emails_sent) == (1, 2)
    first, second = smtp_server.wait_for(2)
    assert "Closing in a second" in first.message.get_body(("plain",)).get_content()
    later = second.message.get_body(("plain",)).get_content()
    assert "Still open" in later and "Closing in a second" not in later
    assert sorted(d.status for d in deliveries()) == ["missed", "sent", "sent", "sent"]


class _DatabaseSaid(Exception):
    def __init__(self, sqlstate: str) -> None:
        self.sqlstate = sqlstate


def test_a_transaction_aborted_by_a_deadlock_is_tried_again_and_other_errors_are_not(app):
    from sqlalchemy.exc import DBAPIError

    from directory.alerts import retry_deadlocks

    calls = []

    def deadlocked_twice() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise DBAPIError("UPDATE …", {}, _DatabaseSaid("40P01"))
        return "done"

    assert retry_deadlocks(deadlocked_twice) == "done" and len(calls) == 3

    def broken() -> None:
        raise DBAPIError("UPDATE …", {}, _DatabaseSaid("23505"))

    with pytest.raises(DBAPIError):
        retry_deadlocks(broken)
