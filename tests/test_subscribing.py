"""Subscribing from the site: /subscribe, "Remind me", double opt-in, the manage page.

Every email is read from a real SMTP server (aiosmtpd), every row from the real database.
"""

from __future__ import annotations

import base64
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from conftest import csrf_token

from directory.extensions import db
from directory.models import AlertDelivery, OutboxMessage, Subscriber
from directory.subscriptions import manage_url, unsubscribe_url

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LINK = re.compile(r"http://openings\.example\.org(/\S+)")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def form_data(client, **overrides) -> dict:
    """What a visitor fills in at /subscribe, with the page's CSRF token."""
    data = {
        "csrf_token": csrf_token(client, "/subscribe"),
        "website": "",
        "email": "ana@example.org",
        "kinds": ["travel_grant", "fellowship"],
        "regions": ["africa"],
        "countries": ["PE"],
        "keywords": "visa, human rights",
        "funding": ["travel"],
        "lead_days": ["14", "3"],
        "buffer_days": "21",
        "wants_digest": "y",
        "time_zone": "Africa/Nairobi",
        "language": "es",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def subscriber(email: str = "ana@example.org") -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Subscriber).where(Subscriber.email == email))


def body(mail) -> str:
    return mail.message.get_body(("plain",)).get_content()


def path_of(mail, part: str) -> str:
    """The path of the link in an email whose path contains `part`."""
    for match in LINK.finditer(body(mail)):
        if part in match.group(1):
            return match.group(1)
    raise AssertionError(f"no {part} link in: {body(mail)}")


def local(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_whole_journey_subscribe_confirm_manage_pause_unsubscribe(client, smtp_server):
    response = client.post("/subscribe", data=form_data(client))
    assert response.status_code == 303
    assert subscriber().status == "pending"

    mail = smtp_server.wait_for(1)[0]
    assert mail.recipients == ["ana@example.org"]
    assert mail.message["Subject"] == "Confirm your deadline alerts"  # until translated
    assert '<html lang="es">' in mail.message.get_body(("html",)).get_content()
    confirm = path_of(mail, "/alerts/confirm/")
    assert client.get(confirm).status_code == 200
    assert subscriber().status == "pending"  # a link checker's GET confirms nothing

    response = client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    assert response.status_code == 303
    stored = subscriber()
    assert stored.status == "active" and stored.confirmed_at is not None
    assert stored.follows == {
        "kinds": ["travel_grant", "fellowship"],
        "countries": ["PE"],
        "regions": ["africa"],
        "keywords": ["visa", "human rights"],
        "funding": ["travel"],
    }
    assert stored.lead_days == [14, 3]
    assert stored.buffer_days == 21
    assert stored.wants_digest is True
    assert (stored.time_zone, stored.language) == ("Africa/Nairobi", "es")

    manage = local(response.headers["Location"])
    page = client.get(manage).get_data(as_text=True)
    assert "Your alerts are confirmed." in page
    assert "ana@example.org" in page and 'value="visa, human rights"' in page
    token = csrf_token(client, manage)
    response = client.post(
        manage,
        data={
            "csrf_token": token,
            "action": "save",
            "kinds": ["grant"],
            "keywords": "",
            "lead_days": ["30", "7", "1"],
            "buffer_days": "",
            "time_zone": "America/Lima",
            "language": "fr",
        },
    )
    assert response.status_code == 303
    stored = subscriber()
    assert stored.follows == {"kinds": ["grant"]}
    assert stored.lead_days == [30, 7, 1]
    assert (stored.buffer_days, stored.wants_digest) == (0, False)
    assert (stored.time_zone, stored.language) == ("America/Lima", "fr")
    assert "Your choices are saved." in client.get(manage).get_data(as_text=True)

    client.post(manage, data={"csrf_token": csrf_token(client, manage), "action": "pause"})
    assert subscriber().status == "paused"
    client.post(manage, data={"csrf_token": csrf_token(client, manage), "action": "resume"})
    assert subscriber().status == "active"

    one_click = local(unsubscribe_url(stored))
    fresh = client.application.test_client()
    response = fresh.post(one_click, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert subscriber().status == "unsubscribed"
    assert len(smtp_server.messages) == 1  # nothing but the confirmation was ever sent


def test_the_confirmation_email_holds_no_text_the_visitor_typed(client, smtp_server):
    bait = "Win money now"
    client.post(
        "/subscribe",
        data=form_data(client, keywords=f"{bait}, http://spam.example.com", language="en"),
    )
    mail = smtp_server.wait_for(1)[0]
    raw = mail.message.as_string()
    assert "Win money" not in raw and "spam.example.com" not in raw
    for part in mail.message.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()
            assert "Win money" not in content and "spam.example" not in content
            assert "ana@example.org" not in content  # the address only as recipient
    assert mail.message["To"] == "ana@example.org"
    assert mail.message.get_body(("html",)) is not None


def test_one_email_an_hour_per_address_and_the_same_page_for_everyone(client, smtp_server):
    first = client.post("/subscribe", data=form_data(client), follow_redirects=True)
    smtp_server.wait_for(1)
    second = client.post(
        "/subscribe", data=form_data(client, email="ANA@example.org"), follow_redirects=True
    )
    assert first.get_data(as_text=True) == second.get_data(as_text=True)
    with db.session.no_autoflush:
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1

    with time_machine.travel(NOW + timedelta(minutes=61), tick=False):
        client.post("/subscribe", data=form_data(client))
    mails = smtp_server.wait_for(2)
    assert len(mails) == 2
    assert "/alerts/confirm/" in body(mails[1])


def test_a_confirmed_address_gets_a_manage_link_and_is_not_changed(client, smtp_server):
    client.post("/subscribe", data=form_data(client, language="en"))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    before = subscriber().follows

    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        unknown = client.post(
            "/subscribe", data=form_data(client, email="new@example.org"), follow_redirects=True
        )
        known = client.post(
            "/subscribe",
            data=form_data(client, kinds=["job"], language="en"),
            follow_redirects=True,
        )
    assert unknown.get_data(as_text=True) == known.get_data(as_text=True)
    mails = smtp_server.wait_for(3)
    to_ana = next(m for m in mails[1:] if m.recipients == ["ana@example.org"])
    assert to_ana.message["Subject"] == "Your deadline alerts on Openings"
    assert "/alerts/manage/" in body(to_ana) and "/alerts/confirm/" not in body(to_ana)
    assert subscriber().follows == before and subscriber().status == "active"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "ana@example.org\r\nBcc: victim@example.com"}, "email", "Line breaks"),
        ({"email": "ana@example.org%0aBcc:x@example.com"}, "email", "Enter an email address"),
        ({"email": "a" * 330 + "@example.org"}, "email", "Enter an email address"),
        ({"email": ""}, "email", "Enter your email address"),
        ({"keywords": "x" * 400}, "keywords", "at most"),
        ({"keywords": "visa\nBcc: x"}, "keywords", "Line breaks"),
        ({"keywords": ", ".join(f"w{i}" for i in range(12))}, "keywords", "at most 10"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Not a valid choice"),
        ({"kinds": ["free_money"]}, "kinds", "Not a valid choice"),
        ({"countries": ["ZZ"]}, "countries", "Not a valid choice"),
        ({"regions": ["atlantis"]}, "regions", "Not a valid choice"),
        ({"lead_days": ["2"]}, "lead_days", "Not a valid choice"),
        ({"lead_days": None}, "lead_days", "at least one lead time"),
        ({"buffer_days": "-3"}, "buffer_days", "whole number of days"),
        ({"buffer_days": "500"}, "buffer_days", "whole number"),
        ({"language": "de"}, "language", "Not a valid choice"),
    ],
)
def test_hostile_or_wrong_input_is_named_beside_its_field_and_kept(
    client, smtp_server, overrides, field, message
):
    response = client.post("/subscribe", data=form_data(client, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert error, page
    assert message.lower() in error.group(1).lower()
    assert f'href="#{field}"' in page  # the summary links to the field
    assert 'value="visa, human rights"' in page or field == "keywords"
    assert subscriber() is None
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0


def test_without_csrf_token_nothing_is_stored(client):
    data = form_data(client)
    del data["csrf_token"]
    assert client.post("/subscribe", data=data).status_code == 400
    assert subscriber() is None


def test_honeypot_looks_taken_but_stores_and_sends_nothing(client):
    response = client.post("/subscribe", data=form_data(client, website="http://spam"))
    assert response.status_code == 303
    assert subscriber() is None
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 0


def test_requests_are_rate_limited_per_client(app, client, smtp_server):
    app.config["SUBSCRIPTION_RATE_LIMIT"] = "2 per hour"
    assert client.post("/subscribe", data=form_data(client, email="")).status_code == 422
    assert (
        client.post("/subscribe", data=form_data(client, email="a@example.org")).status_code == 303
    )
    assert (
        client.post("/subscribe", data=form_data(client, email="b@example.org")).status_code == 303
    )
    assert (
        client.post("/subscribe", data=form_data(client, email="c@example.org")).status_code == 429
    )
    assert subscriber("c@example.org") is None


def test_the_form_starts_from_the_list_filters_and_the_reader(client):
    client.set_cookie("tz", "America/Lima")
    page = client.get(
        "/subscribe?kind=grant&country=KE&region=africa&q=visa&funding=stipend&sort=newest",
        headers={"Accept-Language": "fr"},
    ).get_data(as_text=True)
    assert re.search(
        r'<input checked id="kinds-\d" name="kinds" type="checkbox" value="grant">', page
    )
    assert '<option selected value="KE">' in page
    assert re.search(r'checked id="regions-\d" name="regions" type="checkbox" value="africa"', page)
    assert 'value="visa"' in page
    assert re.search(
        r'checked id="funding-\d" name="funding" type="checkbox" value="stipend"', page
    )
    assert '<option selected value="America/Lima">' in page
    assert '<option selected value="fr">' in page
    for days in ("14", "3", "1"):
        assert re.search(
            rf'checked id="lead_days-\d" name="lead_days" type="checkbox" value="{days}"', page
        )
    assert not re.search(
        r'checked id="lead_days-\d" name="lead_days" type="checkbox" value="30"', page
    )


def test_the_list_page_links_to_the_form_with_its_filters(client, create_opportunity):
    create_opportunity(kind="grant", countries=("KE",))
    page = client.get("/?kind=grant&country=KE&q=visa&funding=travel").get_data(as_text=True)
    link = re.search(r'<a href="(/subscribe\?[^"]+)">Email me about these</a>', page).group(1)
    link = link.replace("&amp;", "&")
    assert "kind=grant" in link and "country=KE" in link and "q=visa" in link
    assert "funding=travel" in link


def _open_opportunity(create_opportunity):
    return create_opportunity(
        "Fellowship for paralegals",
        kind="fellowship",
        deadlines=[("application", (NOW + timedelta(days=40)).date())],
    )


def test_remind_me_follows_only_that_opportunity(client, smtp_server, create_opportunity):
    opportunity = _open_opportunity(create_opportunity)
    page = client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    assert f'action="/opportunities/{opportunity.id}/remind"' in page
    assert '<label for="remind-email">' in page

    client.set_cookie("tz", "Asia/Dhaka")
    response = client.post(
        f"/opportunities/{opportunity.id}/remind",
        data={"email": "Rafi@Example.org", "website": ""},
        headers={"Accept-Language": "pt"},
    )
    assert response.status_code == 303
    stored = subscriber("rafi@example.org")
    assert stored.status == "pending"
    assert stored.follows == {"opportunity_ids": [opportunity.id]}
    assert (stored.time_zone, stored.language, stored.lead_days) == ("Asia/Dhaka", "pt", [14, 3, 1])

    mail = smtp_server.wait_for(1)[0]
    confirm = path_of(mail, "/alerts/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    assert subscriber("rafi@example.org").status == "active"


def test_reminders_add_up_until_confirmed_and_then_through_a_signed_link(
    client, smtp_server, create_opportunity
):
    first = _open_opportunity(create_opportunity)
    second = create_opportunity(
        "Travel grant to Lima", deadlines=[("application", (NOW + timedelta(days=20)).date())]
    )
    client.post(f"/opportunities/{first.id}/remind", data={"email": "rafi@example.org"})
    client.post(f"/opportunities/{second.id}/remind", data={"email": "rafi@example.org"})
    stored = subscriber("rafi@example.org")
    assert stored.follows == {"opportunity_ids": [first.id, second.id]}
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})

    third = create_opportunity(
        "Summit in Dakar", deadlines=[("registration", (NOW + timedelta(days=10)).date())]
    )
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        client.post(f"/opportunities/{third.id}/remind", data={"email": "rafi@example.org"})
        assert subscriber("rafi@example.org").follows == {"opportunity_ids": [first.id, second.id]}
        mail = smtp_server.wait_for(2)[1]
        add = path_of(mail, "/alerts/remind/")
        assert client.get(add).status_code == 200
        response = client.post(add, data={"csrf_token": csrf_token(client, add)})
    assert response.status_code == 303
    assert subscriber("rafi@example.org").follows == {
        "opportunity_ids": [first.id, second.id, third.id]
    }

    manage = local(response.headers["Location"])
    page = client.get(manage).get_data(as_text=True)
    assert "Summit in Dakar" in page and "Travel grant to Lima" in page
    client.post(
        manage,
        data={
            "csrf_token": csrf_token(client, manage),
            "action": "save",
            "reminders": [str(third.id)],
            "kinds": ["grant"],
            "lead_days": ["7"],
            "time_zone": "UTC",
            "language": "en",
        },
    )
    assert subscriber("rafi@example.org").follows == {"opportunity_ids": [third.id]}
    client.post(
        manage,
        data={
            "csrf_token": csrf_token(client, manage),
            "action": "save",
            "kinds": ["grant"],
            "lead_days": ["7"],
            "time_zone": "UTC",
            "language": "en",
        },
    )
    assert subscriber("rafi@example.org").follows == {"kinds": ["grant"]}
    assert "Reminders" not in client.get(manage).get_data(as_text=True)


def test_a_general_subscriber_asking_for_a_reminder_keeps_their_choices(
    client, smtp_server, create_opportunity
):
    opportunity = _open_opportunity(create_opportunity)
    client.post("/subscribe", data=form_data(client, language="en"))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    before = subscriber().follows
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        client.post(f"/opportunities/{opportunity.id}/remind", data={"email": "ana@example.org"})
    mail = smtp_server.wait_for(2)[1]
    assert "/alerts/remind/" not in body(mail)
    assert f"/opportunities/{opportunity.id}" in body(mail) and "/alerts/manage/" in body(mail)
    assert subscriber().follows == before


def test_remind_me_refuses_bad_addresses_and_unknown_opportunities(client, create_opportunity):
    opportunity = _open_opportunity(create_opportunity)
    response = client.post(
        f"/opportunities/{opportunity.id}/remind",
        data={"email": "rafi@example.org\nBcc: x@example.com"},
    )
    assert response.status_code == 422
    assert "Line breaks are not allowed here." in response.get_data(as_text=True)
    assert (
        client.post("/opportunities/999999/remind", data={"email": "a@example.org"}).status_code
        == 404
    )
    assert (
        client.post(
            f"/opportunities/{opportunity.id}/remind",
            data={"email": "a@example.org", "website": "x"},
        ).status_code
        == 303
    )
    assert db.session.scalar(db.select(db.func.count()).select_from(Subscriber)) == 0


def test_a_closed_opportunity_offers_no_reminder(client, create_opportunity):
    closed = create_opportunity(
        "Closed call", deadlines=[("application", (NOW - timedelta(days=3)).date())]
    )
    assert "/remind" not in client.get(f"/opportunities/{closed.id}").get_data(as_text=True)


def test_expired_and_forged_links(client, smtp_server):
    client.post("/subscribe", data=form_data(client))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    with time_machine.travel(NOW + timedelta(days=7, minutes=1), tick=False):
        assert client.get(confirm).status_code == 410
    assert subscriber().status == "pending"
    token = confirm.rsplit("/", 1)[1]
    assert client.get(f"/alerts/confirm/{token[:-2]}xx").status_code == 404
    assert client.get(f"/alerts/manage/{token}").status_code == 404  # another purpose
    assert client.get("/alerts/manage/forged").status_code == 404
    assert client.get("/alerts/remind/forged").status_code == 404


def test_manage_changes_need_the_csrf_token(client, smtp_server):
    client.post("/subscribe", data=form_data(client))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    manage = local(
        client.post(confirm, data={"csrf_token": csrf_token(client, confirm)}).headers["Location"]
    )
    for action in ("pause", "unsubscribe", "delete"):
        assert client.post(manage, data={"action": action}).status_code == 400
    assert client.post(manage, data={"action": "save", "lead_days": ["1"]}).status_code == 400
    assert subscriber().status == "active" and subscriber().lead_days == [14, 3]


def test_delete_my_data_removes_the_subscriber_deliveries_and_emails(
    client, smtp_server, create_opportunity
):
    opportunity = _open_opportunity(create_opportunity)
    client.post("/subscribe", data=form_data(client))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    manage = local(
        client.post(confirm, data={"csrf_token": csrf_token(client, confirm)}).headers["Location"]
    )
    stored = subscriber()
    db.session.add(
        AlertDelivery(
            subscriber_id=stored.id,
            deadline_id=opportunity.deadlines[0].id,
            lead_days=14,
            deadline_due_at=opportunity.deadlines[0].due_at,
            status="sent",
        )
    )
    db.session.commit()
    one_click = local(unsubscribe_url(stored))

    page = client.get(manage).get_data(as_text=True)
    assert "Delete my data" in page and "for good" in page
    response = client.post(
        manage, data={"csrf_token": csrf_token(client, manage), "action": "delete"}
    )
    assert response.status_code == 200
    assert "Your data is deleted" in response.get_data(as_text=True)
    assert subscriber() is None
    assert db.session.scalar(db.select(db.func.count()).select_from(AlertDelivery)) == 0
    assert (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.to_address == "ana@example.org")
        )
        == 0
    )
    assert client.get(manage).status_code == 404
    assert client.post(one_click).status_code == 404


def test_subscribing_again_after_unsubscribing_needs_a_new_confirmation(client, smtp_server):
    client.post("/subscribe", data=form_data(client))
    confirm = path_of(smtp_server.wait_for(1)[0], "/alerts/confirm/")
    client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    client.post(local(unsubscribe_url(subscriber())))
    assert subscriber().status == "unsubscribed"
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        client.post("/subscribe", data=form_data(client, kinds=["job"]))
        assert client.get(confirm).status_code == 200
    assert subscriber().status == "pending"
    assert subscriber().follows["kinds"] == ["job"]
    assert "/alerts/confirm/" in body(smtp_server.wait_for(2)[1])


def test_manage_link_in_emails_opens_the_page(app, client):
    stored = Subscriber(email="ana@example.org", status="active", follows={})
    db.session.add(stored)
    db.session.commit()
    page = client.get(local(manage_url(stored)))
    assert page.status_code == 200
    assert "Pause my alerts" in page.get_data(as_text=True)


def test_two_requests_at_once_for_one_address_send_one_email(app):
    """Two workers taking the same address at the same moment: the hourly email is claimed once."""
    from directory import subscribers
    from directory.subscriptions import email_links

    db.session.add(Subscriber(email="ana@example.org", status="pending", follows={}))
    db.session.commit()
    outcomes: list[str] = []

    def take() -> None:
        with app.app_context():
            outcome = subscribers.request_subscription(
                db.session,
                "ana@example.org",
                subscribers.Preferences(),
                now=NOW,
                links=email_links(),
            )
            db.session.commit()
            outcomes.append(outcome.sent)
            db.session.remove()

    with app.app_context():
        first = subscribers.request_subscription(
            db.session, "ana@example.org", subscribers.Preferences(), now=NOW, links=email_links()
        )
        other = threading.Thread(target=take)
        other.start()
        other.join(timeout=0.5)  # it waits for this transaction's row lock
        db.session.commit()
        outcomes.append(first.sent)
        db.session.remove()
    other.join()
    assert sorted(outcomes) == ["confirmation", "throttled"]
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 1


def test_a_link_dies_with_the_data_even_if_the_row_id_comes_back(client):
    ana = Subscriber(email="ana@example.org", status="active", follows={})
    db.session.add(ana)
    db.session.commit()
    manage, one_click = local(manage_url(ana)), local(unsubscribe_url(ana))
    response = client.post(
        manage, data={"csrf_token": csrf_token(client, manage), "action": "delete"}
    )
    assert response.status_code == 200

    db.session.add(Subscriber(id=ana.id, email="bob@example.org", status="active", follows={}))
    db.session.commit()
    assert client.get(manage).status_code == 404
    assert client.post(one_click).status_code == 404
    assert subscriber("bob@example.org").status == "active"
    payload = manage.rsplit("/", 1)[1].split(".")[0]
    assert b"example.org" not in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
