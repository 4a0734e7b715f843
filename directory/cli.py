"""The `flask --app wsgi …` commands, one group per thing an operator manages.

Commands are thin: they parse options, call a plain function, and print what happened.
"""

from __future__ import annotations

import signal
import threading

import click
import httpx
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from .database import reports_database_errors
from .extensions import db
from .models import Source, utcnow

demo = AppGroup("demo", help="Demo data for a local try-out.")
feeds = AppGroup("feeds", help="Feed sources: add, list, fetch, pause, remove, extract.")
scheduler = AppGroup(
    "scheduler", help="The long-running process that polls feeds and sends alerts."
)
users = AppGroup("users", help="Moderator accounts for /admin.")


def init_app(app: Flask) -> None:
    """Attach every command group to the app."""
    for group in (demo, feeds, scheduler, users):
        app.cli.add_command(group)


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


# --- feeds -------------------------------------------------------------------------------------


@feeds.command("extract")
@click.argument("path_or_url")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry, per line.")
def feeds_extract(path_or_url: str, as_json: bool) -> None:
    """Show the deadlines, dates, kind and place found in each entry of a feed (no database)."""
    import json

    from feeds.extract_feed import extract_records, read_feed, table_rows
    from feeds.parse import FeedError

    config = current_app.config
    try:
        feed = read_feed(
            path_or_url,
            timeout=float(config["FEEDS_TIMEOUT_SECONDS"]),
            max_bytes=int(config["FEEDS_MAX_BYTES"]),
            user_agent=f"Openings (+{config['FEEDS_CONTACT_URL']})",
        )
        records = list(extract_records(feed))
    except (OSError, httpx.HTTPError, FeedError) as error:
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
