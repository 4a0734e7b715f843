"""Email through a real SMTP conversation: the outbox, retries, refusals, a dead relay."""

from datetime import timedelta

import pytest
from conftest import free_port

from directory.extensions import db
from directory.mail import build_message, deliver_now, queue_email, send_outbox
from directory.models import OutboxMessage, utcnow


def notice(to: str = "partner@example.org", **context) -> OutboxMessage:
    return queue_email(
        to=to,
        subject="Your listing is live",
        template="notice",
        category="test-notice",
        context={
            "heading": "Published",
            "paragraphs": ["It is on the site now."],
            "link": "https://example.org/x",
            **context,
        },
    )


def test_a_queued_email_is_sent_after_commit_as_text_and_html(app, smtp_server):
    queued = [notice(), notice("second@example.org")]
    db.session.commit()
    deliver_now(queued)
    received = smtp_server.wait_for(2)
    message = received[0].message
    assert received[0].recipients == ["partner@example.org"]
    assert message["Subject"] == "Your listing is live"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@openings.example.org>")
    assert message["Date"]
    assert message.get_body(("plain",)).get_content().startswith("Published")
    assert '<a href="https://example.org/x"' in message.get_body(("html",)).get_content()
    assert {m.status for m in db.session.scalars(db.select(OutboxMessage))} == {"sent"}


def test_nothing_is_sent_for_a_rolled_back_change(app, smtp_server):
    notice()
    db.session.rollback()
    assert send_outbox(utcnow()).sent == 0
    assert smtp_server.messages == []


def test_context_is_escaped_in_html(app, smtp_server):
    queued = notice(heading="<script>alert(1)</script>")
    db.session.commit()
    deliver_now([queued])
    html = smtp_server.wait_for(1)[0].message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    "bad", ["victim@example.org\r\nBcc: everyone@example.org", "a@example.org\nSubject: x"]
)
def test_header_injection_is_refused(app, bad):
    with pytest.raises(ValueError):
        build_message(to=bad, subject="Hello", text="x", html="<p>x</p>")


def test_a_temporary_refusal_is_retried_later(app, smtp_server):
    smtp_server.data_replies.append("421 4.3.2 Try again later")
    queued = notice()
    db.session.commit()
    now = utcnow()
    assert send_outbox(now).retrying == 1
    db.session.refresh(queued)
    assert queued.status == "queued" and queued.last_error.startswith("421")
    assert send_outbox(now).sent == 0  # not due yet
    assert send_outbox(now + timedelta(minutes=2)).sent == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_a_permanent_refusal_fails_that_email_only(app, smtp_server):
    smtp_server.rcpt_replies["gone@example.org"] = "550 5.1.1 No such user"
    bad, good = notice("gone@example.org"), notice("fine@example.org")
    db.session.commit()
    report = send_outbox(utcnow())
    assert (report.sent, report.failed) == (1, 1)
    db.session.refresh(bad)
    assert bad.status == "failed" and "550" in bad.last_error
    assert smtp_server.wait_for(1)[0].recipients == ["fine@example.org"]
    db.session.refresh(good)
    assert good.status == "sent"


def test_a_dead_relay_keeps_everything_queued_and_logs_one_line(app_config, instance_dir, caplog):
    from directory import create_app

    app_config["MAIL_PORT"] = free_port()
    app = create_app(app_config, instance_path=str(instance_dir))
    with app.app_context():
        queued = notice()
        db.session.commit()
        deliver_now([queued])
        db.session.refresh(queued)
        assert queued.status == "queued"
        assert "cannot reach the mail relay" in queued.last_error
        assert queued.next_attempt_at > utcnow()
        assert any("cannot reach the mail relay" in r.getMessage() for r in caplog.records)
        db.session.remove()
        db.engine.dispose()


def test_an_abandoned_claim_is_offered_again(app, smtp_server):
    queued = notice()
    db.session.commit()
    past = utcnow() - timedelta(hours=1)
    queued.status, queued.claimed_at = "sending", past
    db.session.commit()
    assert send_outbox(utcnow()).sent == 1
    smtp_server.wait_for(1)
