"""The rules an assembly's fields obey, in one pydantic model used by the form, the API and the Polis import.

Before this module the facilitator form, the API schemas and the Polis importer each had
their own limits, and they disagreed: `polis import --slug x--y-` was accepted and then
every save of the edit form refused it; an assembly whose question was 3,000 characters
could be created in the API and not saved in the form. Now `AssemblyFields` is the rule:
the API's request models are built from its field types, the form validates through it
(and words the errors for people), and the importer validates the new assembly with it.

`validate_slug` and `normalize_language` return `(value, error)`, with the error in the
request's language (gettext), so the form can show it as it is.
"""

from __future__ import annotations

import re
from typing import Annotated

from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, Field, StrictInt, StringConstraints, ValidationError

SLUG_MIN, SLUG_MAX = 3, 80
SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"  # single inner hyphens: `x--y-` is refused
LENGTH_MIN, LENGTH_MAX, LENGTH_DEFAULT = 20, 1000, 280  # statement_max_length (docs/api.md says the same)
XID_MAX = 200
TITLE_MAX = 200
QUESTION_MAX = 2_000
DESCRIPTION_MAX = 20_000  # Markdown, room for a briefing
LANGUAGE_MAX = 35  # Assembly.language column width
# Paths under /facilitate/ that are pages, not assemblies.
RESERVED_SLUGS = frozenset({"new", "rows", "tokens"})

_SLUG = re.compile(SLUG_PATTERN)

# BCP 47 (RFC 5646) well-formed language tags. The primary language is 2-3
# letters: no 4-8 letter language subtag is registered, so "english" is a typo.
_LANGTAG = re.compile(
    r"""
    (?P<language>[a-z]{2,3}(?:-[a-z]{3}){0,3})   # language, optional extlang
    (?:-(?P<script>[a-z]{4}))?
    (?:-(?P<region>[a-z]{2}|[0-9]{3}))?
    (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
    (?P<extensions>(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*)
    (?:-x(?:-[a-z0-9]{1,8})+)?
    """,
    re.VERBOSE,
)


def validate_slug(raw: str) -> tuple[str, str | None]:
    """(slug, error): lowercase letters, digits and single inner hyphens, 3 to 80 characters."""
    slug = raw.strip()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        return slug, _("The short name needs %(min)d to %(max)d characters.", min=SLUG_MIN, max=SLUG_MAX)
    if not _SLUG.fullmatch(slug):
        return slug, _(
            "Use lowercase letters a-z, digits and hyphens only, starting and ending with a letter or digit."
        )
    if slug in RESERVED_SLUGS:
        return slug, _("This short name is reserved; please choose another.")
    return slug, None


def normalize_language(raw: str) -> tuple[str, str | None]:
    """(tag, error): a well-formed BCP 47 tag in canonical case, e.g. en, zh-Hant-TW, nan-TW."""
    tag = raw.strip().replace("_", "-")
    if not tag:
        return tag, _("Give the assembly's language as a BCP 47 tag, for example en, zh-Hant-TW or nan-TW.")
    match = _LANGTAG.fullmatch(tag.lower()) if len(tag) <= LANGUAGE_MAX else None
    if match is None:
        return tag, _("%(tag)s is not a BCP 47 language tag (examples: en, zh-Hant-TW, nan-TW).", tag=tag)
    variants = [v for v in match["variants"].split("-") if v]
    singletons = [p for p in (match["extensions"] or "").split("-") if len(p) == 1]
    if len(set(variants)) != len(variants) or len(set(singletons)) != len(singletons):
        return tag, _("%(tag)s repeats a subtag.", tag=tag)
    # Canonical case (RFC 5646 2.1.1): script Title case, region upper case, the rest lower case.
    parts, out, after_singleton = tag.lower().split("-"), [], False
    for i, part in enumerate(parts):
        if len(part) == 1:
            after_singleton = True
        if i > 0 and not after_singleton and len(part) == 4 and part.isalpha():
            part = part.title()
        elif i > 0 and not after_singleton and len(part) == 2:
            part = part.upper()
        out.append(part)
    return "-".join(out), None


def _valid(checked: tuple[str, str | None]) -> str:
    """A (value, error) check as a pydantic validator: one set of rules for every caller."""
    value, error = checked
    if error:
        raise ValueError(str(error))
    return value


# The constraints document the rule in the OpenAPI spec; the validators add what a pattern cannot say.
Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=SLUG_MIN, max_length=SLUG_MAX, pattern=f"^{SLUG_PATTERN}$"),
    AfterValidator(lambda v: _valid(validate_slug(v))),
    Field(description=f"Lowercase letters, digits and single inner hyphens, {SLUG_MIN} to {SLUG_MAX} characters."),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX)]
Question = Annotated[str, StringConstraints(strip_whitespace=True, max_length=QUESTION_MAX)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX)]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=LANGUAGE_MAX),
    AfterValidator(lambda v: _valid(normalize_language(v))),
    Field(description="BCP 47 tag, e.g. en, zh-Hant-TW, nan-TW; stored in canonical case."),
]
MaxLength = Annotated[StrictInt, Field(ge=LENGTH_MIN, le=LENGTH_MAX)]


class AssemblyFields(BaseModel):
    """An assembly's validated text fields: what the form, the API and the Polis import all accept."""

    slug: Slug
    title: Title
    question: Question = ""
    description: Description = ""
    language: Language = "en"
    statement_max_length: MaxLength = LENGTH_DEFAULT


def field_errors(exc: ValidationError) -> dict[str, str]:
    """{field: message} of a ValidationError, the first problem per field, for people."""
    out: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else "body"
        cause = (error.get("ctx") or {}).get("error")
        out.setdefault(name, str(cause) if isinstance(cause, ValueError) else error["msg"])
    return out
