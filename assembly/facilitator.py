"""Facilitator pages: create and edit assemblies, seed and moderate statements, live counts."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("facilitator", __name__, url_prefix="/facilitate")


@bp.get("/")
def index():
    return "facilitator home"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
