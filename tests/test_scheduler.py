"""The scheduler lease: one process runs jobs; a second waits and takes over when the first dies."""

import threading
from datetime import UTC, datetime, timedelta

from directory.extensions import db
from directory.scheduler import JOBS, Job, acquire_lease, register, release_lease, run_forever

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_only_one_holder_at_a_time(app):
    assert acquire_lease(db.session, "host:1", T0)
    assert not acquire_lease(db.session, "host:2", T0 + timedelta(seconds=10))
    assert acquire_lease(db.session, "host:1", T0 + timedelta(seconds=30))  # renewal


def test_an_expired_lease_is_taken_over(app):
    assert acquire_lease(db.session, "host:1", T0, seconds=60)
    assert not acquire_lease(db.session, "host:2", T0 + timedelta(seconds=59))
    assert acquire_lease(db.session, "host:2", T0 + timedelta(seconds=61))
    assert not acquire_lease(db.session, "host:1", T0 + timedelta(seconds=62))


def test_a_released_lease_is_free_at_once(app):
    now = datetime.now(UTC)
    assert acquire_lease(db.session, "host:1", now)
    release_lease(db.session, "host:1")
    assert acquire_lease(db.session, "host:2", now + timedelta(seconds=2))


def test_run_forever_runs_registered_jobs_and_stops(app):
    ran = threading.Event()
    seen: list[datetime] = []

    def job(app_, now):
        seen.append(now)
        ran.set()

    saved = list(JOBS)
    register(Job("probe", timedelta(hours=1), job))
    stop = threading.Event()
    worker = threading.Thread(target=run_forever, args=(app, stop))
    try:
        worker.start()
        assert ran.wait(10), "the job did not run"
    finally:
        stop.set()
        worker.join(10)
        JOBS[:] = saved
    assert not worker.is_alive()
    assert seen and seen[0].tzinfo is not None
    assert acquire_lease(db.session, "someone-else", datetime.now(UTC))  # released at stop
