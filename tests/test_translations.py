"""The interface in English, Spanish, French and Portuguese: catalogues complete and compiled,
every page and email translated, the language chosen and kept, dates written per language."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from email import message_from_string, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from conftest import csrf_token, sign_in
from flask import abort, render_template
from flask_babel import force_locale

from directory import ROOT, display
from directory.extensions import db
from directory.i18n import LANGUAGES
from directory.listings import DeadlineInput, ListingInput
from directory.models import OutboxMessage, Submission, Subscriber, User, utcnow
from directory.moderation import approve, confirm, reject, submit
from directory.submissions import _confirm_url
from directory.subscriptions import manage_url, unsubscribe_url

CATALOGUES = ROOT / "directory" / "translations"
TRANSLATED = [code for code in LANGUAGES if code != "en"]

SAME_BY_DESIGN: dict[str, set[str]] = {
    "es": {"%(countdown)s: %(title)s", "Asia", "Australia", "Error:", "no"},
    "fr": {
        "Contact",
        "Date",
        "Description",
        "Europe",
        "Organisation",
        "Site",
        "Source",
        "Source %(id)d",
        "Sources",
        "active",
    },
    "pt": {
        "%(countdown)s: %(title)s",
        "Feed",
        "Link",
        "Online",
        "Site",
        "feed",
        "feed (Atom)",
        "online",
    },
}
"""Messages whose translation is the English text itself, on purpose (a word both languages
share). Anything else left identical counts as untranslated."""


def _catalogue(language: str):
    with (CATALOGUES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def _extracted(tmp_path: Path):
    """The messages the code and templates use now, extracted as `make translations` does."""
    output = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pybabel")),
            "-q",
            "extract",
            "--mapping-file",
            "babel.cfg",
            "--keywords",
            "_l",
            "--keywords",
            "lazy_gettext",
            "--keywords",
            "lazy_ngettext:1,2",
            "--keywords",
            "N_",
            "--ignore-dirs",
            ".* node_modules",
            "--output-file",
            str(output),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    with output.open("rb") as handle:
        return read_po(handle)


def _key(value: str | list | tuple) -> str | tuple:
    return value if isinstance(value, str) else tuple(value)


def _message_ids(catalogue) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}


# --- the catalogues ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_the_code_uses_is_translated(tmp_path, language):
    used = _message_ids(_extracted(tmp_path))
    catalogue = _catalogue(language)
    done = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)
    }
    missing = sorted(used - done)
    assert not missing, (
        f"{language}: {len(missing)} messages untranslated (make translations): {missing[:10]}"
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(language):
    catalogue = _catalogue(language)
    folder = CATALOGUES / language / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as handle:
        compiled = read_mo(handle)
    wanted = {_key(m.id): _key(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}
    found = {_key(m.id): _key(m.string) for m in compiled if m.id}
    assert found == wanted, f"{folder / 'messages.mo'} is stale: run make translations"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    for message in _catalogue(language):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[-1])) - {"%(num)d"}
        for string in strings:
            assert wanted <= set(re.findall(r"%\(\w+\)[sd]", string)), (language, message.id)


@pytest.mark.parametrize("language", TRANSLATED)
def test_only_the_listed_messages_read_the_same_as_in_english(language):
    same = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in _catalogue(language)
        if m.id and (m.string == m.id or (isinstance(m.id, tuple) and m.string[0] == m.id[0]))
    }
    assert same == SAME_BY_DESIGN.get(language, set())


# --- what a page or an email shows ------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class VisibleText(HTMLParser):
    """The text a reader meets (text, labels in attributes), less what carries its own `lang`."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []
        self.page_language: str | None = None

    def _hidden(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.page_language = attributes.get("lang")
            return
        own_language = "lang" in attributes and tag != "html"
        if not self._hidden() and not own_language:
            for name in ("title", "aria-label", "placeholder", "alt", "label"):
                if attributes.get(name):
                    self.texts.append(attributes[name])
        if tag not in VOID:
            self.stack.append((tag, own_language))

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] in ("script", "style"):
            return
        if not self._hidden() and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> tuple[str | None, list[str]]:
    parser = VisibleText()
    parser.feed(html)
    return parser.page_language, [" ".join(t.split()) for t in parser.texts]


def _english_pieces(language: str) -> tuple[set[str], set[str]]:
    """English that must not show in `language`: whole messages, and long pieces of them."""
    whole, pieces = set(), set()
    for message in _catalogue(language):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        if ids[0] in SAME_BY_DESIGN.get(language, set()):
            continue
        for english in ids:
            plain = re.sub(
                r"<code>.*?</code>|<[^>]+>", "\x00", english
            )  # commands stay as they are
            parts = [p.strip(" .,:;") for p in re.split(r"%\(\w+\)[sd]|\x00", plain)]
            if len(parts) == 1:
                whole.add(parts[0])
            pieces.update(p for p in parts if len(p.split()) >= 3)
    return whole, pieces


def untranslated(texts: list[str], language: str) -> list[str]:
    """Text nodes that are, or contain, English interface text."""
    whole, pieces = _english_pieces(language)
    found = []
    for text in texts:
        bare = text.strip(" .,:;()·—–←")
        if bare in whole or any(piece in text for piece in pieces):
            found.append(text)
    return found


def assert_translated(html: str, language: str, where: str) -> None:
    page_language, texts = visible_texts(html)
    assert page_language in (None, language), f"{where}: <html lang={page_language}>"
    left = untranslated(texts, language)
    assert not left, f"{where} in {language}: English left: {left}"


# --- every page -------------------------------------------------------------------------------

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)


def _listing(title: str = "Cumbre regional sobre empoderamiento jurídico") -> ListingInput:
    start = (utcnow() + timedelta(days=100)).date()
    return ListingInput(
        title=title,
        kind="event",
        description="Tres días de talleres.",
        link="https://example.org/cumbre",
        countries=("KE", "PE"),
        place="Nairobi",
        event_start_on=start,
        event_end_on=start + timedelta(days=2),
        deadlines=(
            DeadlineInput("application", start - timedelta(days=60), time(17), "Africa/Nairobi"),
            DeadlineInput("travel_support", start - timedelta(days=70)),
        ),
        feed_url="https://example.org/feed.xml",
    )


def _submission(language: str, status: str = "pending") -> Submission:
    submission, _ = submit(
        db.session,
        organisation="Red Legal",
        contact_name="Ana",
        contact_email="ana@example.org",
        listing=_listing(),
        now=utcnow(),
        confirm_url=_confirm_url,
        language=language,
    )
    if status != "unconfirmed":
        confirm(db.session, submission, utcnow())
    db.session.commit()
    return submission


@pytest.fixture
def listed(create_opportunity):
    """An open listing with every part a page shows, a closed one, and one in English."""
    today = utcnow().date()
    open_one = create_opportunity(
        "Beca de justicia en Bogotá",
        language="es",
        kind="fellowship",
        organiser="Fundación Justicia",
        deadlines=[
            ("application", today + timedelta(days=20), time(17), "America/Bogota"),
            ("registration", today + timedelta(days=30)),
        ],
        countries=("CO",),
        place="Bogotá",
        is_online=True,
        event_start_on=today + timedelta(days=40),
        event_end_on=today + timedelta(days=42),
        offers_travel=True,
        offers_stipend=True,
        funding_amount=Decimal("1500"),
        funding_currency="USD",
        eligibility="Abogadas y paralegales de América Latina.",
        languages="español",
        summary_html="<p>Una beca para paralegales.</p>",
    )
    closed = create_opportunity(
        "Convocatoria cerrada en Lima",
        language="es",
        kind="fellowship",
        deadlines=[("application", today - timedelta(days=5))],
        countries=("PE",),
    )
    english = create_opportunity(
        "Regional summit on legal empowerment",
        language="en",
        kind="event",
        deadlines=[("application", today + timedelta(days=3))],
        countries=("KE",),
    )
    return open_one, closed, english


def _pages(app, client, listed) -> dict[str, tuple[str, int, dict | None]]:
    open_one, closed, _ = listed
    subscriber = Subscriber(email="reader@example.org", status="active", language="es")
    db.session.add(subscriber)
    db.session.commit()
    path = lambda url: url.split("openings.example.org", 1)[1]  # noqa: E731
    return {
        "list": ("/", 200, None),
        "list with filters and notes": (
            "/?kind=fellowship&region=latin-america-caribbean&closing=30&funding=travel&online=yes"
            "&lang=es&kind=spaceship&bogus=1",
            200,
            None,
        ),
        "closed list": ("/?status=past", 200, None),
        "empty list": ("/?q=zzzzqqq", 200, None),
        "detail": (f"/opportunities/{open_one.id}", 200, None),
        "past listing": (f"/opportunities/{closed.id}", 200, None),
        "time zone": ("/time-zone", 200, None),
        "submit form": ("/submit", 200, None),
        "submission sent": ("/submit/sent", 200, None),
        "manage alerts": (path(manage_url(subscriber)), 200, None),
        "unsubscribe": (path(unsubscribe_url(subscriber)), 200, None),
        "unsubscribed": (path(unsubscribe_url(subscriber)), 200, {}),
        "not found": ("/no-such-page", 404, None),
        "server error": ("/test-server-error", 500, None),
    }


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_public_page_is_in_the_readers_language(app, client, listed, language):
    app.add_url_rule("/test-server-error", "test_server_error", lambda: abort(500))
    client.set_cookie("hl", language)
    for name, (url, status, form) in _pages(app, client, listed).items():
        response = client.get(url) if form is None else client.post(url, data=form)
        assert response.status_code == status, (name, response.status_code)
        assert_translated(response.get_data(as_text=True), language, name)


@pytest.mark.parametrize("language", TRANSLATED)
def test_forms_with_errors_and_submission_steps_are_translated(app, client, language):
    client.set_cookie("hl", language)
    token = csrf_token(client, "/submit")
    page = client.post(
        "/submit",
        data={
            "csrf_token": token,
            "action": "send",
            "link": "not a link",
            "funding_amount": "lots",
            "deadlines-0-due_on": "tomorrow",
            "deadlines-0-due_time": "17:00",
            "contact_email": "nobody",
        },
    )
    assert page.status_code == 422
    assert_translated(page.get_data(as_text=True), language, "submit form with errors")
    preview = client.post(
        "/submit", data={"csrf_token": token, "action": "add_deadline", "deadlines-0-due_on": "x"}
    )
    assert_translated(preview.get_data(as_text=True), language, "submit form, one row more")

    submission = _submission(language, status="unconfirmed")
    confirm_path = _confirm_url(submission).split("openings.example.org", 1)[1]
    asked = client.get(confirm_path)
    assert_translated(asked.get_data(as_text=True), language, "confirm: ask")
    done = client.post(confirm_path, data={"csrf_token": csrf_token(client, confirm_path)})
    assert_translated(done.get_data(as_text=True), language, "confirm: confirmed")
    again = client.get(confirm_path)
    assert_translated(again.get_data(as_text=True), language, "confirm: already done")
    time_zone = client.post("/time-zone", data={"csrf_token": token, "tz": "Mars/Olympus"})
    assert time_zone.status_code == 400
    assert_translated(time_zone.get_data(as_text=True), language, "time zone refused")


@pytest.mark.parametrize("language", TRANSLATED)
def test_error_and_unavailable_pages_are_translated(app, language):
    with app.test_request_context(f"/?hl={language}"):
        html = render_template("errors/database.html")
    assert_translated(html, language, "database unavailable")


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_admin_page_is_in_the_moderators_language(
    app, client, moderator, create_opportunity, listed, language
):
    client.set_cookie("hl", language)
    login = client.get("/admin/login")
    assert_translated(login.get_data(as_text=True), language, "sign in")
    refused = client.post(
        "/admin/login",
        data={"csrf_token": csrf_token(client, "/admin/login"), "email": "x@example.org"},
    )
    assert_translated(refused.get_data(as_text=True), language, "sign in refused")
    assert sign_in(client, moderator).status_code == 302
    waiting = _submission(language)
    decided = _submission(language)
    reject(db.session, decided, moderator=None, reason="Falta el enlace.", now=utcnow())
    db.session.commit()
    open_one = listed[0]
    pages = {
        "queue": "/admin/",
        "submission": f"/admin/submissions/{waiting.id}",
        "rejected submission": f"/admin/submissions/{decided.id}",
        "edit submission": f"/admin/submissions/{waiting.id}/edit",
        "listings": "/admin/opportunities",
        "correct": f"/admin/opportunities/{open_one.id}",
        "proposed feeds": "/admin/feeds",
        "sources": "/admin/sources",
        "sent mail": "/admin/mail",
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert_translated(response.get_data(as_text=True), language, name)
    token = csrf_token(client, f"/admin/submissions/{waiting.id}")
    empty_reason = client.post(
        f"/admin/submissions/{waiting.id}/reject", data={"csrf_token": token, "reason": ""}
    )
    assert empty_reason.status_code == 422
    assert_translated(empty_reason.get_data(as_text=True), language, "reject without reason")
    approved = client.post(
        f"/admin/submissions/{waiting.id}/approve",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert_translated(approved.get_data(as_text=True), language, "approved, with its flash")


# --- every email ------------------------------------------------------------------------------


def _bodies(queued: OutboxMessage) -> tuple[str, str, str]:
    message = message_from_string(queued.message, policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return str(message["Subject"]), text, html


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_email_is_in_its_recipients_language(app, create_moderator, language):
    create_moderator()
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        submission = _submission(language, status="unconfirmed")
        asked = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.category == "submission-confirm")
        )
        user = db.session.scalar(db.select(User))
        user.language = language
        notices = confirm(db.session, submission, utcnow())
        _, approved = approve(
            db.session, submission, moderator=None, now=utcnow(), listing=_listing()
        )
        other = _submission(language)
        rejected = reject(
            db.session, other, moderator=None, reason="Falta el enlace.", now=utcnow()
        )
        db.session.commit()
    emails = {
        "confirm": asked,
        "moderators": notices[0],
        "approved": approved,
        "rejected": rejected,
    }
    for name, queued in emails.items():
        subject, text, html = _bodies(queued)
        assert untranslated([subject], language) == [], (name, subject)
        assert not untranslated([" ".join(line.split()) for line in text.splitlines()], language), (
            name,
            text,
        )
        assert_translated(html, language, f"email {name}")
        assert f'<html lang="{language}">' in html


def test_an_email_escapes_what_the_recipient_typed(app):
    _, message = submit(
        db.session,
        organisation="<b>Org</b>",
        contact_name="<script>x</script>",
        contact_email="ana@example.org",
        listing=_listing(),
        now=utcnow(),
        confirm_url=_confirm_url,
        language="fr",
    )
    _, _, html = _bodies(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Bonjour" in html


# --- choosing the language ---------------------------------------------------------------------


def test_the_browsers_language_is_used_until_one_is_chosen(client):
    page = client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in page.get_data(as_text=True)
    assert "Accept-Language" in page.headers["Vary"]


def test_a_chosen_language_is_kept_in_a_cookie_and_beats_the_browsers(client):
    chosen = client.get("/?hl=pt&kind=fellowship", headers={"Accept-Language": "fr"})
    assert '<html lang="pt">' in chosen.get_data(as_text=True)
    cookie = chosen.headers["Set-Cookie"]
    assert cookie.startswith("hl=pt") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    later = client.get("/time-zone", headers={"Accept-Language": "fr"})
    assert '<html lang="pt">' in later.get_data(as_text=True)


def test_the_switcher_keeps_the_page_and_its_filters(client):
    html = client.get("/?kind=fellowship&country=KE&hl=es").get_data(as_text=True)
    switcher = html[html.index('class="languages"') :]
    for code, name in LANGUAGES.items():
        assert (
            f'<a href="/?kind=fellowship&amp;country=KE&amp;hl={code}" hreflang="{code}" '
            f'lang="{code}"'
        ) in switcher
        assert name in switcher
    assert 'hreflang="es" lang="es" aria-current="true"' in switcher
    assert "Unknown parameter" not in html and "Parámetro" not in html


def test_each_language_gets_its_own_cached_page(client):
    english = client.get("/").get_data(as_text=True)
    client.set_cookie("hl", "es")
    spanish = client.get("/").get_data(as_text=True)
    assert "Open opportunities" in english
    assert "Oportunidades abiertas" in spanish and "Open opportunities" not in spanish


def test_listings_keep_their_own_language_marked(client, listed):
    open_one, _, english = listed
    page = client.get("/?hl=fr").get_data(as_text=True)
    assert (
        f'<a href="/opportunities/{open_one.id}" lang="es">Beca de justicia en Bogotá</a>' in page
    )
    assert f'<a href="/opportunities/{english.id}" lang="en">Regional summit' in page
    detail = client.get(f"/opportunities/{open_one.id}?hl=fr").get_data(as_text=True)
    assert '<h1 lang="es">Beca de justicia en Bogotá</h1>' in detail
    assert '<div class="summary" lang="es">' in detail
    assert "Colombie" in detail and "1\u202f500\u00a0$US" in detail


# --- dates, amounts and names per language ----------------------------------------------------


@pytest.mark.parametrize(
    ("language", "day", "amount", "country", "region"),
    [
        ("en", "15 April 2026", "€1,500", "Côte d’Ivoire", "Latin America and the Caribbean"),
        (
            "es",
            "15 de abril de 2026",
            "1.500\u00a0€",
            "Côte d’Ivoire",
            "América Latina y el Caribe",
        ),
        (
            "fr",
            "15 avril 2026",
            "1\u202f500\u00a0€",
            "Côte d’Ivoire",
            "Amérique latine et Caraïbes",
        ),
        ("pt", "15 de abril de 2026", "€\u00a01.500", "Costa do Marfim", "América Latina e Caribe"),
    ],
)
def test_dates_amounts_and_places_are_written_per_language(
    app, language, day, amount, country, region
):
    with app.test_request_context(f"/?hl={language}"):
        assert display.long_date(date(2026, 4, 15)) == day
        assert display.amount(Decimal("1500"), "EUR") == amount
        assert display.country_name("CI") == country
        assert display.region_name("latin-america-caribbean") == region
        moment = datetime(2026, 4, 15, 23, 59, tzinfo=UTC)
        assert display.clock_time(moment).endswith("23:59")
        assert "2026" in display.clock_time(moment)


@pytest.mark.parametrize(
    ("language", "days", "phrase"),
    [
        ("en", 12, "closes in 12 days"),
        ("es", 12, "cierra en 12 días"),
        ("fr", 1, "clôture demain"),
        ("fr", 12, "clôture dans 12 jours"),
        ("pt", 12, "encerra em 12 dias"),
        ("pt", -3, "encerrou há 3 dias"),
    ],
)
def test_countdowns_are_counted_in_the_readers_language(app, language, days, phrase):
    now = datetime(2026, 4, 1, 12, tzinfo=UTC)
    with app.app_context(), force_locale(language):
        due_at = now + timedelta(days=days, minutes=5 if days > 0 else -5)
        assert display.countdown(due_at, now) == phrase


def test_emails_outside_a_request_use_the_language_given(app):
    from directory.mail import render

    with app.app_context():
        _, html = render(
            "notice", language="pt", subject="x", heading="h", paragraphs=[], link=None
        )
    assert '<html lang="pt">' in html
    assert "eventos, bolsas e apoios de viagem" in html


def test_the_check_finds_english_left_in_a_page(client, listed):
    """The checks above can fail: an English page is full of what they look for."""
    html = client.get(f"/opportunities/{listed[0].id}?hl=en").get_data(as_text=True)
    _, texts = visible_texts(html)
    left = untranslated(texts, "es")
    assert {"Deadlines", "Details", "Funding offered"} <= set(left)
    assert "Beca de justicia en Bogotá" not in texts  # the listing's own h1 is left out


# --- subscriptions: their pages and emails ------------------------------------------------------


def path_of(url: str) -> str:
    return url.split("openings.example.org", 1)[1]


@pytest.mark.parametrize("language", TRANSLATED)
def test_subscription_pages_are_in_the_readers_language(app, client, listed, language):
    from directory.subscriptions import confirm_url

    client.set_cookie("hl", language)
    pending_one = Subscriber(email="new@example.org", status="pending", language=language)
    db.session.add(pending_one)
    db.session.commit()
    pages = {
        "subscribe": "/subscribe?kind=fellowship&region=africa",
        "subscription sent": "/subscribe/sent",
        "confirm alerts": path_of(confirm_url(pending_one)),
        "manage a pending subscription": path_of(manage_url(pending_one)),
    }
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        assert_translated(response.get_data(as_text=True), language, name)
    token = csrf_token(client, "/subscribe")
    refused = client.post("/subscribe", data={"csrf_token": token, "email": "nobody"})
    assert refused.status_code == 422
    assert_translated(refused.get_data(as_text=True), language, "subscribe with errors")


def _email_parts(email: bytes | tuple[str, str]) -> tuple[str, str, str]:
    if isinstance(email, tuple):
        return "", *email
    message = message_from_string(email.decode("ascii"), policy=policy.default)
    text = message.get_body(("plain",)).get_content()
    return str(message["Subject"]), text, message.get_body(("html",)).get_content()


def assert_email_translated(name: str, email, language: str) -> None:
    subject, text, html = _email_parts(email)
    assert not untranslated([subject], language), (name, subject)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert not untranslated(lines, language), (name, text)
    assert_translated(html, language, f"email {name}")


@pytest.mark.parametrize("language", TRANSLATED)
def test_subscription_emails_are_in_the_subscribers_language(app, language):
    from directory.mail import render

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        for name, context in (
            ("subscription_confirm", {"confirm_url": "https://example.org/c", "days": 7}),
            (
                "subscription_manage",
                {"manage_url": "https://example.org/m", "remind_url": "https://example.org/r"},
            ),
        ):
            email = render(name, language=language, subject="", **context)
            assert_email_translated(name, email, language)


def test_a_subscribers_pages_speak_the_language_of_their_emails(client):
    subscriber = Subscriber(email="lectora@example.org", status="active", language="pt")
    db.session.add(subscriber)
    db.session.commit()
    page = client.get(path_of(manage_url(subscriber)), headers={"Accept-Language": "fr"})
    assert '<html lang="pt">' in page.get_data(as_text=True)
    client.set_cookie("hl", "es")
    chosen = client.get(path_of(manage_url(subscriber)))
    assert '<html lang="es">' in chosen.get_data(as_text=True)


def test_the_switcher_never_links_to_an_address_that_only_takes_a_form(app, admin_client):
    submission = _submission("en")
    token = csrf_token(admin_client, f"/admin/submissions/{submission.id}")
    page = admin_client.post(
        f"/admin/submissions/{submission.id}/reject", data={"csrf_token": token, "reason": ""}
    ).get_data(as_text=True)
    assert '<a href="/?hl=fr" hreflang="fr"' in page
    assert admin_client.get("/?hl=fr").status_code == 200


# --- alerts: the delivery log and the alert and digest emails ---------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_delivery_log_is_in_the_moderators_language(admin_client, language):
    admin_client.set_cookie("hl", language)
    for url in ("/admin/deliveries", "/admin/deliveries?status=missed"):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert_translated(page.get_data(as_text=True), language, url)


@pytest.mark.parametrize("language", TRANSLATED)
def test_alert_and_digest_emails_are_in_the_subscribers_language(app, listed, language):
    from directory.alerts import DueAlert, compose
    from directory.digest import compose_digest

    open_one = listed[0]
    deadline = open_one.deadlines[0]
    subscriber = Subscriber(
        email="reader@example.org", status="active", language=language, buffer_days=3
    )
    db.session.add(subscriber)
    db.session.commit()
    alerts = [
        DueAlert(
            id=number,
            kind=kind,
            lead_days=14,
            deadline_due_at=deadline.due_at,
            subscriber_id=subscriber.id,
            email=subscriber.email,
            language=language,
            time_zone="America/Lima",
            buffer_days=3,
            subscriber_status="active",
            deadline_kind=deadline_kind,
            due_at=deadline.due_at + timedelta(days=number),
            deadline_zone=zone,
            evidence="Plazo: 19 de diciembre",
            opportunity_id=open_one.id,
            title=open_one.title,
            link=open_one.link,
            opportunity_status="published",
        )
        for number, (kind, deadline_kind, zone) in enumerate(
            (
                ("reminder", "application", None),
                ("extended", "travel_support", "America/Bogota"),
                ("moved", "registration", "UTC"),
            )
        )
    ]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        emails = {
            "alert": compose(alerts, utcnow())[1],
            "alert, extended first": compose(alerts[1:], utcnow())[1],
            "digest": compose_digest(subscriber, [open_one, listed[2]], utcnow()),
        }
    for name, email in emails.items():
        assert_email_translated(name, email, language)
        assert f'<html lang="{language}">' in _email_parts(email)[2]


@pytest.mark.parametrize(
    ("language", "written"),
    [
        ("en", "Wednesday, 14 April 2027, 23:59 (Europe/Paris)"),
        ("es", "miércoles, 14 de abril de 2027, 23:59 (Europe/Paris)"),
        ("fr", "mercredi 14 avril 2027, 23:59 (Europe/Paris)"),
        ("pt", "quarta-feira, 14 de abril de 2027, 23:59 (Europe/Paris)"),
    ],
)
def test_alert_emails_write_moments_as_each_language_does(language, written):
    from zoneinfo import ZoneInfo

    from directory.alerts import local_moment

    moment = datetime(2027, 4, 14, 21, 59, tzinfo=UTC)
    assert local_moment(moment, ZoneInfo("Europe/Paris"), language) == written
