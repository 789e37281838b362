"""Loading the assembly a request names, and checking who may act on it: the one helper.

Like flaskr's `get_post(id, check_author=True)`: `load_assembly(slug)` for anyone,
`load_assembly(slug, check_owner=True)` where only the owner facilitator may act. It raises
`AssemblyError` (404 none, 401 no facilitator, 403 another's), which the participant
pages, the facilitator pages and the API each render their way (see `init_app`).
"""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import lazy_gettext
from sqlmodel import Session, select
from werkzeug.exceptions import default_exceptions

from assembly.auth import current_facilitator
from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.models import Assembly


def get_assembly(db: Session, slug: str) -> Assembly:
    """The assembly named `slug`, outside a request too (CLI, jobs); AssemblyError 404 when there is none."""
    assembly = db.exec(select(Assembly).where(Assembly.slug == slug)).first()
    if assembly is None:
        raise AssemblyError(f"no assembly {slug!r}", 404, explain=lazy_gettext(
            "There is no assembly at this address. Please check the link."))
    return assembly


def load_assembly(slug: str, *, check_owner: bool = False) -> Assembly:
    """This request's assembly; with `check_owner`, only for the facilitator who owns it (401, 403)."""
    assembly = get_assembly(get_session(), slug)
    if check_owner:
        facilitator = current_facilitator()
        if facilitator is None:
            raise AssemblyError("facilitator login or an 'Authorization: Bearer aa_...' token is required", 401,
                                explain=lazy_gettext("Please log in as a facilitator."))
        if assembly.owner_id != facilitator.id:
            raise AssemblyError("only the facilitator who owns this assembly may do this", 403,
                                explain=lazy_gettext("This assembly belongs to another facilitator."))
    return assembly


def _as_http_error(exc: AssemblyError):
    """Pages without their own handler (facilitator, results, export) answer as for an HTTP error of that status."""
    get_session().rollback()
    http = default_exceptions.get(exc.status, default_exceptions[400])(exc.explanation)
    return current_app.handle_http_exception(http)


def init_app(app: Flask) -> None:
    # Blueprint handlers (the participant pages, the API) come first; this is everyone else's.
    app.register_error_handler(AssemblyError, _as_http_error)
