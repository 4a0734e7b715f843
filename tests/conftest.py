"""Shared fixtures: the app on a real database, a real SMTP server, factories for rows.

The database is a temporary SQLite file, or the one named by TEST_DATABASE_URL (PostgreSQL in
CI). Its schema is built once per session by the migrations, and emptied after every test.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from xml.sax.saxutils import escape

import email_validator
import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import MetaData, create_engine, text
from werkzeug.security import generate_password_hash

from directory import create_app
from directory.extensions import db
from directory.models import (
    Deadline,
    Opportunity,
    OpportunityCountry,
    Source,
    SourceEntry,
    User,
)
from feeds.closing import closing_instant
from feeds.fetch import Fetcher, FetchSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"

email_validator.TEST_ENVIRONMENT = True


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """TEST_DATABASE_URL when set, else a SQLite file of this test session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'openings-test.sqlite3'}"


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder of the test session, so tests never touch the project's own."""
    return tmp_path_factory.mktemp("instance")


@pytest.fixture(scope="session")
def migrated_database(database_url: str, instance_dir: Path) -> str:
    """The test database, emptied of any earlier schema and upgraded to the latest migration."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
    engine.dispose()
    app = create_app(_test_config(database_url), instance_path=str(instance_dir))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
        db.engine.dispose()
    return database_url


def _test_config(database_url: str, **overrides: object) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-signing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "FEEDS_ALLOW_PRIVATE_ADDRESSES": True,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": 9,  # discard port: nothing listens; tests that send mail use `smtp_server`
        "MAIL_SUPPRESS_SEND": False,
        "BASE_URL": "http://openings.example.org",
        "SUBMISSION_MIN_FILL_SECONDS": 0,  # tests of the fill time set their own
        **overrides,
    }


@pytest.fixture
def app_config(migrated_database: str) -> dict:
    """The settings the `app` fixture is built with; a test may change them before using `app`."""
    return _test_config(migrated_database)


@pytest.fixture
def app(request: pytest.FixtureRequest, app_config: dict, instance_dir: Path) -> Iterator:
    """The app on the migrated test database; every table is emptied afterwards."""
    if "smtp_server" in request.fixturenames:
        request.getfixturevalue("smtp_server")  # start it first: the app must know its port
    app = create_app(app_config, instance_path=str(instance_dir))
    app.test_client_class = FreshGlobalsClient
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept for the whole session: each test builds a new app, not new code."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedBytecodeCache()


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty `g`, as in production.

    The `app` fixture holds one app context for the whole test, and Flask reuses it for each
    request, so without this `g` would carry one request's signed-in user (Flask-Login) or
    CSRF token (Flask-WTF) into the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the app's `flask` commands."""
    return app.test_cli_runner()


def csrf_token(client, path: str) -> str:
    """The CSRF token of the form on the page at `path`, as a browser would send it back."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, f"no CSRF token in the form at {path}"
    return match.group(1)


@pytest.fixture
def now() -> datetime:
    """A fixed instant for tests that pass time in."""
    return datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def create_opportunity(app):
    """Factory: an opportunity with deadlines given as (kind, date[, time, zone]) tuples."""

    def create(
        title: str = "Regional summit on legal empowerment",
        *,
        deadlines: list[tuple] = (),
        countries: tuple[str, ...] = (),
        source: Source | None = None,
        **fields: object,
    ) -> Opportunity:
        if source is None:
            source = db.session.scalar(db.select(Source).where(Source.name == "Test feed"))
        if source is None:
            source = Source(name="Test feed", url="https://example.org/feed.xml", kind="feed")
            db.session.add(source)
        fields.setdefault("link", f"https://example.org/{abs(hash(title))}")
        opportunity = Opportunity(title=title, **fields)
        for kind, on, *rest in deadlines:
            at: time | None = rest[0] if rest else None
            zone: str | None = rest[1] if len(rest) > 1 else None
            opportunity.deadlines.append(
                Deadline(
                    kind=kind,
                    due_on=on,
                    due_time=at,
                    time_zone=zone,
                    due_at=closing_instant(on, at, zone),
                    evidence=f"Deadline: {on:%d %B %Y}",
                )
            )
        opportunity.countries = [
            OpportunityCountry(country_code=code, position=i) for i, code in enumerate(countries)
        ]
        db.session.add(opportunity)
        db.session.add(
            SourceEntry(
                source=source,
                opportunity=opportunity,
                entry_key=opportunity.link,
                link=opportunity.link,
            )
        )
        db.session.commit()
        return opportunity

    return create


@dataclass
class Credentials:
    """A moderator's sign-in details, as typed at /admin/login."""

    email: str
    password: str
    id: int


@pytest.fixture
def create_moderator(app):
    """Factory: an active moderator account; returns its email, password and id."""

    def create(email: str = "moderator@example.org", password: str = "correct horse battery"):
        # A cheap hash keeps sign-ins fast; `users create-admin` is tested with the real one.
        user = User(
            email=email,
            password_hash=generate_password_hash(password, method="pbkdf2:sha256:1000"),
            is_active=True,
        )
        db.session.add(user)
        db.session.commit()
        return Credentials(user.email, password, user.id)

    return create


@pytest.fixture
def moderator(create_moderator) -> Credentials:
    """One moderator account (not signed in)."""
    return create_moderator()


def sign_in(client, credentials: Credentials):
    """Sign `client` in at /admin/login as a moderator; returns the response."""
    return client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_token(client, "/admin/login"),
            "email": credentials.email,
            "password": credentials.password,
        },
    )


@pytest.fixture
def admin_client(client, moderator):
    """A test client signed in as a moderator."""
    response = sign_in(client, moderator)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def days_from(moment: datetime, days: int) -> date:
    """The calendar date `days` after `moment` (UTC)."""
    return (moment + timedelta(days=days)).date()


# --- SMTP ------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (aiosmtpd cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ReceivedMail:
    """One message as the SMTP server received it."""

    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SMTPRecorder:
    """An aiosmtpd handler that keeps every message, for tests to read.

    Tests can script failures: `rcpt_replies[address] = "550 5.1.1 No such user"` refuses a
    recipient; each string put in `data_replies` answers the next DATA instead of accepting it.
    """

    messages: list[ReceivedMail] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append(
                ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
            )
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until `count` messages have arrived (or fail the test)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"expected {count} emails, {len(self.messages)} arrived")
        return list(self.messages)


@pytest.fixture
def smtp_server(app_config: dict) -> Iterator[SMTPRecorder]:
    """A real SMTP server on 127.0.0.1; the app built after it sends its mail there."""
    from aiosmtpd.controller import Controller

    recorder = SMTPRecorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    app_config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield recorder
    finally:
        controller.stop()


def corpus_files() -> list[Path]:
    """The real published feeds of ../shared/corpus/raw, or [] when the folder is absent."""
    raw = CORPUS / "raw"
    return sorted(raw.glob("*.xml")) if raw.is_dir() else []


requires_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")


# --- feeds over HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def httpserver_listen_address() -> tuple[str, None]:
    """pytest-httpserver listens on 127.0.0.1 only: test traffic never leaves the machine."""
    return ("127.0.0.1", None)


@pytest.fixture
def fetch_settings() -> FetchSettings:
    """Fetch settings with short time-outs and a small size cap, private addresses allowed."""
    return FetchSettings(
        contact_url="https://openings.example.org/about",
        max_bytes=256 * 1024,
        connect_timeout_seconds=2.0,
        timeout_seconds=1.0,
        allow_private_addresses=True,
    )


@pytest.fixture
def fetcher(fetch_settings: FetchSettings) -> Iterator[Fetcher]:
    """A fetcher with `fetch_settings`, closed after the test."""
    with Fetcher(fetch_settings) as fetcher:
        yield fetcher


def rss_feed(*items: dict[str, str], title: str = "Justice network calls") -> bytes:
    """An RSS 2.0 document; each item's keys are its element names (`title`, `link`, …)."""
    body = "".join(
        "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items()) + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://example.org/</link>{body}</channel></rss>"
    ).encode()


def rss_item(number: int, **fields: str) -> dict[str, str]:
    """An item with a guid, title, link, date and a deadline in its text."""
    return {
        "guid": f"call-{number}",
        "title": f"Regional convening on legal empowerment, part {number}",
        "link": f"https://example.org/calls/{number}",
        "pubDate": "Sun, 01 Mar 2026 09:00:00 +0000",
        "description": f"<p>Applications close on 15 April 2026 (call {number}).</p>",
        **fields,
    }
