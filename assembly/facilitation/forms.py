"""Validation of facilitator form input into clean values or per-field error messages.

The assembly form validates through `assembly.validation.AssemblyFields`, the same
model as the API and the Polis import, and words each field's error for people; the
views collect `{field: message}` and answer 400 without writing anything when it is
not empty. Messages are translated with gettext at request time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from pydantic import ValidationError
from sqlmodel import Session, select

from assembly.models import Assembly, Participant
from assembly.validation import (
    DESCRIPTION_MAX,
    LENGTH_DEFAULT,
    LENGTH_MAX,
    LENGTH_MIN,
    QUESTION_MAX,
    TITLE_MAX,
    XID_MAX,
    AssemblyFields,
    field_errors,
    normalize_language,
    validate_slug,
)

# The assembly languages the platform handles (interface locale: assembly.i18n.to_locale; eval
# language: finetune.evals.language_suite.requested_label), offered as a choice rather than a free tag.
ASSEMBLY_LANGUAGES: dict[str, object] = {
    "en": lazy_gettext("English"),
    "zh-Hant-TW": lazy_gettext("Mandarin, Traditional characters (Taiwan)"),
    "nan-Hant-TW": lazy_gettext("Taigi, Han characters (Taiwan)"),
    "nan-Latn-TW": lazy_gettext("Taigi, Tâi-lô romanisation (Taiwan)"),
}


def language_choices(current: Assembly | None = None) -> list[tuple[str, str]]:
    """(tag, readable name) for the form's select; an assembly's own tag outside the list stays a choice,
    so that assemblies made before the list (or through the API) can still be edited without changing it."""
    choices = [(tag, str(name)) for tag, name in ASSEMBLY_LANGUAGES.items()]
    if current is not None and current.language not in ASSEMBLY_LANGUAGES:
        choices.append((current.language, _("Current setting")))
    return choices


@dataclass
class AssemblyInput:
    """The cleaned fields of the create/edit form, plus the errors found on the way."""

    values: dict[str, object] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _int_or_text(raw: str) -> int | str:
    try:
        return int(raw.strip())
    except ValueError:
        return raw.strip()


def _has_participants(db: Session, assembly: Assembly) -> bool:
    return db.exec(select(Participant.id).where(Participant.assembly_id == assembly.id).limit(1)).first() is not None


def _message(name: str, value: object, rule_message: str) -> str:
    """The form's wording of a field's error (the slug and language rules word their own)."""
    if name == "title":
        return _("Give the assembly a title.") if not value else _(
            "A title can be at most %(max)d characters.", max=TITLE_MAX)
    if name == "question":
        return _("The question can be at most %(max)d characters.", max=QUESTION_MAX)
    if name == "description":
        return _("The description can be at most %(max)d characters.", max=DESCRIPTION_MAX)
    if name == "statement_max_length":
        return _("The length limit is a whole number from %(min)d to %(max)d.", min=LENGTH_MIN, max=LENGTH_MAX)
    if name == "slug":
        return validate_slug(str(value))[1] or rule_message
    if name == "language":
        return normalize_language(str(value))[1] or rule_message
    return rule_message


def parse_assembly_form(db: Session, form: Mapping[str, str], current: Assembly | None = None) -> AssemblyInput:
    """Validate the create/edit form; `current` is the assembly being edited (its own slug is not taken)."""
    out = AssemblyInput()
    raw: dict[str, object] = {name: form.get(name, "").strip()
                              for name in ("slug", "title", "question", "description", "language")}
    raw["statement_max_length"] = _int_or_text(form.get("statement_max_length", str(LENGTH_DEFAULT)))
    out.values.update(raw)
    try:
        out.values.update(AssemblyFields.model_validate(raw).model_dump())
    except ValidationError as exc:
        for name, message in field_errors(exc).items():
            out.errors[name] = _message(name, raw.get(name), message)
        if "language" not in out.errors:  # shown again in canonical case, as it would be saved
            out.values["language"] = normalize_language(str(raw["language"]))[0]
    if "language" not in out.errors and out.values["language"] not in dict(language_choices(current)):
        out.errors["language"] = _("Choose the assembly's language from the list.")
    slug = out.values["slug"]
    if "slug" not in out.errors:
        other = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
        if other is not None and (current is None or other.id != current.id):
            out.errors["slug"] = _("Another assembly already uses this short name.")
        elif current is not None and slug != current.slug and _has_participants(db, current):
            # Links already shared, and each browser's participant cookie, use the short name:
            # renaming would send returning people to a new, empty identity and split their votes.
            out.errors["slug"] = _("The short name cannot change once people have joined: their links use it.")

    # Unchecked checkboxes are absent from the form: absence means off.
    for name in ("strict_moderation", "participants_can_write", "is_open"):
        out.values[name] = form.get(name) in {"1", "on", "true", "yes"}
    return out


def form_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines of a textarea with their 1-based line numbers, stripped."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def parse_xids(text: str, existing: set[str]) -> tuple[list[str], list[str], list[tuple[int, str, str]]]:
    """(new xids, xids already allowed, rejected lines as (line number, text, reason)) from a pasted list.

    Like seeding, a bad or repeated line is reported on its own and does not stop the good ones."""
    new: list[str] = []
    already: list[str] = []
    rejected: list[tuple[int, str, str]] = []
    first_line: dict[str, int] = {}
    for n, xid in form_lines(text):
        if len(xid) > XID_MAX:
            rejected.append((n, xid, _("Line %(n)d: an id can be at most %(max)d characters.", n=n, max=XID_MAX)))
        elif xid in first_line:
            rejected.append((n, xid, _("Line %(n)d repeats line %(first)d (%(xid)s).",
                                       n=n, first=first_line[xid], xid=xid)))
        elif xid in existing:
            already.append(xid)
        else:
            new.append(xid)
        first_line.setdefault(xid, n)
    return new, already, rejected
