"""Measure the alert engine at scale against references measured in the same run.

Run from the repository root: `.venv/bin/python bench/alerts.py [--subscribers 100000]
[--deadlines 10000] [--emails 3000] [--database URL]`. It fills a fresh database (a SQLite
file in a temporary folder unless `--database` names an empty one, e.g. PostgreSQL) with
confirmed subscribers following realistic mixes (everything; kinds; countries; regions; kinds
in a region; keywords; "Remind me" for one listing) and open deadlines spread over a year,
brings the plan up to date as of 15 minutes earlier, then reports:

1. the time of one engine run (`alerts.plan`) that finds what became due in those 15 minutes,
   for several consecutive runs, and one run after 20 new listings arrived (target: < 5 s);
2. emails per second through `alerts.send_due` (claim, render the real text and HTML
   templates in the subscriber's language, build, send over one connection per batch, record
   each outcome) to a local SMTP sink in a child process;
3. in the same run, two references on the same sink: raw `smtplib` sending the same messages
   pre-built over one connection (the floor for this machine), and one connection per email
   (the naive way). Target: the engine sends at least 0.4 of the floor.

Figures vary from run to run and machine to machine: compare the ratios, measured together.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert, select, text  # noqa: E402

from directory import alerts, create_app  # noqa: E402
from directory.extensions import db  # noqa: E402
from directory.models import (  # noqa: E402
    AlertDelivery,
    AlertRun,
    Deadline,
    Opportunity,
    OpportunityCountry,
    Subscriber,
)
from directory.regions import REGIONS  # noqa: E402
from feeds.closing import closing_instant  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KINDS = ("event", "travel_grant", "fellowship", "grant", "call", "award", "job", "other")
COUNTRIES = ("KE", "NG", "GH", "ZA", "UG", "PE", "CO", "BR", "MX", "IN", "PH", "NP", "FR", "DE")
WORDS = ("justice", "land", "housing", "paralegal", "climate", "health", "media", "youth")
ZONES = ("UTC", "Africa/Nairobi", "America/Lima", "Asia/Manila", "Europe/Paris", None)
LANGUAGES = ("en", "en", "en", "es", "fr", "pt")

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fill(subscribers: int, deadlines: int, rng: random.Random) -> None:
    """Open listings with one deadline each over the next year, and confirmed subscribers."""
    opportunities, dates, countries = [], [], []
    for n in range(1, deadlines + 1):
        day = (NOW + timedelta(days=rng.randint(1, 365))).date()
        at = rng.choice([None, clock_time(rng.randrange(24), rng.choice((0, 30, 59)))])
        zone = rng.choice(ZONES)
        due_at = closing_instant(day, at, zone)
        kind = rng.choice(KINDS)
        opportunities.append(
            {
                "id": n,
                "title": f"{kind.replace('_', ' ').title()} on {rng.choice(WORDS)} #{n}",
                "link": f"https://example.org/calls/{n}",
                "kind": kind,
                "summary_html": "",
                "summary_text": f"A call about {rng.choice(WORDS)} and {rng.choice(WORDS)}.",
                "status": "published",
                "closes_at": due_at,
                "offers_travel": rng.random() < 0.3,
                "offers_stipend": rng.random() < 0.2,
                "first_seen_at": NOW - timedelta(days=rng.randint(0, 60)),
                "published_at": NOW - timedelta(days=rng.randint(0, 60)),
                "updated_at": NOW,
            }
        )
        dates.append(
            {
                "opportunity_id": n,
                "kind": "application",
                "due_on": day,
                "due_time": at,
                "time_zone": zone,
                "due_at": due_at,
                "evidence": f"Applications close on {day:%d %B %Y}",
            }
        )
        for position, code in enumerate(rng.sample(COUNTRIES, rng.choice((0, 1, 1, 2)))):
            countries.append({"opportunity_id": n, "country_code": code, "position": position})
    db.session.execute(insert(Opportunity), opportunities)
    db.session.execute(insert(Deadline), dates)
    if countries:
        db.session.execute(insert(OpportunityCountry), countries)
    people = []
    for n in range(1, subscribers + 1):
        shape = rng.random()
        if shape < 0.30:
            follows: dict = {}
        elif shape < 0.55:
            follows = {"kinds": rng.sample(KINDS, rng.randint(1, 2))}
        elif shape < 0.72:
            follows = {"countries": rng.sample(COUNTRIES, rng.randint(1, 3))}
        elif shape < 0.82:
            follows = {"regions": [rng.choice(list(REGIONS)[:4])]}
        elif shape < 0.90:
            follows = {"kinds": rng.sample(KINDS, 2), "regions": ["africa"]}
        elif shape < 0.96:
            follows = {"keywords": rng.sample(WORDS, rng.randint(1, 2))}
        else:
            follows = {"opportunity_ids": [rng.randint(1, deadlines)]}
        people.append(
            {
                "email": f"reader{n:06d}@example.org",
                "status": "active",
                "language": rng.choice(LANGUAGES),
                "time_zone": rng.choice(("UTC", "Africa/Nairobi", "America/Lima", "Asia/Manila")),
                "lead_days": rng.choice(([14, 3, 1], [14, 3, 1], [30, 7, 1], [7], [3, 1])),
                "buffer_days": rng.choice((0, 0, 0, 0, 7, 21)),
                "wants_digest": True,
                "follows": follows,
                "created_at": NOW - timedelta(days=30),
                "confirmed_at": NOW - timedelta(days=30),
            }
        )
        if len(people) == 10000:
            db.session.execute(insert(Subscriber), people)
            people = []
    if people:
        db.session.execute(insert(Subscriber), people)
    db.session.commit()


def bring_plan_up_to_date(as_of: datetime) -> None:
    """What a steady deployment has: every deadline and subscriber planned as of `as_of`."""
    dialect = db.engine.dialect.name
    with db.engine.begin() as connection:
        longest = connection.execute(text(alerts._sql_longest(dialect))).scalar_one()
        params = {"now": as_of, "horizon": as_of + timedelta(days=int(longest))}
        for statement in alerts._sql_markers(dialect):
            connection.execute(alerts._statement(statement), params)
        connection.execute(insert(AlertRun).values(now=as_of, runner="bench", planned=0))


def add_listings(count: int, rng: random.Random, first_id: int) -> None:
    """New listings arriving between two runs (their deadlines are planned in full)."""
    for n in range(first_id, first_id + count):
        day = (NOW + timedelta(days=rng.randint(2, 60))).date()
        due_at = closing_instant(day, None, "UTC")
        db.session.execute(
            insert(Opportunity).values(
                id=n,
                title=f"New listing #{n}",
                kind=rng.choice(KINDS),
                status="published",
                closes_at=due_at,
                first_seen_at=NOW,
                updated_at=NOW,
            )
        )
        db.session.execute(
            insert(Deadline).values(
                opportunity_id=n, kind="application", due_on=day, due_at=due_at, evidence=""
            )
        )
    db.session.commit()


def time_runs(start: datetime, runs: int) -> list[tuple[float, int]]:
    """Seconds and rows planned for `runs` consecutive runs, 15 minutes apart."""
    results = []
    for step in range(runs):
        began = time.perf_counter()
        planned = alerts.plan(start + timedelta(minutes=15 * step), "bench")
        results.append((time.perf_counter() - began, planned))
    return results


def prepare_emails(count: int, moment: datetime) -> None:
    """Due deliveries for `count` subscribers (1–3 deadlines each), as a run would leave them."""
    db.session.execute(text("DELETE FROM alert_deliveries"))
    rng = random.Random(7)
    rows = db.session.execute(
        select(Deadline.id, Deadline.due_at)
        .where(Deadline.due_at > moment + timedelta(days=1))
        .order_by(Deadline.due_at)
        .limit(200)
    ).all()
    batch = []
    for subscriber_id in range(1, count + 1):
        for deadline_id, due_at in rng.sample(rows, rng.randint(1, 3)):
            batch.append(
                {
                    "subscriber_id": subscriber_id,
                    "deadline_id": deadline_id,
                    "lead_days": 14,
                    "deadline_due_at": due_at,
                    "kind": "reminder",
                    "status": "due",
                    "attempts": 0,
                    "next_attempt_at": moment,
                    "created_at": moment,
                }
            )
    db.session.execute(insert(AlertDelivery), batch)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as autovacuum would after the big delete
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE alert_deliveries")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--deadlines", type=int, default=10_000)
    parser.add_argument("--emails", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", help="an empty database URL (default: a SQLite file)")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="openings-bench-alerts-"))
    url = options.database or f"sqlite:///{folder / 'bench.sqlite3'}"
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout.readline().strip() == "ready"
    app = create_app(
        {
            "SECRET_KEY": "bench-secret-key-long-enough-for-signing-links",
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": port,
            "BASE_URL": "https://openings.example.org",
            "ALERTS_BATCH_SIZE": 200,
            "LOG_LEVEL": "WARNING",
        },
        instance_path=str(folder),
    )
    results: dict = {
        "python": platform.python_version(),
        "database": url.split(":")[0],
        "subscribers": options.subscribers,
        "deadlines": options.deadlines,
    }
    try:
        with app.app_context():
            upgrade()
            rng = random.Random(20260302)
            began = time.perf_counter()
            fill(options.subscribers, options.deadlines, rng)
            results["fill_seconds"] = round(time.perf_counter() - began, 1)
            bring_plan_up_to_date(NOW - timedelta(minutes=15))
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("ANALYZE"))

            steady = time_runs(NOW, options.runs)
            results["steady_runs_seconds"] = [round(s, 3) for s, _ in steady]
            results["steady_runs_planned"] = [p for _, p in steady]
            add_listings(20, rng, options.deadlines + 1)
            after = NOW + timedelta(minutes=15 * options.runs)
            busy = time_runs(after, 1)[0]
            results["run_after_20_new_listings_seconds"] = round(busy[0], 3)
            results["run_after_20_new_listings_planned"] = busy[1]

            moment = after + timedelta(minutes=15)
            prepare_emails(options.emails, moment)
            settings = alerts.AlertSettings(batch_size=200)
            report = alerts.RunReport()
            began = time.perf_counter()
            alerts.send_due(moment, "bench", report, settings)
            engine_seconds = time.perf_counter() - began
            results["engine_emails"] = report.emails_sent
            results["engine_emails_per_second"] = round(report.emails_sent / engine_seconds, 1)

            # the same emails, pre-built, for the references
            prepare_emails(options.emails, moment)
            claimed = alerts.claim_batch(moment, "bench", alerts.AlertSettings(batch_size=10**6))
            messages = [
                (e.to, e.message) for e in alerts.build_emails(claimed, moment, alerts.RunReport())
            ]
            sender = "openings@example.org"
            began = time.perf_counter()
            with smtplib.SMTP("127.0.0.1", port) as connection:
                for to, message in messages:
                    connection.sendmail(sender, [to], message)
            floor_rate = len(messages) / (time.perf_counter() - began)
            began = time.perf_counter()
            for to, message in messages:
                with smtplib.SMTP("127.0.0.1", port) as connection:
                    connection.sendmail(sender, [to], message)
            naive_rate = len(messages) / (time.perf_counter() - began)
            results["raw_floor_emails_per_second"] = round(floor_rate, 1)
            results["naive_emails_per_second"] = round(naive_rate, 1)
            results["engine_vs_floor"] = round(results["engine_emails_per_second"] / floor_rate, 2)
            results["naive_vs_floor"] = round(naive_rate / floor_rate, 2)
            results["steady_run_median_seconds"] = round(statistics.median(s for s, _ in steady), 3)
            db.session.remove()
            db.engine.dispose()
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
