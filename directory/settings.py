"""Checks and derived values applied to the loaded configuration, before anything is bound."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

ENVIRONMENTS = ("production", "development")
WEAK_SECRET_KEYS = {"dev", "development", "secret", "changeme", "change-me", "test", "key"}
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


def finish_config(app: Flask) -> None:
    """Fill derived defaults (database path, secret key in development) and refuse unsafe ones."""
    config = app.config
    if config["ENVIRONMENT"] not in ENVIRONMENTS:
        raise ConfigError(
            f"ENVIRONMENT is {config['ENVIRONMENT']!r}; it must be one of {', '.join(ENVIRONMENTS)}."
        )
    instance = Path(app.instance_path)
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'openings.sqlite3'}"
    if not config.get("MAIL_CATCHER_DIR"):
        config["MAIL_CATCHER_DIR"] = str(instance / "mail")
    config["SECRET_KEY"] = _secret_key(app)
    if config["ENVIRONMENT"] == "production" and not app.testing:
        config["SESSION_COOKIE_SECURE"] = True
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        engine_options.setdefault("pool_pre_ping", True)
        engine_options.setdefault("connect_args", {"connect_timeout": 5})
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options


def _secret_key(app: Flask) -> str:
    key = app.config.get("SECRET_KEY")
    if app.testing or app.config["ENVIRONMENT"] == "development":
        return key or _development_secret_key(Path(app.instance_path))
    if not key:
        raise ConfigError(
            "SECRET_KEY is not set. In production set FLASK_SECRET_KEY to at least "
            f"{MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    if len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in WEAK_SECRET_KEYS:
        raise ConfigError(
            f"SECRET_KEY is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} random "
            "characters (`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        )
    return key


def _development_secret_key(instance: Path) -> str:
    """A random key kept in `instance/secret_key`, so sessions survive a restart in development."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    draft = instance / f".secret_key.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(draft, path)  # atomic: a second process starting at once reads the first's key
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        draft.unlink()
    return key
