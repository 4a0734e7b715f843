"""Signed links: round trip, purpose binding, tampering, expiry."""

import pytest
import time_machine

from directory.tokens import ExpiredToken, InvalidToken, make_token, read_token


def test_round_trip(app):
    token = make_token("confirm", {"subscriber": 7})
    assert read_token("confirm", token, max_age_seconds=60) == {"subscriber": 7}


def test_a_token_for_one_purpose_is_refused_for_another(app):
    with pytest.raises(InvalidToken):
        read_token("unsubscribe", make_token("confirm", 7))


@pytest.mark.parametrize("token", ["", "garbage", "eyJ0ZXN0Ijo.bad.sig"])
def test_garbage_is_refused(app, token):
    with pytest.raises(InvalidToken):
        read_token("confirm", token)


def test_tampering_is_refused(app):
    token = make_token("confirm", 7)
    with pytest.raises(InvalidToken):
        read_token("confirm", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def test_expiry(app):
    with time_machine.travel("2026-03-01 12:00Z", tick=False):
        token = make_token("confirm", 7)
    with time_machine.travel("2026-03-08 12:01Z", tick=False), pytest.raises(ExpiredToken):
        read_token("confirm", token, max_age_seconds=7 * 86400)
