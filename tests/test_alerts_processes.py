"""Two `flask alerts run` processes at once on one database: every alert goes out exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from directory.extensions import db
from directory.models import AlertDelivery, Subscriber

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.slow
def test_two_runs_in_parallel_processes_send_each_alert_once(
    app, app_config, smtp_server, create_opportunity, tmp_path
):
    titles = [f"Call number {n:02d}" for n in range(6)]
    for n, title in enumerate(titles):
        create_opportunity(
            title,
            deadlines=[("application", (NOW + timedelta(days=2 + n)).date(), time(12), "UTC")],
        )
    addresses = [f"reader{n:03d}@example.org" for n in range(60)]
    db.session.add_all(
        Subscriber(email=a, status="active", follows={}, lead_days=[14], confirmed_at=NOW)
        for a in addresses
    )
    db.session.commit()

    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(
        FLASK_INSTANCE_PATH=str(tmp_path),
        FLASK_ENVIRONMENT='"development"',
        FLASK_SECRET_KEY=app_config["SECRET_KEY"],
        FLASK_SQLALCHEMY_DATABASE_URI=app_config["SQLALCHEMY_DATABASE_URI"],
        FLASK_MAIL_SERVER="127.0.0.1",
        FLASK_MAIL_PORT=str(app_config["MAIL_PORT"]),
        FLASK_BASE_URL='"http://openings.example.org"',
        FLASK_ALERTS_BATCH_SIZE="7",
        FLASK_ALERTS_MAX_PER_SECOND="20",  # about 3 s of sending: the two runs overlap
    )
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "alerts", "run"]
    command += ["--now", NOW.isoformat()]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs

    messages = smtp_server.wait_for(len(addresses))
    received = Counter()
    for mail in messages:
        body = mail.message.get_body(("plain",)).get_content()
        for title in titles:
            if title in body:
                received[(mail.recipients[0], title)] += 1
    expected = {(a, t): 1 for a in addresses for t in titles}
    assert dict(received) == expected
    db.session.commit()
    statuses = Counter(db.session.scalars(db.select(AlertDelivery.status)))
    assert statuses == {"sent": len(addresses) * len(titles)}
    # both processes planned and sent at the same time: each sent some, one planned it all
    said = [out.decode() for out, _ in outputs]
    emails = [int(re.search(r"in (\d+) emails", line).group(1)) for line in said]
    planned = sorted(int(re.search(r"planned (\d+)", line).group(1)) for line in said)
    assert sum(emails) == len(messages) and min(emails) > 0, said
    assert planned == [0, len(addresses) * len(titles)], said
