"""Storing entries: new, changed and unchanged entries; what a moderator corrected survives."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from directory.extensions import db
from directory.models import Deadline, Opportunity, Source, SourceEntry
from feeds.ingest import Action, plan_entries, store_entries
from feeds.types import Entry, Extraction, FoundDeadline, Funding

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(key: str, text: str = "Deadline: 15 April 2026", **fields) -> Entry:
    return Entry(
        key=key,
        title=fields.pop("title", f"Entry {key}"),
        link=fields.pop("link", f"https://example.org/{key}"),
        summary_html=f"<p>{text}</p>",
        summary_text=text,
        published_at=datetime(2026, 2, 1, tzinfo=UTC),
        content_hash=fields.pop("content_hash", f"hash-{key}-{text}"),
        **fields,
    )


class CountingExtractor:
    """Finds one deadline on 15 April and counts how often it was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, title, text, **context) -> Extraction:
        self.calls.append(title)
        return Extraction(
            deadlines=(
                FoundDeadline(
                    "application", date(2026, 4, 15), evidence=text, confidence="certain"
                ),
            ),
            kind="fellowship",
            countries=("PE", "GT"),
            funding=Funding(travel=True, stipend=True),
            language="en",
        )


@pytest.fixture
def source(app) -> Source:
    source = Source(name="Justice feed", url="https://example.org/feed.xml")
    db.session.add(source)
    db.session.commit()
    return source


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({}, [Action.NEW, Action.NEW]),
        ({"a": "hash-a-Deadline: 15 April 2026"}, [Action.UNCHANGED, Action.NEW]),
        ({"a": "old", "b": "hash-b-Deadline: 15 April 2026"}, [Action.CHANGED, Action.UNCHANGED]),
    ],
)
def test_plan_entries(stored, expected):
    assert [action for action, _ in plan_entries([entry("a"), entry("b")], stored)] == expected


def test_new_entries_are_stored_with_what_was_extracted(source):
    extractor = CountingExtractor()
    report = store_entries(db.session, source, [entry("a"), entry("b")], NOW, extractor=extractor)
    db.session.commit()
    assert (report.new, report.changed, report.unchanged) == (2, 0, 0)
    stored = db.session.scalars(db.select(Opportunity).order_by(Opportunity.id)).all()
    assert [o.title for o in stored] == ["Entry a", "Entry b"]
    first = stored[0]
    assert first.kind == "fellowship"
    assert first.country_codes == ["PE", "GT"]
    assert first.funding_offered == ["travel", "stipend"]
    assert first.deadlines[0].due_on == date(2026, 4, 15)
    assert first.deadlines[0].due_at == datetime(2026, 4, 15, 9, 59, tzinfo=UTC)
    assert first.deadlines[0].origin == "extracted"
    assert first.organiser == "Justice feed"
    assert first.first_seen_at == NOW


def test_unchanged_entries_are_not_extracted_again(source):
    extractor = CountingExtractor()
    store_entries(db.session, source, [entry("a"), entry("b")], NOW, extractor=extractor)
    db.session.commit()
    report = store_entries(
        db.session, source, [entry("a"), entry("b", "Deadline: 20 April")], NOW, extractor=extractor
    )
    db.session.commit()
    assert (report.new, report.changed, report.unchanged) == (0, 1, 1)
    assert extractor.calls == ["Entry a", "Entry b", "Entry b"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == 2


def test_changed_entries_keep_first_seen_and_replace_extracted_deadlines(source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=CountingExtractor())
    db.session.commit()
    later = datetime(2026, 3, 5, tzinfo=UTC)
    store_entries(
        db.session,
        source,
        [entry("a", "Now closes later", title="Renamed")],
        later,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    opportunity = db.session.scalar(db.select(Opportunity))
    assert opportunity.title == "Renamed"
    assert opportunity.first_seen_at == NOW
    assert db.session.scalar(db.select(db.func.count()).select_from(Deadline)) == 1
    assert db.session.scalar(db.select(SourceEntry.last_seen_at)) == later


def test_a_moderators_corrections_survive_refetching(source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=CountingExtractor())
    db.session.commit()
    opportunity = db.session.scalar(db.select(Opportunity))
    opportunity.is_corrected = True
    opportunity.kind = "event"
    opportunity.deadlines = [
        Deadline(
            kind="registration",
            due_on=date(2026, 5, 1),
            due_at=datetime(2026, 5, 1, 9, 59, tzinfo=UTC),
            evidence="",
            origin="moderator",
        )
    ]
    db.session.commit()
    store_entries(
        db.session,
        source,
        [replace(entry("a"), content_hash="changed")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    db.session.expire_all()
    opportunity = db.session.scalar(db.select(Opportunity))
    assert opportunity.kind == "event"
    assert [(d.kind, d.origin) for d in opportunity.deadlines] == [("registration", "moderator")]
