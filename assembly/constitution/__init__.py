"""The community constitution: principles every opinion group supports, reviewed, versioned, exported.

`build.build_draft(db, assembly, groups, clustering_info)` builds a draft from any grouping;
`groups.current_groups` takes the groups of the newest clustering run (`results.runs`), and
`groups.groups_from_polis_export` Polis's own, for real-data checks.
"""

from __future__ import annotations

from flask import Flask

import assembly.models_constitution  # noqa: F401 - registers the constitution table on SQLModel.metadata
from assembly.constitution.cli import constitution_cli
from assembly.constitution.web import bp


def init_app(app: Flask) -> None:
    """Register the public and facilitator pages and the `flask constitution` commands."""
    app.register_blueprint(bp)
    app.cli.add_command(constitution_cli)
