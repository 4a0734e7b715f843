"""The rules of subscribing: what a subscriber may follow, double opt-in, changes, deletion.

Every way in (the /subscribe form, "Remind me", `subscribers import`/`add`) goes through
`check_preferences` and `request_subscription`, so they all keep the same promises:

- nothing but a confirmation email reaches an address until its owner follows the link;
- that email holds no text the visitor typed (the address only as its recipient);
- one address gets at most one such email an hour, whatever is asked;
- a confirmed address (active or paused) is never changed by someone who merely knows it:
  it is sent a "manage your alerts" link instead, and the visitor sees the same answer in
  every case.

Until an address is confirmed, the latest request decides what it follows, except that
Remind-me requests add up; an unsubscribed or bounced address starts again as pending. A confirmed subscriber following listings in general is covered
by its own choices; one following reminders only can add one through a signed link.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

import email_validator
import pycountry
from flask_babel import force_locale, lazy_gettext
from flask_babel import gettext as _
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from feeds.types import FUNDING_KINDS, OPPORTUNITY_KINDS

from .i18n import LANGUAGES
from .listings import has_line_break
from .mail import queue_email
from .models import AlertDelivery, Opportunity, OutboxMessage, Subscriber
from .regions import REGIONS
from .web import known_zones

LEAD_CHOICES = (30, 14, 7, 3, 1)
"""The lead times (days before a deadline) a subscriber may choose among."""
DEFAULT_LEAD_DAYS = (14, 3, 1)
MAX_BUFFER_DAYS = 90
MAX_KEYWORDS = 10
MAX_KEYWORD_LENGTH = 60
MAX_KEYWORDS_TEXT = 300
MAX_COUNTRIES = 50
MAX_REMINDERS = 100
MAX_EMAIL_LENGTH = 320
EMAIL_INTERVAL = timedelta(hours=1)
"""One address gets at most one subscription email (confirmation or manage link) this often."""
CONFIRM_DAYS = 7
"""How long a confirmation link works."""

COUNTRY_CODES = frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}

Sent = Literal["confirmation", "manage-link", "throttled", "none"]


class PreferenceError(ValueError):
    """A preference that cannot be used: `field` names it, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Preferences:
    """Everything a subscriber chooses, checked; `follows` is the stored JSON form."""

    kinds: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    funding: tuple[str, ...] = ()
    opportunity_ids: tuple[int, ...] = ()
    lead_days: tuple[int, ...] = DEFAULT_LEAD_DAYS
    buffer_days: int = 0
    wants_digest: bool = True
    time_zone: str = "UTC"
    language: str = "en"

    @property
    def follows(self) -> dict:
        """The `Subscriber.follows` value: only the keys that narrow what is followed.

        Reminders stand alone: a subscriber with `opportunity_ids` follows only those.
        """
        if self.opportunity_ids:
            return {"opportunity_ids": list(self.opportunity_ids)}
        values = {
            "kinds": list(self.kinds),
            "countries": list(self.countries),
            "regions": list(self.regions),
            "keywords": list(self.keywords),
            "funding": list(self.funding),
        }
        return {key: value for key, value in values.items() if value}

    @property
    def is_reminders_only(self) -> bool:
        """True when only the listed opportunities are followed (the "Remind me" kind)."""
        return bool(self.opportunity_ids)


def preferences_of(subscriber: Subscriber) -> Preferences:
    """A stored subscriber's choices, as the forms show them."""
    follows = subscriber.follows or {}
    return Preferences(
        kinds=tuple(follows.get("kinds", ())),
        countries=tuple(follows.get("countries", ())),
        regions=tuple(follows.get("regions", ())),
        keywords=tuple(follows.get("keywords", ())),
        funding=tuple(follows.get("funding", ())),
        opportunity_ids=tuple(follows.get("opportunity_ids", ())),
        lead_days=tuple(subscriber.lead_days or DEFAULT_LEAD_DAYS),
        buffer_days=subscriber.buffer_days or 0,
        wants_digest=bool(subscriber.wants_digest),
        time_zone=subscriber.time_zone or "UTC",
        language=subscriber.language or "en",
    )


# --- checking what was asked -----------------------------------------------------------------


def normalise_email(text: str) -> str:
    """The address as stored (lower case, trimmed), or PreferenceError when it is not one."""
    value = (text or "").strip()
    if not value:
        raise PreferenceError("email", _("Enter your email address."))
    if has_line_break(value) or len(value) > MAX_EMAIL_LENGTH:
        raise PreferenceError("email", _("Enter an email address, like name@example.org."))
    try:
        checked = email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise PreferenceError(
            "email", _("Enter an email address, like name@example.org.")
        ) from None
    return checked.normalized.lower()


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords typed as one line, separated by commas (or `;`): trimmed, deduplicated."""
    if has_line_break(text):
        raise PreferenceError("keywords", _("Line breaks are not allowed here."))
    if len(text or "") > MAX_KEYWORDS_TEXT:
        raise PreferenceError("keywords", _("Use at most %(n)d characters.", n=MAX_KEYWORDS_TEXT))
    words: list[str] = []
    for raw in (text or "").replace(";", ",").split(","):
        word = " ".join("".join(ch for ch in raw if ch.isprintable()).split())
        if not word or word.lower() in (w.lower() for w in words):
            continue
        if len(word) > MAX_KEYWORD_LENGTH:
            raise PreferenceError(
                "keywords",
                _("Each keyword may have at most %(n)d characters.", n=MAX_KEYWORD_LENGTH),
            )
        words.append(word)
    if len(words) > MAX_KEYWORDS:
        raise PreferenceError("keywords", _("Give at most %(n)d keywords.", n=MAX_KEYWORDS))
    return tuple(words)


def check_preferences(
    *,
    kinds: Iterable[str] = (),
    countries: Iterable[str] = (),
    regions: Iterable[str] = (),
    keywords: str | Iterable[str] = "",
    funding: Iterable[str] = (),
    opportunity_ids: Iterable[int] = (),
    lead_days: Iterable[int | str] = DEFAULT_LEAD_DAYS,
    buffer_days: int | str | None = 0,
    wants_digest: bool = True,
    time_zone: str = "UTC",
    language: str = "en",
) -> Preferences:
    """Preferences from raw values (a form, a CSV row, command options), or PreferenceError."""

    def chosen(name: str, values: Iterable[str], allowed, normalise=str.lower) -> tuple:
        picked: list[str] = []
        for raw in values:
            value = normalise(str(raw).strip())
            if not value:
                continue
            if value not in allowed:
                shown = "".join(ch for ch in str(raw) if ch.isprintable())[:40]
                raise PreferenceError(
                    name, _("“%(value)s” is not one of the choices.", value=shown)
                )
            if value not in picked:
                picked.append(value)
        return tuple(picked)

    country_codes = chosen("countries", countries, COUNTRY_CODES, str.upper)
    if len(country_codes) > MAX_COUNTRIES:
        raise PreferenceError("countries", _("Choose at most %(n)d countries.", n=MAX_COUNTRIES))
    words = (
        parse_keywords(keywords)
        if isinstance(keywords, str)
        else parse_keywords(",".join(keywords))
    )
    leads = _lead_days(lead_days)
    buffer = _buffer_days(buffer_days)
    zone = (time_zone or "UTC").strip()
    if zone not in known_zones():
        raise PreferenceError("time_zone", _("Choose a time zone from the list."))
    code = (language or "en").strip().lower()
    if code not in LANGUAGES:
        raise PreferenceError("language", _("Choose a language from the list."))
    ids = tuple(dict.fromkeys(int(i) for i in opportunity_ids))
    if len(ids) > MAX_REMINDERS:
        raise PreferenceError(
            "opportunity_ids", _("At most %(n)d reminders per address.", n=MAX_REMINDERS)
        )
    return Preferences(
        kinds=chosen("kinds", kinds, OPPORTUNITY_KINDS),
        countries=country_codes,
        regions=chosen("regions", regions, REGIONS),
        keywords=words,
        funding=chosen("funding", funding, FUNDING_KINDS),
        opportunity_ids=ids,
        lead_days=leads,
        buffer_days=buffer,
        wants_digest=bool(wants_digest),
        time_zone=zone,
        language=code,
    )


def _lead_days(values: Iterable[int | str]) -> tuple[int, ...]:
    picked: set[int] = set()
    for raw in values:
        text = str(raw).strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()) or int(text) not in LEAD_CHOICES:
            raise PreferenceError(
                "lead_days",
                _(
                    "Lead times are chosen among %(choices)s days.",
                    choices=", ".join(map(str, LEAD_CHOICES)),
                ),
            )
        picked.add(int(text))
    if not picked:
        raise PreferenceError("lead_days", _("Choose at least one lead time."))
    return tuple(sorted(picked, reverse=True))


def _buffer_days(value: int | str | None) -> int:
    text = "" if value is None else str(value).strip()
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_BUFFER_DAYS:
        raise PreferenceError(
            "buffer_days",
            _("Enter a whole number of days from 0 to %(n)d.", n=MAX_BUFFER_DAYS),
        )
    return int(text)


# --- subscribing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Links:
    """How to build the signed links emails carry (the web layer knows the URLs)."""

    confirm: Callable[[Subscriber], str]
    manage: Callable[[Subscriber], str]
    remind: Callable[[Subscriber, int], str]
    opportunity: Callable[[int], str]


@dataclass(frozen=True)
class Outcome:
    """What a subscription request did (for commands and tests; visitors never see it)."""

    subscriber: Subscriber
    sent: Sent
    message: OutboxMessage | None = None
    is_new: bool = False


def find(session: Session, email: str) -> Subscriber | None:
    """The subscriber with this address (already normalised), if any."""
    return session.scalar(select(Subscriber).where(Subscriber.email == email))


def request_subscription(
    session: Session,
    email: str,
    preferences: Preferences,
    *,
    now: datetime,
    links: Links,
    remind_opportunity: int | None = None,
) -> Outcome:
    """Handle "subscribe" or "remind me" for `email` (normalised), queueing at most one email.

    A new (or unsubscribed, or bounced) address becomes pending with these preferences; a
    pending one takes them (reminders add up); a confirmed one is left as it is and sent a
    link to manage its alerts. The caller commits, then delivers the queued message.
    """
    subscriber = find(session, email)
    is_new = subscriber is None
    if subscriber is None:
        subscriber = Subscriber(email=email, status="pending", created_at=now)
        session.add(subscriber)
    if subscriber.status in ("unsubscribed", "bounced"):
        subscriber.status, subscriber.confirmed_at = "pending", None
    if subscriber.status == "pending":
        if remind_opportunity is not None:
            earlier = preferences_of(subscriber) if not is_new else Preferences()
            kept = earlier.opportunity_ids if earlier.is_reminders_only else ()
            ids = (*kept, remind_opportunity)[-MAX_REMINDERS:]
            preferences = replace(preferences, opportunity_ids=tuple(dict.fromkeys(ids)))
        apply_preferences(subscriber, preferences)
    session.flush()
    if not _claim_email(session, subscriber, now):
        return Outcome(subscriber, "throttled", is_new=is_new)
    if subscriber.status == "pending":
        message = _queue(
            subscriber,
            subject=lazy_gettext("Confirm your deadline alerts"),
            template="subscription_confirm",
            category="subscription-confirm",
            context={"confirm_url": links.confirm(subscriber), "days": CONFIRM_DAYS},
        )
        sent: Sent = "confirmation"
    else:
        remind_url = opportunity_url = None
        if remind_opportunity is not None:
            opportunity_url = links.opportunity(remind_opportunity)
            if preferences_of(subscriber).is_reminders_only:
                remind_url = links.remind(subscriber, remind_opportunity)
        message = _queue(
            subscriber,
            subject=lazy_gettext("Your deadline alerts on Openings"),
            template="subscription_manage",
            category="subscription-manage",
            context={
                "manage_url": links.manage(subscriber),
                "remind_url": remind_url,
                "opportunity_url": opportunity_url,
            },
        )
        sent = "manage-link"
    return Outcome(subscriber, sent, message, is_new=is_new)


def _claim_email(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    """Take the address's one email of the hour, or False if it went already.

    A conditional update, so two requests at once (two workers) cannot both send one: the
    second waits for the first's row lock, then finds the time already set.
    """
    claimed = session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber.id)
        .where(
            or_(
                Subscriber.confirmation_sent_at.is_(None),
                Subscriber.confirmation_sent_at <= now - EMAIL_INTERVAL,
            )
        )
        .values(confirmation_sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        set_committed_value(subscriber, "confirmation_sent_at", now)
    return bool(claimed)


def _queue(
    subscriber: Subscriber, *, subject: object, template: str, category: str, context: dict
) -> OutboxMessage:
    """An email in the subscriber's language: its subject is translated in that language too."""
    with force_locale(subscriber.language or "en"):
        return queue_email(
            to=subscriber.email,
            subject=str(subject),
            template=template,
            category=category,
            context={"lang": subscriber.language or "en", **context},
        )


def confirm(subscriber: Subscriber, now: datetime) -> bool:
    """Activate a pending subscriber; False when there was nothing to confirm."""
    if subscriber.status != "pending":
        return False
    subscriber.status, subscriber.confirmed_at = "active", now
    return True


def apply_preferences(subscriber: Subscriber, preferences: Preferences) -> None:
    """Store `preferences` on the subscriber (every field the forms offer)."""
    subscriber.follows = preferences.follows
    subscriber.lead_days = list(preferences.lead_days)
    subscriber.buffer_days = preferences.buffer_days
    subscriber.wants_digest = preferences.wants_digest
    subscriber.time_zone = preferences.time_zone
    subscriber.language = preferences.language


def add_reminder(subscriber: Subscriber, opportunity_id: int) -> bool:
    """Follow one more opportunity (a reminders-only subscriber); False if nothing changed."""
    current = preferences_of(subscriber)
    if not current.is_reminders_only or opportunity_id in current.opportunity_ids:
        return False
    ids = (*current.opportunity_ids, opportunity_id)[-MAX_REMINDERS:]
    apply_preferences(subscriber, replace(current, opportunity_ids=ids))
    return True


def pause(subscriber: Subscriber) -> None:
    """Stop alerts and digests until resumed; the choices stay."""
    if subscriber.status == "active":
        subscriber.status = "paused"


def resume(subscriber: Subscriber, now: datetime) -> None:
    """Alerts again, from a paused, unsubscribed or bounced state (the manage link is proof)."""
    if subscriber.status in ("paused", "unsubscribed", "bounced"):
        subscriber.status = "active"
        subscriber.confirmed_at = subscriber.confirmed_at or now


def unsubscribe(subscriber: Subscriber) -> None:
    """No more email of any kind; the row stays so a later sign-up must be confirmed again."""
    subscriber.status = "unsubscribed"


def delete_data(session: Session, subscriber: Subscriber) -> None:
    """Remove the subscriber, their delivery log, and every email to them kept in the outbox."""
    session.execute(delete(AlertDelivery).where(AlertDelivery.subscriber_id == subscriber.id))
    session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == subscriber.email))
    session.delete(subscriber)


def reminded_opportunities(session: Session, subscriber: Subscriber) -> list[Opportunity]:
    """The opportunities a reminders-only subscriber follows, in the order they were added."""
    ids = preferences_of(subscriber).opportunity_ids
    if not ids:
        return []
    found = {o.id: o for o in session.scalars(select(Opportunity).where(Opportunity.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


# --- operators: add, import, list -------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What `import_csv` did: rows added, addresses already known, and each refused row."""

    added: list[Subscriber] = field(default_factory=list)
    known: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)


CSV_COLUMNS = (
    "email",
    "kinds",
    "countries",
    "regions",
    "keywords",
    "funding",
    "lead_days",
    "buffer_days",
    "digest",
    "time_zone",
    "language",
)
_TRUE = {"yes", "true", "1", "on", "y"}
_FALSE = {"no", "false", "0", "off", "n"}


def add_subscriber(
    session: Session,
    email: str,
    preferences: Preferences,
    *,
    now: datetime,
    is_confirmed: bool,
    links: Links,
) -> Outcome:
    """An operator's addition: active at once for a list that opted in, else pending plus a
    confirmation. An address already known is left as it is (PreferenceError)."""
    if find(session, email) is not None:
        raise PreferenceError("email", f"{email} is already subscribed; left as it is")
    if not is_confirmed:
        return request_subscription(session, email, preferences, now=now, links=links)
    subscriber = Subscriber(
        email=email, status="active", created_at=now, confirmed_at=now, confirmation_sent_at=None
    )
    apply_preferences(subscriber, preferences)
    session.add(subscriber)
    session.flush()
    return Outcome(subscriber, "none", is_new=True)


def import_csv(
    session: Session,
    text: str,
    *,
    now: datetime,
    is_confirmed: bool,
    links: Links,
    default_lead_days: Iterable[int] = DEFAULT_LEAD_DAYS,
) -> ImportReport:
    """Add every good row of a CSV export (header `email` and optional `CSV_COLUMNS`).

    Multi-valued cells are separated by `;`. A bad row is reported with its line number and
    skipped; an address already subscribed is left untouched; nothing stored is lost.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in reader.fieldnames or ()]
    if "email" not in header:
        report.problems.append("line 1: the header has no “email” column")
        return report
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        report.problems.append(f"line 1: unknown columns ignored: {', '.join(unknown)}")
    reader.fieldnames = header
    seen: set[str] = set()
    ended = reader.line_num
    for row in reader:
        line, ended = ended + 1, reader.line_num  # where the row starts (a cell may span lines)
        try:
            email, preferences = _row_preferences(row, tuple(default_lead_days))
        except PreferenceError as error:
            report.problems.append(f"line {line}: {error.field}: {error.message}")
            continue
        if email in seen or find(session, email) is not None:
            report.known.append(email)
            continue
        seen.add(email)
        outcome = add_subscriber(
            session, email, preferences, now=now, is_confirmed=is_confirmed, links=links
        )
        report.added.append(outcome.subscriber)
        if outcome.message is not None:
            report.messages.append(outcome.message)
    return report


def _row_preferences(row: Mapping[str, str | None], default_lead_days: tuple[int, ...]):
    def cell(name: str) -> str:
        value = row.get(name)
        return value.strip() if isinstance(value, str) else ""

    def many(name: str) -> list[str]:
        return [part.strip() for part in cell(name).split(";") if part.strip()]

    if None in row:
        raise PreferenceError("row", "more cells than columns")
    email = normalise_email(cell("email"))
    digest = cell("digest").lower()
    if digest and digest not in _TRUE | _FALSE:
        raise PreferenceError("digest", "write yes or no")
    preferences = check_preferences(
        kinds=many("kinds"),
        countries=many("countries"),
        regions=many("regions"),
        keywords=many("keywords"),
        funding=many("funding"),
        lead_days=many("lead_days") or default_lead_days,
        buffer_days=cell("buffer_days"),
        wants_digest=digest not in _FALSE,
        time_zone=cell("time_zone") or "UTC",
        language=cell("language") or "en",
    )
    return email, preferences


def list_subscribers(session: Session) -> list[Subscriber]:
    """Every subscriber, oldest first."""
    return list(session.scalars(select(Subscriber).order_by(Subscriber.id)))


def as_json(subscriber: Subscriber) -> dict:
    """A subscriber as `subscribers list --json` prints it."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "follows": subscriber.follows or {},
        "lead_days": list(subscriber.lead_days or ()),
        "buffer_days": subscriber.buffer_days,
        "wants_digest": subscriber.wants_digest,
        "time_zone": subscriber.time_zone,
        "language": subscriber.language,
        "created_at": subscriber.created_at.isoformat() if subscriber.created_at else None,
        "confirmed_at": subscriber.confirmed_at.isoformat() if subscriber.confirmed_at else None,
    }
