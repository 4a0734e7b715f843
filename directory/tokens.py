"""Signed, expiring tokens for the links in emails (confirm, manage, unsubscribe).

A token names its purpose, so a "manage" link cannot be replayed as a "confirm" link, and
carries a small JSON payload. No password: holding the link is the proof.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class InvalidToken(ValueError):
    """The token was altered, is for another purpose, or is not a token at all."""


class ExpiredToken(InvalidToken):
    """The token was genuine but is older than its purpose allows."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return _serializer_for(current_app.config["SECRET_KEY"], purpose)


@functools.lru_cache(maxsize=64)
def _serializer_for(secret_key: str, purpose: str) -> URLSafeTimedSerializer:
    """Built once per key and purpose: alerts sign three links in each of thousands of emails."""
    return URLSafeTimedSerializer(secret_key, salt=f"openings.{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    """A URL-safe token for `payload`, valid only for `purpose`."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age_seconds: int | None = None) -> Any:
    """The payload of a token made for `purpose`, or InvalidToken / ExpiredToken."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as error:
        raise ExpiredToken(f"{purpose} link expired") from error
    except BadSignature as error:
        raise InvalidToken(f"not a valid {purpose} link") from error
