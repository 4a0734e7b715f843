"""The load-and-fault drill: Openings run as in production, under load, while things break.

Load: gunicorn (2 sync workers) serves a seeded database on 127.0.0.1 while the scheduler
process ingests 200 feeds served locally; 32 connections, each a bounded loop of keep-alive
requests, ask for the list, searches, filtered lists, detail pages, Atom and the API for
`--duration` seconds. It reports requests served, errors, p50 and p99 latency per route, how
much the scheduler ingested meanwhile, and every "database is locked" the processes logged.

    .venv/bin/python bench/drill.py                        # SQLite, in a temporary folder
    .venv/bin/python bench/drill.py --database postgresql+psycopg://postgres@127.0.0.1:5432/openings_drill
    .venv/bin/python bench/drill.py --quick                # a short smoke run of every part

A PostgreSQL database given is emptied first. Only 127.0.0.1 is ever loaded and every part is
bounded in time. It prints a Markdown section for docs/reliability.md (`--json` for data).
The load loop is Python (one thread and one connection per simulated client), so the client
itself takes CPU from the server on this 2-core machine: the figures are a floor.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from browse import FILTERED, SEARCHES, seed  # noqa: E402
from ingest import FeedServer, listing, rss  # noqa: E402
from production import Site, free_port, wait_until  # noqa: E402

LOCKED = "database is locked"


@dataclass
class Options:
    """What one run does, from the command line."""

    database: str | None
    duration: float
    connections: int
    feeds: int
    entries: int
    opportunities: int
    keep: bool
    as_json: bool


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


def run_load(options: Options, folder: Path) -> dict[str, object]:
    """Seed, start everything, load it while the scheduler ingests, and collect the figures."""
    url = options.database or f"sqlite:///{folder / 'drill.sqlite3'}"
    site = Site(
        database_url=url,
        instance_path=folder / "instance",
        mail_port=free_port(),
        settings={"FEEDS_POLL_EVERY_SECONDS": 2, "RATELIMIT_ENABLED": False},
    )
    started = time.monotonic()
    ids = prepare_database(url, options.opportunities, site.env())
    _say(f"seeded {options.opportunities:,} opportunities in {time.monotonic() - started:.0f} s")
    feeds = FeedServer(folder / "feeds")
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
        wait_until(
            lambda: ingestion_progress(url)["sources_fetched"] >= options.feeds,
            600,
            "the scheduler to fetch every feed",
            every=1,
        )
        finished = time.monotonic() - started
        load_average = os.getloadavg()
        site.flask("db", "upgrade")
        backup = backup_and_restore(url, folder)
        locked = {"gunicorn": site.web.count(LOCKED), "scheduler": site.scheduler.count(LOCKED)}
        errors_logged = {
            "gunicorn": site.web.count(" ERROR "),
            "scheduler": site.scheduler.count(" ERROR "),
        }
        codes = site.stop()
    finally:
        site.stop()
        feeds.close()
    return {
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
        "exit_codes": codes,
        "wall_seconds": round(finished),
        "load_average": [round(x, 1) for x in load_average],
        "backup": backup,
    }


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
        f'- "database is locked" in the logs: gunicorn {locked["gunicorn"]}, scheduler '
        f"{locked['scheduler']}. ERROR lines: gunicorn {result['errors_logged']['gunicorn']}, "
        f"scheduler {result['errors_logged']['scheduler']}.",
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


def _say(text: str) -> None:
    print(f"drill: {text}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--duration", type=float, default=60, help="seconds of load (default 60)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--entries", type=int, default=20, help="entries per feed")
    parser.add_argument("--opportunities", type=int, default=20_000, help="seeded first")
    parser.add_argument("--quick", action="store_true", help="10 s, 20 feeds, 2,000 seeded")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--json", dest="as_json", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.feeds, args.opportunities = min(args.duration, 10), 20, 2_000
    return Options(
        database=args.database,
        duration=args.duration,
        connections=args.connections,
        feeds=args.feeds,
        entries=args.entries,
        opportunities=args.opportunities,
        keep=args.keep,
        as_json=args.as_json,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    folder = Path(tempfile.mkdtemp(prefix="openings-drill-"))
    try:
        result = run_load(options, folder)
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, indent=2) if options.as_json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
