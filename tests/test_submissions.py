"""The public form at /submit, its spam defences, and the confirmation of the address."""

import html as html_module
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from conftest import FreshGlobalsClient, csrf_token, sign_in

from directory import create_app
from directory.extensions import db
from directory.models import Opportunity, OutboxMessage, Submission
from directory.submissions import purge_unconfirmed

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def day(offset: int) -> str:
    return (NOW + timedelta(days=offset)).date().isoformat()


def long_day(offset: int) -> str:
    """The date as an English page writes it: "15 April 2027"."""
    moment = (NOW + timedelta(days=offset)).date()
    return f"{moment.day} {moment:%B %Y}"


def form_data(client, **overrides) -> dict:
    """Everything a partner types, as the browser posts it, with fresh hidden fields."""
    page = client.get("/submit").get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    data = {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1),
        "started": started,
        "website": "",
        "organisation": "Red de Abogadas",
        "contact_name": "Ana Pérez",
        "contact_email": "ana@example.org",
        "title": "Regional summit on legal empowerment",
        "kind": "event",
        "description": "Three days of workshops.\n\nProgramme: https://example.org/programme",
        "link": "https://example.org/summit",
        "countries": ["KE", "UG"],
        "place": "Nairobi",
        "event_start_on": day(100),
        "event_end_on": day(102),
        "deadlines-0-kind": "application",
        "deadlines-0-due_on": day(40),
        "deadlines-0-due_time": "17:00",
        "deadlines-0-time_zone": "Africa/Nairobi",
        "deadlines-1-kind": "travel_support",
        "deadlines-1-due_on": day(30),
        "deadlines-1-due_time": "",
        "deadlines-1-time_zone": "AoE",
        "offers_travel": "y",
        "offers_accommodation": "y",
        "funding_amount": "1500",
        "funding_currency": "EUR",
        "eligibility": "Community paralegals from East Africa.",
        "languages": "English, Swahili",
        "feed_url": "",
        "action": "send",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_beside(page: str, field_id: str) -> str | None:
    """The message shown beside a field, if the field points at it with aria-describedby."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    if not match:
        return None
    tag = re.search(rf'<(?:input|select|textarea)[^>]*\sid="{re.escape(field_id)}"[^>]*>', page)
    assert tag, f"no control with id {field_id}"
    assert f"{field_id}-error" in tag.group(0), "the error is not tied to its field"
    assert 'aria-invalid="true"' in tag.group(0)
    return html_module.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Error: ", "")


def stored() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Submission))


def test_the_form_has_every_field_labelled_and_needs_no_script(client):
    page = client.get("/submit").get_data(as_text=True)
    assert "<script" not in page and "style=" not in page
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', page)
    hidden = set(re.findall(r'<input[^>]*\sid="([^"]+)"[^>]*type="hidden"', page))
    hidden |= set(re.findall(r'<input[^>]*type="hidden"[^>]*\sid="([^"]+)"', page))
    for control in set(ids) - hidden:
        assert f'<label for="{control}">' in page, f"{control} has no label"
    for word in (
        "Who is listing it",
        "Deadline 1",
        "Deadline 2",
        "Funding offered",
        "Your own feed",
    ):
        assert f"<legend>{word}</legend>" in page
    assert 'value="AoE"' in page and 'value="America/Lima"' in page
    assert 'href="/submit">List an opportunity</a>' in page


def test_a_partner_submits_confirms_and_sees_the_listing_live(client, smtp_server, moderator):
    response = client.post("/submit", data=form_data(client))
    assert response.status_code == 303 and response.headers["Location"] == "/submit/sent"
    assert "Check your inbox" in client.get("/submit/sent").get_data(as_text=True)
    submission = db.session.scalar(db.select(Submission))
    assert submission.status == "unconfirmed"

    confirmation = smtp_server.wait_for(1)[0].message
    assert confirmation["To"] == "ana@example.org"
    link = re.search(
        r"http://openings\.example\.org(/submit/confirm/\S+)",
        confirmation.get_body(("plain",)).get_content(),
    ).group(1)
    ask = client.get(link).get_data(as_text=True)
    assert "Press the button" in ask
    assert (
        db.session.get(Submission, submission.id).status == "unconfirmed"
    )  # a GET changes nothing
    done = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert "is with our moderators" in done.get_data(as_text=True)

    notice = smtp_server.wait_for(2)[1]
    assert notice.recipients == [moderator.email]
    assert (
        f"/admin/submissions/{submission.id}" in notice.message.get_body(("plain",)).get_content()
    )

    sign_in(client, moderator)
    queue = client.get("/admin/").get_data(as_text=True)
    assert "Regional summit on legal empowerment" in queue
    page = client.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    approve = client.post(
        f"/admin/submissions/{submission.id}/approve",
        data={"csrf_token": csrf_token(client, f"/admin/submissions/{submission.id}")},
    )
    assert approve.status_code == 302 and "Nairobi" in page

    approved = smtp_server.wait_for(3)[2].message
    assert approved["To"] == "ana@example.org"
    public = re.search(
        r"http://openings\.example\.org(/opportunities/\d+)",
        approved.get_body(("plain",)).get_content(),
    ).group(1)
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    listing = client.get(public).get_data(as_text=True)
    assert "Regional summit on legal empowerment" in listing
    assert "Community paralegals from East Africa." in listing
    assert '<a href="https://example.org/programme" rel="noopener nofollow ugc">' in listing
    assert "Red de Abogadas" in listing
    assert "ana@example.org" not in listing and "Ana Pérez" not in listing
    home = client.get("/").get_data(as_text=True)
    assert "Regional summit on legal empowerment" in home and "ana@example.org" not in home
    opportunity = db.session.scalar(db.select(Opportunity))
    assert opportunity.entries[0].source.kind == "partner"


def test_preview_shows_each_deadline_on_four_clocks_and_stores_nothing(client):
    page = client.post("/submit", data=form_data(client, action="preview")).get_data(as_text=True)
    preview = page[page.index('id="deadlines-0-preview"') :]
    preview = preview[: preview.index("</div>")]
    # 17:00 in Nairobi (UTC+3) is 14:00 UTC: 09:00 in Lima, 15:00 in Lagos, 20:00 in Dhaka.
    for city, clock in (
        ("Lima", "09:00"),
        ("Lagos", "15:00"),
        ("Nairobi", "17:00"),
        ("Dhaka", "20:00"),
    ):
        assert re.search(
            rf'<span class="city">{city}</span> \w+,? \d+ \w+ \d+, {clock}', preview
        ), city
    second = page[page.index('id="deadlines-1-preview"') :]
    assert '<span class="city">Lima</span>' in second  # AoE, end of day: 06:59 next day in Lima
    assert ", 06:59" in second[: second.index("</div>")]
    assert stored() == 0


def test_add_another_deadline_re_renders_with_one_more_row_and_everything_kept(client):
    page = client.post("/submit", data=form_data(client, action="add_deadline")).get_data(
        as_text=True
    )
    assert "<legend>Deadline 3</legend>" in page and "<legend>Deadline 4</legend>" not in page
    assert 'value="Regional summit on legal empowerment"' in page
    assert 'value="17:00"' in page
    assert '<option selected value="Africa/Nairobi">' in page
    assert "Programme: https://example.org/programme</textarea>" in page
    assert stored() == 0


BAD_INPUT = [
    (
        {"contact_email": "not-an-address"},
        "contact_email",
        "Enter an email address, like name@example.org.",
    ),
    ({"link": "example.org/summit"}, "link", "Enter a full web address, starting with https://"),
    (
        {"link": "https://www.waset.org/summit"},
        "link",
        "We do not list opportunities from waset.org: it is on our list of predatory conference organisers.",
    ),
    ({"title": ""}, "title", "This field is required."),
    (
        {"event_start_on": day(-3), "event_end_on": day(-1)},
        "event_start_on",
        "This date has passed.",
    ),
    ({"event_end_on": day(90)}, "event_end_on", "The event cannot end before it starts."),
    ({"event_start_on": "15/04/2027"}, "event_start_on", "Enter a date, like 2027-04-15."),
    (
        {"deadlines-0-due_on": day(-1), "deadlines-0-due_time": "", "deadlines-0-time_zone": ""},
        "deadlines-0-due_on",
        "This deadline has already passed.",
    ),
    (
        {"deadlines-0-due_on": day(120)},
        "deadlines-0-due_on",
        f"This deadline is after the event ends ({long_day(102)}).",
    ),
    ({"deadlines-0-time_zone": ""}, "deadlines-0-time_zone", "Choose the time zone of this time."),
    (
        {"deadlines-0-time_zone": "Mars/Olympus"},
        "deadlines-0-time_zone",
        "Choose a time zone from the list.",
    ),
    (
        {"deadlines-0-due_on": "", "deadlines-0-due_time": "17:00"},
        "deadlines-0-due_on",
        "Give the date of this deadline.",
    ),
    ({"deadlines-0-due_time": "5pm"}, "deadlines-0-due_time", "Enter a time, like 17:00."),
    ({"countries": None}, "countries", "Choose at least one country, or tick “Online”."),
    ({"funding_amount": "lots"}, "funding_amount", "Enter an amount in figures, like 1500."),
    ({"funding_currency": "EURO"}, "funding_currency", "At most 3 characters, please."),
    (
        {"funding_currency": "XYZ"},
        "funding_currency",
        "Enter a three-letter currency code, like EUR, USD or KES.",
    ),
    ({"funding_currency": ""}, "funding_currency", "Give the currency of the amount."),
    (
        {"feed_url": "file:///etc/passwd"},
        "feed_url",
        "Enter a full web address, starting with https://",
    ),
    (
        {"contact_name": "Ana\r\nBcc: everyone@example.org"},
        "contact_name",
        "Line breaks are not allowed here.",
    ),
    (
        {"contact_email": "ana@example.org\r\nBcc: everyone@example.org"},
        "contact_email",
        "Line breaks are not allowed here.",
    ),
    (
        {"organisation": "Red\nSubject: free money"},
        "organisation",
        "Line breaks are not allowed here.",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_gets_a_message_beside_its_field_and_nothing_is_lost(
    client, overrides, field, message
):
    data = form_data(client, **overrides)
    response = client.post("/submit", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_beside(page, field) == message
    assert f'href="#{field}"' in page  # listed in the summary above the form
    assert 'value="Red de Abogadas"' in page or "Red" in overrides.get("organisation", "")
    assert "Community paralegals from East Africa.</textarea>" in page
    assert stored() == 0
    assert db.session.scalar(db.select(OutboxMessage)) is None


def test_no_deadline_at_all_is_refused(client):
    data = form_data(
        client, **{"deadlines-0-due_on": "", "deadlines-0-due_time": "", "deadlines-1-due_on": ""}
    )
    page = client.post("/submit", data=data).get_data(as_text=True)
    assert "Add at least one deadline: the date by which people must act." in page
    assert stored() == 0


def test_the_honeypot_looks_like_success_but_stores_nothing(client, smtp_server):
    response = client.post("/submit", data=form_data(client, website="https://spam.example.com"))
    assert response.status_code == 303 and response.headers["Location"] == "/submit/sent"
    assert stored() == 0 and smtp_server.messages == []


def test_a_form_sent_too_fast_is_shown_again(app, client):
    app.config["SUBMISSION_MIN_FILL_SECONDS"] = 60
    data = form_data(client)
    preview = client.post("/submit", data=dict(data, action="preview")).get_data(as_text=True)
    assert "quicker than a person" not in preview and "Readers will see" in preview
    page = client.post("/submit", data=data).get_data(as_text=True)
    assert "quicker than a person" in page and stored() == 0
    with time_machine.travel(NOW + timedelta(minutes=2)):
        assert client.post("/submit", data=data).status_code == 303
    assert stored() == 1


@pytest.mark.parametrize("started", ["", "forged", "MTc5NTk1MjM2Mi4yOTEwOTg.bad.sig"])
def test_a_missing_or_forged_start_time_is_refused(client, started):
    response = client.post("/submit", data=form_data(client, started=started))
    assert response.status_code == 422 and "send it again" in response.get_data(as_text=True)
    assert stored() == 0


def test_a_form_left_open_for_days_is_shown_again(client):
    data = form_data(client)
    with time_machine.travel(NOW + timedelta(days=2)):
        assert client.post("/submit", data=data).status_code == 422
    assert stored() == 0


def test_sending_is_rate_limited_per_client_but_previews_are_not(app, client):
    app.config["SUBMISSION_RATE_LIMIT"] = "2 per hour"
    for _ in range(3):
        assert client.post("/submit", data=form_data(client, action="preview")).status_code == 200
    assert client.post("/submit", data=form_data(client)).status_code == 303
    assert client.post("/submit", data=form_data(client, title="")).status_code == 422
    assert client.post("/submit", data=form_data(client, title="Second")).status_code == 303
    assert client.post("/submit", data=form_data(client, title="Third")).status_code == 429
    other = client.application.test_client()
    other_data = form_data(other, title="From another address")
    assert (
        other.post("/submit", data=other_data, environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code
        == 303
    )
    assert stored() == 3


def test_without_a_csrf_token_nothing_is_stored(client):
    data = form_data(client)
    del data["csrf_token"]
    response = client.post("/submit", data=data)
    assert response.status_code == 400
    assert stored() == 0 and db.session.scalar(db.select(OutboxMessage)) is None
    data["csrf_token"] = "forged"
    assert client.post("/submit", data=data).status_code == 400
    assert stored() == 0


def confirmation_path(smtp_server) -> str:
    body = smtp_server.wait_for(1)[0].message.get_body(("plain",)).get_content()
    return re.search(r"http://openings\.example\.org(/submit/confirm/\S+)", body).group(1)


def test_confirming_twice_notifies_moderators_once(client, smtp_server, moderator):
    client.post("/submit", data=form_data(client))
    link = confirmation_path(smtp_server)
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    smtp_server.wait_for(2)
    again = client.get(link).get_data(as_text=True)
    assert "Already confirmed" in again
    assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMessage)) == 2


def test_an_expired_or_forged_confirmation_link_is_refused(client, smtp_server):
    client.post("/submit", data=form_data(client))
    link = confirmation_path(smtp_server)
    with time_machine.travel(NOW + timedelta(days=8)):
        assert client.get(link).status_code == 410
    assert client.get(link[:-3] + "xyz").status_code == 404
    assert client.get("/submit/confirm/garbage").status_code == 404
    assert db.session.scalar(db.select(Submission)).status == "unconfirmed"


def test_unconfirmed_submissions_stay_out_of_the_queue(client, smtp_server, admin_client):
    admin_client.post("/submit", data=form_data(admin_client))
    submission = db.session.scalar(db.select(Submission))
    assert "Regional summit" not in admin_client.get("/admin/").get_data(as_text=True)
    assert admin_client.get(f"/admin/submissions/{submission.id}").status_code == 404


def test_the_scheduler_job_purges_unconfirmed_submissions(app, client):
    client.post("/submit", data=form_data(client))
    assert purge_unconfirmed(app, NOW + timedelta(days=6)) == 0
    assert purge_unconfirmed(app, NOW + timedelta(days=8)) == 1
    assert stored() == 0


def test_behind_a_proxy_each_forwarded_client_is_counted(app_config, instance_dir):
    app_config.update(PROXY_COUNT=1, SUBMISSION_RATE_LIMIT="1 per hour")
    app = create_app(app_config, instance_path=str(instance_dir))
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        sent = []
        for address in ("203.0.113.7", "198.51.100.9", "203.0.113.7"):
            client = app.test_client()
            data = form_data(client, title=f"From {address}")
            response = client.post("/submit", data=data, headers={"X-Forwarded-For": address})
            sent.append(response.status_code)
        assert sent == [303, 303, 429]
        assert stored() == 2
        db.session.execute(db.delete(Submission))
        db.session.execute(db.delete(OutboxMessage))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
