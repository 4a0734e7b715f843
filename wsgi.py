"""The app for gunicorn (`gunicorn wsgi:app`) and for `flask --app wsgi …` commands."""

import sys

from directory import ConfigError, create_app

try:
    app = create_app()
except ConfigError as error:
    sys.exit(f"openings: configuration error: {error}")
