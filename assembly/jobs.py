"""Background jobs (reclustering, later training) with status and progress."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
