"""`flask --app app polis import|export`: Polis export folders in and out."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
