"""What the interface languages cost: the list and detail pages rendered in en, es, fr and pt.

Seeds a few hundred opportunities into a temporary SQLite database, then renders each page
(template, translations, Babel's dates, amounts and country names; the page cache is left
out) over and over in each language, interleaved, and prints a Markdown table of renders per
second and the ratio to English measured in the same run. Nothing is served over the network.

    .venv/bin/python bench/languages.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from directory import browse, create_app  # noqa: E402
from directory.extensions import db  # noqa: E402
from directory.models import (  # noqa: E402
    Deadline,
    Opportunity,
    OpportunityCountry,
    Source,
    SourceEntry,
    utcnow,
)
from feeds.closing import closing_instant  # noqa: E402

LANGUAGES = ("en", "es", "fr", "pt")
COUNTRIES = ("KE", "PE", "GT", "SL", "PK", "CO", "BR", "SN", "MZ", "IN")


def seed(count: int) -> int:
    """`count` published opportunities with two deadlines each; returns the id of the first."""
    source = Source(name="Bench feed", url="https://example.org/feed.xml", kind="feed")
    db.session.add(source)
    today = utcnow().date()
    first = None
    for i in range(count):
        due = today + timedelta(days=1 + i % 90)
        opportunity = Opportunity(
            title=f"Fellowship on legal empowerment {i}",
            link=f"https://example.org/{i}",
            kind=("fellowship", "event", "grant", "travel_grant")[i % 4],
            language=("en", "es", "fr", "pt")[i % 4],
            status="published",
            offers_travel=True,
            funding_amount=Decimal(1500 + i),
            funding_currency="USD",
            summary_html="<p>Three days of workshops.</p>",
            first_seen_at=utcnow(),
        )
        opportunity.deadlines = [
            Deadline(
                kind="application",
                due_on=due,
                due_time=clock(17),
                time_zone="Africa/Nairobi",
                due_at=closing_instant(due, clock(17), "Africa/Nairobi"),
                evidence="Deadline stated",
            ),
            Deadline(
                kind="travel_support",
                due_on=due - timedelta(days=1),
                due_at=closing_instant(due - timedelta(days=1), None, None),
                evidence="",
            ),
        ]
        opportunity.countries = [
            OpportunityCountry(country_code=COUNTRIES[(i + k) % len(COUNTRIES)], position=k)
            for k in range(2)
        ]
        db.session.add(opportunity)
        db.session.add(
            SourceEntry(source=source, opportunity=opportunity, entry_key=str(i), link=None)
        )
        if first is None:
            db.session.flush()
            first = opportunity.id
    db.session.commit()
    return first


def rate(app, path: str, render, language: str, seconds: float) -> float:
    """Renders per second of `render` for a request to `path` in `language`."""
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        with app.test_request_context(path, headers={"Cookie": f"hl={language}"}):
            render()
        done += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per page and language")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SECRET_KEY": "bench-secret-key-long-enough-for-signing-things",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite3",
                "ENVIRONMENT": "development",
            },
            instance_path=folder,
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "directory" / "migrations"))
            first = seed(400)
            now = utcnow()
            pages = {
                "list (25 results)": ("/", lambda: browse._render_index(now, UTC)),
                "detail": (
                    f"/opportunities/{first}",
                    lambda: browse._render_detail(db.session.get(Opportunity, first), now, UTC),
                ),
            }
            totals = {(page, lang): 0.0 for page in pages for lang in LANGUAGES}
            for _ in range(args.rounds):
                for page, (path, render) in pages.items():
                    for language in LANGUAGES:
                        totals[page, language] += rate(app, path, render, language, args.seconds)
            print("| page | " + " | ".join(LANGUAGES) + " |")
            print("|---|" + "---:|" * len(LANGUAGES))
            for page in pages:
                english = totals[page, "en"]
                cells = [
                    f"{totals[page, lang] / args.rounds:.0f}/s ({totals[page, lang] / english:.2f}×)"
                    for lang in LANGUAGES
                ]
                print(f"| {page} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
