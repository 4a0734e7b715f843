"""Storing entries: new, changed and unchanged entries; what a moderator corrected survives."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from directory.extensions import db
from directory.models import Deadline, Opportunity, Source, SourceEntry
from feeds.ingest import Action, Candidate, plan_entries, same_opportunity, store_entries
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


# --- one opportunity reached through two sources ----------------------------------------------

DAY = timedelta(days=1)
PUBLISHED = datetime(2026, 2, 1, tzinfo=UTC)
TITLE = "Regional convening on legal empowerment 2026"


def candidate(opportunity_id=7, *, sources=(2,), **fields) -> Candidate:
    values = {
        "link": "https://example.org/calls/convening",
        "title": TITLE,
        "organiser": "Namati",
        "published_at": PUBLISHED,
        **fields,
    }
    return Candidate(opportunity_id, source_ids=frozenset(sources), **values)


def listing(**fields) -> Entry:
    values = {
        "key": "x",
        "title": TITLE,
        "link": "https://example.org/calls/convening",
        "summary_html": "",
        "summary_text": "",
        "published_at": PUBLISHED,
        **fields,
    }
    return Entry(**values)


@pytest.mark.parametrize(
    ("new", "organiser", "candidates", "repeated", "match"),
    [
        pytest.param(listing(), "Namati", [candidate()], (), 7, id="same link"),
        pytest.param(
            listing(title="Something else entirely"),
            "Other",
            [candidate()],
            (),
            7,
            id="same link, other title and organiser",
        ),
        pytest.param(
            listing(),
            "Namati",
            [candidate(sources=(1,))],
            (),
            None,
            id="never merged with an entry of its own source",
        ),
        pytest.param(
            listing(),
            "Namati",
            [candidate(7), candidate(8)],
            (),
            None,
            id="a link two stored opportunities share identifies nothing",
        ),
        pytest.param(
            listing(link="https://example.org/calls/convening"),
            "Other",
            [candidate()],
            ({"https://example.org/calls/convening"}, ()),
            None,
            id="a link repeated within the new feed identifies nothing",
        ),
        pytest.param(
            listing(link="https://example.org/"),
            "Other",
            [candidate(link="https://example.org/")],
            (),
            None,
            id="a home page identifies nothing",
        ),
        pytest.param(
            listing(link=None),
            "Namati",
            [candidate(link=None)],
            (),
            7,
            id="same title, organiser and date",
        ),
        pytest.param(
            listing(
                link="https://other.example/a",
                title="Regional Convening on Legal Empowerment — 2026!",
            ),
            "  NAMATI ",
            [candidate()],
            (),
            7,
            id="title differing in case, accents and punctuation",
        ),
        pytest.param(
            listing(link=None, title="Regional convening on legal empowerments 2026"),
            "Namati",
            [candidate()],
            (),
            7,
            id="near-identical title",
        ),
        pytest.param(
            listing(link=None, title="Regional convening on legal empowerment 2027"),
            "Namati",
            [candidate()],
            (),
            None,
            id="another year is another opportunity",
        ),
        pytest.param(
            listing(link=None),
            "Somebody else",
            [candidate()],
            (),
            None,
            id="same title from another organiser",
        ),
        pytest.param(
            listing(link=None, published_at=PUBLISHED + 3 * DAY),
            "Namati",
            [candidate()],
            (),
            7,
            id="published three days apart",
        ),
        pytest.param(
            listing(link=None, published_at=PUBLISHED + 4 * DAY),
            "Namati",
            [candidate()],
            (),
            None,
            id="published four days apart",
        ),
        pytest.param(
            listing(link=None, published_at=None),
            "Namati",
            [candidate()],
            (),
            None,
            id="no date, no title merge",
        ),
        pytest.param(
            listing(link=None, title="Jobs"),
            "Namati",
            [candidate(title="Jobs")],
            (),
            None,
            id="a short title says too little",
        ),
        pytest.param(
            listing(link=None),
            "Namati",
            [candidate(7), candidate(8, link=None)],
            (),
            None,
            id="a title two stored opportunities share identifies nothing",
        ),
        pytest.param(
            listing(link=None),
            "Namati",
            [candidate()],
            ((), {"regional convening on legal empowerment 2026"}),
            None,
            id="a title repeated within the new feed identifies nothing",
        ),
        pytest.param(listing(), "Namati", [], (), None, id="nothing stored"),
    ],
)
def test_same_opportunity(new, organiser, candidates, repeated, match):
    links, titles = repeated or ((), ())
    assert (
        same_opportunity(
            new,
            organiser,
            candidates,
            source_id=1,
            repeated_links=links,
            repeated_titles=titles,
        )
        == match
    )


@pytest.fixture
def other_source(app) -> Source:
    source = Source(name="Regional aggregator", url="https://aggregator.example.org/feed.xml")
    db.session.add(source)
    db.session.commit()
    return source


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_the_same_link_from_two_sources_is_one_opportunity_with_two_sources(source, other_source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=CountingExtractor())
    db.session.commit()
    report = store_entries(
        db.session,
        other_source,
        [entry("their-id", title="Another title", link="https://example.org/a"), entry("z")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    assert (report.new, report.merged) == (1, 1)
    assert count(Opportunity) == 2
    merged = db.session.scalar(
        db.select(Opportunity).where(Opportunity.link == "https://example.org/a")
    )
    assert sorted(e.source.name for e in merged.entries) == ["Justice feed", "Regional aggregator"]
    assert merged.title == "Entry a"  # the first listing keeps its text
    assert len(merged.deadlines) == 1


def test_a_later_listing_fills_only_what_the_first_left_empty(source, other_source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=lambda *a, **k: Extraction())
    db.session.commit()
    store_entries(
        db.session,
        other_source,
        [entry("b", title="Their title", link="https://example.org/a")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    opportunity = db.session.scalar(db.select(Opportunity))
    assert opportunity.title == "Entry a"
    assert opportunity.kind == "fellowship"
    assert [d.due_on for d in opportunity.deadlines] == [date(2026, 4, 15)]


def test_a_changed_second_listing_does_not_overwrite_the_first(source, other_source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=CountingExtractor())
    store_entries(
        db.session,
        other_source,
        [entry("b", link="https://example.org/a")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    report = store_entries(
        db.session,
        other_source,
        [entry("b", "Changed text", title="Changed title", link="https://example.org/a")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    assert report.changed == 1
    assert db.session.scalar(db.select(Opportunity.title)) == "Entry a"
    report = store_entries(
        db.session,
        source,
        [entry("a", "New text", title="New title")],
        NOW,
        extractor=CountingExtractor(),
    )
    db.session.commit()
    assert db.session.scalar(db.select(Opportunity.title)) == "New title"


def test_long_fields_are_cut_to_fit_their_columns(source):
    store_entries(
        db.session,
        source,
        [entry("a", author="A" * 400, language="x" * 40)],
        NOW,
        extractor=lambda *a, language=None, **k: Extraction(language=language),
    )
    db.session.commit()
    opportunity = db.session.scalar(db.select(Opportunity))
    assert len(opportunity.organiser) == 300
    assert len(opportunity.language) == 10


def test_unchanged_entries_are_not_rewritten_on_every_poll(source):
    store_entries(db.session, source, [entry("a")], NOW, extractor=CountingExtractor())
    db.session.commit()
    for hours, seen in [(1, NOW), (23, NOW), (25, NOW + timedelta(hours=25))]:
        store_entries(
            db.session,
            source,
            [entry("a")],
            NOW + timedelta(hours=hours),
            extractor=CountingExtractor(),
        )
        db.session.commit()
        assert db.session.scalar(db.select(SourceEntry.last_seen_at)) == seen
