"""The load-and-fault drill: Openings run as in production, under load, while things break.

Load (`--part load`): gunicorn (2 sync workers) serves a seeded database on 127.0.0.1 while
the scheduler process ingests 200 feeds served locally and sends deadline alerts to 10,000
subscribers; 32 connections, each a bounded loop of keep-alive requests, ask for the list,
searches, filtered lists, detail pages, Atom and the API for `--duration` seconds. Reported:
requests served, errors, p50 and p99 latency per route, what was ingested and sent meanwhile,
every "database is locked" the processes logged, and a backup taken and restored live.

Faults (`--part faults`): the scheduler sends alerts to 10,000 subscribers (and two smaller
groups) while it is killed with SIGKILL at random points of its runs, ten times, and started
again; then the SMTP server is stopped for a while and started again; with
`--restart-postgresql`, the PostgreSQL cluster is restarted while alerts go out. Reported:
for each listing and group of followers, deliveries by status, who was emailed, duplicates,
and emails after the deadline; rows of subscribers and opportunities before and after.

Limits (`--part limits`): sign-in attempts against 2 workers with the rate-limit counters in
each worker's memory, then in one Redis (needs `redis-server` and the `redis` extra).

    .venv/bin/python bench/drill.py                        # both parts, SQLite, temporary folder
    .venv/bin/python bench/drill.py --database postgresql+psycopg://postgres@127.0.0.1:5432/openings_drill
    .venv/bin/python bench/drill.py --quick                # a short smoke run of every part

A PostgreSQL database given is emptied first. Only 127.0.0.1 is ever loaded and every part is
bounded in time. It prints Markdown sections for docs/reliability.md (`--json` for data).
The load loop is Python (one thread and one connection per simulated client), so the client
itself takes CPU from the server on this 2-core machine: the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from browse import FILTERED, SEARCHES, seed  # noqa: E402
from ingest import FeedServer, listing, rss  # noqa: E402
from production import Site, free_port, wait_until  # noqa: E402

from directory.models import utcnow  # noqa: E402

LOCKED = "database is locked"


@dataclass
class Options:
    """What one run does, from the command line."""

    database: str | None
    parts: tuple[str, ...]
    duration: float
    connections: int
    feeds: int
    entries: int
    opportunities: int
    subscribers: int
    kills: int
    seed: int
    kill_within_seconds: float = 8.0
    outage_seconds: float = 20.0
    short_deadline_seconds: float = 60.0
    claim_timeout_seconds: float = 30.0
    settle_seconds: float = 900.0
    natural_takeover: bool = True
    restart_postgresql: bool = False
    keep: bool = False
    as_json: bool = False


@dataclass
class Sample:
    """One request of the load: its route, HTTP status (0: no answer) and latency."""

    route: str
    status: int
    seconds: float
    error: str = ""


@dataclass
class LoadReport:
    """What the load did, per route and in all."""

    seconds: float
    connections: int
    samples: list[Sample] = field(default_factory=list)

    def rows(self) -> list[dict[str, object]]:
        by_route: dict[str, list[Sample]] = defaultdict(list)
        for sample in self.samples:
            by_route[sample.route].append(sample)
        rows = [_row(route, samples, self.seconds) for route, samples in sorted(by_route.items())]
        rows.append(_row("all", self.samples, self.seconds))
        return rows


def _row(route: str, samples: list[Sample], seconds: float) -> dict[str, object]:
    latencies = sorted(s.seconds for s in samples)
    errors = Counter(s.error or str(s.status) for s in samples if not 200 <= s.status < 400)
    return {
        "route": route,
        "requests": len(samples),
        "per_second": round(len(samples) / seconds, 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "p50_ms": round(_quantile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_quantile(latencies, 0.99) * 1000, 1),
    }


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def routes(ids: list[int], rng: random.Random) -> dict[str, list[str]]:
    """The addresses each route is loaded with; a request picks a route, then an address."""
    return {
        "list": ["/"],
        "filtered list": ["/?" + q for q in FILTERED],
        "search": ["/?q=" + s.replace(" ", "+") for s in SEARCHES],
        "detail": [f"/opportunities/{i}" for i in rng.sample(ids, min(len(ids), 500))],
        "Atom": ["/opportunities.atom?" + q for q in FILTERED[:5]],
        "API": ["/api/v1/opportunities?" + q for q in FILTERED[:5]],
    }


def load(port: int, paths: dict[str, list[str]], seconds: float, connections: int) -> LoadReport:
    """`connections` clients, each looping over random routes until `seconds` have passed."""
    ends = time.monotonic() + seconds
    results: list[list[Sample]] = [[] for _ in range(connections)]
    names = sorted(paths)

    def client(number: int) -> None:
        rng = random.Random(number)
        samples = results[number]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < ends:
            route = rng.choice(names)
            path = rng.choice(paths[route])
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
                response = connection.getresponse()
                response.read()
                samples.append(Sample(route, response.status, time.perf_counter() - started))
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException) as error:
                samples.append(
                    Sample(route, 0, time.perf_counter() - started, type(error).__name__)
                )
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = LoadReport(time.monotonic() - started, connections)
    for samples in results:
        report.samples.extend(samples)
    return report


# --- the run ------------------------------------------------------------------------------------


def prepare_database(url: str, opportunities: int, env: dict[str, str]) -> list[int]:
    """Seed a fresh database (bench/browse.py's generator); the published ids."""
    os.environ.update(env)
    ids = seed(url, opportunities)
    if url.startswith("postgresql"):
        _advance_sequences(url)
    return ids


def _advance_sequences(url: str) -> None:
    """The seed inserts explicit ids: move every id sequence past them, as a restore would."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as connection:
        for table in inspect(connection).get_table_names():
            columns = {c["name"] for c in inspect(connection).get_columns(table)}
            if "id" not in columns:
                continue
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
            )
            if sequence:
                connection.execute(
                    text(
                        f"SELECT setval(:s, COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                    ),
                    {"s": sequence},
                )
    engine.dispose()


def publish_feeds(server: FeedServer, feeds: int, entries: int) -> list[str]:
    """`feeds` generated RSS feeds of `entries` listings each; their URLs."""
    return [
        server.put(
            f"/drill/{feed}.xml",
            rss([listing(feed, number) for number in range(entries)], f"Drill feed {feed}"),
        )
        for feed in range(feeds)
    ]


def add_sources(url: str, urls: list[str]) -> None:
    """The feeds as sources, due at once, as `feeds add` would store them; the seeded sources
    (made-up addresses that do not resolve) are paused, so the scheduler polls only these."""
    from sqlalchemy import create_engine, insert, update

    from directory.models import Source, utcnow

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(update(Source).values(status="paused"))
        connection.execute(
            insert(Source),
            [
                {
                    "name": f"Drill feed {n}",
                    "url": u,
                    "kind": "feed",
                    "status": "active",
                    "fetch_every_minutes": 60,
                    "consecutive_errors": 0,
                    "created_at": utcnow(),
                }
                for n, u in enumerate(urls)
            ],
        )
    engine.dispose()


def ingestion_progress(url: str, prefix: str = "Drill feed") -> dict[str, int]:
    """How many drill sources were fetched, and how many opportunities they list."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        fetched = connection.scalar(
            text("SELECT count(*) FROM sources WHERE name LIKE :p AND last_fetched_at IS NOT NULL"),
            {"p": prefix + "%"},
        )
        failing = connection.scalar(
            text("SELECT count(*) FROM sources WHERE name LIKE :p AND consecutive_errors > 0"),
            {"p": prefix + "%"},
        )
        listed = connection.scalar(
            text(
                "SELECT count(DISTINCT e.opportunity_id) FROM source_entries e "
                "JOIN sources s ON s.id = e.source_id WHERE s.name LIKE :p"
            ),
            {"p": prefix + "%"},
        )
    engine.dispose()
    return {"sources_fetched": fetched, "sources_failing": failing, "opportunities": listed}


COUNTED = ("opportunities", "deadlines", "opportunity_countries", "sources", "source_entries")


def table_counts(url: str) -> dict[str, int]:
    """Rows in the tables a backup must keep."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {t: connection.scalar(text(f"SELECT count(*) FROM {t}")) for t in COUNTED}
    engine.dispose()
    return counts


def backup_and_restore(url: str, folder: Path) -> dict[str, object]:
    """Back the database up while the site runs, as docs/deploy.md says, restore the copy into
    a new database, and compare what the two hold."""
    from sqlalchemy.engine import make_url

    before = table_counts(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        copy = folder / "backup.sqlite3"
        commands = [["sqlite3", parsed.database, f".backup '{copy}'"]]
        restored = f"sqlite:///{copy}"
        cleanup: list[list[str]] = []
    else:
        dump = folder / "backup.dump"
        target = f"{parsed.database}_restored"
        server = [f"--host={parsed.host}", f"--port={parsed.port or 5432}"]
        server += [f"--username={parsed.username}"] if parsed.username else []
        restored = parsed.set(database=target).render_as_string(hide_password=False)
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        cleanup = [["dropdb", *server, "--if-exists", target]]
        commands = [
            *cleanup,
            ["pg_dump", "--format=custom", f"--file={dump}", libpq],
            ["createdb", *server, target],
            ["pg_restore", "--no-owner", *server, f"--dbname={target}", str(dump)],
        ]
    started = time.monotonic()
    for command in commands:
        subprocess.run(command, check=True, capture_output=True, timeout=600)
    seconds = time.monotonic() - started
    after = table_counts(restored)
    for command in cleanup:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    return {
        "commands": [command[0] for command in commands if command not in cleanup],
        "seconds": round(seconds, 1),
        "live": before,
        "restored": after,
        "same": before == after,
    }


FOLLOWED_DURING_LOAD = {"kinds": ["travel_grant"], "regions": ["africa"]}


def _statuses(url: str) -> dict[str, int]:
    """Alert deliveries by status."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status, count(*) FROM alert_deliveries GROUP BY status")
        )
        counts = {status: n for status, n in rows}
    engine.dispose()
    return counts


def run_load(options: Options, folder: Path) -> dict[str, object]:
    """Seed, start everything, load it while the scheduler ingests, and collect the figures."""
    url = options.database or f"sqlite:///{folder / 'drill.sqlite3'}"
    mail = MailSink(free_port())
    site = Site(
        database_url=url,
        instance_path=folder / "instance",
        mail_port=mail.port,
        settings={
            "FEEDS_POLL_EVERY_SECONDS": 2,
            "ALERTS_INTERVAL_MINUTES": 0.25,
            "RATELIMIT_ENABLED": False,
        },
    )
    started = time.monotonic()
    ids = prepare_database(url, options.opportunities, site.env())
    add_subscribers(_app(site), options.subscribers, FOLLOWED_DURING_LOAD)
    _say(
        f"seeded {options.opportunities:,} opportunities and {options.subscribers:,} subscribers "
        f"in {time.monotonic() - started:.0f} s"
    )
    feeds = FeedServer(folder / "feeds")
    mail.start()
    try:
        urls = publish_feeds(feeds, options.feeds, options.entries)
        add_sources(url, urls)
        site.start_web()
        paths = routes(ids, random.Random(7))
        _say(
            f"warming up, then {options.duration:.0f} s of load at {options.connections} connections"
        )
        load(site.port, paths, 2, 4)
        site.start_scheduler()
        report = load(site.port, paths, options.duration, options.connections)
        progress = ingestion_progress(url)
        alerts_during_load = mail.count()
        try:
            wait_until(
                lambda: ingestion_progress(url)["sources_fetched"] >= options.feeds,
                options.settle_seconds / 3,
                "the scheduler to fetch every feed",
                every=1,
            )
        except TimeoutError as error:
            _say(str(error))  # reported below as feeds not fetched by the end
        finished = time.monotonic() - started
        load_average = os.getloadavg()
        site.flask("db", "upgrade")
        backup = backup_and_restore(url, folder)
        locked = {"gunicorn": site.web.count(LOCKED), "scheduler": site.scheduler.count(LOCKED)}
        errors_logged = {
            "gunicorn": site.web.count(" ERROR "),
            "scheduler": site.scheduler.count(" ERROR "),
        }
        error_samples = site.web.samples(" ERROR ") + site.scheduler.samples(" ERROR ")
        codes = site.stop()
    finally:
        site.stop()
        feeds.close()
        mail.stop()
    return {
        "subscribers": options.subscribers,
        "alert_emails_during_load": alerts_during_load,
        "alert_emails_in_the_end": mail.count(),
        "deliveries": _statuses(url),
        "database": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        "opportunities_seeded": options.opportunities,
        "feeds": options.feeds,
        "entries_per_feed": options.entries,
        "load_seconds": round(report.seconds, 1),
        "connections": report.connections,
        "routes": report.rows(),
        "ingested_during_load": progress,
        "ingested_in_the_end": ingestion_progress(url),
        "database_is_locked": locked,
        "errors_logged": errors_logged,
        "error_samples": error_samples,
        "exit_codes": codes,
        "wall_seconds": round(finished),
        "load_average": [round(x, 1) for x in load_average],
        "backup": backup,
    }


# --- the faults -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One email as the drill's SMTP server took it: when, to whom, which listings it names."""

    arrived_at: datetime
    recipients: tuple[str, ...]
    opportunity_ids: tuple[int, ...]


class MailSink:
    """A real SMTP server (aiosmtpd) on one port that the drill stops and starts again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        ids = tuple(sorted({int(n) for n in re.findall(r"/opportunities/(\d+)", text)}))
        with self.lock:
            self.received.append(Received(datetime.now(UTC), tuple(envelope.rcpt_tos), ids))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def naming(self, opportunity_id: int) -> int:
        """How many emails so far name `opportunity_id`."""
        with self.lock:
            return sum(opportunity_id in r.opportunity_ids for r in self.received)


def _app(site: Site):
    """The app in this process, configured as the site's processes are."""
    os.environ.update(site.env())
    from directory import create_app

    return create_app()


def add_listing(app, title: str, due_at: datetime, country: str = "KE") -> int:
    """A published opportunity in `country` with one application deadline at `due_at`; its id."""
    from directory.extensions import db
    from directory.models import Deadline, Opportunity, OpportunityCountry

    with app.app_context():
        opportunity = Opportunity(
            title=title,
            kind="travel_grant",
            link=f"https://example.org/drill/{abs(hash(title))}",
            summary_text=f"{title}.",
            summary_html=f"<p>{title}.</p>",
            published_at=utcnow(),
            closes_at=due_at,
        )
        opportunity.deadlines.append(
            Deadline(
                kind="application",
                due_on=due_at.date(),
                due_time=due_at.time().replace(microsecond=0),
                time_zone="UTC",
                due_at=due_at.replace(microsecond=0),
                evidence=f"Apply by {due_at:%d %B %Y %H:%M} UTC",
            )
        )
        opportunity.countries = [OpportunityCountry(country_code=country, position=0)]
        db.session.add(opportunity)
        db.session.commit()
        number = opportunity.id
        db.session.remove()
    return number


def add_subscribers(
    app, count: int, follows: dict | None = None, group: str = "subscriber"
) -> None:
    """`count` confirmed subscribers alerted 3 days before, no digest, at `<group><n>@…`; they
    follow `follows` (everything by default)."""
    from sqlalchemy import insert

    from directory.extensions import db
    from directory.models import Subscriber

    now = utcnow()
    with app.app_context():
        for start in range(0, count, 5000):
            db.session.execute(
                insert(Subscriber),
                [
                    {
                        "email": f"{group}{n}@example.org",
                        "status": "active",
                        "language": "en",
                        "time_zone": "UTC",
                        "lead_days": [3],
                        "buffer_days": 0,
                        "wants_digest": False,
                        "follows": follows or {},
                        "created_at": now,
                        "confirmed_at": now,
                    }
                    for n in range(start, min(start + 5000, count))
                ],
            )
        db.session.commit()
        db.session.remove()


GROUPS = {"kenya": ("KE",), "uganda": ("UG",), "everything": ("KE", "UG")}
"""The drill's subscribers by what they follow (their address starts with the group's name)."""


def delivery_counts(url: str) -> dict[tuple[int, str], dict[str, int]]:
    """Alert deliveries by (opportunity, group of subscribers) and status, from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    counts: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    group = " ".join(f"WHEN s.email LIKE '{name}%' THEN '{name}'" for name in GROUPS)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT d.opportunity_id, CASE {group} END, a.status, count(*) "
                "FROM alert_deliveries a JOIN deadlines d ON d.id = a.deadline_id "
                "JOIN subscribers s ON s.id = a.subscriber_id "
                "GROUP BY d.opportunity_id, CASE " + group + " END, a.status"
            )
        )
        for opportunity_id, name, status, n in rows:
            counts[(opportunity_id, name)][status] = n
    engine.dispose()
    return dict(counts)


def rows_of(url: str, sql: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        value = connection.scalar(text(sql))
    engine.dispose()
    return int(value or 0)


def expire_lease(url: str) -> None:
    """What a killed scheduler leaves behind: its lease, expired now instead of in 90 s."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE scheduler_leases SET expires_at = :past"),
            {"past": utcnow() - timedelta(seconds=1)},
        )
    engine.dispose()


def settled(url: str) -> bool:
    """No alert waits, is being sent, or waits for a retry."""
    return not rows_of(
        url,
        "SELECT count(*) FROM alert_deliveries WHERE status IN ('due', 'sending', 'retrying')",
    )


def run_faults(options: Options, folder: Path) -> dict[str, object]:
    """Alerts to many subscribers while the scheduler is killed, the relay stops and (on
    PostgreSQL, when asked) the database restarts; then count what arrived and what was kept."""
    url = options.database or f"sqlite:///{folder / 'faults.sqlite3'}"
    rng = random.Random(options.seed)
    mail = MailSink(free_port())
    site = Site(
        database_url=url,
        instance_path=folder / "instance-faults",
        mail_port=mail.port,
        settings={
            "ALERTS_INTERVAL_MINUTES": 0.05,
            "ALERTS_CLAIM_TIMEOUT_MINUTES": options.claim_timeout_seconds / 60,
            "FEEDS_POLL_EVERY_SECONDS": 3600,
            "RATELIMIT_ENABLED": False,
        },
    )
    empty_database(url)
    site.flask("db", "upgrade")
    app = _app(site)
    started_at = utcnow()
    short_due_at = started_at + timedelta(seconds=options.short_deadline_seconds)
    listings = {
        "long": add_listing(
            app, "Drill: travel grant closing in two days", started_at + timedelta(days=2)
        ),
        "short": add_listing(
            app, "Drill: travel grant closing during the drill", short_due_at, country="UG"
        ),
        "closed": add_listing(
            app, "Drill: travel grant that closed an hour ago", started_at - timedelta(hours=1)
        ),
    }
    due = {"long": started_at + timedelta(days=2), "short": short_due_at}
    due["closed"] = started_at - timedelta(hours=1)
    where = {"long": "KE", "short": "UG", "closed": "KE"}
    side = max(options.subscribers // 10, 1)
    sizes = {"kenya": options.subscribers, "uganda": side, "everything": side}
    add_subscribers(app, side, {"countries": ["UG"]}, group="uganda")  # first: sent first
    add_subscribers(app, side, {}, group="everything")
    add_subscribers(app, options.subscribers, {"countries": ["KE"]}, group="kenya")
    before = {
        "subscribers": rows_of(url, "SELECT count(*) FROM subscribers"),
        "opportunities": rows_of(url, "SELECT count(*) FROM opportunities"),
    }
    events: list[dict[str, object]] = []
    mail.start()
    try:
        _say(
            f"{options.kills} SIGKILLs of the scheduler during alert runs to {options.subscribers:,} subscribers"
        )
        for number in range(1, options.kills + 1):
            waited = time.monotonic()
            natural = number == 2 and options.natural_takeover
            site.start_scheduler(timeout=200 if natural else 60)
            took_over = time.monotonic() - waited
            delay = rng.uniform(0.2, options.kill_within_seconds)
            time.sleep(delay)
            site.stop_scheduler(signal.SIGKILL)
            events.append(
                {
                    "event": f"SIGKILL {number}",
                    "seconds_after_start": round(delay, 1),
                    "emails_so_far": mail.count(),
                    "claimed_when_killed": rows_of(
                        url, "SELECT count(*) FROM alert_deliveries WHERE status = 'sending'"
                    ),
                    "lease_taken_after_seconds": round(took_over, 1),
                    "lease": (
                        "first start"
                        if number == 1
                        else "waited for the killed one's to expire"
                        if natural
                        else "the killed one's expired by the drill"
                    ),
                }
            )
            if not (number == 1 and options.natural_takeover):
                expire_lease(url)
            _say(f"killed {number}: {events[-1]}")

        site.start_scheduler()
        due["relay"], where["relay"] = utcnow() + timedelta(days=2), "KE"
        listings["relay"] = add_listing(
            app, "Drill: listing announced while the relay is down", due["relay"]
        )
        mail.stop()
        down = time.monotonic()
        time.sleep(options.outage_seconds)
        mail.start()
        events.append(
            {
                "event": "SMTP server stopped",
                "seconds": round(time.monotonic() - down, 1),
                "emails_so_far": mail.count(),
            }
        )
        _say(events[-1])

        if options.restart_postgresql and url.startswith("postgresql"):
            wait_until(
                lambda: settled(url),
                options.settle_seconds,
                "alerts to settle before the restart",
                every=1,
            )
            due["postgresql"], where["postgresql"] = utcnow() + timedelta(days=2), "KE"
            listings["postgresql"] = add_listing(
                app, "Drill: listing sent while PostgreSQL restarts", due["postgresql"]
            )
            wait_until(
                lambda: mail.naming(listings["postgresql"]) >= options.subscribers // 5,
                300,
                "sending to start",
                every=0.1,
            )
            restarted = time.monotonic()
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"],
                check=True,
                timeout=120,
            )
            events.append(
                {
                    "event": "PostgreSQL restarted",
                    "seconds": round(time.monotonic() - restarted, 1),
                    "emails_so_far": mail.count(),
                }
            )
            _say(events[-1])

        _say("waiting until no alert is due, being sent or retrying")
        wait_until(
            lambda: settled(url),
            options.settle_seconds,
            "every alert to be sent or settled",
            every=1,
        )
        time.sleep(1)
        scheduler = site.scheduler
        locked = scheduler.count(LOCKED) + sum(c.count(LOCKED) for c in site.stopped_schedulers)
        codes = site.stop()
    finally:
        site.stop()
        mail.stop()
    after = {
        "subscribers": rows_of(url, "SELECT count(*) FROM subscribers"),
        "opportunities": rows_of(url, "SELECT count(*) FROM opportunities"),
    }
    arrivals: dict[tuple[str, int], list[datetime]] = defaultdict(list)
    for received in mail.received:
        for number in received.opportunity_ids:
            for recipient in received.recipients:
                arrivals[(recipient, number)].append(received.arrived_at)
    deliveries = delivery_counts(url)
    rows = []
    for name, number in listings.items():
        for group, countries in GROUPS.items():
            if where[name] not in countries:
                continue
            mine = {k: v for k, v in arrivals.items() if k[1] == number and k[0].startswith(group)}
            rows.append(
                {
                    "listing": name,
                    "opportunity": number,
                    "group": group,
                    "followers": sizes[group],
                    "deliveries": deliveries.get((number, group), {}),
                    "emailed": len(mine),
                    "duplicates": sum(len(v) - 1 for v in mine.values()),
                    "after_deadline": sum(t >= due[name] for v in mine.values() for t in v),
                    "never_emailed": sizes[group] - len(mine),
                    "expected": EXPECTED[name],
                }
            )
    return {
        "database": "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        "subscribers": sizes,
        "short_deadline_seconds": options.short_deadline_seconds,
        "emails": len(mail.received),
        "events": events,
        "rows": rows,
        "listings_added_during_the_run": len(listings) - 3,
        "before": before,
        "after": after,
        "database_is_locked": locked,
        "exit_codes": codes,
    }


def empty_database(url: str) -> None:
    """Drop every table of the database, so that `db upgrade` builds it from nothing."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        existing = MetaData()
        existing.reflect(connection)
        existing.drop_all(connection)
    engine.dispose()


# --- rate limits shared by the workers ----------------------------------------------------------


def login_attempts_allowed(port: int, attempts: int) -> int:
    """Sign-in attempts with a wrong password, each on a new connection (so on any worker),
    that got an answer other than 429 Too Many Requests."""
    allowed = 0
    for _ in range(attempts):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/admin/login")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = urlencode(
            {"csrf_token": token, "email": "nobody@example.org", "password": "not the password"}
        )
        connection.request(
            "POST",
            "/admin/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        allowed += response.status != 429
    return allowed


def run_rate_limits(options: Options, folder: Path) -> dict[str, object]:
    """LOGIN_RATE_LIMIT (5 a minute) against 2 gunicorn workers, counted in each worker's
    memory and then in one Redis, as docs/deploy.md says to run it."""
    url = options.database or f"sqlite:///{folder / 'limits.sqlite3'}"
    empty_database(url)
    results: dict[str, object] = {"attempts": 12, "limit": "5 per minute"}
    stores = {"memory://": None}
    redis_server = shutil.which("redis-server")
    if redis_server and importlib.util.find_spec("redis"):
        stores["redis"] = free_port()
    else:
        results["redis"] = "not measured (needs redis-server and `pip install -e '.[redis]'`)"
    for name, port in stores.items():
        server = None
        if port is not None:
            server = subprocess.Popen(
                [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
            )
        site = Site(
            database_url=url,
            instance_path=folder / "instance-limits",
            mail_port=free_port(),
            settings={
                "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{port}/0" if port else name,
                "LOGIN_RATE_LIMIT": "5 per minute",
            },
        )
        try:
            site.flask("db", "upgrade")
            site.start_web()
            results[name.rstrip(":/")] = login_attempts_allowed(site.port, 12)
        finally:
            site.stop()
            if server is not None:
                server.terminate()
                server.wait(10)
    return results


def markdown(result: dict[str, object]) -> str:
    """The run as a section of docs/reliability.md."""
    lines = [
        f"### Load on {result['database']}",
        "",
        f"{result['load_seconds']} s at {result['connections']} connections on "
        f"{result['opportunities_seeded']:,} seeded opportunities, while the scheduler "
        f"ingested {result['feeds']} feeds of {result['entries_per_feed']} entries "
        f"({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load generator in the same machine).",
        "",
        "| route | requests | per second | errors | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in result["routes"]:
        name = f"**{row['route']}**" if row["route"] == "all" else row["route"]
        kinds = (
            f" ({', '.join(f'{k}: {v}' for k, v in row['error_kinds'].items())})"
            if row["errors"]
            else ""
        )
        lines.append(
            f"| {name} | {row['requests']:,} | {row['per_second']} | {row['errors']}{kinds} "
            f"| {row['p50_ms']} | {row['p99_ms']} |"
        )
    during, end = result["ingested_during_load"], result["ingested_in_the_end"]
    locked = result["database_is_locked"]
    lines += [
        "",
        f"- Ingestion during the load: {during['sources_fetched']} of {result['feeds']} feeds "
        f"fetched, {during['opportunities']:,} opportunities stored; all {end['sources_fetched']} "
        f"fetched {end['opportunities']:,} opportunities in the end, "
        f"{end['sources_failing']} sources failing.",
        f"- Alerts: {result['subscribers']:,} subscribers following travel grants in Africa, "
        f"3 days before each deadline; {result['alert_emails_during_load']:,} alert emails "
        f"sent during the load, {result['alert_emails_in_the_end']:,} by the end; deliveries "
        f"by status at the end: {result['deliveries']}.",
        f'- "database is locked" in the logs: gunicorn {locked["gunicorn"]}, scheduler '
        f"{locked['scheduler']}. ERROR lines: gunicorn {result['errors_logged']['gunicorn']}, "
        f"scheduler {result['errors_logged']['scheduler']}.",
        *[f"  - `{line}`" for line in result["error_samples"]],
        f"- Exit codes at the end (SIGTERM): {result['exit_codes']}. Load average just after "
        f"the load (1, 5, 15 min): {result['load_average']}.",
        f"- Backup while the site ran ({', '.join(result['backup']['commands'])}, "
        f"{result['backup']['seconds']} s), restored into a new database: "
        + (
            "every table count the same."
            if result["backup"]["same"]
            else f"counts differ: {result['backup']['live']} live, {result['backup']['restored']} restored."
        ),
    ]
    return "\n".join(lines)


EXPECTED = {
    "long": "every follower, once",
    "short": "once before the deadline, or missed",
    "closed": "nobody",
    "relay": "every follower, once",
    "postgresql": "every follower, once",
}
DEADLINE_WORDS = {
    "long": "in 2 days",
    "short": "during the run",
    "closed": "an hour before",
    "relay": "in 2 days",
    "postgresql": "in 2 days",
}


def fault_markdown(result: dict[str, object]) -> str:
    """The fault run as a section of docs/reliability.md."""
    lines = [
        f"### Faults on {result['database']}",
        "",
        "Subscribers alerted 3 days before a deadline: "
        + ", ".join(f"{n:,} following {g}" for g, n in result["subscribers"].items())
        + f" (Kenya: KE, Uganda: UG); {result['emails']:,} emails reached the SMTP server.",
        "",
        "| event | when | emails received so far | rows being sent when killed | lease |",
        "|---|---|---:|---:|---|",
    ]
    for event in result["events"]:
        when = (
            f"{event['seconds_after_start']} s after the lease was taken"
            if "seconds_after_start" in event
            else f"{event['seconds']} s"
        )
        lines.append(
            f"| {event['event']} | {when} | {event['emails_so_far']:,} "
            f"| {event.get('claimed_when_killed', '')} "
            f"| {event.get('lease', '')}"
            + (
                f", taken {event['lease_taken_after_seconds']} s after it started"
                if "lease_taken_after_seconds" in event
                else ""
            )
            + " |"
        )
    lines += [
        "",
        "| listing | its deadline | followed by | expected | deliveries by status | emailed | not emailed | duplicates | after the deadline |",
        "|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(row["deliveries"].items())) or "none"
        lines.append(
            f"| {row['listing']} (#{row['opportunity']}) | {DEADLINE_WORDS[row['listing']]} "
            f"| {row['group']} ({row['followers']:,}) | {row['expected']} | {statuses} "
            f"| {row['emailed']:,} "
            f"| {row['never_emailed']:,} | {row['duplicates']} | {row['after_deadline']} |"
        )
    lines += [
        "",
        f"- Rows before, and after ({result['listings_added_during_the_run']} listings added "
        f"during the run): {result['before']} / {result['after']}.",
        f'- "database is locked" in the schedulers\' logs: {result["database_is_locked"]}. '
        f"Exit code of the last scheduler (SIGTERM): {result['exit_codes']}.",
    ]
    return "\n".join(lines)


def limits_markdown(result: dict[str, object]) -> str:
    """The rate-limit check as a section of docs/reliability.md."""
    return "\n".join(
        [
            "### Rate limits with 2 workers",
            "",
            f"{result['attempts']} sign-in attempts from one address, each on a new connection, "
            f"against `LOGIN_RATE_LIMIT` = {result['limit']}: {result['memory']} answered with "
            f"counters in each worker's memory, {result['redis']} with one Redis.",
        ]
    )


def _say(text: str) -> None:
    print(f"drill: {text}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument(
        "--part",
        choices=("load", "faults", "limits", "all"),
        default="all",
        help="what to run (all)",
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20, help="entries per feed")
    parser.add_argument("--opportunities", type=int, default=20_000, help="seeded for the load")
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of the scheduler")
    parser.add_argument("--seed", type=int, default=8, help="of the random kill points")
    parser.add_argument(
        "--restart-postgresql",
        action="store_true",
        help="also restart the local PostgreSQL cluster (15 main) mid-run: every client of "
        "that server loses its connections",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 10 s of load, 20 feeds, 2,000 seeded, 1,000 subscribers, 3 kills",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args(argv)
    quick = {}
    if args.quick:
        args.duration, args.feeds, args.opportunities = min(args.duration, 10), 20, 2_000
        args.subscribers, args.kills = min(args.subscribers, 1_000), min(args.kills, 3)
        quick = {
            "kill_within_seconds": 4.0,
            "outage_seconds": 5.0,
            "short_deadline_seconds": 20.0,
            "claim_timeout_seconds": 10.0,
            "natural_takeover": False,
        }
    return Options(
        database=args.database,
        parts=("load", "faults", "limits") if args.part == "all" else (args.part,),
        duration=args.duration,
        connections=args.connections,
        feeds=args.feeds,
        entries=args.entries,
        opportunities=args.opportunities,
        subscribers=args.subscribers,
        kills=args.kills,
        seed=args.seed,
        restart_postgresql=args.restart_postgresql,
        keep=args.keep,
        as_json=args.as_json,
        **quick,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    folder = Path(tempfile.mkdtemp(prefix="openings-drill-"))
    results: dict[str, dict[str, object]] = {}
    try:
        if "load" in options.parts:
            results["load"] = run_load(options, folder)
        if "faults" in options.parts:
            results["faults"] = run_faults(options, folder)
        if "limits" in options.parts:
            results["limits"] = run_rate_limits(options, folder)
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if options.as_json:
        print(json.dumps(results, indent=2, default=str))
    else:
        if "load" in results:
            print(markdown(results["load"]))
        if "faults" in results:
            print(fault_markdown(results["faults"]))
        if "limits" in results:
            print(limits_markdown(results["limits"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
