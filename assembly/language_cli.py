"""`flask --app app evals langid`: the language of each line on standard input.

Reads bytes, not text, so that no input can crash it: each line is decoded as UTF-8 on its own,
and a line that cannot be judged gets `error<TAB>reason` in its place, so output line N is
always the answer for input line N. Exit status 0 when every line was judged, 1 otherwise.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import BinaryIO

import click
from flask import Flask
from flask.cli import AppGroup

MAX_LINE_BYTES = 1 << 20  # a longer line is reported, not read into memory whole
CHUNK = 1 << 16


def _lines(stream: BinaryIO):
    """(line bytes without the newline, True when it was longer than MAX_LINE_BYTES) for each line."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the overlong line in bounded chunks
                rest = stream.readline(CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield b"", True
            continue
        yield line.rstrip(b"\r\n"), False


def answer(raw: bytes, too_long: bool) -> tuple[str, bool]:
    """The output line for one input line, and whether it was judged."""
    from finetune.evals.langid import LangIdError, detect

    if too_long:
        return f"error\tline longer than {MAX_LINE_BYTES} bytes", False
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"error\tnot UTF-8 (invalid byte at offset {exc.start})", False
    if not text.strip():
        return "error\tempty line", False
    try:
        label, confidence = detect(text)
    except LangIdError as exc:
        return f"error\t{exc}", False
    return f"{label}\t{confidence:.3f}", True


@click.command("langid")
def langid_cmd() -> None:
    """Detect the language of each line on stdin: nan-Hant, nan-Latn, cmn, yue or other.

    Writes LABEL<TAB>CONFIDENCE per line; a line that cannot be judged (empty, not UTF-8, binary,
    longer than 1 MiB) gets `error<TAB>reason`. Exit status 1 if any line got an error.
    """
    failed = 0
    with click.open_file("-", "rb") as stdin:
        for raw, too_long in _lines(stdin):
            line, ok = answer(raw, too_long)
            failed += not ok
            click.echo(line)
    if failed:
        click.echo(f"{failed} line(s) could not be judged", err=True)
        sys.exit(1)


@lru_cache(maxsize=4096)
def detected_language(text: str) -> tuple[str, float] | None:
    """The Jinja filter behind the moderation page's language badge: (label, confidence) or None."""
    from finetune.evals.langid import detect_or_none

    return detect_or_none(text)


def init_app(app: Flask) -> None:
    """Add `langid` to the `evals` group (creating the group if no other module has) and the
    `detected_language` filter the moderation page uses."""
    app.jinja_env.filters["detected_language"] = detected_language
    group = app.cli.commands.get("evals")
    if not isinstance(group, click.Group):
        group = AppGroup("evals", help="Evaluate models and adapters; detect languages.")
        app.cli.add_command(group)
    group.add_command(langid_cmd)
