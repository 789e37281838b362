"""One typed table of every setting the app reads, with defaults and help.

Why a table: unknown keys and wrong types are rejected at start-up instead of
being silently ignored, and docs/settings.md is checked against this table by a
test (tests/test_settings.py), so the documentation cannot drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE_URL", str, "",
            "SQLAlchemy URL; empty means a SQLite file instance/assembly.db. "
            "PostgreSQL: postgresql+psycopg://user:password@host/dbname (the postgres extra)."),
    Setting("SECRET_KEY", str, "", "Signs sessions and CSRF tokens; empty means a generated instance/secret_key file."),
    Setting("SQLITE_SYNCHRONOUS", str, "NORMAL", "SQLite PRAGMA synchronous in WAL mode (NORMAL or FULL)."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", int, 10000, "How long a SQLite writer waits for the lock before failing."),
    Setting("RATELIMIT_ENABLED", bool, True, "Turn per-participant rate limits on or off."),
    Setting("RATELIMIT_STORAGE_URI", str, "memory://", "flask-limiter storage (memory:// or redis://...)."),
    Setting("RATELIMIT_VOTES", str, "60 per minute", "Votes one participant may cast."),
    Setting("RATELIMIT_STATEMENTS", str, "5 per minute;30 per hour", "Statements one participant may submit."),
    Setting("BABEL_DEFAULT_LOCALE", str, "en", "UI language when neither the assembly nor the browser decides."),
    Setting("WTF_CSRF_ENABLED", bool, True, "CSRF protection on forms and cookie-authenticated API calls."),
    Setting("TESTING", bool, False, "Flask testing mode."),
    Setting("CONSTITUTION_SIMILARITY", str, "auto",
            "Near-duplicate merging: auto (sentence model for English, n-grams otherwise) or char-ngram-tfidf."),
    Setting("CLUSTERING_DEVICE", str, "auto", "Device for clustering: auto, cpu or cuda."),
    Setting("CLUSTERING_AUTO", bool, True, "Recluster in the background after votes arrive."),
    Setting("CLUSTERING_DEBOUNCE_S", float, 5.0, "Wait after a vote before reclustering in the background."),
    Setting("HUEY_URL", str, "",
            "Task queue for training, generation and evals: empty means a SQLite file instance/tasks.db; "
            "sqlite:///PATH another file; redis://HOST:PORT/DB a Redis server (the redis extra) for workers "
            "on other machines. Run workers with `flask --app app worker`."),
    Setting("HUEY_IMMEDIATE", bool, False,
            "Run queued jobs at once in the process that enqueues them, without a worker (tests only)."),
    Setting("FINETUNE_DIR", str, "",
            "Where datasets, training runs, adapters and converted base models are kept; "
            "empty means instance/finetune."),
    Setting("FINETUNE_BASE_MODEL", str, "gemma-3-270m",
            "Base model the train form and CLI offer first: a registered name, a local Hugging Face folder "
            "or a hub id."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def _coerce(setting: Setting, value: Any) -> Any:
    """Convert environment strings to the setting's type; reject mismatches."""
    if isinstance(value, setting.type) and not (setting.type is int and isinstance(value, bool)):
        return value
    if isinstance(value, str):
        if setting.type is bool:
            low = value.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off", ""}:
                return False
        else:
            try:
                return setting.type(value)
            except ValueError:
                pass
    if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ValueError(f"setting {setting.name} must be {setting.type.__name__}, got {value!r}")


def resolve(overrides: dict[str, Any] | None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Defaults, then environment variables, then explicit overrides (tests)."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    unknown = sorted(k for k in overrides if k not in _BY_NAME and not k.startswith("_"))
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(unknown)}; see docs/settings.md")
    out: dict[str, Any] = {}
    for s in SETTINGS:
        value = s.default
        if s.name in environ:
            value = environ[s.name]
        if s.name in overrides:
            value = overrides[s.name]
        out[s.name] = _coerce(s, value)
    if out["SQLITE_SYNCHRONOUS"].upper() not in {"NORMAL", "FULL"}:
        raise ValueError("SQLITE_SYNCHRONOUS must be NORMAL or FULL")
    if out["CONSTITUTION_SIMILARITY"] not in {"auto", "char-ngram-tfidf"}:
        raise ValueError("CONSTITUTION_SIMILARITY must be auto or char-ngram-tfidf")
    if out["CLUSTERING_DEVICE"] not in {"auto", "cpu", "cuda"}:
        raise ValueError("CLUSTERING_DEVICE must be auto, cpu or cuda")
    # Private keys (leading underscore) let tests pass objects through untouched.
    out.update({k: v for k, v in overrides.items() if k.startswith("_")})
    return out


def markdown_table() -> str:
    """The settings table as Markdown, for docs/settings.md."""
    rows = ["| name | type | default | help |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | {s.type.__name__} | `{s.default!r}` | {s.help} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
