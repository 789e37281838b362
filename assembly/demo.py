"""`flask --app app demo`: load the vTaiwan UberX demo assembly and a demo facilitator."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
