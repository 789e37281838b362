"""UI language through flask-babel: English and Traditional Chinese (Taiwan) at least.

Order of choice: the person's own choice (`?lang=`, remembered in the session), then
their browser's Accept-Language, then BABEL_DEFAULT_LOCALE. The assembly's language does
not decide the interface: a person reading an assembly written in Chinese with an English
browser still gets English buttons; the statements keep their own language (`lang=` on
each), as they were written.
"""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, format_datetime, get_locale

# Babel locale id -> label shown in the language switcher.
LANGUAGES = {"en": "English", "zh_Hant_TW": "繁體中文（台灣）"}


def to_locale(tag: str | None) -> str | None:
    """Map a BCP 47 tag (zh-Hant-TW, zh-TW, nan-TW, en-GB) to a supported UI locale."""
    if not tag:
        return None
    low = tag.replace("_", "-").lower()
    if low.startswith(("zh-hant", "zh-tw", "zh-hk", "nan")):
        return "zh_Hant_TW"
    if low.startswith("en"):
        return "en"
    return None


def select_locale() -> str | None:
    if not has_request_context():  # a CLI command or job in an app context: BABEL_DEFAULT_LOCALE (English)
        return None
    asked = to_locale(request.args.get("lang"))
    if asked:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    for tag, _quality in request.accept_languages:
        loc = to_locale(tag)
        if loc:
            return loc
    return to_locale(current_app.config.get("BABEL_DEFAULT_LOCALE")) or "en"  # the setting, not the WSGI environ


def init_app(app: Flask) -> None:
    # Pages show times in the TIME_ZONE setting (the assembly's community); the database keeps UTC.
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIME_ZONE"]
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale, format_datetime=format_datetime)
