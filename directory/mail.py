"""Email: text and HTML rendered from one context, built with the headers mail clients expect,
and sent over one SMTP conversation per batch.

There is one way to send here. Transactional emails (confirmations, notices) are queued in
the outbox with the change they report and sent after the commit (`deliver_now`) or by the
scheduler (`send_outbox`); bulk senders (alerts) build messages with `build_message` and
send them through `smtp_connection`. The relay is configured by Flask-Mail's settings
(`MAIL_SERVER`, `MAIL_PORT`, `MAIL_USE_TLS`, …); the conversation itself uses smtplib with a
time-out, which Flask-Mail's connection does not set, so a dead relay cannot hang a worker.
"""

from __future__ import annotations

import binascii
import logging
import secrets
import smtplib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from urllib.parse import urlsplit

from flask import current_app, render_template
from sqlalchemy import or_, select, update

from .extensions import db
from .models import OutboxMessage, utcnow

log = logging.getLogger("openings.mail")

RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
)
"""How long to wait after each temporary failure; after the last one the email has failed."""

CLAIM_EXPIRES_AFTER = timedelta(minutes=10)
"""A message claimed this long ago by a sender that never finished is offered again."""


class MailError(RuntimeError):
    """The relay could not be reached or refused the conversation as a whole."""


def render(template: str, **context: object) -> tuple[str, str]:
    """The text and HTML bodies of `templates/email/<template>.txt` and `.html`, one context."""
    text = render_template(f"email/{template}.txt", **context)
    html = render_template(f"email/{template}.html", **context)
    return text, html


@dataclass(frozen=True)
class OutgoingEmail:
    """A message ready for the relay: headers in order, a text and an HTML body.

    Serialised by hand (`as_bytes`): multipart/alternative, both parts UTF-8 in
    quoted-printable, non-ASCII headers RFC 2047-encoded. The `email` package's generators
    cost several milliseconds a message, more than the SMTP conversation itself.
    """

    headers: tuple[tuple[str, str], ...]
    text: str
    html: str

    def __getitem__(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def as_bytes(self) -> bytes:
        boundary = "=_" + secrets.token_hex(12)
        lines = [f"{name}: {_header_value(name, value)}" for name, value in self.headers]
        lines += [
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative; boundary="{boundary}"',
            "",
        ]
        for subtype, body in (("plain", self.text), ("html", self.html)):
            lines += [
                f"--{boundary}",
                f'Content-Type: text/{subtype}; charset="utf-8"',
                "Content-Transfer-Encoding: quoted-printable",
                "",
                _quoted_printable(body),
            ]
        lines += [f"--{boundary}--", ""]
        return "\r\n".join(lines).encode("ascii")


def _header_value(name: str, value: str) -> str:
    if name in ("From", "To"):
        return formataddr(parseaddr(value), charset="utf-8")
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def _quoted_printable(body: str) -> str:
    normalised = body.replace("\r\n", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(normalised, quotetabs=False, istext=True, header=False)
    return encoded.decode("ascii").replace("\n", "\r\n")


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    headers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> OutgoingEmail:
    """A multipart (text, then HTML) message with Date, Message-ID and Auto-Submitted.

    Header values with line breaks are refused (ValueError): no one can inject headers.
    """
    values = {
        "From": current_app.config["MAIL_DEFAULT_SENDER"],
        "To": to,
        "Subject": subject,
        "Date": format_datetime(now or utcnow()),
        "Message-ID": make_msgid(domain=_site_domain()),
        "Auto-Submitted": "auto-generated",
        **(headers or {}),
    }
    for name, value in values.items():
        if "\r" in value or "\n" in value:
            raise ValueError(f"a line break in the {name} header")
    return OutgoingEmail(tuple(values.items()), text, html)


def as_wire(message: OutgoingEmail) -> bytes:
    """The message as sent over SMTP (CRLF line ends)."""
    return message.as_bytes()


@contextmanager
def smtp_connection(timeout: float | None = None) -> Iterator[smtplib.SMTP]:
    """One SMTP conversation with the configured relay: TLS and login as configured."""
    state = current_app.extensions["mail"]
    timeout = timeout or float(current_app.config["MAIL_TIMEOUT_SECONDS"])
    try:
        if state.use_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
        else:
            connection = smtplib.SMTP(state.server, state.port, timeout=timeout)
        if state.use_tls:
            connection.starttls()
        if state.username and state.password:
            connection.login(state.username, state.password)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"cannot reach the mail relay {state.server}:{state.port}: {error}"
        ) from None
    try:
        yield connection
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def queue_email(
    *,
    to: str,
    subject: str,
    template: str,
    category: str,
    context: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> OutboxMessage:
    """Render an email and add it to the outbox in the current transaction (the caller commits)."""
    text, html = render(template, subject=subject, **(context or {}))
    message = build_message(to=to, subject=subject, text=text, html=html, headers=headers)
    queued = OutboxMessage(
        category=category,
        to_address=to,
        subject=subject,
        message=as_wire(message).decode("ascii"),
        message_id=message["Message-ID"],
        status="queued",
        next_attempt_at=utcnow(),
    )
    db.session.add(queued)
    return queued


@dataclass(frozen=True)
class OutboxReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def send_outbox(
    now: datetime, *, ids: Sequence[int] | None = None, limit: int = 200
) -> OutboxReport:
    """Send queued emails that are due (or just `ids`) over one connection; commit each outcome.

    Each email is claimed first with a conditional update, so two senders never both send it.
    A 4xx answer or a lost connection retries later (RETRY_DELAYS); a 5xx answer fails it.
    """
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                (OutboxMessage.status == "queued") & (OutboxMessage.next_attempt_at <= now),
                (OutboxMessage.status == "sending")
                & (OutboxMessage.claimed_at < now - CLAIM_EXPIRES_AFTER),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    due = list(db.session.scalars(query))
    if not due:
        return OutboxReport()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    pause = _pause_between_messages()
    try:
        with smtp_connection() as connection:
            for message_id in due:
                claimed = _claim(message_id, now)
                if claimed is None:
                    continue
                outcome = _send_one(connection, claimed, now)
                counts[outcome] += 1
                if pause:
                    time.sleep(pause)
    except MailError as error:
        log.error(
            "outbox: %s; %d emails wait for the next attempt",
            error,
            len(due) - sum(counts.values()),
        )
        _postpone_unsent(due, now, str(error))
    except (OSError, smtplib.SMTPServerDisconnected) as error:
        log.error("outbox: connection lost (%s); the rest wait for the next attempt", error)
        _postpone_unsent(due, now, f"connection lost: {error}")
    return OutboxReport(**counts)


def deliver_now(messages: Sequence[OutboxMessage]) -> None:
    """Try to send just-committed outbox emails at once; what fails is left to the scheduler."""
    ids = [m.id for m in messages]
    try:
        send_outbox(utcnow(), ids=ids)
    except Exception:  # the request that queued them has succeeded; never fail it here
        log.exception("outbox: sending %s right away failed; the scheduler will retry", ids)
        db.session.rollback()


def init_app(app) -> None:
    """Have the scheduler send the outbox every minute."""
    from .scheduler import Job, register

    register(Job("send-outbox", timedelta(minutes=1), lambda app, now: send_outbox(now)))


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .where(
            (OutboxMessage.status == "queued")
            | (
                (OutboxMessage.status == "sending")
                & (OutboxMessage.claimed_at < now - CLAIM_EXPIRES_AFTER)
            )
        )
        .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
    ).rowcount
    db.session.commit()
    return db.session.get(OutboxMessage, message_id) if claimed else None


def _send_one(connection: smtplib.SMTP, queued: OutboxMessage, now: datetime) -> str:
    try:
        refused = connection.sendmail(
            _envelope_sender(), [queued.to_address], queued.message.encode("utf-8")
        )
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return _record_refusal(queued, now, code, reply)
    except smtplib.SMTPResponseException as error:
        if isinstance(error, smtplib.SMTPServerDisconnected):
            raise
        return _record_refusal(queued, now, error.smtp_code, error.smtp_error)
    if refused:
        code, reply = next(iter(refused.values()))
        return _record_refusal(queued, now, code, reply)
    queued.status, queued.sent_at, queued.last_error = "sent", now, None
    db.session.commit()
    return "sent"


def _record_refusal(queued: OutboxMessage, now: datetime, code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    queued.last_error = f"{code} {text}"
    if 400 <= code < 500 and queued.attempts <= len(RETRY_DELAYS):
        queued.status = "queued"
        queued.next_attempt_at = now + RETRY_DELAYS[queued.attempts - 1]
        outcome = "retrying"
    else:
        queued.status = "failed"
        outcome = "failed"
    log.warning(
        "outbox: email %d to %s: %s (%s)", queued.id, queued.to_address, queued.last_error, outcome
    )
    db.session.commit()
    return outcome


def _postpone_unsent(ids: Sequence[int], now: datetime, error: str) -> None:
    db.session.rollback()
    for queued in db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.id.in_(ids), OutboxMessage.status.in_(("queued", "sending"))
        )
    ):
        if queued.status == "sending" and queued.claimed_at != now:
            continue
        step = min(max(queued.attempts, 1), len(RETRY_DELAYS)) - 1
        queued.status, queued.last_error = "queued", error
        queued.next_attempt_at = now + RETRY_DELAYS[step]
    db.session.commit()


def _envelope_sender() -> str:
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


def _pause_between_messages() -> float:
    rate = float(current_app.config.get("MAIL_MAX_PER_SECOND") or 0)
    return 1.0 / rate if rate > 0 else 0.0


def _site_domain() -> str:
    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
