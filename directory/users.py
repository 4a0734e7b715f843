"""Moderator accounts: creating them, checking passwords, and Flask-Login's session glue.

Passwords are stored as werkzeug hashes (scrypt), never as typed. Signing in costs one hash
check whether or not the address is known, so response times do not tell who has an account.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from email_validator import EmailNotValidError, validate_email
from flask import Flask
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db, login_manager
from .i18n import N_
from .models import User

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """An account cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    """The address as stored: validated, the domain lower-cased; AccountError when invalid."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise AccountError(f"{email!r} is not an email address: {error}") from None


def create_moderator(session: Session, email: str, password: str, now: datetime) -> User:
    """Add a moderator with a hashed password (the caller commits)."""
    address = normalise_email(email)
    if find_user(session, address) is not None:
        raise AccountError(f"a moderator with the address {address} already exists")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = User(
        email=address,
        password_hash=generate_password_hash(password),
        is_active=True,
        created_at=now,
    )
    session.add(user)
    return user


def find_user(session: Session, email: str) -> User | None:
    """The account with this address, whatever its case."""
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def authenticate(session: Session, email: str, password: str, now: datetime) -> User | None:
    """The active moderator whose address and password these are, or None; records the sign-in."""
    user = find_user(session, email)
    if not check_password_hash(user.password_hash if user else _unknown_user_hash(), password):
        return None
    if user is None or not user.is_active:
        return None
    user.last_login_at = now
    return user


@cache
def _unknown_user_hash() -> str:
    """Checked when the address is unknown, so that case takes as long as a wrong password."""
    return generate_password_hash("no account has this password")


def init_app(app: Flask) -> None:
    """Bind Flask-Login: sessions of deactivated accounts end at their next request."""
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = N_("Sign in to moderate.")
    login_manager.localize_callback = gettext
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None
