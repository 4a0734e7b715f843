"""Openings run as in production, for the browser journeys and bench/drill.py.

Gunicorn serves `wsgi:app` and `flask --app wsgi scheduler run` does the periodic work, each
a child process configured only through `FLASK_*` variables, on a database the caller has
migrated, sending mail to an SMTP server the caller runs. Nothing here knows about pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "journeys-secret-key-long-and-random-enough-for-production"
HOLDS_LEASE = "holds the lease; jobs:"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Return `condition()`'s first true value, checking every `every` seconds; raise on time-out."""
    ends = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > ends:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class Child:
    """A child process whose stderr lines are kept as they come, to wait for what it says."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()  # the process has closed its stderr: wake any waiter

    @property
    def output(self) -> str:
        """Everything the process has written to stderr so far."""
        with self.changed:
            return "".join(self.lines)

    def count(self, text: str) -> int:
        """How many lines so far contain `text`."""
        with self.changed:
            return self._count(text)

    def samples(self, text: str, limit: int = 3) -> list[str]:
        """The first `limit` different lines containing `text`, without their time stamps."""
        found: list[str] = []
        with self.changed:
            for line in self.lines:
                if text in line:
                    message = line.split(" ", 2)[-1].strip()[:300]
                    if message not in found:
                        found.append(message)
                if len(found) >= limit:
                    break
        return found

    def _count(self, text: str) -> int:
        return sum(text in line for line in self.lines)

    def wait_for_line(self, text: str, timeout: float = 30.0, *, occurrences: int = 1) -> None:
        """Block until `text` has appeared in `occurrences` lines; fail if the process ends first."""
        with self.changed:
            ok = self.changed.wait_for(
                lambda: self._count(text) >= occurrences or self.process.poll() is not None,
                timeout,
            )
            if not ok or self._count(text) < occurrences:
                raise RuntimeError(
                    f"{self.name} did not say {text!r} (exit code {self.process.poll()}):\n"
                    + "".join(self.lines[-40:])
                )

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send `sig` to the process group and wait for it; SIGKILL it if it does not stop."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait(10)
        self.reader.join(5)
        if self.process.stderr:
            self.process.stderr.close()
        return code

    def kill(self) -> int:
        """SIGKILL: no clean-up at all, as when the machine or the OOM killer takes it."""
        return self.stop(signal.SIGKILL)


@dataclass
class Site:
    """Openings' processes on one database: the web app (gunicorn) and the scheduler.

    `settings` are extra configuration keys (without the `FLASK_` prefix), JSON-encoded into
    the environment as an operator would write them.
    """

    database_url: str
    instance_path: Path
    mail_port: int
    settings: dict[str, Any] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    web: Child | None = None
    scheduler: Child | None = None
    stopped_schedulers: list[Child] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The process environment: this machine's, minus any FLASK_*, plus the site's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
        settings = {
            "ENVIRONMENT": "production",
            "SECRET_KEY": SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "BASE_URL": self.base_url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.mail_port,
            "MAIL_DEFAULT_SENDER": "Openings <alerts@openings.example.org>",
            "FEEDS_ALLOW_PRIVATE_ADDRESSES": True,
            **self.settings,
        }
        env.update({f"FLASK_{k}": json.dumps(v) for k, v in settings.items()})
        env["FLASK_INSTANCE_PATH"] = str(self.instance_path)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def flask(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120):
        """Run `flask --app wsgi ARGS…` with the site's settings; returns the finished process."""
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no terminal: password prompts read stdin
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done

    def start_web(self, workers: int = 2, timeout: float = 60.0) -> None:
        """Start gunicorn and wait until /healthz answers 200."""
        self.web = Child(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            self.env(),
        )
        web = self.web

        def healthy() -> bool:
            if not web.is_running():
                raise RuntimeError(f"gunicorn stopped:\n{web.output}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                    return response.status == 200
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                return False

        wait_until(healthy, timeout, "gunicorn to answer /healthz")

    def start_scheduler(self, timeout: float = 120.0, *, wait: bool = True) -> Child:
        """Start `scheduler run`; with `wait`, block until it holds the lease and runs its jobs."""
        self.scheduler = Child(
            "scheduler",
            [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
            self.env(),
        )
        if wait:
            self.scheduler.wait_for_line(HOLDS_LEASE, timeout)
        return self.scheduler

    def stop_scheduler(self, sig: int = signal.SIGTERM) -> int:
        """Stop the scheduler (SIGTERM: cleanly; SIGKILL: abruptly); returns its exit code."""
        assert self.scheduler is not None
        scheduler, self.scheduler = self.scheduler, None
        self.stopped_schedulers.append(scheduler)
        return scheduler.stop(sig)

    def stop(self) -> dict[str, int]:
        """Stop every process still running; returns their exit codes by name."""
        codes = {}
        if self.scheduler is not None:
            codes["scheduler"] = self.stop_scheduler()
        if self.web is not None:
            codes["gunicorn"] = self.web.stop()
            self.web = None
        return codes
