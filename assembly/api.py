"""JSON API (flask-openapi3): assemblies, statements, next statement, votes, results."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
