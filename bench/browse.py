"""Browsing under load: how fast the list, filters, search, detail, Atom and ICS answer.

Seeds 100,000 opportunities with realistic text and deadlines into a fresh database, serves
the app with gunicorn (2 sync workers) on 127.0.0.1, and loads each route with wrk at 16
connections from a second process, beside a trivial route of the same app (the floor).
Prints a Markdown section for docs/performance.md: requests/s, the ratio to the floor, p50
and p99 latency, and the page sizes, raw and gzip-compressed.

    .venv/bin/python bench/browse.py                       # SQLite, in a temporary folder
    .venv/bin/python bench/browse.py --database postgresql+psycopg://postgres@127.0.0.1:5432/openings_bench

The PostgreSQL database is emptied first. Only 127.0.0.1 is ever loaded; every run is
bounded in time (`--seconds` per route).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPPORTUNITIES = 100_000
SOURCES = 60
CONNECTIONS = 16
WORKERS = 2

TOPICS = [
    "legal empowerment",
    "access to justice",
    "land rights",
    "community paralegals",
    "climate justice",
    "gender justice",
    "human rights defenders",
    "digital rights",
    "strategic litigation",
    "migrant rights",
    "housing rights",
    "labour rights",
    "transitional justice",
    "anti-corruption",
    "indigenous rights",
    "water rights",
    "freedom of expression",
    "criminal justice reform",
    "legal aid",
    "open government",
]
CITIES = [
    ("Nairobi", "KE"),
    ("Kampala", "UG"),
    ("Dakar", "SN"),
    ("Accra", "GH"),
    ("Lagos", "NG"),
    ("Johannesburg", "ZA"),
    ("Bogotá", "CO"),
    ("Lima", "PE"),
    ("São Paulo", "BR"),
    ("Mexico City", "MX"),
    ("Buenos Aires", "AR"),
    ("Manila", "PH"),
    ("Jakarta", "ID"),
    ("Dhaka", "BD"),
    ("Kathmandu", "NP"),
    ("Delhi", "IN"),
    ("Tunis", "TN"),
    ("Amman", "JO"),
    ("Beirut", "LB"),
    ("Brussels", "BE"),
    ("Geneva", "CH"),
    ("Tbilisi", "GE"),
    ("Kyiv", "UA"),
    ("Washington", "US"),
    ("Toronto", "CA"),
    ("Bangkok", "TH"),
    ("Harare", "ZW"),
    ("Lusaka", "ZM"),
]
KINDS = {
    "event": [
        "Regional summit on",
        "Convening on",
        "Forum on",
        "Learning exchange on",
        "Conference on",
    ],
    "travel_grant": ["Travel grants to attend the forum on", "Travel support for the summit on"],
    "fellowship": ["Fellowship in", "Leadership fellowship on", "Research fellowship on"],
    "grant": ["Small grants for", "Seed grants for", "Core support grants for"],
    "call": ["Call for proposals on", "Call for papers on", "Call for case studies on"],
    "award": ["Award for", "Prize for"],
    "job": ["Programme officer,", "Legal adviser,"],
    "other": ["Open consultation on", "Survey on"],
}
SENTENCES = [
    "The {org} invites {who} working on {topic} to apply.",
    "Selected participants receive {funding} and join a cohort of peers from {region}.",
    "Applications must be submitted in {language} through the online form.",
    "Priority is given to grassroots organisations and first-time applicants.",
    "The programme covers flights, visas and accommodation for {who}.",
    "Sessions address {topic} and {topic2}, with a focus on community-led approaches.",
    "Organisations with an annual budget under 250,000 USD are encouraged to apply.",
    "Shortlisted applicants will be interviewed before the final selection.",
    "Late applications will not be considered; see the listing for the full terms.",
    "Interpretation is offered in English, French, Spanish and Portuguese.",
]
WHO = ["paralegals", "lawyers", "activists", "community organisers", "researchers", "journalists"]
ORGS = [
    "Justice Network",
    "Legal Empowerment Fund",
    "Rights Collective",
    "Open Law Institute",
    "Paralegal Alliance",
]
FUNDING = ["a stipend", "travel support", "a small grant", "full funding", "mentoring"]
REGIONS = ["Africa", "Latin America", "Asia", "the Middle East", "Eastern Europe"]

FILTERED = [
    "kind=fellowship&region=latin-america-caribbean",
    "closing=30&funding=travel",
    "kind=event&kind=travel_grant&region=africa&closing=90",
    "country=KE&status=open",
    "online=yes&lang=en",
    "kind=grant&funding=stipend&closing=30",
    "region=asia-pacific&sort=newest",
    "status=past&kind=call",
    "region=europe-central-asia&online=no&closing=7",
    "status=rolling",
]
SEARCHES = [
    "travel grant justice",
    "paralegals",
    "land rights",
    "climate",
    "fellowship lawyers",
    "summit nairobi",
    "digital rights",
    "housing",
    "legal aid grants",
    "indigenous",
    "strategic litigation",
    "migrant",
    "corruption",
    "water",
    "gender justice fellowship",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="database URL (default: a SQLite file in a temporary folder)"
    )
    parser.add_argument("--opportunities", type=int, default=OPPORTUNITIES)
    parser.add_argument(
        "--seconds", type=int, default=10, help="load per route, after 2 s of warm-up"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install -y wrk")

    folder = Path(tempfile.mkdtemp(prefix="openings-bench-"))
    url = args.database or f"sqlite:///{folder / 'bench.sqlite3'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
        "FLASK_INSTANCE_PATH": str(folder),
        "FLASK_ENVIRONMENT": '"production"',
        "FLASK_SECRET_KEY": "bench-" + "k" * 40,
        "FLASK_SQLALCHEMY_DATABASE_URI": url,
        "FLASK_LOG_LEVEL": '"WARNING"',
    }
    os.environ.update(env)
    started = time.perf_counter()
    ids = seed(url, args.opportunities)
    print(
        f"seeded {args.opportunities:,} opportunities in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )

    port = _free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
            "--pythonpath",
            str(ROOT / "bench"),
            "--log-level",
            "warning",
            "browse_app:app",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/bench/floor")
        rng = random.Random(7)
        routes = {
            "floor (trivial route)": ["/bench/floor"],
            "plain list": ["/"],
            "filtered list": ["/?" + q for q in FILTERED],
            "search": ["/?q=" + s.replace(" ", "+") for s in SEARCHES],
            "detail": [f"/opportunities/{i}" for i in rng.sample(ids, 200)],
            "Atom": ["/opportunities.atom?" + q for q in FILTERED[:5]],
            "ICS": ["/opportunities.ics?" + q for q in FILTERED[:5]],
            "API": ["/api/v1/opportunities?" + q for q in FILTERED[:5]],
        }
        rows = []
        for name, paths in routes.items():
            rows.append((name, *load(base, paths, args.seconds, folder)))
        sizes = page_sizes(base, ids)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    report(url, args.opportunities, rows, sizes)


def seed(url: str, count: int) -> list[int]:
    """A fresh, migrated database with `count` opportunities: ids of the published ones."""
    from flask_migrate import upgrade
    from sqlalchemy import MetaData, insert, text

    from directory import create_app
    from directory.extensions import db
    from directory.models import Deadline, Opportunity, OpportunityCountry, Source, SourceEntry
    from feeds.closing import closing_instant

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                existing = MetaData()
                existing.reflect(connection)
                existing.drop_all(connection)
        upgrade()
        rng = random.Random(42)
        today = datetime.now(UTC).date()
        now = datetime.now(UTC)
        db.session.execute(
            insert(Source),
            [
                {
                    "id": i,
                    "name": f"{rng.choice(ORGS)} feed {i}",
                    "url": f"https://feeds.example.org/{i}.xml",
                    "kind": "feed",
                    "status": "active",
                    "fetch_every_minutes": 60,
                    "consecutive_errors": 0,
                    "created_at": now,
                }
                for i in range(1, SOURCES + 1)
            ],
        )
        batch = 5000
        for start in range(1, count + 1, batch):
            opportunities, countries, deadlines, entries = [], [], [], []
            for i in range(start, min(start + batch, count + 1)):
                o, c, d = _opportunity(i, rng, today, now)
                d = [
                    {**x, "due_at": closing_instant(x["due_on"], x["due_time"], x["time_zone"])}
                    for x in d
                ]
                o["closes_at"] = max((x["due_at"] for x in d), default=None)
                opportunities.append(o)
                countries += c
                deadlines += d
                entries.append(
                    {
                        "source_id": rng.randint(1, SOURCES),
                        "opportunity_id": i,
                        "entry_key": f"entry-{i}",
                        "link": o["link"],
                        "content_hash": "",
                        "first_seen_at": o["first_seen_at"],
                        "last_seen_at": now,
                    }
                )
            db.session.execute(insert(Opportunity), opportunities)
            db.session.execute(insert(OpportunityCountry), countries)
            db.session.execute(insert(Deadline), deadlines)
            db.session.execute(insert(SourceEntry), entries)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SELECT setval('opportunities_id_seq', :n)"), {"n": count})
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        ids = [
            i
            for (i,) in db.session.execute(
                text("SELECT id FROM opportunities WHERE status = 'published' ORDER BY id")
            )
        ]
        db.session.remove()
        db.engine.dispose()
    return ids


def _opportunity(i: int, rng: random.Random, today: date, now: datetime):
    kind = rng.choices(list(KINDS), weights=[25, 12, 18, 15, 14, 5, 6, 5])[0]
    topic, topic2 = rng.sample(TOPICS, 2)
    city, country = rng.choice(CITIES)
    title = f"{rng.choice(KINDS[kind])} {topic} {'in ' + city if rng.random() < 0.7 else '2027'}"
    who = rng.choice(WHO)
    sentences = rng.sample(SENTENCES, rng.randint(4, 8))
    summary = " ".join(
        s.format(
            org=rng.choice(ORGS),
            who=who,
            topic=topic,
            topic2=topic2,
            funding=rng.choice(FUNDING),
            region=rng.choice(REGIONS),
            language=rng.choice(["English", "Spanish", "French"]),
        )
        for s in sentences
    )
    first_seen = now - timedelta(days=rng.randint(0, 700), minutes=rng.randint(0, 1440))
    online = rng.random() < 0.2
    opportunity = {
        "id": i,
        "title": title,
        "link": f"https://listings.example.org/{i}",
        "organiser": rng.choice(ORGS),
        "kind": kind,
        "summary_html": f"<p>{summary}</p>",
        "summary_text": summary,
        "language": rng.choices(["en", "es", "fr", "pt"], weights=[70, 15, 10, 5])[0],
        "place": None if online else city,
        "is_online": online,
        "event_start_on": None,
        "event_end_on": None,
        "offers_travel": rng.random() < 0.3,
        "offers_accommodation": rng.random() < 0.2,
        "offers_fees": rng.random() < 0.1,
        "offers_stipend": rng.random() < 0.15,
        "funding_amount": None,
        "funding_currency": None,
        "is_rolling": False,
        "status": "published" if rng.random() < 0.98 else "hidden",
        "is_corrected": False,
        "published_at": first_seen,
        "first_seen_at": first_seen,
        "updated_at": first_seen,
    }
    if kind == "event":
        start = today + timedelta(days=rng.randint(-300, 250))
        opportunity["event_start_on"], opportunity["event_end_on"] = (
            start,
            start + timedelta(days=2),
        )
    codes = [country] + ([rng.choice(CITIES)[1]] if rng.random() < 0.2 else [])
    countries = [
        {"opportunity_id": i, "country_code": c, "position": n}
        for n, c in enumerate(dict.fromkeys(codes))
    ]
    deadlines = []
    roll = rng.random()
    if roll < 0.04:
        opportunity["is_rolling"] = True
    elif roll > 0.08:
        base = today + timedelta(days=rng.randint(-500, 200))
        for n, dkind in enumerate(
            rng.sample(
                ["application", "registration", "travel_support", "abstract"], rng.randint(1, 3)
            )
        ):
            stated_time = rng.random() < 0.3
            deadlines.append(
                {
                    "opportunity_id": i,
                    "kind": dkind,
                    "due_on": base + timedelta(days=14 * n),
                    "due_time": datetime.strptime("17:00", "%H:%M").time() if stated_time else None,
                    "time_zone": rng.choice(
                        ["Africa/Nairobi", "America/Bogota", "Europe/Brussels", "AoE", None]
                    ),
                    "evidence": f"Deadline: {(base + timedelta(days=14 * n)):%d %B %Y}",
                    "confidence": "certain",
                    "origin": "extracted",
                }
            )
    return opportunity, countries, deadlines


def load(
    base: str, paths: list[str], seconds: int, folder: Path
) -> tuple[float, float, float, int]:
    """Requests/s, p50 and p99 latency (ms) and non-2xx count for `paths`, requested in turn."""
    script = folder / "paths.lua"
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
    )
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        "--timeout",
        "20s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    subprocess.run([*command[:-1], "-d2s", base], capture_output=True, check=True, timeout=60)
    output = subprocess.run(
        [*command[:-1], f"-d{seconds}s", base],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _milliseconds(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1))
    p99 = _milliseconds(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return rate, p50, p99, int(errors.group(1)) if errors else 0


def page_sizes(base: str, ids: list[int]) -> list[tuple[str, int, int]]:
    """Bytes of each page as sent, and gzip-compressed (level 6, as a reverse proxy would)."""
    pages = {
        "list page, 25 results": "/",
        "filtered list": "/?" + FILTERED[0],
        "search results": "/?q=travel+grant+justice",
        "detail page": f"/opportunities/{ids[len(ids) // 2]}",
        "stylesheet": "/static/site.css",
    }
    sizes = []
    for name, path in pages.items():
        with urllib.request.urlopen(base + path, timeout=30) as response:
            body = response.read()
        sizes.append((name, len(body), len(gzip.compress(body, 6))))
    return sizes


def report(url: str, count: int, rows, sizes) -> None:
    floor = rows[0][1]
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"### {database}, {count:,} opportunities ({datetime.now(UTC):%Y-%m-%d})\n")
    print("| route | requests/s | ratio to floor | p50 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rate, p50, p99, errors in rows:
        print(f"| {name} | {rate:,.0f} | {rate / floor:.2f} | {p50:.1f} | {p99:.1f} | {errors} |")
    print("\n| page | bytes | gzip bytes |")
    print("|---|---:|---:|")
    for name, raw, packed in sizes:
        print(f"| {name} | {raw:,} | {packed:,} |")
    list_weight = sizes[0][2] + sizes[-1][2]
    print(f"\nList page with its stylesheet: {list_weight:,} bytes gzipped (budget 14,336).")


def _milliseconds(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit("the app did not start")


if __name__ == "__main__":
    main()
