"""The interface's languages: which one a reader gets, and the catalogues behind it.

Listings stay in their own language; this only chooses the language of the pages, forms
and emails around them.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_babel import Babel

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}
"""Each interface language by its code, named in itself (as a switcher shows it)."""

DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "hl"
"""The cookie (and query parameter) that keeps a reader's chosen interface language.

Not `lang`: that is the list's filter on the listings' own language.
"""

babel = Babel()


def supported_language(code: str | None) -> str | None:
    """`code` if it names an interface language (`es`, `es-PE`, `ES`…) as its base code."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def select_language() -> str:
    """The language for this request: set for the work in hand, else chosen, else the browser's."""
    chosen = getattr(g, "language", None) if has_request_context() else None
    if chosen:
        return chosen
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return (
        supported_language(request.args.get(LANGUAGE_COOKIE))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or request.accept_languages.best_match(list(LANGUAGES))
        or DEFAULT_LANGUAGE
    )


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the catalogues in `directory/translations/`."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.globals["interface_languages"] = LANGUAGES
