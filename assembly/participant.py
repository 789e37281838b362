"""Participant pages: read the question, vote one statement at a time, add statements."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("participant", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
