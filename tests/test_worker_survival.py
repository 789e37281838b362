"""The README's production granian command replaces a worker that dies (issue 11).

Without --respawn-failed-workers granian shut the whole server down when one worker died.
"""

from __future__ import annotations

import re
import sys

from tests.test_concurrency import ROOT


def readme_command() -> list[str]:
    """The production command exactly as README.md gives it, to run with this interpreter."""
    match = re.search(r"`granian (--[^`]*app:create_app)`", (ROOT / "README.md").read_text())
    assert match, "README.md gives no granian command"
    return [sys.executable, "-m", "granian", *match.group(1).split()]


def test_the_readme_command_respawns_failed_workers():
    assert "--respawn-failed-workers" in readme_command()
