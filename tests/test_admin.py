"""/admin: signing in, the guard on every page, the queue, corrections, feeds, sources, mail."""

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from conftest import Credentials, csrf_token, sign_in

from directory.admin import NAV, add_nav
from directory.extensions import db
from directory.listings import DeadlineInput, ListingInput
from directory.models import Opportunity, OutboxMessage, Source, Submission, User
from directory.moderation import confirm, submit

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def day(offset: int) -> date:
    return (NOW + timedelta(days=offset)).date()


def pending(
    title: str = "Regional summit on legal empowerment", feed_url: str = "", **fields
) -> Submission:
    """A confirmed submission waiting in the queue."""
    listing = ListingInput(
        title=title,
        kind="event",
        description="Three days of workshops.",
        link=fields.pop("link", "https://example.org/summit"),
        countries=("KE",),
        place="Nairobi",
        event_start_on=day(100),
        event_end_on=day(102),
        deadlines=(
            DeadlineInput("application", day(40), time(17), "Africa/Nairobi"),
            DeadlineInput("travel_support", day(30)),
        ),
        feed_url=feed_url,
        **fields,
    )
    submission, _ = submit(
        db.session,
        organisation="Red Legal",
        contact_name="Ana",
        contact_email="ana@example.org",
        listing=listing,
        now=NOW,
        confirm_url=lambda s: "https://openings.example.org/confirm",
    )
    confirm(db.session, submission, NOW)
    db.session.commit()
    return submission


def post(client, path: str, form_page: str | None = None, **data):
    """POST with the CSRF token of the page the form is on (by default, the target itself)."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page or path), **data})


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- the guard -----------------------------------------------------------------------------------


def admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin.") or rule.endpoint == "admin.login":
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", "1").replace(f"<{argument}>", "x.eml")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return routes


def test_every_admin_page_needs_a_moderator(app, client, create_opportunity):
    create_opportunity()
    submission = pending()
    routes = admin_routes(app)
    assert len(routes) >= 14
    token = csrf_token(client, "/submit")
    for method, path in routes:
        response = client.open(path, method=method, data={"csrf_token": token, "reason": "x"})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/admin/login?next="), (method, path)
    assert db.session.get(Submission, submission.id).status == "pending"
    assert count(Opportunity) == 1


def test_a_page_added_later_is_guarded_and_listed_in_the_menu(app, admin_client):
    add_nav("admin.queue", "Queue")
    assert NAV.count(("admin.queue", "Queue")) == 1
    page = admin_client.get("/admin/").get_data(as_text=True)
    for _endpoint, label in NAV:
        assert f">{label}</a>" in page


def test_signing_in_and_out(client, moderator):
    assert sign_in(client, moderator).headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.post("/admin/logout").status_code == 400  # no CSRF token: refused
    assert client.get("/admin/").status_code == 200
    post(client, "/admin/logout", form_page="/admin/")
    assert client.get("/admin/").status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(client, moderator):
    response = sign_in(client, moderator)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("moderator@example.org", "wrong password here"),
        ("nobody@example.org", "correct horse battery"),
        ("", ""),
    ],
)
def test_a_wrong_sign_in_is_refused_with_one_message(client, moderator, email, password):
    response = sign_in(client, Credentials(email, password, 0))
    assert response.status_code in (200, 401)
    if email:
        assert "do not match an active moderator account" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_deactivated_moderator_cannot_sign_in_and_is_signed_out(client, moderator, runner):
    sign_in(client, moderator)
    assert runner.invoke(args=["users", "deactivate", moderator.email]).exit_code == 0
    assert client.get("/admin/").status_code == 302
    assert sign_in(client, moderator).status_code == 401


@pytest.mark.parametrize(
    ("target", "landing"),
    [
        ("/admin/sources", "/admin/sources"),
        ("/admin/opportunities?q=summit", "/admin/opportunities?q=summit"),
        ("https://evil.example.com/admin/", "/admin/"),
        ("//evil.example.com/admin/", "/admin/"),
        ("/submit", "/admin/"),
    ],
)
def test_after_sign_in_only_admin_pages_are_followed(client, moderator, target, landing):
    login = client.get("/admin/login", query_string={"next": target})
    token = re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', login.get_data(as_text=True)
    ).group(1)
    response = client.post(
        "/admin/login",
        query_string={"next": target},
        data={"csrf_token": token, "email": moderator.email, "password": moderator.password},
    )
    assert response.headers["Location"] == landing


def test_sign_in_is_rate_limited(app, client, moderator):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    for _ in range(3):
        assert (
            sign_in(client, Credentials(moderator.email, "wrong password!", 0)).status_code == 401
        )
    assert sign_in(client, moderator).status_code == 429
    assert client.get("/admin/login").status_code == 200


def test_admin_pages_are_not_cached(admin_client):
    assert admin_client.get("/admin/").headers["Cache-Control"] == "no-store"


# --- the command --------------------------------------------------------------------------------


def test_create_admin_asks_twice_and_stores_a_hash(app, runner):
    result = runner.invoke(
        args=["users", "create-admin", "Mod@Example.org"],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert "a long enough secret" not in result.output
    user = db.session.scalar(db.select(User))
    assert user.email == "mod@example.org"
    assert (
        user.password_hash.startswith("scrypt:")
        and "a long enough secret" not in user.password_hash
    )


@pytest.mark.parametrize(
    ("email", "typed", "message"),
    [
        ("mod@example.org", "short\nshort\n", "at least 12 characters"),
        ("not an email", "a long enough secret\na long enough secret\n", "not an email address"),
        ("mod@example.org", "a long enough secret\nanother secret!!\n", "do not match"),
    ],
)
def test_create_admin_refuses_bad_input(app, runner, email, typed, message):
    result = runner.invoke(args=["users", "create-admin", email], input=typed)
    assert result.exit_code != 0
    assert message in result.output
    assert count(User) == 0


def test_create_admin_refuses_a_second_account_with_the_same_address(runner, moderator):
    result = runner.invoke(
        args=["users", "create-admin", moderator.email.upper()],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 1 and "already exists" in result.output


# --- the queue ----------------------------------------------------------------------------------


def test_the_queue_warns_of_duplicates(admin_client, create_opportunity):
    listed = create_opportunity("Regional Summit on Legal Empowerment!", organiser="red legal")
    same_link = create_opportunity("Other title", link="https://example.org/summit")
    submission = pending()
    queue = admin_client.get("/admin/").get_data(as_text=True)
    assert "Possible duplicate" in queue
    assert (
        f"/admin/opportunities/{listed.id}" in queue
        and "similar title from the same organiser" in queue
    )
    assert f"/admin/opportunities/{same_link.id}" in queue and "same link" in queue
    page = admin_client.get(f"/admin/submissions/{submission.id}").get_data(as_text=True)
    assert "Possible duplicate" in page and "ana@example.org" in page


def test_edit_then_approve(admin_client, smtp_server):
    submission = pending()
    edit = f"/admin/submissions/{submission.id}/edit"
    page = admin_client.get(edit).get_data(as_text=True)
    assert 'value="Regional summit on legal empowerment"' in page
    assert '<option selected value="Africa/Nairobi">' in page
    data = {
        "csrf_token": csrf_token(admin_client, edit),
        "organisation": "Red Legal",
        "contact_name": "Ana",
        "contact_email": "ana@example.org",
        "title": "Regional summit on legal empowerment 2027",
        "kind": "event",
        "description": "Three days of workshops.",
        "link": "https://example.org/summit",
        "countries": ["KE", "TZ"],
        "event_start_on": day(100).isoformat(),
        "event_end_on": day(102).isoformat(),
        "deadlines-0-kind": "application",
        "deadlines-0-due_on": day(40).isoformat(),
        "deadlines-0-due_time": "17:00",
        "deadlines-0-time_zone": "Africa/Nairobi",
        "deadlines-1-kind": "travel_support",
        "deadlines-1-due_on": day(35).isoformat(),
        "deadlines-2-due_on": "",
        "action": "approve",
    }
    response = admin_client.post(edit, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    opportunity = db.session.scalar(db.select(Opportunity))
    assert opportunity.title == "Regional summit on legal empowerment 2027"
    assert opportunity.country_codes == ["KE", "TZ"]
    assert {d.kind: (d.due_on, d.origin) for d in opportunity.deadlines} == {
        "application": (day(40), "partner"),
        "travel_support": (day(35), "moderator"),
    }
    submission = db.session.get(Submission, submission.id)
    assert submission.status == "approved" and submission.decided_by_id is not None
    mail = smtp_server.wait_for(1)[0]
    assert mail.recipients == ["ana@example.org"]
    assert f"/opportunities/{opportunity.id}" in mail.message.get_body(("plain",)).get_content()


def test_edit_shows_problems_and_keeps_the_submission_waiting(admin_client):
    submission = pending()
    edit = f"/admin/submissions/{submission.id}/edit"
    data = {
        "csrf_token": csrf_token(admin_client, edit),
        "organisation": "Red Legal",
        "contact_name": "Ana",
        "contact_email": "ana@example.org",
        "title": "Summit",
        "kind": "event",
        "description": "x",
        "link": "https://example.org/summit",
        "is_online": "y",
        "deadlines-0-due_on": day(-5).isoformat(),
        "action": "approve",
    }
    response = admin_client.post(edit, data=data)
    assert response.status_code == 422
    assert "This deadline has already passed." in response.get_data(as_text=True)
    assert db.session.get(Submission, submission.id).status == "pending"
    assert count(Opportunity) == 0
    data.update({"deadlines-0-due_on": day(5).isoformat(), "action": "save"})
    assert admin_client.post(edit, data=data).status_code == 302
    saved = db.session.get(Submission, submission.id)
    assert saved.status == "pending" and saved.details["title"] == "Summit"


def test_approving_a_listing_whose_deadline_has_since_passed_asks_for_an_edit(client, moderator):
    submission = pending()
    with time_machine.travel(NOW + timedelta(days=45)):
        admin_client = client
        sign_in(client, moderator)  # a session lasts 31 days at most
        response = post(
            admin_client,
            f"/admin/submissions/{submission.id}/approve",
            form_page=f"/admin/submissions/{submission.id}",
        )
        assert response.headers["Location"].endswith(f"/admin/submissions/{submission.id}/edit")
    assert count(Opportunity) == 0


def test_reject_needs_a_reason_and_emails_it(admin_client, smtp_server):
    submission = pending()
    page = f"/admin/submissions/{submission.id}"
    empty = post(admin_client, f"{page}/reject", form_page=page, reason="  ")
    assert empty.status_code == 422 and "Say why" in empty.get_data(as_text=True)
    assert (
        post(
            admin_client, f"{page}/reject", form_page=page, reason="The link is broken."
        ).status_code
        == 302
    )
    assert db.session.get(Submission, submission.id).status == "rejected"
    mail = smtp_server.wait_for(1)[0].message
    assert "The link is broken." in mail.get_body(("plain",)).get_content()
    assert "The link is broken." in admin_client.get(page).get_data(as_text=True)


def test_a_decided_submission_cannot_be_decided_again(admin_client):
    submission = pending()
    page = f"/admin/submissions/{submission.id}"
    post(admin_client, f"{page}/approve", form_page=page)
    again = post(admin_client, f"{page}/approve", form_page=page)
    assert again.headers["Location"] == page
    post(admin_client, f"{page}/reject", form_page=page, reason="late")
    assert count(Opportunity) == 1
    assert db.session.get(Submission, submission.id).status == "approved"


# --- corrections --------------------------------------------------------------------------------


def test_correcting_a_listing_through_the_form(admin_client, create_opportunity):
    opportunity = create_opportunity(
        deadlines=[("application", day(20)), ("registration", day(50)), ("abstract", day(-10))],
        countries=("KE",),
        kind="other",
    )
    rows = {d.kind: d.id for d in opportunity.deadlines}
    path = f"/admin/opportunities/{opportunity.id}"
    page = admin_client.get(path).get_data(as_text=True)
    assert "Remove this deadline" in page
    data = {
        "csrf_token": csrf_token(admin_client, path),
        "kind": "fellowship",
        "countries": ["PE"],
        "place": "Lima",
        "deadlines-0-row_id": str(rows["abstract"]),
        "deadlines-0-kind": "abstract",
        "deadlines-0-due_on": day(-10).isoformat(),
        "deadlines-1-row_id": str(rows["application"]),
        "deadlines-1-kind": "application",
        "deadlines-1-due_on": day(25).isoformat(),
        "deadlines-1-due_time": "12:00",
        "deadlines-1-time_zone": "America/Lima",
        "deadlines-2-row_id": str(rows["registration"]),
        "deadlines-2-kind": "registration",
        "deadlines-2-due_on": day(50).isoformat(),
        "deadlines-2-remove": "y",
        "deadlines-3-kind": "travel_support",
        "deadlines-3-due_on": day(15).isoformat(),
        "action": "preview",
    }
    preview = admin_client.post(path, data=data)
    assert preview.status_code == 200 and '<span class="city">Dhaka</span>' in preview.get_data(
        as_text=True
    )
    assert not db.session.get(Opportunity, opportunity.id).is_corrected
    data["action"] = "save"
    assert admin_client.post(path, data=data).status_code == 302
    db.session.expire_all()
    corrected = db.session.get(Opportunity, opportunity.id)
    assert corrected.is_corrected
    assert (corrected.kind, corrected.country_codes, corrected.place) == (
        "fellowship",
        ["PE"],
        "Lima",
    )
    assert [(d.kind, d.origin) for d in corrected.deadlines] == [
        ("abstract", "extracted"),
        ("travel_support", "moderator"),
        ("application", "moderator"),
    ]
    application = corrected.deadlines[2]
    assert application.id == rows["application"]
    assert application.due_at == datetime.combine(day(25), time(17), UTC)


def test_a_zone_stated_by_a_feed_is_kept_by_a_correction(admin_client, create_opportunity):
    opportunity = create_opportunity(deadlines=[("application", day(20), time(18), "CET")])
    path = f"/admin/opportunities/{opportunity.id}"
    page = admin_client.get(path).get_data(as_text=True)
    assert '<option selected value="CET">CET</option>' in page
    response = admin_client.post(
        path,
        data={
            "csrf_token": csrf_token(admin_client, path),
            "kind": "event",
            "is_online": "y",
            "deadlines-0-row_id": str(opportunity.deadlines[0].id),
            "deadlines-0-kind": "application",
            "deadlines-0-due_on": day(20).isoformat(),
            "deadlines-0-due_time": "18:00",
            "deadlines-0-time_zone": "CET",
            "action": "save",
        },
    )
    assert response.status_code == 302
    [deadline] = db.session.get(Opportunity, opportunity.id).deadlines
    assert (deadline.time_zone, deadline.origin) == ("CET", "extracted")


def test_an_unchanged_deadline_without_a_zone_does_not_block_a_correction(
    admin_client, create_opportunity
):
    opportunity = create_opportunity(deadlines=[("application", day(20), time(18))])
    path = f"/admin/opportunities/{opportunity.id}"
    response = admin_client.post(
        path,
        data={
            "csrf_token": csrf_token(admin_client, path),
            "kind": "grant",
            "is_online": "y",
            "deadlines-0-row_id": str(opportunity.deadlines[0].id),
            "deadlines-0-kind": "application",
            "deadlines-0-due_on": day(20).isoformat(),
            "deadlines-0-due_time": "18:00",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert db.session.get(Opportunity, opportunity.id).kind == "grant"


def test_a_time_without_a_zone_is_refused_in_a_correction(admin_client, create_opportunity):
    opportunity = create_opportunity(deadlines=[("application", day(20))])
    path = f"/admin/opportunities/{opportunity.id}"
    response = admin_client.post(
        path,
        data={
            "csrf_token": csrf_token(admin_client, path),
            "kind": "event",
            "deadlines-0-due_on": day(20).isoformat(),
            "deadlines-0-due_time": "09:00",
            "action": "save",
        },
    )
    assert response.status_code == 422
    assert "Choose the time zone of this time." in response.get_data(as_text=True)
    assert not db.session.get(Opportunity, opportunity.id).is_corrected


def test_hiding_and_showing_a_listing(admin_client, client, create_opportunity):
    opportunity = create_opportunity(deadlines=[("application", day(20))])
    path = f"/admin/opportunities/{opportunity.id}"
    post(admin_client, f"{path}/visibility", form_page=path, status="hidden")
    assert db.session.get(Opportunity, opportunity.id).status == "hidden"
    assert admin_client.get(f"/opportunities/{opportunity.id}").status_code == 404
    assert opportunity.title not in admin_client.get("/").get_data(as_text=True)
    post(admin_client, f"{path}/visibility", form_page=path, status="published")
    assert admin_client.get(f"/opportunities/{opportunity.id}").status_code == 200


def test_the_listings_page_finds_by_title(admin_client, create_opportunity):
    create_opportunity("Summit on 100% legal aid")
    create_opportunity("Fellowship")
    page = admin_client.get("/admin/opportunities", query_string={"q": "100%"}).get_data(
        as_text=True
    )
    assert "Summit on 100% legal aid" in page and ">Fellowship<" not in page


# --- feeds, sources, mail -----------------------------------------------------------------------


def test_declining_a_proposed_feed(admin_client):
    submission = pending(feed_url="https://example.org/feed.xml")
    assert "https://example.org/feed.xml" in admin_client.get("/admin/feeds").get_data(as_text=True)
    post(
        admin_client, f"/admin/feeds/{submission.id}", form_page="/admin/feeds", decision="decline"
    )
    assert db.session.get(Submission, submission.id).proposed_feed_status == "declined"
    assert count(Source) == 0
    assert "No feed waits" in admin_client.get("/admin/feeds").get_data(as_text=True)


def test_adding_a_proposed_feed_uses_the_ssrf_guard(app, admin_client):
    app.config["FEEDS_ALLOW_PRIVATE_ADDRESSES"] = False
    submission = pending(feed_url="http://127.0.0.1:9/feed.xml")
    refused = post(
        admin_client, f"/admin/feeds/{submission.id}", form_page="/admin/feeds", decision="add"
    )
    assert "Not added" in admin_client.get(refused.headers["Location"]).get_data(as_text=True)
    assert count(Source) == 0
    assert db.session.get(Submission, submission.id).proposed_feed_status == "proposed"
    app.config["FEEDS_ALLOW_PRIVATE_ADDRESSES"] = True
    post(admin_client, f"/admin/feeds/{submission.id}", form_page="/admin/feeds", decision="add")
    source = db.session.scalar(db.select(Source))
    assert (source.kind, source.url, source.name) == (
        "feed",
        "http://127.0.0.1:9/feed.xml",
        "Red Legal",
    )
    assert db.session.get(Submission, submission.id).proposed_feed_status == "added"


def test_sources_show_their_health(admin_client):
    db.session.add_all(
        [
            Source(name="Healthy feed", url="https://a.example.org/feed", kind="feed"),
            Source(
                name="Broken feed",
                url="https://b.example.org/feed",
                kind="feed",
                consecutive_errors=4,
                last_error="HTTP 500 from b.example.org",
                created_at=NOW - timedelta(days=5),
            ),
        ]
    )
    db.session.commit()
    page = admin_client.get("/admin/sources").get_data(as_text=True)
    assert page.index("Broken feed") < page.index("Healthy feed")
    assert page.count("(stale: no success for 3 days)") == 1
    assert "HTTP 500 from b.example.org" in page and 'class="failing"' in page


def test_the_sent_mail_log_lists_the_outbox(admin_client):
    pending()
    page = admin_client.get("/admin/mail").get_data(as_text=True)
    assert "submission-confirm" in page and "ana@example.org" in page
    assert "Confirm your listing on Openings" in page
    assert "Caught by the local mail catcher" not in page  # only in development


def test_caught_mail_is_listed_in_development(app, admin_client, tmp_path):
    app.config.update(ENVIRONMENT="development", MAIL_CATCHER_DIR=str(tmp_path))
    (tmp_path / "20270301T120000-0001.eml").write_bytes(
        b"From: Openings <openings@localhost>\r\nTo: ana@example.org\r\n"
        b"Subject: <b>Confirm</b> your listing\r\nDate: Mon, 1 Mar 2027 12:00:00 +0000\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nHello <script>x</script>\r\n"
    )
    (tmp_path / "notes.txt").write_text("not mail")
    page = admin_client.get("/admin/mail").get_data(as_text=True)
    assert "&lt;b&gt;Confirm&lt;/b&gt; your listing" in page and "notes.txt" not in page
    message = admin_client.get("/admin/mail/caught/20270301T120000-0001.eml").get_data(as_text=True)
    assert "Hello &lt;script&gt;x&lt;/script&gt;" in message
    for name in ("notes.txt", "..%2Fsecret_key", "missing.eml", ".eml"):
        assert admin_client.get(f"/admin/mail/caught/{name}").status_code == 404


def test_outbox_rows_are_shown_as_text(admin_client):
    db.session.add(
        OutboxMessage(
            category="test",
            to_address="x@example.org",
            subject="<img src=x onerror=alert(1)>",
            message="",
            message_id="<1@x>",
            last_error="<script>alert(1)</script>",
        )
    )
    db.session.commit()
    page = admin_client.get("/admin/mail").get_data(as_text=True)
    assert "<img src=x" not in page and "<script>alert" not in page
