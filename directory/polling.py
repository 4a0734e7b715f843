"""Feed polling inside the app: settings from config, and the scheduler's "poll feeds" job.

`init_app` registers the job when the app is created, so `scheduler run` polls whatever is
due every FEEDS_POLL_EVERY_SECONDS. What is due lives in the data (`next_fetch_at`), so a
scheduler that was stopped catches up on start with one fetch per overdue source, however
many intervals it missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import Flask

from feeds.fetch import Fetcher, FetchSettings
from feeds.poll import PollReport, due_sources, poll_sources
from feeds.schedule import MIN_INTERVAL_MINUTES

from .extensions import db
from .models import Source
from .scheduler import Job, register


def fetch_settings(config: Mapping[str, Any]) -> FetchSettings:
    """The fetcher's settings from the app's FEEDS_* configuration."""
    return FetchSettings(
        contact_url=config["FEEDS_CONTACT_URL"],
        max_bytes=int(config["FEEDS_MAX_BYTES"]),
        connect_timeout_seconds=float(config["FEEDS_CONNECT_TIMEOUT_SECONDS"]),
        timeout_seconds=float(config["FEEDS_TIMEOUT_SECONDS"]),
        allow_private_addresses=bool(config["FEEDS_ALLOW_PRIVATE_ADDRESSES"]),
    )


def default_interval_minutes(config: Mapping[str, Any]) -> int:
    """How often a new source is polled, never below the politeness floor."""
    return max(int(config["FEEDS_DEFAULT_INTERVAL_MINUTES"]), MIN_INTERVAL_MINUTES)


def poll(app: Flask, sources: Sequence[Source], now: datetime) -> list[PollReport]:
    """Fetch, parse and store `sources` with the app's settings, committing per source."""
    with Fetcher(fetch_settings(app.config)) as fetcher:
        return poll_sources(
            db.session,
            sources,
            now,
            fetcher=fetcher,
            workers=int(app.config["FEEDS_FETCH_WORKERS"]),
        )


def poll_due(app: Flask, now: datetime) -> list[PollReport]:
    """The scheduler job: poll every source that is due."""
    return poll(app, due_sources(db.session, now), now)


def init_app(app: Flask) -> None:
    """Register the polling job with the scheduler."""
    register(
        Job(
            "poll feeds", timedelta(seconds=float(app.config["FEEDS_POLL_EVERY_SECONDS"])), poll_due
        )
    )
