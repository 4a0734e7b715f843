"""Every setting Openings reads, with its default and what it is for.

Settings are loaded in this order, each overriding the one before: the defaults below,
`instance/config.py`, then `FLASK_`-prefixed environment variables (values parsed as JSON
when they can be, so `FLASK_FEEDS_ALLOW_PRIVATE_ADDRESSES=true` is a boolean). Extensions'
settings keep their own names (`SQLALCHEMY_DATABASE_URI`, `MAIL_SERVER`, …).
The README's configuration table is checked against this list by the test suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default and a sentence for the README."""

    name: str
    default: Any
    doc: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ENVIRONMENT",
        "production",
        "`production` or `development`. Production refuses to start without a strong "
        "`SECRET_KEY`; development generates one and keeps it in `instance/secret_key`.",
    ),
    Setting(
        "SECRET_KEY",
        None,
        "Signs sessions and the links in emails. At least 32 random characters in production.",
    ),
    Setting(
        "SQLALCHEMY_DATABASE_URI",
        None,
        "Database URL. Default: SQLite file `instance/openings.sqlite3`. Production: "
        "`postgresql+psycopg://user:password@host/openings`.",
    ),
    Setting(
        "BASE_URL",
        "http://127.0.0.1:5000",
        "The public address of the site, used for links in emails, feeds and calendars "
        "built outside a request.",
    ),
    Setting(
        "MAIL_SERVER", "127.0.0.1", "SMTP relay host. `make run` starts a catcher on 127.0.0.1."
    ),
    Setting("MAIL_PORT", 1025, "SMTP relay port."),
    Setting("MAIL_USE_TLS", False, "Use STARTTLS with the relay."),
    Setting("MAIL_USE_SSL", False, "Use implicit TLS with the relay (port 465)."),
    Setting("MAIL_USERNAME", None, "SMTP user name, if the relay needs one."),
    Setting("MAIL_PASSWORD", None, "SMTP password, if the relay needs one."),
    Setting(
        "MAIL_DEFAULT_SENDER",
        "Openings <openings@localhost>",
        "The From address of every email (use an address on your domain, with SPF and DKIM).",
    ),
    Setting(
        "MAIL_TIMEOUT_SECONDS",
        30.0,
        "Time allowed for each step of a conversation with the relay; a dead relay costs no more.",
    ),
    Setting(
        "MAIL_MAX_PER_SECOND",
        0,
        "A cap on emails sent per second, for relays that throttle (0: no cap).",
    ),
    Setting(
        "MAIL_CATCHER_DIR",
        None,
        "Where `make run`'s local SMTP catcher keeps each message as an `.eml` file. "
        "Default: `instance/mail`.",
    ),
    Setting(
        "FEEDS_ALLOW_PRIVATE_ADDRESSES",
        False,
        "Allow sources on loopback, private or link-local addresses. Off in production "
        "(it guards against server-side request forgery); tests turn it on.",
    ),
    Setting(
        "FEEDS_CONTACT_URL",
        "http://127.0.0.1:5000/about",
        "A page about your deployment, sent in the User-Agent so feed publishers can reach you.",
    ),
    Setting("FEEDS_DEFAULT_INTERVAL_MINUTES", 60, "How often a new source is polled."),
    Setting("FEEDS_MAX_BYTES", 5 * 1024 * 1024, "Largest feed body read; a longer one is cut off."),
    Setting("FEEDS_CONNECT_TIMEOUT_SECONDS", 10.0, "Time allowed to connect to a feed's server."),
    Setting("FEEDS_TIMEOUT_SECONDS", 30.0, "Time allowed for a whole feed request."),
    Setting(
        "FEEDS_FETCH_WORKERS",
        4,
        "How many hosts are fetched from at once. One host never gets two requests at once.",
    ),
    Setting(
        "FEEDS_POLL_EVERY_SECONDS",
        60,
        "How often the scheduler looks for sources that are due (each has its own interval).",
    ),
    Setting(
        "ALERT_LEAD_DAYS",
        [14, 3, 1],
        "Lead times (days before a deadline) offered to a new subscriber by default.",
    ),
    Setting(
        "ALERTS_INTERVAL_MINUTES",
        15,
        "How often the scheduler runs the alert engine (plans what is due, sends it).",
    ),
    Setting(
        "ALERTS_BATCH_SIZE",
        200,
        "Deliveries claimed at once; each batch is sent over one SMTP connection.",
    ),
    Setting(
        "ALERTS_MAX_PER_SECOND",
        0,
        "A cap on alert and digest emails sent per second, for relays that throttle (0: no cap).",
    ),
    Setting(
        "ALERTS_CLAIM_TIMEOUT_MINUTES",
        10,
        "Deliveries claimed this long ago by a run that never finished (killed, crashed) are "
        "sent by the next run.",
    ),
    Setting(
        "ALERTS_DIGEST_WEEKDAY",
        0,
        "The day the weekly digest of new listings goes out (0: Monday … 6: Sunday, UTC); "
        "each subscriber gets at most one a week.",
    ),
    Setting(
        "ALERTS_UNSUBSCRIBE_MAILBOX",
        None,
        "The address in the `mailto:` form of every alert's `List-Unsubscribe` header "
        "(default: the From address). Mail to it is not read by Openings: route it to a "
        "person or a filter that runs `subscribers remove`.",
    ),
    Setting("LOG_LEVEL", "INFO", "Logging level of the web app, the scheduler and commands."),
    Setting(
        "PROXY_COUNT",
        0,
        "How many reverse proxies stand in front of the app. Their `X-Forwarded-For` and "
        "`X-Forwarded-Proto` are trusted, so rate limits count each client, not the proxy.",
    ),
    Setting(
        "WTF_CSRF_TIME_LIMIT",
        None,
        "Seconds a form's CSRF token stays valid (Flask-WTF). None: as long as the browser "
        "session, so a partner who takes an hour over the long form does not lose it.",
    ),
    Setting("RATELIMIT_ENABLED", True, "Apply the rate limits below (Flask-Limiter)."),
    Setting(
        "RATELIMIT_STORAGE_URI",
        "memory://",
        "Where rate-limit counters are kept. `memory://` counts per process; with several "
        "gunicorn workers use Redis (`redis://host:6379/0`, needs the `redis` package).",
    ),
    Setting(
        "SUBMISSION_RATE_LIMIT",
        "10 per hour;30 per day",
        "How many listings one client address may send through `/submit`.",
    ),
    Setting(
        "SUBMISSION_MIN_FILL_SECONDS",
        5,
        "A form sent sooner than this after it was shown is taken for a robot and shown again.",
    ),
    Setting(
        "SUBMISSION_CONFIRM_DAYS",
        7,
        "How long the link that confirms a submitter's address works; unconfirmed "
        "submissions are deleted after it.",
    ),
    Setting(
        "SUBMISSION_BLOCKED_DOMAINS",
        ["waset.org", "omicsonline.org", "conferenceseries.com"],
        "Domains of known predatory conference organisers: links to them (and their "
        "subdomains) are refused in submissions.",
    ),
    Setting(
        "SUBSCRIPTION_RATE_LIMIT",
        "10 per hour;50 per day",
        "How many subscription requests (`/subscribe` and “Remind me”) one client address may "
        "send; each address gets at most one subscription email an hour anyway.",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        "5 per minute;20 per hour",
        "How many sign-in attempts one client address may make at `/admin/login`.",
    ),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
