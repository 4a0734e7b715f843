"""Measure ingestion end to end against in-process baselines, in one run, on this machine.

Run from the repository root: `.venv/bin/python bench/ingest.py [--feeds 20] [--entries 50]
[--reader-python PATH]`. It serves generated feeds from a local HTTP server on 127.0.0.1
(keep-alive, ETag and 304 like a real one) and reports:

1. new entries per second end to end (fetch, parse, normalise, extract, store, one commit
   per source) against `feedparser.parse` plus the extractor alone, in-process, on the same
   bytes (the baseline; target: at least 0.6 of it);
2. the same feeds ingested by lemon24/reader, when a Python with `reader` installed is given
   (`--reader-python`, e.g. a throwaway venv: `python3 -m venv /tmp/reader-venv &&
   /tmp/reader-venv/bin/pip install reader`), as entries per second in the same run, next
   to ours with an extractor that reads nothing (reader extracts nothing either);
3. re-polling 1,000 unchanged sources, every one answered 304 (target: under 10 s);
4. a poll of a 100-entry feed with one new entry against a poll of a new one-entry feed
   (target: under 3x), with how many entries were extracted.

The database is a fresh SQLite file in a temporary folder (`--database` takes another URL,
e.g. an empty PostgreSQL database). Measurements 1 and 2 run in rounds on fresh feeds and
report the best round of each (other work on the machine slows some rounds down), wall-clock
and CPU time of the measuring process (the server is a child process). Figures vary from
run to run and machine to machine: compare the ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from directory import create_app  # noqa: E402
from directory.extensions import db  # noqa: E402
from directory.models import Source  # noqa: E402
from directory.polling import fetch_settings  # noqa: E402
from feeds import extract as extract_module  # noqa: E402
from feeds.fetch import Fetcher  # noqa: E402
from feeds.poll import poll_sources  # noqa: E402
from feeds.types import Extraction  # noqa: E402

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KINDS = ("fellowship", "travel grant", "summit", "call for proposals", "training")
PLACES = ("Nairobi", "Lima", "Manila", "Tunis", "Bogotá", "Kathmandu", "Accra", "Online")


def listing(feed: int, number: int) -> dict[str, str]:
    """One generated listing, worded like the ones the corpus holds."""
    kind = KINDS[(feed + number) % len(KINDS)]
    place = PLACES[(feed * 7 + number) % len(PLACES)]
    published = START - timedelta(days=number % 60, hours=feed)
    closes = published + timedelta(days=30 + number % 45)
    body = (
        f"<p>The network opens its <strong>{kind}</strong> for community paralegals, "
        f"human-rights lawyers and small NGOs working on land, housing and legal aid. "
        f"The programme takes place in {place} and covers travel, accommodation and a "
        f"daily stipend for selected participants.</p>"
        f"<p>Deadline for applications: {closes:%d %B %Y} at 23:59 (GMT). Travel support "
        f"requests close two weeks earlier. Questions: <a href='mailto:calls@example.org'>"
        f"calls@example.org</a>. Read the <a href='https://example.org/calls/{feed}/{number}"
        f"?utm_source=rss'>full call</a>.</p>"
    )
    return {
        "guid": f"urn:bench:{feed}:{number}",
        "title": f"{kind.capitalize()} {feed}-{number}: justice defenders in {place}",
        "link": f"https://example.org/calls/{feed}/{number}?utm_source=rss",
        "pubDate": format_datetime(published),
        "description": body,
    }


def rss(items: list[dict[str, str]], title: str) -> bytes:
    """An RSS 2.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>Calls and grants</description><language>en</language>",
    ]
    for item in items:
        parts.append("<item>")
        parts.extend(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(folder: Path) -> None:
    """Serve `folder` on 127.0.0.1 (keep-alive, ETag, 304) and print the port; runs in a child
    process, so the ingesting process's CPU time counts only its own work."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = folder / self.path.lstrip("/")
            if not path.is_file():
                self._answer(404)
                return
            body = path.read_bytes()
            etag = f'"{hashlib.sha1(body).hexdigest()}"'
            if self.headers.get("If-None-Match") == etag:
                self._answer(304, etag=etag)
                return
            self._answer(200, body, etag=etag)

        def _answer(self, status: int, body: bytes = b"", etag: str | None = None) -> None:
            self.send_response(status)
            if status == 200:
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            if etag:
                self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_port, flush=True)
    server.serve_forever()


class FeedServer:
    """The child process serving generated feeds from a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(folder)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.process.stdout.readline())

    def put(self, path: str, body: bytes) -> str:
        """Publish `body` at `path`; returns its URL."""
        target = self.folder / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        draft = target.with_suffix(".part")
        draft.write_bytes(body)
        draft.replace(target)
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        self.process.stdout.close()


def nothing_extracted(*args: object, **kwargs: object) -> Extraction:
    """An extractor that reads nothing: the pipeline's own cost, as reader's figure is."""
    return Extraction()


class Counting:
    """The project's extractor, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: object, **kwargs: object):
        self.calls += 1
        return extract_module.extract(*args, **kwargs)


def baseline(documents: list[bytes]) -> tuple[float, float, int]:
    """feedparser.parse plus the extractor on every entry, in-process: (seconds, CPU
    seconds, entries)."""
    entries = 0
    started, cpu = time.perf_counter(), time.process_time()
    for content in documents:
        parsed = feedparser.parse(content)
        language = parsed.feed.get("language")
        for item in parsed.entries:
            extract_module.extract(
                item.get("title", ""),
                item.get("summary", ""),
                published=None,
                language=language,
                link=item.get("link"),
            )
            entries += 1
    return time.perf_counter() - started, time.process_time() - cpu, entries


def add_sources(urls: list[str], prefix: str) -> list[Source]:
    sources = [Source(name=f"{prefix} {n}", url=url, kind="feed") for n, url in enumerate(urls)]
    db.session.add_all(sources)
    db.session.commit()
    return sources


def poll(app, sources: list[Source], now: datetime, extractor=None) -> tuple[float, float, list]:
    """Poll `sources` as the scheduler does: (seconds, CPU seconds of this process, reports)."""
    with Fetcher(fetch_settings(app.config)) as fetcher:
        started, cpu = time.perf_counter(), time.process_time()
        reports = poll_sources(
            db.session,
            sources,
            now,
            fetcher=fetcher,
            extractor=extractor or extract_module.extract,
            workers=int(app.config["FEEDS_FETCH_WORKERS"]),
        )
        return time.perf_counter() - started, time.process_time() - cpu, reports


def with_reader(python: str, urls: list[str], database: Path) -> dict | None:
    """lemon24/reader's update of the same feeds, in its own interpreter: seconds and entries."""
    script = """
import json, sys, time
from reader import make_reader
urls, path = json.loads(sys.argv[1]), sys.argv[2]
reader = make_reader(path)
for url in urls:
    reader.add_feed(url)
started, cpu = time.perf_counter(), time.process_time()
reader.update_feeds(workers=1)
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
import reader as package
print(json.dumps({"seconds": elapsed, "cpu": cpu, "entries": reader.get_entry_counts().total,
                  "version": package.__version__}))
"""
    done = subprocess.run(
        [python, "-c", script, json.dumps(urls), str(database)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--unchanged-sources", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="Rounds of measurements 1 and 2.")
    parser.add_argument("--rounds", type=int, default=15, help="Rounds of the one-new-entry test.")
    parser.add_argument("--reader-python", help="A Python with `reader` installed.")
    parser.add_argument("--database", help="Database URL (default: a fresh SQLite file).")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.serve:
        serve(options.serve)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="openings-bench-"))
    database = options.database or f"sqlite:///{folder / 'bench.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-signing",
            "SQLALCHEMY_DATABASE_URI": database,
            "FEEDS_ALLOW_PRIVATE_ADDRESSES": True,
            "LOG_LEVEL": "WARNING",
        },
        instance_path=str(folder),
    )
    server = FeedServer(folder / "served")
    results: dict[str, object] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "database": database.split(":", 1)[0],
        "extractor": (extract_module.__doc__ or "").strip().splitlines()[0],
        "feeds": options.feeds,
        "entries_per_feed": options.entries,
    }
    try:
        with app.app_context():
            upgrade()
            results.update(measure(app, server, options, folder))
            db.session.remove()
            db.engine.dispose()
    finally:
        server.close()
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


def measure(app, server: FeedServer, options, folder: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    now = datetime.now(UTC)

    # 1 and 2. End to end against feedparser + extractor in-process, and against reader;
    # each round on feeds of its own (new entries), the best round of each reported, since
    # other work on this machine slows some rounds down.
    base, ours, plain, theirs = [], [], [], []
    for round_ in range(options.repeats):
        documents, urls = [], []
        for feed in range(options.feeds):
            number = round_ * options.feeds + feed
            body = rss([listing(number, n) for n in range(options.entries)], f"Bench {number}")
            documents.append(body)
            urls.append(server.put(f"/feeds/{number}.xml", body))
        if round_ == 0:
            baseline(documents[:2])  # imports and caches warm, as they are in a running scheduler
        *times, entries = baseline(documents)
        base.append(times)
        seconds, cpu, reports = poll(app, add_sources(urls, f"Bench {round_}"), now)
        assert sum(r.stored.new for r in reports) == entries, reports
        ours.append((seconds, cpu))
        plain_urls = [
            server.put(
                f"/plain/{number}.xml",
                rss([listing(number, n) for n in range(options.entries)], f"Plain {number}"),
            )
            for number in range(
                100_000 + round_ * options.feeds, 100_000 + (round_ + 1) * options.feeds
            )
        ]

        seconds, cpu, reports = poll(
            app, add_sources(plain_urls, f"Plain {round_}"), now, nothing_extracted
        )
        assert sum(r.stored.new for r in reports) == entries, reports
        plain.append((seconds, cpu))
        if options.reader_python:
            reader = with_reader(options.reader_python, urls, folder / f"reader-{round_}.sqlite")
            if reader:
                assert reader["entries"] == entries, reader
                theirs.append((reader["seconds"], reader["cpu"]))
                out["reader_version"] = reader["version"]
    entries = options.feeds * options.entries
    best = {
        name: [min(t[i] for t in times) for i in (0, 1)]
        for name, times in (
            ("baseline", base),
            ("ours", ours),
            ("plain", plain),
            ("reader", theirs),
        )
        if times
    }
    out["baseline_entries_per_second"] = round(entries / best["baseline"][0])
    out["end_to_end_entries_per_second"] = round(entries / best["ours"][0])
    out["end_to_end_ratio"] = round(best["baseline"][0] / best["ours"][0], 2)
    out["end_to_end_cpu_ratio"] = round(best["baseline"][1] / best["ours"][1], 2)
    out["end_to_end_ratio_per_round"] = [
        round(b[0] / o[0], 2) for b, o in zip(base, ours, strict=True)
    ]
    out["without_extraction_entries_per_second"] = round(entries / best["plain"][0])
    if "reader" in best:
        out["reader_entries_per_second"] = round(entries / best["reader"][0])
        out["reader_ratio"] = round(best["baseline"][0] / best["reader"][0], 2)
        out["reader_cpu_ratio"] = round(best["baseline"][1] / best["reader"][1], 2)

    # 3. Re-polling unchanged sources: every answer a 304.
    many = []
    for n in range(options.unchanged_sources):
        many.append(server.put(f"/unchanged/{n}.xml", rss([listing(1000 + n, 0)], "Unchanged")))
    unchanged = add_sources(many, "Unchanged")
    poll(app, unchanged, now)
    seconds, cpu, reports = poll(app, unchanged, now + timedelta(hours=2))
    assert {r.outcome for r in reports} == {"not_modified"}, {r.outcome for r in reports}
    out["unchanged_sources"] = len(unchanged)
    out["unchanged_repoll_seconds"] = round(seconds, 2)
    out["unchanged_repoll_cpu_seconds"] = round(cpu, 2)

    # 4. One new entry in a feed of 100, against a new feed of one entry.
    hundred = [listing(500, n) for n in range(100)]
    (big,) = add_sources([server.put("/hundred.xml", rss(hundred, "Hundred"))], "Hundred")
    poll(app, [big], now)
    big_times, one_times, extracted = [], [], []
    for round_ in range(options.rounds):
        hundred = [listing(600 + round_, 0), *hundred[:-1]]
        server.put("/hundred.xml", rss(hundred, "Hundred"))
        counting = Counting()
        at = now + timedelta(hours=round_ + 1)
        seconds, _, (report,) = poll(app, [big], at, counting)
        assert (report.stored.new, report.stored.unchanged) == (1, 99), report
        big_times.append(seconds)
        extracted.append(counting.calls)
        one_url = server.put(f"/one/{round_}.xml", rss([listing(700 + round_, 0)], "One"))
        (one,) = add_sources([one_url], f"One {round_}")
        seconds, _, _ = poll(app, [one], at)
        one_times.append(seconds)
    out["one_new_in_100_ms"] = round(statistics.median(big_times) * 1000, 1)
    out["one_entry_feed_ms"] = round(statistics.median(one_times) * 1000, 1)
    out["one_new_in_100_ratio"] = round(
        statistics.median(big_times) / statistics.median(one_times), 2
    )
    out["one_new_in_100_extracted"] = max(extracted)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
