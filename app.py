"""The Flask application factory. Nothing else lives here.

`flask --app app run` serves the app; `flask --app app --help` lists the CLI.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask_openapi3 import Info, OpenAPI


def _secret_key(instance_path: str, configured: str) -> str:
    """The configured key, else one generated once into instance/secret_key (never in the repo)."""
    if configured:
        return configured
    path = Path(instance_path) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(config: dict[str, Any] | None = None) -> OpenAPI:
    """Build the app: settings (defaults < environment < `config`), database, extensions, blueprints."""
    from assembly import (
        adapters,
        api,
        assemblies,
        auth,
        constitution,
        db,
        demo,
        errors,
        evals,
        guards,
        htmx,
        i18n,
        jobs,
        language_cli,
        markup,
        migrate,
        schema_check,
        security,
        tasks,
    )
    from assembly.facilitation import pages as facilitation
    from assembly.polis import cli as polis
    from assembly.results import pages as results
    from assembly.results import runs as clustering_runs
    from assembly.settings import resolve
    from assembly.voting import pages as voting

    app = OpenAPI(
        __name__,
        info=Info(title="Alignment Assembly API", version="1"),
        doc_prefix="/api",
        doc_ui=False,  # the Swagger/Redoc UIs load scripts from CDNs; participants' browsers must not
        instance_relative_config=True,
    )
    app.config.update(resolve(config))
    app.config["SECRET_KEY"] = _secret_key(app.instance_path, app.config["SECRET_KEY"])

    modules = (db, migrate, guards, security, i18n, markup, errors, htmx, assemblies, auth, jobs, clustering_runs,
               voting, facilitation, api, polis, demo, results, constitution, tasks, adapters, evals,
               language_cli, schema_check)  # language_cli joins the `evals` group; schema_check guards them all
    for module in modules:
        module.init_app(app)
    return app
