"""The community constitution: principles every opinion group supports, reviewed, versioned, exported.

`build.build_draft(db, assembly, groups, clustering_info)` is the entry point for the clustering
stage; `groups.current_groups` is the one function it replaces.
"""

from __future__ import annotations

from flask import Flask

import assembly.models_constitution  # noqa: F401 - registers the constitution table on SQLModel.metadata


def init_app(app: Flask) -> None:
    """Register the public and facilitator pages and the `flask constitution` commands."""
    from assembly.constitution.cli import constitution_cli
    from assembly.constitution.web import bp

    app.register_blueprint(bp)
    app.cli.add_command(constitution_cli)
