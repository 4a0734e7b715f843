"""The one long-running process: runs periodic jobs (polling feeds, sending alerts).

Only one scheduler may run jobs at a time. Each process must hold a lease row in the
database; a second process started by mistake waits, and takes over if the first one dies
(its lease expires). What is due is decided by the data, so a restarted scheduler catches up.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .extensions import db
from .models import SchedulerLease, utcnow

log = logging.getLogger("openings.scheduler")

LEASE_NAME = "scheduler"
LEASE_SECONDS = 90


@dataclass(frozen=True)
class Job:
    """A periodic job: a function of (app, now) run every `every` while this process holds the lease."""

    name: str
    every: timedelta
    run: Callable[[Flask, datetime], object]


JOBS: list[Job] = []
"""Registered by the modules that own the work (ingestion, alerts) through `register`."""


def register(job: Job) -> None:
    """Add a job to the scheduler, replacing one of the same name."""
    JOBS[:] = [j for j in JOBS if j.name != job.name] + [job]


def holder_name() -> str:
    """Who holds a lease: host and process id, for the operator reading `scheduler_leases`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lease(
    session: Session, holder: str, now: datetime, seconds: int = LEASE_SECONDS
) -> bool:
    """Take or renew the lease for `holder`; False while another live process holds it."""
    expires_at = now + timedelta(seconds=seconds)
    taken = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME)
        .where((SchedulerLease.holder == holder) | (SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires_at)
    ).rowcount
    if taken:
        session.commit()
        return True
    try:
        session.execute(
            insert(SchedulerLease).values(name=LEASE_NAME, holder=holder, expires_at=expires_at)
        )
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False


def release_lease(session: Session, holder: str) -> None:
    """Give the lease up at a clean stop, so a successor need not wait for it to expire."""
    session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == holder)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.commit()


def run_forever(app: Flask, stop: threading.Event | None = None) -> None:
    """Wait for the lease, then run every registered job on its interval until stopped."""
    stop = stop or threading.Event()
    holder = holder_name()
    with app.app_context():
        while not stop.is_set() and not acquire_lease(db.session, holder, utcnow()):
            log.info("another scheduler holds the lease; waiting")
            stop.wait(LEASE_SECONDS / 3)
        if stop.is_set():
            return
    log.info(
        "scheduler %s holds the lease; jobs: %s", holder, ", ".join(j.name for j in JOBS) or "none"
    )

    scheduler = BackgroundScheduler(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1}
    )

    def keep_lease() -> None:
        with app.app_context():
            if not acquire_lease(db.session, holder, utcnow()):
                log.error("lost the scheduler lease to another process; stopping")
                stop.set()

    def guarded(job: Job) -> Callable[[], None]:
        def run() -> None:
            with app.app_context():
                try:
                    job.run(app, utcnow())
                except Exception:
                    log.exception("job %s failed; it will run again at its next interval", job.name)
                    db.session.rollback()
                finally:
                    db.session.remove()

        return run

    scheduler.add_job(keep_lease, "interval", seconds=LEASE_SECONDS // 3, id="lease")
    for job in JOBS:
        scheduler.add_job(
            guarded(job),
            "interval",
            seconds=job.every.total_seconds(),
            id=job.name,
            next_run_time=utcnow(),
        )
    scheduler.start()
    try:
        while not stop.wait(1):
            pass
    finally:
        scheduler.shutdown(wait=True)
        with app.app_context():
            release_lease(db.session, holder)
        log.info("scheduler stopped")
