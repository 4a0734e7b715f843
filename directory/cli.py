"""The `flask --app wsgi …` commands, one group per thing an operator manages.

Commands are thin: they parse options, call a plain function, and print what happened.
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .database import reports_database_errors
from .extensions import db
from .models import Source, utcnow

alerts = AppGroup("alerts", help="Deadline alerts and the weekly digest: run, status, digest.")
demo = AppGroup("demo", help="Demo data for a local try-out.")
feeds = AppGroup(
    "feeds",
    help="Feed sources: add, list, fetch, pause, resume, remove; extract (try the extractor).",
)
scheduler = AppGroup(
    "scheduler", help="The long-running process that polls feeds and sends alerts."
)
users = AppGroup("users", help="Moderator accounts for /admin.")
subscribers = AppGroup(
    "subscribers", help="People who get deadline alerts: import, add, list, remove."
)


def init_app(app: Flask) -> None:
    """Attach every command group to the app."""
    for group in (alerts, demo, feeds, scheduler, subscribers, users):
        app.cli.add_command(group)


# --- alerts -----------------------------------------------------------------------------------


def _instant(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime:
    """An ISO 8601 instant (UTC when no offset is given), or the current one."""
    if value is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 date and time: {value}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@alerts.command("run")
@click.option("--now", callback=_instant, metavar="ISO8601", help="Run as if it were then (UTC).")
@click.option("--dry-run", is_flag=True, help="Print who would get what; send and record nothing.")
@reports_database_errors
def alerts_run(now: datetime, dry_run: bool) -> None:
    """Plan the alerts due now and send them (the scheduler does this every few minutes)."""
    from .alerts import dry_run as plan_dry_run
    from .alerts import run_alerts

    if dry_run:
        planned = plan_dry_run(now)
        if not planned:
            click.echo("Nothing is due.")
        for email in planned:
            click.echo(f"{email.email}: {len(email.deadlines)} deadlines")
            for line in email.deadlines:
                click.echo(f"    {line}")
        return
    click.echo(run_alerts(now).describe())


@alerts.command("status")
@reports_database_errors
def alerts_status() -> None:
    """How many alert deliveries are in each status, missed ones included."""
    from .alerts import status_counts

    for status, count in status_counts().items():
        click.echo(f"{status:<10} {count}")


@alerts.command("digest")
@click.option("--now", callback=_instant, metavar="ISO8601", help="Run as if it were then (UTC).")
@reports_database_errors
def alerts_digest(now: datetime) -> None:
    """Record this week's digests (on the digest weekday) and send those due."""
    from .digest import run_digest

    report = run_digest(now)
    click.echo(
        f"planned {report.planned}, sent {report.sent}, nothing new for {report.empty}, "
        f"retrying {report.retrying}, failed {report.failed}, bounced {report.bounced}"
    )


# --- demo -------------------------------------------------------------------------------------


@demo.command("load")
@reports_database_errors
def demo_load() -> None:
    """Fill an empty database with the sample feeds shipped in feeds/samples/ (no network)."""
    from feeds.demo import load_samples

    already = db.session.scalar(
        select(func.count()).select_from(Source).where(Source.kind == "sample")
    )
    if already:
        click.echo("Demo data already loaded; nothing to do.")
        return
    report = load_samples(db.session, utcnow())
    click.echo(f"Loaded {report.new} demo opportunities from {report.sources} sample feeds.")


# --- feeds ------------------------------------------------------------------------------------


def _interval(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    from feeds.schedule import parse_interval

    if value is None:
        return None
    try:
        return parse_interval(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@feeds.command("add")
@click.argument("url")
@click.option("--name", help="What to call it (default: the feed's own title, once fetched).")
@click.option(
    "--every",
    callback=_interval,
    metavar="INTERVAL",
    help="How often to poll it: 30m, 2h, 1d (default: FEEDS_DEFAULT_INTERVAL_MINUTES).",
)
@reports_database_errors
def feeds_add(url: str, name: str | None, every: int | None) -> None:
    """Add a feed (RSS, Atom or JSON Feed) to poll."""
    from feeds.sources import SourceError, add_source

    from .polling import default_interval_minutes

    config = current_app.config
    minutes = every or default_interval_minutes(config)
    try:
        source = add_source(
            db.session,
            url,
            name=name,
            every_minutes=minutes,
            allow_private=config["FEEDS_ALLOW_PRIVATE_ADDRESSES"],
        )
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Added source #{source.id} {source.name} ({source.url}), polled every "
        f"{_minutes(minutes)}; it is fetched at the next poll, or now with `feeds fetch {source.id}`."
    )


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead.")
@reports_database_errors
def feeds_list(as_json: bool) -> None:
    """Every source: status, last and next fetch, errors in a row, last error, items stored."""
    from feeds.sources import list_sources

    rows = list_sources(db.session, utcnow())
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No sources yet; add one with `feeds add URL`.")
        return
    for row in rows:
        click.echo("\n".join(_describe_source(row)))


def _describe_source(row) -> list[str]:
    status = row.status
    if row.status == "gone":
        status = f"gone: it answered 410 Gone and is no longer polled (`feeds resume {row.id}`)"
    elif row.is_stale:
        status = "active, STALE: no successful fetch for 3 days"
    lines = [f"#{row.id} {row.name}  [{status}]  {row.items} items", f"    {row.url or '(no URL)'}"]
    if row.kind == "feed":
        upcoming = (
            _when(row.next_fetch_at, "at the next poll") if row.status == "active" else "never"
        )
        lines.append(
            f"    last fetched {_when(row.last_fetched_at)}, next {upcoming}, "
            f"every {_minutes(row.fetch_every_minutes)}, {row.consecutive_errors} errors in a row"
        )
    else:
        lines.append(f"    a {row.kind} source: not polled")
    if row.last_error:
        lines.append(f"    last error: {row.last_error}")
    if row.last_warning:
        lines.append(f"    last warning: {row.last_warning}")
    return lines


@feeds.command("fetch")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "fetch_all", is_flag=True, help="Every active source, due or not.")
@click.option("--force", is_flag=True, help="Also sources waiting out a back-off after errors.")
@reports_database_errors
def feeds_fetch(ids: tuple[int, ...], fetch_all: bool, force: bool) -> None:
    """Fetch sources now: those named, --all, or (with neither) those that are due.

    Requests stay conditional (a feed that has not changed costs a 304).
    """
    from feeds.poll import choose_sources, due_sources
    from feeds.sources import SourceError, get_sources

    from .polling import poll

    if ids and fetch_all:
        raise click.UsageError("give source ids or --all, not both")
    now = utcnow()
    if ids:
        try:
            named = get_sources(db.session, list(ids))
        except SourceError as error:
            raise click.ClickException(str(error)) from None
    elif fetch_all:
        named = list(
            db.session.scalars(
                select(Source).where(Source.kind == "feed", Source.status == "active")
            )
        )
    else:
        named = due_sources(db.session, now)
    chosen, left = choose_sources(named, now, force=force)
    for source, reason in left:
        click.echo(f"#{source.id} {source.name}: not fetched: {reason}")
    if not chosen and not left:
        click.echo("Nothing to fetch.")
    for report in poll(current_app._get_current_object(), chosen, now):
        click.echo(report.describe())


@feeds.command("pause")
@click.argument("source_id", type=int)
@reports_database_errors
def feeds_pause(source_id: int) -> None:
    """Stop polling a source; what it listed stays listed."""
    from feeds.sources import SourceError, pause_source

    try:
        source = pause_source(db.session, source_id)
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Paused source #{source.id} {source.name}; `feeds resume {source.id}` polls it again."
    )


@feeds.command("resume")
@click.argument("source_id", type=int)
@reports_database_errors
def feeds_resume(source_id: int) -> None:
    """Poll a paused or gone source again, from the next poll."""
    from feeds.sources import SourceError, resume_source

    try:
        source = resume_source(db.session, source_id)
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Resumed source #{source.id} {source.name}; it is fetched at the next poll.")


@feeds.command("remove")
@click.argument("source_id", type=int)
@click.option("--purge", is_flag=True, help="Also delete its opportunities no other source lists.")
@reports_database_errors
def feeds_remove(source_id: int, purge: bool) -> None:
    """Forget a source; its opportunities stay listed unless --purge."""
    from feeds.sources import SourceError, remove_source

    try:
        removal = remove_source(db.session, source_id, purge=purge)
    except SourceError as error:
        raise click.ClickException(str(error)) from None
    if purge:
        kept = (
            f", kept {removal.opportunities_kept} that other sources list"
            if removal.opportunities_kept
            else ""
        )
        click.echo(
            f"Removed source #{source_id} and deleted {removal.opportunities_deleted} of its opportunities{kept}."
        )
    else:
        click.echo(
            f"Removed source #{source_id}; its {removal.opportunities_kept} opportunities stay listed."
        )


def _when(moment: datetime | None, missing: str = "never") -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else missing


def _minutes(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


@feeds.command("extract")
@click.argument("path_or_url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry, per line.")
def feeds_extract(path_or_url: str, as_json: bool) -> None:
    """Show the deadlines, dates, kind and place found in each entry of a feed (no database)."""
    import json

    from feeds.extract_feed import extract_records, read_feed, table_rows
    from feeds.fetch import FetchError
    from feeds.parse import FeedError

    from .polling import fetch_settings

    try:
        feed = read_feed(path_or_url, fetch_settings(current_app.config))
        records = list(extract_records(feed))
    except (OSError, FetchError, FeedError) as error:
        raise click.ClickException(f"cannot read {path_or_url}: {error}") from None
    if as_json:
        for record in records:
            click.echo(json.dumps(record, ensure_ascii=False))
        return
    for row in table_rows(records):
        click.echo(row)


# --- scheduler --------------------------------------------------------------------------------


@scheduler.command("run")
@reports_database_errors
def scheduler_run() -> None:
    """Run periodic jobs until stopped (Ctrl-C or SIGTERM); a second copy waits for the first."""
    from .scheduler import run_forever

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    run_forever(current_app._get_current_object(), stop)


# --- subscribers ------------------------------------------------------------------------------


@subscribers.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--confirmed",
    is_flag=True,
    help="The list already opted in: addresses are active at once, no confirmation is sent.",
)
@reports_database_errors
def subscribers_import(path: str, confirmed: bool) -> None:
    """Bring over a mailing list from a CSV file (header `email`, optional preference columns).

    Columns: email, kinds, countries, regions, keywords, funding, lead_days, buffer_days,
    digest, time_zone, language; several values in one cell are separated by `;`. Bad rows
    are reported with their line number and skipped; known addresses are left as they are.
    """
    from .mail import deliver_now
    from .subscribers import import_csv
    from .subscriptions import email_links

    try:
        with open(path, encoding="utf-8-sig", newline="") as source:
            text = source.read()
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text") from None
    report = import_csv(
        db.session,
        text,
        now=utcnow(),
        is_confirmed=confirmed,
        links=email_links(),
        default_lead_days=current_app.config["ALERT_LEAD_DAYS"],
    )
    db.session.commit()
    if report.messages:
        deliver_now(report.messages)
    for problem in report.problems:
        click.echo(f"skipped {problem}", err=True)
    sent = ", each sent a confirmation link" if report.messages else ""
    status = "active" if confirmed else "waiting for confirmation"
    click.echo(
        f"Added {len(report.added)} subscribers ({status}){sent}; "
        f"{len(report.known)} already known, left as they were; "
        f"{len(report.problems)} problems."
    )


@subscribers.command("add")
@click.argument("email")
@click.option("--kind", "kinds", multiple=True, help="A kind of opportunity to follow.")
@click.option("--country", "countries", multiple=True, help="A country (ISO code, like KE).")
@click.option("--region", "regions", multiple=True, help="A region, like africa.")
@click.option("--keyword", "keywords", multiple=True, help="A word to look for.")
@click.option("--funding", multiple=True, help="Funding offered: travel, fees, …")
@click.option("--lead", "lead_days", multiple=True, help="Days before a deadline: 30, 14, 7, 3, 1.")
@click.option("--buffer", "buffer_days", default=0, help="Days the subscriber needs before one.")
@click.option("--no-digest", is_flag=True, help="No weekly digest.")
@click.option("--time-zone", default="UTC", help="An IANA zone, like Africa/Nairobi.")
@click.option("--language", default="en", help="Language of the emails: en, es, fr, pt.")
@click.option("--confirmed", is_flag=True, help="Active at once, without a confirmation email.")
@reports_database_errors
def subscribers_add(
    email: str,
    kinds: tuple[str, ...],
    countries: tuple[str, ...],
    regions: tuple[str, ...],
    keywords: tuple[str, ...],
    funding: tuple[str, ...],
    lead_days: tuple[str, ...],
    buffer_days: int,
    no_digest: bool,
    time_zone: str,
    language: str,
    confirmed: bool,
) -> None:
    """Subscribe EMAIL; with no filters it follows every listing."""
    from .mail import deliver_now
    from .subscribers import PreferenceError, add_subscriber, check_preferences, normalise_email
    from .subscriptions import email_links

    try:
        address = normalise_email(email)
        preferences = check_preferences(
            kinds=kinds,
            countries=countries,
            regions=regions,
            keywords=list(keywords),
            funding=funding,
            lead_days=lead_days or current_app.config["ALERT_LEAD_DAYS"],
            buffer_days=buffer_days,
            wants_digest=not no_digest,
            time_zone=time_zone,
            language=language,
        )
        outcome = add_subscriber(
            db.session,
            address,
            preferences,
            now=utcnow(),
            is_confirmed=confirmed,
            links=email_links(),
        )
    except PreferenceError as error:
        raise click.ClickException(f"{error.field}: {error.message}") from None
    db.session.commit()
    if outcome.message is not None:
        deliver_now([outcome.message])
        click.echo(f"Added {address}; a confirmation link was sent to it.")
    else:
        click.echo(f"Added {address}, active.")


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead.")
@reports_database_errors
def subscribers_list(as_json: bool) -> None:
    """Every subscriber: address, status, lead times and what they follow."""
    from .subscribers import as_json as subscriber_json
    from .subscribers import list_subscribers

    rows = list_subscribers(db.session)
    if as_json:
        click.echo(json.dumps([subscriber_json(s) for s in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No subscribers yet.")
        return
    for row in rows:
        follows = "; ".join(
            f"{key}: {', '.join(map(str, values))}" for key, values in (row.follows or {}).items()
        )
        leads = "/".join(map(str, row.lead_days or ()))
        click.echo(f"{row.email}  {row.status}  {leads} days  {follows or 'every listing'}")


@subscribers.command("remove")
@click.argument("email")
@reports_database_errors
def subscribers_remove(email: str) -> None:
    """Delete EMAIL's subscription and personal data (their delivery log and emails)."""
    from .subscribers import PreferenceError, delete_data, find, normalise_email

    try:
        address = normalise_email(email)
    except PreferenceError as error:
        raise click.ClickException(error.message) from None
    subscriber = find(db.session, address)
    if subscriber is None:
        raise click.ClickException(f"no subscriber has the address {address}")
    delete_data(db.session, subscriber)
    db.session.commit()
    click.echo(f"Removed {address} and their data.")


# --- users ------------------------------------------------------------------------------------


@users.command("create-admin")
@click.argument("email")
@reports_database_errors
def users_create_admin(email: str) -> None:
    """Create a moderator who signs in at /admin with EMAIL; asks for the password twice."""
    from .users import MIN_PASSWORD_LENGTH, AccountError, create_moderator

    password = click.prompt(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        hide_input=True,
        confirmation_prompt="Repeat the password",
    )
    try:
        user = create_moderator(db.session, email, password, utcnow())
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created moderator {user.email}; sign in at /admin/login.")


@users.command("deactivate")
@click.argument("email")
@reports_database_errors
def users_deactivate(email: str) -> None:
    """Stop EMAIL from signing in; their open sessions end at their next request."""
    from .users import find_user

    user = find_user(db.session, email)
    if user is None:
        raise click.ClickException(f"no moderator has the address {email}")
    user.is_active = False
    db.session.commit()
    click.echo(f"Deactivated {user.email}.")
