"""The interface's languages: which one a reader gets, the switcher's links, and the catalogues.

Listings stay in their own language; this only chooses the language of the pages, forms
and emails around them. A reader's language comes from, in order: `?hl=` in the address
(which is then kept in the `hl` cookie), that cookie, the language a page prefers (a
subscriber's own pages: the language of their emails), the browser's Accept-Language, English.
"""

from __future__ import annotations

from urllib.parse import urlencode

from babel import Locale
from flask import Flask, Response, current_app, g, has_request_context, request, url_for
from flask_babel import Babel, get_locale, refresh

LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français", "pt": "Português"}
"""Each interface language by its code, named in itself (as a switcher shows it)."""

DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "hl"
"""The cookie (and query parameter) that keeps a reader's chosen interface language.

Not `lang`: that is the list's filter on the listings' own language.
"""
LANGUAGE_COOKIE_MAX_AGE = 400 * 24 * 3600

FORMAT_LOCALES: dict[str, str] = {"en": "en_GB"}
"""The locale whose conventions dates and numbers follow, where it is not the language itself:
English pages write "15 April 2027", as the network's English-speaking members do."""

babel = Babel()


def N_(message: str) -> str:
    """Mark `message` for the catalogue where it is translated later (by `gettext(message)`)."""
    return message


def supported_language(code: str | None) -> str | None:
    """`code` if it names an interface language (`es`, `es-PE`, `ES`…) as its base code."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def select_language() -> str:
    """The language of this request: asked for in the address, else kept, else the browser's."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return (
        supported_language(request.args.get(LANGUAGE_COOKIE))
        or supported_language(request.cookies.get(LANGUAGE_COOKIE))
        or g.get("preferred_language")
        or request.accept_languages.best_match(list(LANGUAGES))
        or DEFAULT_LANGUAGE
    )


def prefer_language(code: str | None) -> None:
    """Speak `code` in this request unless the reader asked for or keeps another language.

    A subscriber's own pages, opened from their emails, are in the language of those emails.
    """
    if has_request_context() and supported_language(code):
        g.preferred_language = supported_language(code)
        refresh()


def current_language() -> str:
    """The interface language in force (a request's, or the one an email is rendered in)."""
    locale = get_locale()
    return supported_language(locale.language if locale else None) or DEFAULT_LANGUAGE


def format_locale() -> Locale:
    """The Babel locale that dates, numbers and country names are written in just now."""
    language = current_language()
    return Locale.parse(FORMAT_LOCALES.get(language, language))


def language_url(code: str) -> str:
    """This page's address with the interface language set to `code`, every other parameter kept.

    A page that only answers a form (a POST-only address) switches on the home page instead.
    """
    rule = request.url_rule
    if rule is None or "GET" not in (rule.methods or ()):
        return url_for("browse.index", **{LANGUAGE_COOKIE: code})
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != LANGUAGE_COOKIE]
    pairs.append((LANGUAGE_COOKIE, code))
    return f"{request.script_root}{request.path}?{urlencode(pairs)}"


def _keep_choice(response: Response) -> Response:
    """Remember a language asked for in the address; say that pages vary with the browser's."""
    chosen = supported_language(request.args.get(LANGUAGE_COOKIE))
    if chosen and chosen != request.cookies.get(LANGUAGE_COOKIE):
        response.set_cookie(
            LANGUAGE_COOKIE,
            chosen,
            max_age=LANGUAGE_COOKIE_MAX_AGE,
            samesite="Lax",
            httponly=True,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to the catalogues in `directory/translations/`; offer the switcher."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.globals.update(
        interface_languages=LANGUAGES,
        current_language=current_language,
        language_url=language_url,
    )
    app.after_request(_keep_choice)
