"""`make run`'s launcher: migrations, demo data, web, scheduler and mail catcher; Ctrl-C stops all."""

import contextlib
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import free_port

from directory.mailcatcher import start_catcher

ROOT = Path(__file__).resolve().parent.parent


def send_test_mail(port: int) -> None:
    message = EmailMessage()
    message["From"] = "openings@example.org"
    message["To"] = "member@example.org"
    message["Subject"] = "Deadline in 3 days"
    message.set_content("Travel support closes soon.")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message)


def test_the_mail_catcher_keeps_each_message_as_a_file(tmp_path):
    port = free_port()
    catcher = start_catcher(tmp_path / "mail", port)
    try:
        send_test_mail(port)
        send_test_mail(port)
    finally:
        catcher.stop()
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert b"Subject: Deadline in 3 days" in files[0].read_bytes()


def wait_for_scheduler_lease(database: Path, seconds: float = 60) -> bool:
    """True once the scheduler process has taken its lease (it is then running jobs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
            if connection.execute("SELECT count(*) FROM scheduler_leases").fetchone()[0]:
                return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_make_run_serves_demo_opportunities_and_stops_on_ctrl_c(tmp_path):
    port, mail_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env["FLASK_INSTANCE_PATH"] = str(tmp_path)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "directory.devserver",
            "--port",
            str(port),
            "--mail-port",
            str(mail_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        assert page.count('href="/opportunities/') >= 20
        assert (tmp_path / "config.py").read_text().count('ENVIRONMENT = "development"') == 1
        send_test_mail(mail_port)
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
        assert wait_for_scheduler_lease(tmp_path / "openings.sqlite3"), (
            "the scheduler never started"
        )
    finally:
        os.killpg(server.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert "scheduler stopped" in output
