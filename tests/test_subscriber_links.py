"""The signed links every email carries: manage and one-click unsubscribe (RFC 8058)."""

from directory.extensions import db
from directory.models import Subscriber
from directory.subscriptions import manage_url, unsubscribe_url


def _subscriber(app) -> Subscriber:
    with app.app_context():
        subscriber = Subscriber(email="ana@example.org", status="active")
        db.session.add(subscriber)
        db.session.commit()
        db.session.refresh(subscriber)
        db.session.expunge(subscriber)
        return subscriber


def test_one_click_post_unsubscribes_without_a_session_or_csrf_token(app, client):
    subscriber = _subscriber(app)
    with app.app_context():
        url = unsubscribe_url(subscriber)
    path = url.split("://", 1)[1].split("/", 1)[1]

    response = client.post("/" + path, data={"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Subscriber, subscriber.id).status == "unsubscribed"


def test_get_asks_before_unsubscribing(app, client):
    subscriber = _subscriber(app)
    with app.app_context():
        path = "/" + unsubscribe_url(subscriber).split("://", 1)[1].split("/", 1)[1]

    assert client.get(path).status_code == 200
    with app.app_context():
        assert db.session.get(Subscriber, subscriber.id).status == "active"


def test_a_manage_link_is_not_an_unsubscribe_link(app, client):
    subscriber = _subscriber(app)
    with app.app_context():
        manage_token = manage_url(subscriber).rsplit("/", 1)[1]

    assert client.post(f"/alerts/unsubscribe/{manage_token}").status_code == 404
    assert client.post("/alerts/unsubscribe/forged").status_code == 404
    with app.app_context():
        assert db.session.get(Subscriber, subscriber.id).status == "active"
