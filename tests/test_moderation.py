"""Moderation steps on the database: duplicates, approval, rejection, corrections, feeds."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from directory.extensions import db
from directory.listings import DeadlineInput, ListingInput
from directory.models import Opportunity, OutboxMessage, Source, Submission
from directory.moderation import (
    Correction,
    SourceRefused,
    add_proposed_source,
    approve,
    confirm,
    correct,
    deadline_inputs,
    duplicate_reason,
    find_duplicates,
    normalise_name,
    purge_unconfirmed,
    reject,
    submit,
    titles_look_alike,
)
from feeds.ingest import apply_entry
from feeds.types import Entry, Extraction, FoundDeadline, Funding

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def listing(**fields) -> ListingInput:
    values = {
        "title": "Regional summit on legal empowerment",
        "kind": "event",
        "description": "Three days.\n\nDetails at https://example.org/summit",
        "link": "https://example.org/summit?utm_source=newsletter",
        "countries": ("KE", "UG"),
        "place": "Nairobi",
        "event_start_on": date(2027, 6, 10),
        "event_end_on": date(2027, 6, 12),
        "deadlines": (
            DeadlineInput("application", date(2027, 4, 15), time(17), "Africa/Nairobi"),
            DeadlineInput("travel_support", date(2027, 4, 1)),
        ),
        "funding": Funding(travel=True, accommodation=True, amount=None),
        "eligibility": "Community paralegals",
        "languages": "English, Swahili",
        **fields,
    }
    return ListingInput(**values)


@pytest.mark.parametrize(
    ("first", "second", "alike"),
    [
        ("Regional summit on legal empowerment", "Regional Summit on Legal Empowerment!", True),
        ("Regional summit on legal empowerment", "Regional summit on legal empowermnet", True),
        (
            "Cumbre regional de empoderamiento jurídico",
            "Cumbre Regional de Empoderamiento Juridico",
            True,
        ),
        ("The Human Rights Fellowship", "Human rights fellowship", True),
        ("Regional summit on legal empowerment", "Fellowship for community paralegals", False),
        ("Summit 2027", "Workshop 2027", False),
        ("", "", False),
    ],
)
def test_titles_look_alike(first, second, alike):
    assert titles_look_alike(first, second) is alike


@pytest.mark.parametrize(
    ("new", "listed", "reason"),
    [
        (
            ("Summit", "https://example.org/call?utm_source=x", "Red Legal"),
            ("Another title", "https://EXAMPLE.org/call#apply", "Someone else"),
            "same link",
        ),
        (
            ("Regional summit on legal empowerment", "https://a.example.org/1", "Red Legal"),
            ("Regional Summit on Legal Empowerment", "https://b.example.org/2", "red legal."),
            "similar title from the same organiser",
        ),
        (
            ("Regional summit on legal empowerment", "https://a.example.org/1", "Red Legal"),
            ("Regional summit on legal empowerment", "https://b.example.org/2", "Other Org"),
            None,
        ),
        (
            ("Regional summit", "https://a.example.org/1", None),
            ("Regional summit", "https://b.example.org/2", None),
            None,
        ),
        (("Summit", None, "Org"), ("Other", None, "Org"), None),
    ],
)
def test_duplicate_reason(new, listed, reason):
    title, link, organiser = new
    listed_title, listed_link, listed_organiser = listed
    assert (
        duplicate_reason(
            title=title,
            link=link,
            organiser=organiser,
            listed_title=listed_title,
            listed_link=listed_link,
            listed_organiser=listed_organiser,
        )
        == reason
    )


def test_normalise_name_drops_accents_case_punctuation_and_articles():
    assert normalise_name("  The  Centro de Derechos, A.C. ") == "centro de derechos a c"
    assert normalise_name("La Défense") == "defense"


def test_find_duplicates_by_link_and_by_organiser(app, create_opportunity):
    same_link = create_opportunity("Totally different", link="https://example.org/summit")
    same_org = create_opportunity("Regional Summit on Legal Empowerment", organiser="Red Legal")
    create_opportunity("Unrelated grant", organiser="Red Legal")
    create_opportunity("Regional summit on legal empowerment", organiser="Someone else")
    found = find_duplicates(
        db.session,
        title="Regional summit on legal empowerment",
        link="https://example.org/summit?utm_campaign=x",
        organiser="Red Legal",
    )
    assert {(d.opportunity.id, d.reason) for d in found} == {
        (same_link.id, "same link"),
        (same_org.id, "similar title from the same organiser"),
    }


def test_find_duplicates_counts_a_partner_source_as_the_organiser(app, create_opportunity):
    partner = Source(name="Red Legal", kind="partner")
    listed = create_opportunity("Regional summit on legal empowerment", source=partner)
    found = find_duplicates(
        db.session, title="Regional Summit on Legal Empowerment", link=None, organiser="red legal"
    )
    assert [d.opportunity.id for d in found] == [listed.id]


def stored_submission(app, **fields) -> Submission:
    submission, _ = submit(
        db.session,
        organisation="Red Legal",
        contact_name="Ana",
        contact_email="ana@example.org",
        listing=listing(**fields),
        now=NOW,
        confirm_url=lambda s: f"https://openings.example.org/confirm/{s.id}",
    )
    db.session.commit()
    return submission


def test_submit_stores_it_unconfirmed_and_queues_the_confirmation(app):
    submission = stored_submission(app, feed_url="https://example.org/feed.xml")
    assert submission.status == "unconfirmed"
    assert submission.proposed_feed_status == "proposed"
    message = db.session.scalar(db.select(OutboxMessage))
    assert message.category == "submission-confirm"
    assert message.to_address == "ana@example.org"
    assert f"https://openings.example.org/confirm/{submission.id}" in message.message


def test_confirm_tells_every_active_moderator_once(app, create_moderator):
    create_moderator("one@example.org")
    create_moderator("two@example.org")
    submission = stored_submission(app)
    messages = confirm(db.session, submission, NOW)
    db.session.commit()
    assert sorted(m.to_address for m in messages) == ["one@example.org", "two@example.org"]
    assert submission.status == "pending" and submission.confirmed_at == NOW
    assert confirm(db.session, submission, NOW) == []


def test_approve_publishes_under_the_partner_source(app):
    submission = stored_submission(app)
    confirm(db.session, submission, NOW)
    opportunity, message = approve(
        db.session, submission, moderator=None, now=NOW, listing=listing()
    )
    db.session.commit()
    assert opportunity.status == "published" and opportunity.published_at == NOW
    assert opportunity.link == "https://example.org/summit"
    assert opportunity.organiser == "Red Legal"
    assert opportunity.country_codes == ["KE", "UG"]
    assert opportunity.eligibility == "Community paralegals"
    assert opportunity.funding_offered == ["travel", "accommodation"]
    assert [(d.kind, d.origin) for d in opportunity.deadlines] == [
        ("travel_support", "partner"),
        ("application", "partner"),
    ]
    assert opportunity.deadlines[1].due_at == datetime(2027, 4, 15, 14, 0, tzinfo=UTC)
    [entry] = opportunity.entries
    assert (entry.source.kind, entry.source.name) == ("partner", "Red Legal")
    assert submission.status == "approved" and submission.opportunity_id == opportunity.id
    assert message.category == "submission-approved"
    assert f"http://openings.example.org/opportunities/{opportunity.id}" in message.message


def test_a_second_approval_reuses_the_partner_source(app):
    first, second = stored_submission(app), stored_submission(app, title="Another call")
    for submission in (first, second):
        approve(db.session, submission, moderator=None, now=NOW, listing=listing())
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(Source)) == 1


def test_deadlines_a_moderator_changed_are_marked_as_the_moderators(app):
    submission = stored_submission(app)
    edited = listing(
        deadlines=(
            DeadlineInput("application", date(2027, 4, 15), time(17), "Africa/Nairobi"),
            DeadlineInput("travel_support", date(2027, 4, 5)),
        )
    )
    opportunity, _ = approve(
        db.session, submission, moderator=None, now=NOW, listing=edited, partner_listing=listing()
    )
    assert {d.kind: d.origin for d in opportunity.deadlines} == {
        "application": "partner",
        "travel_support": "moderator",
    }


def test_reject_keeps_the_reason_and_emails_it(app):
    submission = stored_submission(app)
    message = reject(
        db.session, submission, moderator=None, reason="The link is broken.\n\nFix it.", now=NOW
    )
    db.session.commit()
    assert submission.status == "rejected"
    assert submission.rejection_reason == "The link is broken.\n\nFix it."
    assert message.category == "submission-rejected"
    assert "The link is broken." in message.message


def test_correct_keeps_unchanged_rows_and_marks_the_rest(app, create_opportunity):
    opportunity = create_opportunity(
        deadlines=[("application", date(2027, 4, 1)), ("registration", date(2027, 5, 1))],
        countries=("KE",),
        kind="other",
    )
    kept_id = opportunity.deadlines[0].id
    rows = deadline_inputs(opportunity)
    correction = Correction(
        kind="event",
        countries=("UG", "KE"),
        is_online=True,
        place="Kampala",
        deadlines=(
            rows[0],
            (None, DeadlineInput("travel_support", date(2027, 3, 20), time(12), "AoE")),
        ),
    )
    correct(opportunity, correction, NOW)
    db.session.commit()
    db.session.refresh(opportunity)
    assert opportunity.is_corrected
    assert (opportunity.kind, opportunity.place, opportunity.is_online) == (
        "event",
        "Kampala",
        True,
    )
    assert opportunity.country_codes == ["UG", "KE"]
    assert [(d.kind, d.origin) for d in opportunity.deadlines] == [
        ("travel_support", "moderator"),
        ("application", "extracted"),
    ]
    assert kept_id in {d.id for d in opportunity.deadlines}


def test_a_correction_survives_the_next_fetch(app, create_opportunity):
    opportunity = create_opportunity(deadlines=[("application", date(2027, 4, 1))], kind="other")
    row_id = opportunity.deadlines[0].id
    correct(
        opportunity,
        Correction(
            kind="fellowship",
            countries=("PE",),
            is_online=False,
            place="Lima",
            deadlines=((row_id, DeadlineInput("application", date(2027, 4, 8))),),
        ),
        NOW,
    )
    db.session.commit()
    source = opportunity.entries[0].source
    entry = Entry(
        key="k",
        title="Refetched title",
        link="https://example.org/x",
        summary_html="",
        summary_text="",
        published_at=None,
    )
    extraction = Extraction(
        deadlines=(FoundDeadline("application", date(2027, 4, 1)),), kind="event", countries=("KE",)
    )
    apply_entry(opportunity, entry, extraction, source=source)
    db.session.commit()
    db.session.refresh(opportunity)
    assert opportunity.title == "Refetched title"
    assert (opportunity.kind, opportunity.country_codes) == ("fellowship", ["PE"])
    assert [(d.due_on, d.origin) for d in opportunity.deadlines] == [
        (date(2027, 4, 8), "moderator")
    ]


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


def metadata_service(host: str, port: int) -> list[str]:
    return ["169.254.169.254"]


def test_a_proposed_feed_is_added_as_feeds_add_would(app):
    submission = stored_submission(app, feed_url="https://example.org/feed.xml?utm_source=x")
    source = add_proposed_source(db.session, submission, interval_minutes=30, resolver=public)
    db.session.commit()
    assert (source.kind, source.url, source.name, source.fetch_every_minutes) == (
        "feed",
        "https://example.org/feed.xml",
        "Red Legal",
        30,
    )
    assert source.status == "active"
    assert submission.proposed_feed_status == "added"


def test_a_feed_on_a_refused_address_adds_nothing(app):
    submission = stored_submission(app, feed_url="http://metadata.example.org/latest")
    with pytest.raises(SourceRefused, match=r"169\.254\.169\.254"):
        add_proposed_source(db.session, submission, interval_minutes=60, resolver=metadata_service)
    db.session.rollback()
    assert db.session.scalar(db.select(Source)) is None
    assert db.session.get(Submission, submission.id).proposed_feed_status == "proposed"


def test_a_feed_already_a_source_is_not_added_twice(app):
    db.session.add(Source(name="Old", url="https://example.org/feed.xml", kind="feed"))
    submission = stored_submission(app, feed_url="https://example.org/feed.xml")
    source = add_proposed_source(
        db.session, submission, interval_minutes=60, resolver=metadata_service
    )
    db.session.commit()
    assert source.name == "Old"
    assert db.session.scalar(db.select(db.func.count()).select_from(Source)) == 1


def test_purge_deletes_old_unconfirmed_submissions_only(app):
    old = stored_submission(app)
    old.submitted_at = NOW - timedelta(days=8)
    confirmed = stored_submission(app)
    confirmed.submitted_at = NOW - timedelta(days=8)
    confirm(db.session, confirmed, NOW)
    fresh = stored_submission(app)
    db.session.commit()
    assert purge_unconfirmed(db.session, NOW, 7) == 1
    db.session.commit()
    remaining = set(db.session.scalars(db.select(Submission.id)))
    assert remaining == {confirmed.id, fresh.id}


def test_hidden_opportunities_are_not_public(client, create_opportunity):
    opportunity = create_opportunity(deadlines=[("application", date(2030, 1, 1))])
    opportunity.status = "hidden"
    db.session.commit()
    assert client.get(f"/opportunities/{opportunity.id}").status_code == 404
    assert db.session.get(Opportunity, opportunity.id) is not None
