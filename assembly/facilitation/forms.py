"""Validation of facilitator form input into clean values or per-field error messages.

Plain functions instead of a form library: each field has one rule, the views
collect `{field: message}` and answer 400 without writing anything when it is
not empty. Messages are translated with gettext at request time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlmodel import Session, select

from assembly.models import Assembly, Participant

SLUG_MIN, SLUG_MAX = 3, 80
LENGTH_MIN, LENGTH_MAX, LENGTH_DEFAULT = 20, 1000, 280
XID_MAX = 200
TITLE_MAX = 200
LANGUAGE_MAX = 35  # Assembly.language column width
# Paths under /facilitate/ that are pages, not assemblies.
RESERVED_SLUGS = frozenset({"new", "rows"})

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

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


@dataclass
class AssemblyInput:
    """The cleaned fields of the create/edit form, plus the errors found on the way."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _int_in_range(raw: str, low: int, high: int) -> int | None:
    try:
        value = int(raw.strip())
    except ValueError:
        return None
    return value if low <= value <= high else None


def _has_participants(db: Session, assembly: Assembly) -> bool:
    return db.exec(select(Participant.id).where(Participant.assembly_id == assembly.id).limit(1)).first() is not None


def parse_assembly_form(db: Session, form: Mapping[str, str], current: Assembly | None = None) -> AssemblyInput:
    """Validate the create/edit form; `current` is the assembly being edited (its own slug is not taken)."""
    out = AssemblyInput()
    slug, error = validate_slug(form.get("slug", ""))
    if error is None:
        other = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
        if other is not None and (current is None or other.id != current.id):
            error = _("Another assembly already uses this short name.")
    if error is None and current is not None and slug != current.slug and _has_participants(db, current):
        # Links already shared, and each browser's participant cookie, use the short name:
        # renaming would send returning people to a new, empty identity and split their votes.
        error = _("The short name cannot change once people have joined: their links use it.")
    out.values["slug"] = slug
    if error:
        out.errors["slug"] = error

    title = form.get("title", "").strip()
    out.values["title"] = title
    if not title:
        out.errors["title"] = _("Give the assembly a title.")
    elif len(title) > TITLE_MAX:
        out.errors["title"] = _("A title can be at most %(max)d characters.", max=TITLE_MAX)

    out.values["question"] = form.get("question", "").strip()
    out.values["description"] = form.get("description", "").strip()
    if len(out.values["question"]) > 2000:
        out.errors["question"] = _("The question can be at most %(max)d characters.", max=2000)
    if len(out.values["description"]) > 20000:
        out.errors["description"] = _("The description can be at most %(max)d characters.", max=20000)

    language, error = normalize_language(form.get("language", ""))
    out.values["language"] = language
    if error:
        out.errors["language"] = error

    raw_length = form.get("statement_max_length", str(LENGTH_DEFAULT))
    length = _int_in_range(raw_length, LENGTH_MIN, LENGTH_MAX)
    out.values["statement_max_length"] = raw_length.strip() if length is None else length
    if length is None:
        out.errors["statement_max_length"] = _(
            "The length limit is a whole number from %(min)d to %(max)d.", min=LENGTH_MIN, max=LENGTH_MAX
        )

    # Unchecked checkboxes are absent from the form: absence means off.
    for name in ("strict_moderation", "participants_can_write", "is_open"):
        out.values[name] = form.get(name) in {"1", "on", "true", "yes"}
    return out


def form_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines of a textarea with their 1-based line numbers, stripped."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_xids(text: str, existing: set[str]) -> tuple[list[str], list[str], list[str]]:
    """(new xids, xids already allowed, errors) from a pasted list, one per line."""
    new: list[str] = []
    already: list[str] = []
    errors: list[str] = []
    first_line: dict[str, int] = {}
    for n, xid in form_lines(text):
        if len(xid) > XID_MAX:
            errors.append(_("Line %(n)d: an id can be at most %(max)d characters.", n=n, max=XID_MAX))
        elif xid in first_line:
            errors.append(_("Line %(n)d repeats line %(first)d (%(xid)s).", n=n, first=first_line[xid], xid=xid))
        elif xid in existing:
            already.append(xid)
        else:
            new.append(xid)
        first_line.setdefault(xid, n)
    if not new and not already and not errors:
        errors.append(_("Paste at least one id, one per line."))
    return new, already, errors
