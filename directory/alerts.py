"""Deadline alerts: what is due, recorded before it is sent, and sent exactly once.

A run has three steps, each safe to repeat and to run in two processes at once:

1. *Tidy*: deliveries whose deadline passed become `missed`; those whose deadline moved, whose
   listing was withdrawn or whose subscriber stopped their alerts become `cancelled`.
2. *Plan*: one set-based INSERT … SELECT records every (subscriber, deadline, lead time,
   deadline instant) newly due, ignoring those already recorded (the unique key). Only what
   changed since the last run is looked at: lead times reached since then, deadlines that are
   new or moved (`AlertPlan`), subscribers who are new or changed their settings
   (`AlertSubscriberPlan`). A deadline that moved is announced once to those already alerted.
3. *Send*: rows are claimed a batch at a time with a conditional UPDATE (`SKIP LOCKED` on
   PostgreSQL), one email per subscriber listing their due deadlines soonest first, over one
   SMTP connection per batch; each outcome is committed as soon as the relay answers.

Following is matched in SQL against `Subscriber.follows` with the list's meaning: values of
one facet are alternatives, and kinds, places, funding and keywords must all hold. Places
differ from the list in one way: chosen countries and regions are one set of places (a
listing in Peru matches "Africa, Peru"), as the subscribe form says ("a region covers all
its countries"), where the list page would require both. Keywords are matched as
case-insensitive substrings of the title or summary (any keyword), not with the full-text
search. No Flask request is used here.
"""

from __future__ import annotations

import functools
import logging
import os
import smtplib
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date
from flask import Flask, current_app
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Connection, and_, bindparam, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError

from feeds.closing import is_zone_known

from .display import DEADLINE_KIND_LABELS
from .extensions import db
from .i18n import FORMAT_LOCALES
from .mail import RETRY_DELAYS, MailError, as_wire, build_message, render, smtp_connection
from .models import AlertDelivery, AlertRun, Deadline, Opportunity, Subscriber, UTCDateTime
from .regions import REGIONS
from .subscriptions import manage_url, unsubscribe_mailto, unsubscribe_url
from .web import site_url

log = logging.getLogger("openings.alerts")

PENDING = ("due", "retrying")
"""Deliveries waiting to be sent."""

STATUSES = ("due", "sending", "sent", "retrying", "failed", "bounced", "missed", "cancelled")

MAX_RECONNECTS = 3
"""How many times one run opens a new connection after the relay dropped one."""


# --- the run ----------------------------------------------------------------------------------


@dataclass
class RunReport:
    """What one run did, in rows (deliveries) and emails."""

    planned: int = 0
    emails_sent: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    bounced: int = 0
    missed: int = 0
    cancelled: int = 0

    def describe(self) -> str:
        """One line for the command and the log."""
        return (
            f"planned {self.planned}, sent {self.sent} alerts in {self.emails_sent} emails, "
            f"retrying {self.retrying}, failed {self.failed}, bounced {self.bounced}, "
            f"missed {self.missed}, cancelled {self.cancelled}"
        )


@dataclass(frozen=True)
class AlertSettings:
    """The ALERTS_* settings a run uses."""

    batch_size: int = 200
    max_per_second: float = 0.0
    claim_timeout: timedelta = timedelta(minutes=10)

    @classmethod
    def from_config(cls, config) -> AlertSettings:
        return cls(
            batch_size=max(int(config["ALERTS_BATCH_SIZE"]), 1),
            max_per_second=float(config["ALERTS_MAX_PER_SECOND"] or 0),
            claim_timeout=timedelta(minutes=float(config["ALERTS_CLAIM_TIMEOUT_MINUTES"])),
        )


def runner_name() -> str:
    """Who claims rows: host, process and a random suffix (one process may run twice)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_alerts(
    now: datetime,
    *,
    settings: AlertSettings | None = None,
    after_send: Callable[[int], None] | None = None,
) -> RunReport:
    """Tidy, plan and send everything due at `now`; safe to run in several processes at once.

    `after_send(n)` is called after the n-th email went out (tests use it to stop a run).
    """
    settings = settings or AlertSettings.from_config(current_app.config)
    report = RunReport()
    runner = runner_name()
    db.session.commit()
    retry_deadlocks(lambda: tidy(now, report, settings))
    report.planned = plan(now, runner)
    send_due(now, runner, report, settings, after_send=after_send)
    log.info("alerts at %s: %s", now.isoformat(), report.describe())
    return report


T = TypeVar("T")

DEADLOCK_ATTEMPTS = 5
"""How often a transaction that PostgreSQL chose as a deadlock's victim is tried again."""


def retry_deadlocks(work: Callable[[], T]) -> T:
    """Run `work` (one transaction), again when PostgreSQL broke a deadlock by aborting it.

    Two runs at once (two schedulers, or a cron beside one) update the same deliveries in
    different orders when one tidies while the other claims; PostgreSQL then aborts one of
    them, which loses nothing and only has to be tried again.
    """
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != "40P01" or attempt >= DEADLOCK_ATTEMPTS:
                raise
            db.session.rollback()
            log.warning("alerts: deadlock with another run (attempt %d); trying again", attempt)
            time.sleep(0.05 * attempt)
            attempt += 1


def bulk_update(model):
    """An UPDATE of many rows that leaves objects in the session alone (none are loaded here)."""
    return update(model).execution_options(synchronize_session=False)


# --- tidy -------------------------------------------------------------------------------------


def tidy(now: datetime, report: RunReport, settings: AlertSettings) -> None:
    """Mark what can no longer be sent: missed (deadline passed) or cancelled (no longer valid)."""
    stale = now - settings.claim_timeout
    waiting = or_(
        AlertDelivery.status.in_(PENDING),
        and_(AlertDelivery.status == "sending", AlertDelivery.claimed_at < stale),
    )
    missed = db.session.execute(
        bulk_update(AlertDelivery)
        .where(waiting, AlertDelivery.deadline_due_at <= now)
        .values(status="missed", last_error="its deadline passed before it could be sent")
    ).rowcount
    still_valid = (
        select(Deadline.id)
        .join(Opportunity, Opportunity.id == Deadline.opportunity_id)
        .where(
            Deadline.id == AlertDelivery.deadline_id,
            Deadline.due_at == AlertDelivery.deadline_due_at,
            Opportunity.status == "published",
        )
        .exists()
    )
    active = (
        select(Subscriber.id)
        .where(Subscriber.id == AlertDelivery.subscriber_id, Subscriber.status == "active")
        .exists()
    )
    cancelled = db.session.execute(
        bulk_update(AlertDelivery)
        .where(waiting, ~still_valid)
        .values(status="cancelled", last_error="the deadline moved or the listing was withdrawn")
    ).rowcount
    cancelled += db.session.execute(
        bulk_update(AlertDelivery)
        .where(waiting, ~active)
        .values(status="cancelled", last_error="the subscriber stopped their alerts")
    ).rowcount
    db.session.commit()
    report.missed += missed
    report.cancelled += cancelled


# --- plan -------------------------------------------------------------------------------------


def plan(now: datetime, runner: str, *, connection: Connection | None = None) -> int:
    """Record every delivery newly due at `now`; returns how many rows were added.

    Runs in its own transaction on its own connection (REPEATABLE READ and an advisory lock
    on PostgreSQL, SQLite's single writer otherwise), so what it reads and the plan markers
    it writes agree. Pass `connection` to plan without committing (dry runs roll it back).
    """
    if connection is not None:
        return _plan_on(connection, now, runner)
    with db.engine.connect() as own:
        postgresql = own.dialect.name == "postgresql"
        if postgresql:
            own.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            own.commit()
            own.execution_options(isolation_level="REPEATABLE READ")
        try:
            planned = _plan_on(own, now, runner)
            own.commit()
        except Exception:
            own.rollback()
            raise
        finally:
            if postgresql:
                own.execution_options(isolation_level="READ COMMITTED")
                own.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                own.commit()
    return planned


_LOCK_KEY = 0x0A1E475
"""The PostgreSQL advisory lock that lets one run plan at a time."""


def _plan_on(connection: Connection, now: datetime, runner: str) -> int:
    dialect = connection.dialect.name
    run_id = connection.execute(
        AlertRun.__table__.insert()
        .values(now=now, runner=runner, planned=0, created_at=now)
        .returning(AlertRun.__table__.c.id)
    ).scalar_one()
    since = connection.execute(
        select(func.max(AlertRun.now)).where(AlertRun.id != run_id)
    ).scalar_one()
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    longest = connection.execute(text(_sql_longest(dialect))).scalar_one()
    horizon = now + timedelta(days=int(longest or 0))
    params = {
        "now": now,
        "horizon": horizon,
        "now_epoch": int(now.timestamp()),
        "since_epoch": int(since.timestamp()) if since is not None else 0,
    }
    planned = 0
    if longest:
        planned += _changes(connection, _sql_changed(dialect), params)
        planned += _changes(connection, _sql_plan(dialect), params)
    for statement in _sql_markers(dialect):
        connection.execute(_statement(statement), params)
    connection.execute(
        update(AlertRun.__table__).where(AlertRun.__table__.c.id == run_id).values(planned=planned)
    )
    return planned


def _changes(connection: Connection, sql: str, params: dict) -> int:
    """Run a write and count its rows (SQLite's driver reports -1 for a WITH … INSERT)."""
    count = connection.execute(_statement(sql), params).rowcount
    if connection.dialect.name == "sqlite":
        count = connection.execute(text("SELECT changes()")).scalar_one()
    return count


@functools.cache
def _statement(sql: str):
    """`sql` with its instants bound as the columns store them (naive UTC); built once."""
    typed = [bindparam(name, type_=UTCDateTime) for name in ("now", "horizon") if f":{name}" in sql]
    return text(sql).bindparams(*typed)


def _elements(dialect: str, column: str, key: str | None, alias: str) -> str:
    """A table of the elements of a JSON array (`column`, or its member `key`), as `alias.value`."""
    if dialect == "sqlite":
        path = f", '$.{key}'" if key else ""
        return f"json_each({column}{path}) AS {alias}"
    target = f"({column} -> '{key}')" if key else column
    return (
        f"json_array_elements_text(CASE WHEN json_typeof({target}) = 'array' "
        f"THEN {target} ELSE '[]'::json END) AS {alias}(value)"
    )


def _epoch(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(extract(epoch FROM {column}) AS BIGINT)"


def _settings_text(alias: str) -> str:
    return (
        f"CAST({alias}.lead_days AS TEXT) || '|' || CAST({alias}.buffer_days AS TEXT) || '|' "
        f"|| COALESCE(CAST({alias}.follows AS TEXT), '')"
    )


@functools.cache
def _region_values() -> str:
    pairs = [f"('{region}', '{code}')" for region, codes in REGIONS.items() for code in codes]
    return "region_countries(region, code) AS (VALUES " + ", ".join(pairs) + ")"


FOLLOWED = ("opportunity_ids", "kinds", "countries", "regions", "funding", "keywords")
"""The keys of `Subscriber.follows`; each is a list, and an empty or missing one is no filter."""


def _follows_sizes(dialect: str, follows: str) -> str:
    """Columns read once per subscriber: `n_<key>`, how many values each key of `follows` lists
    (0 when absent), and `t_<key>`, the list as JSON text, searched for `"value"` tokens."""
    columns = []
    for key in FOLLOWED:
        if dialect == "sqlite":
            size = f"COALESCE(json_array_length({follows}, '$.{key}'), 0)"
            listed = f"COALESCE(json_extract({follows}, '$.{key}'), '')"
        else:
            target = f"({follows} -> '{key}')"
            size = (
                f"json_array_length(CASE WHEN json_typeof({target}) = 'array' "
                f"THEN {target} ELSE '[]'::json END)"
            )
            listed = f"COALESCE(CAST({target} AS TEXT), '')"
        if key == "countries":
            listed = f"upper({listed})"
        if key == "opportunity_ids":
            listed = f"replace(replace(replace({listed}, ' ', ''), '[', ','), ']', ',')"
        columns.append(f"{size} AS n_{key}, {listed} AS t_{key}")
    return ", ".join(columns)


@functools.cache
def _follows_match(dialect: str, row: str, opportunity: str) -> str:
    """SQL true when the subscriber of `row` (its `n_*` sizes and `t_*` lists) follows
    `opportunity`.

    Values are found as `"value"` tokens in the list's JSON text (kinds, countries, regions and
    funding are plain slugs and codes), a string search per (subscriber, deadline) pair rather
    than a JSON parse; keywords, matched as substrings, are read with the JSON functions.
    """
    o = opportunity
    contains = "instr" if dialect == "sqlite" else "strpos"

    def has(key: str, value: str) -> str:
        return f"{contains}({row}.t_{key}, '\"' || {value} || '\"') > 0"

    funding = " OR ".join(
        f"({o}.offers_{name} AND {contains}({row}.t_funding, '\"{name}\"') > 0)"
        for name in ("travel", "accommodation", "fees", "stipend")
    )
    in_countries = (
        f"EXISTS (SELECT 1 FROM opportunity_countries oc WHERE oc.opportunity_id = {o}.id "
        f"AND {has('countries', 'oc.country_code')})"
    )
    in_regions = (
        f"EXISTS (SELECT 1 FROM opportunity_regions r WHERE r.opportunity_id = {o}.id "
        f"AND {has('regions', 'r.region')})"
    )
    keyword = "lower(CAST(fw.value AS TEXT))"
    keywords = (
        f"({row}.n_keywords = 0 OR EXISTS (SELECT 1 FROM "
        f"{_elements(dialect, f'{row}.follows', 'keywords', 'fw')} "
        f"WHERE length(CAST(fw.value AS TEXT)) > 0 AND ({contains}(lower({o}.title), {keyword}) > 0 "
        f"OR {contains}(lower({o}.summary_text), {keyword}) > 0)))"
    )
    return f"""(CASE WHEN {row}.n_opportunity_ids > 0
    THEN {contains}({row}.t_opportunity_ids, ',' || CAST({o}.id AS TEXT) || ',') > 0
    ELSE ({row}.n_kinds = 0 OR {has("kinds", f"{o}.kind")})
     AND (({row}.n_countries = 0 AND {row}.n_regions = 0)
          OR ({row}.n_countries > 0 AND {in_countries})
          OR ({row}.n_regions > 0 AND {in_regions}))
     AND ({row}.n_funding = 0 OR {funding})
     AND {keywords}
    END)"""


@functools.cache
def _sql_longest(dialect: str) -> str:
    """The longest lead time plus buffer of any active subscriber: how far ahead to look."""
    lead = _elements(dialect, "s.lead_days", None, "l")
    return (
        f"SELECT max(s.buffer_days + CAST(l.value AS INTEGER)) FROM subscribers s CROSS JOIN {lead} "
        "WHERE s.status = 'active' AND CAST(l.value AS INTEGER) BETWEEN 1 AND 366 "
        "AND s.buffer_days BETWEEN 0 AND 366"
    )


_DELIVERY_COLUMNS = (
    "(subscriber_id, deadline_id, lead_days, deadline_due_at, kind, status, attempts, "
    "next_attempt_at, created_at)"
)


def _insert(dialect: str) -> tuple[str, str]:
    """The head and tail of an INSERT that skips rows already recorded, on either database."""
    if dialect == "sqlite":
        return f"INSERT OR IGNORE INTO alert_deliveries {_DELIVERY_COLUMNS}", ""
    return f"INSERT INTO alert_deliveries {_DELIVERY_COLUMNS}", " ON CONFLICT DO NOTHING"


@functools.cache
def _sql_plan(dialect: str) -> str:
    """Reminders newly due: lead times reached since the last run, or new/changed rows in full."""
    lead = _elements(dialect, "s.lead_days", None, "l")
    due = _epoch(dialect, "d.due_at")
    head, tail = _insert(dialect)
    match = _follows_match(dialect, "sl", "o")
    return f"""WITH {_region_values()},
sl AS MATERIALIZED (
  SELECT s.id AS subscriber_id, s.follows AS follows, {_follows_sizes(dialect, "s.follows")},
         CAST(l.value AS INTEGER) AS lead,
         s.buffer_days + CAST(l.value AS INTEGER) AS days,
         CASE WHEN p.subscriber_id IS NULL OR p.settings <> {_settings_text("s")}
              THEN 1 ELSE 0 END AS fresh
  FROM subscribers s CROSS JOIN {lead}
  LEFT JOIN alert_subscriber_plans p ON p.subscriber_id = s.id
  WHERE s.status = 'active' AND CAST(l.value AS INTEGER) BETWEEN 1 AND 366
    AND s.buffer_days BETWEEN 0 AND 366
),
dl AS MATERIALIZED (
  SELECT d.id AS deadline_id, d.due_at AS due_at, d.opportunity_id AS opportunity_id,
         {due} AS due_epoch,
         CASE WHEN ap.deadline_id IS NULL OR ap.due_at <> d.due_at THEN 1 ELSE 0 END AS fresh
  FROM deadlines d
  JOIN opportunities o ON o.id = d.opportunity_id
  LEFT JOIN alert_plans ap ON ap.deadline_id = d.id
  WHERE o.status = 'published' AND d.due_at > :now AND d.due_at <= :horizon
),
fresh AS MATERIALIZED (SELECT * FROM sl WHERE fresh = 1),
opportunity_regions AS MATERIALIZED (
  SELECT DISTINCT oc.opportunity_id, rc.region
  FROM opportunity_countries oc JOIN region_countries rc ON rc.code = oc.country_code
  WHERE oc.opportunity_id IN (SELECT opportunity_id FROM dl)
),
offsets AS MATERIALIZED (SELECT DISTINCT days FROM sl),
crossed AS MATERIALIZED (
  SELECT dl.deadline_id, dl.due_at, dl.opportunity_id, offsets.days
  FROM dl CROSS JOIN offsets
  WHERE dl.due_epoch - offsets.days * 86400 <= :now_epoch
    AND (dl.fresh = 1 OR dl.due_epoch - offsets.days * 86400 > :since_epoch)
)
{head}
SELECT sl.subscriber_id, c.deadline_id, sl.lead, c.due_at, 'reminder', 'due', 0, :now, :now
FROM crossed c JOIN sl ON sl.days = c.days
JOIN opportunities o ON o.id = c.opportunity_id
WHERE {match}
UNION
SELECT sl.subscriber_id, dl.deadline_id, sl.lead, dl.due_at, 'reminder', 'due', 0, :now, :now
FROM fresh sl CROSS JOIN dl
JOIN opportunities o ON o.id = dl.opportunity_id
WHERE dl.due_epoch - sl.days * 86400 <= :now_epoch AND {match}{tail}"""


@functools.cache
def _sql_changed(dialect: str) -> str:
    """One notice to everyone already alerted about a deadline that has since moved."""
    head, tail = _insert(dialect)
    return f"""{head}
SELECT DISTINCT ad.subscriber_id, d.id, 0, d.due_at,
       CASE WHEN d.due_at > ap.due_at THEN 'extended' ELSE 'moved' END, 'due', 0, :now, :now
FROM alert_plans ap
JOIN deadlines d ON d.id = ap.deadline_id
JOIN opportunities o ON o.id = d.opportunity_id
JOIN alert_deliveries ad ON ad.deadline_id = d.id AND ad.deadline_due_at = ap.due_at
JOIN subscribers s ON s.id = ad.subscriber_id
WHERE ap.due_at <> d.due_at AND d.due_at > :now AND o.status = 'published'
  AND ad.status = 'sent' AND s.status = 'active'{tail}"""


@functools.cache
def _sql_markers(dialect: str) -> tuple[str, ...]:
    """Remember what was planned: each deadline's instant, each subscriber's settings."""
    conflict = " ON CONFLICT DO NOTHING"
    return (
        "DELETE FROM alert_plans WHERE deadline_id IN (SELECT d.id FROM deadlines d "
        "JOIN opportunities o ON o.id = d.opportunity_id "
        "WHERE d.due_at <= :now OR o.status <> 'published')",
        "UPDATE alert_plans SET due_at = (SELECT d.due_at FROM deadlines d "
        "WHERE d.id = alert_plans.deadline_id) WHERE EXISTS (SELECT 1 FROM deadlines d "
        "WHERE d.id = alert_plans.deadline_id AND d.due_at <> alert_plans.due_at)",
        "INSERT INTO alert_plans (deadline_id, due_at) SELECT d.id, d.due_at FROM deadlines d "
        "JOIN opportunities o ON o.id = d.opportunity_id "
        "LEFT JOIN alert_plans ap ON ap.deadline_id = d.id "
        "WHERE ap.deadline_id IS NULL AND o.status = 'published' "
        f"AND d.due_at > :now AND d.due_at <= :horizon{conflict}",
        "DELETE FROM alert_subscriber_plans WHERE subscriber_id IN "
        "(SELECT id FROM subscribers WHERE status <> 'active')",
        f"UPDATE alert_subscriber_plans SET settings = (SELECT {_settings_text('s')} "
        "FROM subscribers s WHERE s.id = alert_subscriber_plans.subscriber_id) "
        "WHERE EXISTS (SELECT 1 FROM subscribers s WHERE s.id = alert_subscriber_plans.subscriber_id "
        f"AND {_settings_text('s')} <> alert_subscriber_plans.settings)",
        f"INSERT INTO alert_subscriber_plans (subscriber_id, settings) SELECT s.id, "
        f"{_settings_text('s')} FROM subscribers s "
        "LEFT JOIN alert_subscriber_plans p ON p.subscriber_id = s.id "
        f"WHERE p.subscriber_id IS NULL AND s.status = 'active'{conflict}",
    )


# --- send -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueAlert:
    """One claimed delivery with what its email needs, read in the claiming transaction."""

    id: int
    kind: str
    lead_days: int
    deadline_due_at: datetime
    subscriber_id: int
    email: str
    language: str
    time_zone: str
    buffer_days: int
    subscriber_status: str
    deadline_kind: str
    due_at: datetime
    deadline_zone: str | None
    evidence: str
    opportunity_id: int
    title: str
    link: str | None
    opportunity_status: str

    @property
    def is_valid(self) -> bool:
        """Still worth sending: the deadline is where it was, listed, and the subscriber active."""
        return (
            self.due_at == self.deadline_due_at
            and self.opportunity_status == "published"
            and self.subscriber_status == "active"
        )


@dataclass
class Email:
    """One alert email: its recipient, the deliveries it carries, and the message."""

    subscriber_id: int
    to: str
    delivery_ids: list[int]
    soonest_due_at: datetime
    alerts: list[DueAlert] = field(default_factory=list)
    message: bytes = b""
    subject: str = ""

    def drop_passed(self, moment: datetime) -> list[int]:
        """Leave out the alerts whose deadline is no longer ahead at `moment`; their ids.

        The others in the same email are still worth sending: one passed deadline never
        costs a subscriber the alerts for those still open.
        """
        passed = [a.id for a in self.alerts if a.due_at <= moment]
        if passed:
            self.alerts = [a for a in self.alerts if a.due_at > moment]
            self.delivery_ids = [a.id for a in self.alerts]
            self.soonest_due_at = min((a.due_at for a in self.alerts), default=moment)
        return passed


def due_query(now: datetime, settings: AlertSettings):
    """Deliveries that may be claimed at `now`: pending and ready, or claimed by a dead run."""
    return and_(
        AlertDelivery.deadline_due_at > now,
        or_(
            and_(AlertDelivery.status.in_(PENDING), AlertDelivery.next_attempt_at <= now),
            and_(
                AlertDelivery.status == "sending",
                AlertDelivery.claimed_at < now - settings.claim_timeout,
            ),
        ),
    )


def claim_batch(now: datetime, runner: str, settings: AlertSettings) -> list[DueAlert]:
    """Claim the due deliveries of up to a batch of subscribers, and read what their emails need."""
    eligible = due_query(now, settings)
    picked = (
        select(AlertDelivery.subscriber_id)
        .where(eligible)
        .order_by(AlertDelivery.subscriber_id)
        .limit(settings.batch_size)
        .with_for_update(skip_locked=True)
    )
    ids = list(
        db.session.scalars(
            bulk_update(AlertDelivery)
            .where(eligible, AlertDelivery.subscriber_id.in_(picked))
            .values(status="sending", claimed_by=runner, claimed_at=now)
            .returning(AlertDelivery.id)
        )
    )
    claimed = load_alerts(ids)
    db.session.commit()
    return claimed


def load_alerts(ids: list[int]) -> list[DueAlert]:
    """The deliveries `ids` with their subscriber, deadline and opportunity, soonest first."""
    if not ids:
        return []
    rows = db.session.execute(
        select(
            AlertDelivery.id,
            AlertDelivery.kind,
            AlertDelivery.lead_days,
            AlertDelivery.deadline_due_at,
            Subscriber.id,
            Subscriber.email,
            Subscriber.language,
            Subscriber.time_zone,
            Subscriber.buffer_days,
            Subscriber.status,
            Deadline.kind,
            Deadline.due_at,
            Deadline.time_zone,
            Deadline.evidence,
            Opportunity.id,
            Opportunity.title,
            Opportunity.link,
            Opportunity.status,
        )
        .join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)
        .join(Deadline, Deadline.id == AlertDelivery.deadline_id)
        .join(Opportunity, Opportunity.id == Deadline.opportunity_id)
        .where(AlertDelivery.id.in_(ids))
        .order_by(Subscriber.id, Deadline.due_at, Opportunity.id, AlertDelivery.id)
    )
    return [DueAlert(*row) for row in rows]


class Pacer:
    """Keeps sending under a rate cap (emails per second; 0: no cap)."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if now < self.next_at:
            time.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + self.interval


class Relay:
    """One SMTP connection opened when first needed, replaced when the relay drops it."""

    def __init__(self) -> None:
        self._stack: ExitStack | None = None
        self.connection: smtplib.SMTP | None = None
        self.reconnects = 0

    def get(self) -> smtplib.SMTP:
        if self.connection is None:
            stack = ExitStack()
            self.connection = stack.enter_context(smtp_connection())
            self._stack = stack
        return self.connection

    def drop(self) -> None:
        """Forget a broken connection; the next `get` opens another."""
        if self.connection is not None:
            with suppress(OSError):
                self.connection.close()
        self.connection, self._stack = None, None
        self.reconnects += 1

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self.connection, self._stack = None, None


@contextmanager
def relay() -> Iterator[Relay]:
    """A `Relay` closed (QUIT) at the end."""
    holder = Relay()
    try:
        yield holder
    finally:
        holder.close()


@dataclass(frozen=True)
class Refusal:
    """How the relay refused one email: `retry` later, `bounce` the address, or `fail` it."""

    outcome: str
    error: str
    reconnect: bool = False


def classify(error: Exception) -> Refusal:
    """Read an smtplib error: 4xx and lost connections are temporary, 5xx for the address bounces."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()))
        message = f"{code} {_decode(reply)}"
        return Refusal("bounce" if code >= 500 else "retry", message)
    if isinstance(error, smtplib.SMTPServerDisconnected | OSError):
        return Refusal("retry", f"connection lost: {error}", reconnect=True)
    if isinstance(error, smtplib.SMTPResponseException):
        message = f"{error.smtp_code} {_decode(error.smtp_error)}"
        if error.smtp_code == 421:
            return Refusal("retry", message, reconnect=True)
        return Refusal("retry" if error.smtp_code < 500 else "fail", message)
    return Refusal("retry", str(error), reconnect=True)


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def send_due(
    now: datetime,
    runner: str,
    report: RunReport,
    settings: AlertSettings,
    *,
    after_send: Callable[[int], None] | None = None,
) -> None:
    """Claim and send batches until nothing is due; each outcome is committed at once."""
    started = time.monotonic()
    pacer = Pacer(settings.max_per_second)
    sender = _envelope_sender()
    while True:
        claimed = retry_deadlocks(lambda: claim_batch(now, runner, settings))
        if not claimed:
            return
        emails = build_emails(claimed, now, report, compose_now=False)
        with relay() as smtp:
            for position, email in enumerate(emails):
                current = now + timedelta(seconds=time.monotonic() - started)
                passed = email.drop_passed(current)
                if passed:
                    _finish(passed, "missed", now, "its deadline passed while sending")
                    report.missed += len(passed)
                if not email.alerts:
                    continue
                email.subject, email.message = compose(email.alerts, now)
                if smtp.reconnects > MAX_RECONNECTS:
                    _release(emails[position:], now, "the relay kept dropping the connection")
                    report.retrying += sum(len(e.delivery_ids) for e in emails[position:])
                    break
                pacer.wait()
                try:
                    refused = smtp.get().sendmail(sender, [email.to], email.message)
                    if refused:
                        raise smtplib.SMTPRecipientsRefused(refused)
                except MailError as error:
                    log.error("alerts: %s; the rest wait for the next run", error)
                    _release(emails[position:], now, str(error))
                    report.retrying += sum(len(e.delivery_ids) for e in emails[position:])
                    return
                except (smtplib.SMTPException, OSError) as error:
                    refusal = classify(error)
                    _refused(email, refusal, now, report)
                    if refusal.reconnect:
                        smtp.drop()
                    continue
                _finish(email.delivery_ids, "sent", now)
                report.sent += len(email.delivery_ids)
                report.emails_sent += 1
                if after_send is not None:
                    after_send(report.emails_sent)


def build_emails(
    claimed: list[DueAlert], now: datetime, report: RunReport, *, compose_now: bool = True
) -> list[Email]:
    """One email per subscriber from their claimed deliveries; invalid ones are cancelled.

    With `compose_now=False` the messages are left for the caller to compose.
    """
    stale = [a.id for a in claimed if not a.is_valid]
    if stale:
        _finish(stale, "cancelled", now, "the deadline moved or the listing was withdrawn")
        report.cancelled += len(stale)
    by_subscriber: dict[int, list[DueAlert]] = defaultdict(list)
    for alert in claimed:
        if alert.is_valid:
            by_subscriber[alert.subscriber_id].append(alert)
    emails = []
    for alerts in by_subscriber.values():
        email = Email(
            subscriber_id=alerts[0].subscriber_id,
            to=alerts[0].email,
            delivery_ids=[a.id for a in alerts],
            soonest_due_at=min(a.due_at for a in alerts),
            alerts=alerts,
        )
        if compose_now:
            email.subject, email.message = compose(alerts, now)
        emails.append(email)
    return emails


_FINISH = text(
    "UPDATE alert_deliveries SET status = :status, last_error = :error, "
    "sent_at = COALESCE(:sent_at, sent_at) WHERE id = :id"
).bindparams(bindparam("sent_at", type_=UTCDateTime))
"""Record one outcome: a plain statement, as it runs once per email sent."""


def _finish(ids: list[int], status: str, now: datetime, error: str | None = None) -> None:
    """Record an outcome at once, durably, before the next email goes out.

    The commit waits for the disk on both databases: an outcome forgotten by a crashed
    database server would have its email sent again, and "none sent twice" is the promise.
    """
    sent_at = now if status == "sent" else None
    params = [{"status": status, "error": error, "sent_at": sent_at, "id": i} for i in ids]
    db.session.connection().execute(_FINISH, params)
    db.session.commit()


def _refused(email: Email, refusal: Refusal, now: datetime, report: RunReport) -> None:
    log.warning("alerts: email to subscriber %d refused: %s", email.subscriber_id, refusal.error)
    if refusal.outcome == "bounce":
        db.session.execute(
            bulk_update(Subscriber)
            .where(Subscriber.id == email.subscriber_id)
            .values(status="bounced")
        )
        db.session.execute(
            bulk_update(AlertDelivery)
            .where(
                AlertDelivery.subscriber_id == email.subscriber_id,
                or_(AlertDelivery.id.in_(email.delivery_ids), AlertDelivery.status.in_(PENDING)),
            )
            .values(status="bounced", last_error=refusal.error)
        )
        db.session.commit()
        report.bounced += len(email.delivery_ids)
    elif refusal.outcome == "fail":
        _finish(email.delivery_ids, "failed", now, refusal.error)
        report.failed += len(email.delivery_ids)
    else:
        _retry_later(email.delivery_ids, now, refusal.error, attempted=True)
        report.retrying += len(email.delivery_ids)


def _release(emails: list[Email], now: datetime, error: str) -> None:
    """Give claimed emails back for a later attempt (the relay could not be used)."""
    ids = [i for email in emails for i in email.delivery_ids]
    if ids:
        _retry_later(ids, now, error, attempted=False)


def _retry_later(ids: list[int], now: datetime, error: str, *, attempted: bool) -> None:
    """Back off: RETRY_DELAYS after each failed attempt, never later than half the time left."""
    rows = db.session.execute(
        select(AlertDelivery.id, AlertDelivery.attempts, AlertDelivery.deadline_due_at).where(
            AlertDelivery.id.in_(ids)
        )
    ).all()
    db.session.commit()
    for row_id, attempts, due_at in rows:
        attempts += 1 if attempted else 0
        delay = RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]
        next_at = min(now + delay, now + (due_at - now) / 2)
        db.session.execute(
            bulk_update(AlertDelivery)
            .where(AlertDelivery.id == row_id)
            .values(status="retrying", attempts=attempts, next_attempt_at=next_at, last_error=error)
        )
    db.session.commit()


def _envelope_sender() -> str:
    from email.utils import parseaddr

    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]


# --- the email --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertItem:
    """One deadline as an alert email lists it."""

    kind: str
    """`reminder`, `extended` or `moved`."""
    title: str
    detail_url: str
    link: str | None
    deadline_label: str
    closes: str
    countdown: str
    evidence: str
    zone_stated: bool
    work_by: str | None
    """When the subscriber's buffer is set: a sentence giving the date to be ready by."""


_LABELS: dict[str, dict[str, str]] = {}


def email_labels() -> dict[str, str]:
    """The fixed wording of alert emails in the current language, translated once per language.

    Rendering two templates per email calls gettext for each phrase; looked up once, the
    phrases cost nothing per email.
    """
    language = str(get_locale() or "en")
    labels = _LABELS.get(language)
    if labels is None:
        labels = {
            "extended": _("Extended"),
            "moved": _("Moved earlier"),
            "no_zone": _("The listing states no time zone: this is the earliest it could close."),
            "says": _("The listing says:"),
            "apply": _("Apply or read more"),
            "manage": _("Change what you follow, or pause your alerts"),
            "unsubscribe": _("Unsubscribe"),
        }
        _LABELS[language] = labels
    return labels


def subscriber_zone(name: str | None) -> ZoneInfo:
    """The subscriber's zone, UTC when unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_moment(moment: datetime, zone: ZoneInfo, language: str) -> str:
    """A moment in the subscriber's zone and language, its date as the language writes it in
    full: "Wednesday, 14 April 2027, 23:59 (Europe/Paris)", "miércoles, 14 de abril de 2027…"."""
    locale = FORMAT_LOCALES.get(language, language)
    local = moment.astimezone(zone)
    written = f"{format_date(local, 'full', locale=locale)}, {local:%H:%M}"
    return f"{written} ({zone.key})"


def time_left(due_at: datetime, now: datetime) -> str:
    """The time left in whole days (rounded down) or hours, in the current language."""
    seconds = (due_at - now).total_seconds()
    days = int(seconds // 86400)
    if days >= 1:
        return ngettext("closes in %(num)d day", "closes in %(num)d days", days)
    hours = int(seconds // 3600)
    if hours >= 1:
        return ngettext("closes in %(num)d hour", "closes in %(num)d hours", hours)
    return _("closes within the hour")


def alert_items(alerts: list[DueAlert], now: datetime) -> list[AlertItem]:
    """The deadlines of one subscriber's email, each once, soonest first."""
    zone = subscriber_zone(alerts[0].time_zone)
    language = alerts[0].language or "en"
    items = []
    seen: dict[tuple, list[DueAlert]] = defaultdict(list)
    for alert in alerts:
        seen[(alert.opportunity_id, alert.deadline_kind, alert.due_at)].append(alert)
    for group in sorted(seen.values(), key=lambda g: (g[0].due_at, g[0].opportunity_id)):
        first = group[0]
        kinds = {a.kind for a in group}
        kind = "extended" if "extended" in kinds else "moved" if "moved" in kinds else "reminder"
        work_by = None
        if first.buffer_days:
            ready = local_moment(first.due_at - timedelta(days=first.buffer_days), zone, language)
            work_by = _(
                "With your %(num)d-day margin, be ready by %(moment)s.",
                num=first.buffer_days,
                moment=ready,
            )
        items.append(
            AlertItem(
                kind=kind,
                title=first.title,
                detail_url=site_url("browse.detail", opportunity_id=first.opportunity_id),
                link=first.link,
                deadline_label=str(DEADLINE_KIND_LABELS.get(first.deadline_kind) or _("Deadline")),
                closes=local_moment(first.due_at, zone, language),
                countdown=time_left(first.due_at, now),
                evidence=first.evidence,
                zone_stated=is_zone_known(first.deadline_zone),
                work_by=work_by,
            )
        )
    return items


def alert_subject(items: list[AlertItem]) -> str:
    """The subject: the soonest deadline, and how many more."""
    first = items[0]
    if first.kind == "extended":
        lead = _("Deadline extended: %(title)s", title=first.title)
    elif first.kind == "moved":
        lead = _("Deadline moved earlier: %(title)s", title=first.title)
    else:
        lead = _(
            "%(countdown)s: %(title)s", countdown=first.countdown.capitalize(), title=first.title
        )
    if len(items) > 1:
        more = ngettext("and %(num)d more deadline", "and %(num)d more deadlines", len(items) - 1)
        return f"{lead} ({more})"
    return lead


def list_headers(subscriber: Subscriber, unsubscribe: str | None = None) -> dict[str, str]:
    """The RFC 2369/8058 headers every alert and digest carries (`unsubscribe`: the https link)."""
    domain = _site_domain()
    unsubscribe = unsubscribe or unsubscribe_url(subscriber)
    return {
        "List-Id": f"Openings deadline alerts <alerts.{domain}>",
        "List-Unsubscribe": f"<{unsubscribe}>, <{unsubscribe_mailto(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _site_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def compose(alerts: list[DueAlert], now: datetime) -> tuple[str, bytes]:
    """The subject and the whole message of one subscriber's alert email, in their language."""
    first = alerts[0]
    subscriber = Subscriber(id=first.subscriber_id, email=first.email)
    language = first.language or "en"
    unsubscribe = unsubscribe_url(subscriber)
    with force_locale(language):
        items = alert_items(alerts, now)
        subject = alert_subject(items)
        buffer_note = None
        if first.buffer_days:
            buffer_note = _(
                "Alerts count back from each deadline minus the %(num)d days of margin "
                "you asked for.",
                num=first.buffer_days,
            )
        text_body, html_body = render(
            "alert",
            subject=subject,
            lang=language,
            items=items,
            labels=email_labels(),
            buffer_note=buffer_note,
            manage_url=manage_url(subscriber),
            unsubscribe_url=unsubscribe,
        )
    message = build_message(
        to=first.email,
        subject=subject,
        text=text_body,
        html=html_body,
        headers=list_headers(subscriber, unsubscribe),
    )
    return subject, as_wire(message)


# --- dry run and status -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedEmail:
    """Who would get what, for `alerts run --dry-run`."""

    email: str
    deadlines: list[str] = field(default_factory=list)


def dry_run(now: datetime) -> list[PlannedEmail]:
    """What a run at `now` would send, planned in a transaction that is rolled back."""
    settings = AlertSettings.from_config(current_app.config)
    db.session.commit()
    with db.engine.connect() as connection:
        transaction = connection.begin()
        try:
            plan(now, "dry-run", connection=connection)
            rows = connection.execute(
                select(
                    Subscriber.email,
                    AlertDelivery.kind,
                    AlertDelivery.lead_days,
                    Deadline.due_at,
                    Opportunity.title,
                )
                .join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)
                .join(Deadline, Deadline.id == AlertDelivery.deadline_id)
                .join(Opportunity, Opportunity.id == Deadline.opportunity_id)
                .where(
                    due_query(now, settings),
                    Subscriber.status == "active",
                    Opportunity.status == "published",
                    Deadline.due_at == AlertDelivery.deadline_due_at,
                )
                .order_by(Subscriber.email, Deadline.due_at, Opportunity.id)
            ).all()
        finally:
            transaction.rollback()
    planned: dict[str, PlannedEmail] = {}
    for email, kind, lead, due_at, title in rows:
        entry = planned.setdefault(email, PlannedEmail(email))
        label = f"{due_at:%Y-%m-%d %H:%M} UTC  {title}"
        note = kind if kind != "reminder" else f"{lead}-day reminder"
        line = f"{label}  ({note})"
        if line not in entry.deadlines:
            entry.deadlines.append(line)
    return list(planned.values())


def status_counts() -> dict[str, int]:
    """How many deliveries are in each status (every status listed, zeros included)."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in db.session.execute(
        select(AlertDelivery.status, func.count()).group_by(AlertDelivery.status)
    ):
        counts[status] = count
    return counts


@dataclass(frozen=True)
class LogEntry:
    """One row of the delivery log as the admin page shows it."""

    id: int
    created_at: datetime
    email: str
    title: str
    opportunity_id: int
    kind: str
    lead_days: int
    deadline_due_at: datetime
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


def delivery_log(status: str | None = None, limit: int = 200) -> list[LogEntry]:
    """The latest deliveries (of one status, if given), newest first."""
    query = (
        select(
            AlertDelivery.id,
            AlertDelivery.created_at,
            Subscriber.email,
            Opportunity.title,
            Opportunity.id,
            AlertDelivery.kind,
            AlertDelivery.lead_days,
            AlertDelivery.deadline_due_at,
            AlertDelivery.status,
            AlertDelivery.attempts,
            AlertDelivery.sent_at,
            AlertDelivery.last_error,
        )
        .join(Subscriber, Subscriber.id == AlertDelivery.subscriber_id)
        .join(Deadline, Deadline.id == AlertDelivery.deadline_id)
        .join(Opportunity, Opportunity.id == Deadline.opportunity_id)
        .order_by(AlertDelivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(AlertDelivery.status == status)
    return [LogEntry(*row) for row in db.session.execute(query)]


def init_app(app: Flask) -> None:
    """Register the alert job (every ALERTS_INTERVAL_MINUTES) and the weekly digest job."""
    from .digest import run_digest
    from .scheduler import Job, register

    every = timedelta(minutes=float(app.config["ALERTS_INTERVAL_MINUTES"]))
    register(Job("send alerts", every, lambda app, now: run_alerts(now)))
    register(Job("weekly digest", timedelta(hours=1), lambda app, now: run_digest(now)))
