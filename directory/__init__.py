"""Openings, the web application: `create_app` builds it; the rules live in plain modules."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    database,  # noqa: F401  (registers the SQLite pragmas on every engine)
    i18n,
)
from .config import DEFAULTS
from .extensions import csrf, db, limiter, migrate
from .extensions import mail as mail_extension
from .settings import ConfigError, finish_config

ROOT = Path(__file__).resolve().parent.parent
"""The project's folder: `templates/` and `instance/` live beside the package."""

__all__ = ["ROOT", "ConfigError", "create_app"]


def create_app(
    config: Mapping[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Build the app: defaults, then `instance/config.py`, then `FLASK_*` variables, then `config`.

    `instance_path` (else the `FLASK_INSTANCE_PATH` variable, else `instance/` beside the
    package) holds the per-deployment config, the SQLite file, the development secret key and
    caught mail.
    """
    app = Flask(
        __name__,
        instance_path=instance_path
        or os.environ.get("FLASK_INSTANCE_PATH")
        or str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if config:
        app.config.from_mapping(config)
    finish_config(app)
    _configure_logging(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    mail_extension.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    proxies = int(app.config["PROXY_COUNT"])
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    from . import (
        admin,
        alerts,
        api,
        browse,
        cli,
        errors,
        health,
        mail,
        polling,
        submissions,
        subscriptions,
        users,
        web,
    )

    web.init_app(app)
    errors.init_app(app)
    users.init_app(app)
    app.register_blueprint(browse.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(submissions.bp)
    app.register_blueprint(subscriptions.bp)
    app.register_blueprint(admin.bp)
    cli.init_app(app)
    mail.init_app(app)
    polling.init_app(app)
    alerts.init_app(app)
    submissions.init_app(app)
    return app


def _configure_logging(app: Flask) -> None:
    """One line per event on stderr, at the configured level, for the app and `feeds`."""
    level = str(app.config["LOG_LEVEL"]).upper()
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in (app.name, "feeds", "openings"):
        logging.getLogger(name).setLevel(level)
