"""Two real `scheduler run` processes on one database: only the lease holder polls."""

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import rss_feed, rss_item
from werkzeug import Request, Response

from directory.extensions import db
from directory.models import Source

ROOT = Path(__file__).resolve().parent.parent
HOLDS = "holds the lease; jobs:"
WAITS = "another scheduler holds the lease; waiting"


class Scheduler:
    """A `flask --app wsgi scheduler run` child whose log lines are collected as they come."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def said(self, text: str) -> bool:
        with self.changed:
            return any(text in line for line in self.lines)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.reader.join(5)
        self.process.stderr.close()
        return code


@pytest.mark.slow
def test_two_scheduler_processes_never_both_poll(app, app_config, httpserver, tmp_path):
    agents: list[str] = []
    polled = threading.Condition()

    def respond(request: Request) -> Response:
        with polled:
            agents.append(request.headers["User-Agent"])
            polled.notify_all()
        return Response(rss_feed(rss_item(1)), content_type="application/rss+xml")

    httpserver.expect_request(re.compile(r"^/feed-\d\.xml$")).respond_with_handler(respond)
    db.session.add_all(
        Source(name=f"Feed {n}", url=httpserver.url_for(f"/feed-{n}.xml")) for n in range(3)
    )
    db.session.commit()

    base = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    base.update(
        FLASK_INSTANCE_PATH=str(tmp_path),
        FLASK_ENVIRONMENT='"development"',
        FLASK_SQLALCHEMY_DATABASE_URI=app_config["SQLALCHEMY_DATABASE_URI"],
        FLASK_FEEDS_ALLOW_PRIVATE_ADDRESSES="true",
        FLASK_MAIL_PORT="9",
    )
    schedulers = [
        Scheduler({**base, "FLASK_FEEDS_CONTACT_URL": f'"https://scheduler-{n}.example.org"'})
        for n in (1, 2)
    ]
    try:
        with polled:
            assert polled.wait_for(lambda: len(agents) >= 3, timeout=60), "nobody polled"
        for scheduler in schedulers:
            with scheduler.changed:
                assert scheduler.changed.wait_for(
                    lambda s=scheduler: s.said(HOLDS) or s.said(WAITS), timeout=60
                ), "".join(scheduler.lines)
    finally:
        codes = [scheduler.stop() for scheduler in schedulers]

    assert codes == [0, 0]
    assert sorted(s.said(HOLDS) for s in schedulers) == [False, True]
    holder = next(n for n, s in enumerate(schedulers, 1) if s.said(HOLDS))
    assert agents == [f"Openings/0.1 (+https://scheduler-{holder}.example.org)"] * 3
