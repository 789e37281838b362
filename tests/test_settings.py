"""The settings table: validation, and docs/settings.md generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from assembly.settings import markdown_table, resolve

DOC = Path(__file__).resolve().parent.parent / "docs" / "settings.md"


def test_unknown_setting_is_rejected():
    with pytest.raises(ValueError, match="unknown setting"):
        resolve({"DATABSE_URL": "sqlite://"}, environ={})


def test_environment_strings_are_coerced_and_checked():
    cfg = resolve(None, environ={"RATELIMIT_ENABLED": "false", "SQLITE_BUSY_TIMEOUT_MS": "250"})
    assert cfg["RATELIMIT_ENABLED"] is False
    assert cfg["SQLITE_BUSY_TIMEOUT_MS"] == 250
    with pytest.raises(ValueError, match="must be int"):
        resolve(None, environ={"SQLITE_BUSY_TIMEOUT_MS": "soon"})


def test_docs_table_matches_code():
    assert markdown_table() in DOC.read_text(encoding="utf-8"), "regenerate with: python -m assembly.settings"
