"""UI language through flask-babel: English and Traditional Chinese (Taiwan) at least.

Order of choice: an explicit `?lang=` (remembered in the session), then the
assembly's language for pages that belong to an assembly (`g.assembly_language`),
then the browser's Accept-Language, then BABEL_DEFAULT_LOCALE.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, get_locale

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
    from_assembly = to_locale(g.get("assembly_language"))
    if from_assembly:
        return from_assembly
    for tag, _quality in request.accept_languages:
        loc = to_locale(tag)
        if loc:
            return loc
    return to_locale(request.environ.get("BABEL_DEFAULT_LOCALE")) or "en"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
