"""One typed table of every setting the app reads, with defaults and help.

Why a table: unknown keys and wrong types are rejected at start-up instead of
being silently ignored, and docs/settings.md is checked against this table by a
test (tests/test_settings.py), so the documentation cannot drift.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from limits import parse_many


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
    Setting("SECRET_KEY", str, "",
            "Signs sessions, CSRF tokens and invitation keys (changing it invalidates every invite link); "
            "empty means a generated instance/secret_key file."),
    Setting("SQLITE_SYNCHRONOUS", str, "NORMAL", "SQLite PRAGMA synchronous in WAL mode (NORMAL or FULL)."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", int, 10000, "How long a SQLite writer waits for the lock before failing."),
    Setting("RATELIMIT_ENABLED", bool, True, "Turn per-participant rate limits on or off."),
    Setting("RATELIMIT_STORAGE_URI", str, "",
            "Where rate-limit counts live, shared by all workers: empty means an SQLite file beside the SQLite "
            "database (or instance/ratelimits.db); redis://... for several app servers; memory:// counts per process."),
    Setting("RATELIMIT_VOTES", str, "60 per minute", "Votes one participant may cast."),
    Setting("RATELIMIT_STATEMENTS", str, "5 per minute;30 per hour", "Statements one participant may submit."),
    Setting("RATELIMIT_NEWCOMERS", str, "300 per minute",
            "First votes and statements (browsers without a participant yet) per client address and assembly."),
    Setting("RATELIMIT_JOINS_PER_ADDRESS", str, "100 per hour",
            "New participants one client address may create in one assembly."),
    Setting("RATELIMIT_JOINS_PER_ASSEMBLY", str, "2000 per hour",
            "New participants one assembly accepts, from anyone."),
    Setting("RATELIMIT_LOGIN_PER_ACCOUNT", str, "10 per 15 minutes", "Login attempts on one facilitator e-mail."),
    Setting("RATELIMIT_LOGIN_PER_ADDRESS", str, "30 per 15 minutes", "Login attempts from one client address."),
    Setting("LOGIN_SESSION_DAYS", int, 14,
            "Days a facilitator's login lasts (kept on the server; logging out ends it at once)."),
    Setting("API_TOKEN_DAYS", int, 90,
            "Days a new facilitator API token is valid (`flask facilitator token EMAIL --days N` overrides)."),
    Setting("TRUSTED_PROXIES", int, 0,
            "How many reverse proxies in front set X-Forwarded-For/-Proto; 0 ignores those headers."),
    Setting("COOKIE_SECURE", str, "auto",
            "Secure flag on the session cookie: auto (when served over HTTPS, also as a trusted proxy reports), "
            "always or never. Where EMBED_ALLOWED_ORIGINS allows embedding, the cookie is always "
            "SameSite=None; Secure, which a browser keeps only over HTTPS."),
    Setting("MAX_BODY_BYTES", int, 64 * 1024,
            "Largest request body on most routes (a vote, a form, one statement); larger is a 413."),
    Setting("MAX_BULK_BODY_BYTES", int, 4 * 1024 * 1024,
            "Largest request body where a list is accepted (seeding statements, pasting invitation ids)."),
    Setting("MAX_JSON_DEPTH", int, 32, "Deepest nesting of a JSON request body; deeper is a 400."),
    Setting("BABEL_DEFAULT_LOCALE", str, "en", "UI language when neither the assembly nor the browser decides."),
    Setting("WTF_CSRF_ENABLED", bool, True, "CSRF protection on forms and cookie-authenticated API calls."),
    Setting("TESTING", bool, False, "Flask testing mode."),
    Setting("CONSTITUTION_SIMILARITY", str, "auto",
            "Near-duplicate merging: auto (sentence model for English, n-grams otherwise) or char-ngram-tfidf."),
    Setting("CLUSTERING_DEVICE", str, "auto", "Device for clustering: auto, cpu or cuda."),
    Setting("CLUSTERING_AUTO", bool, True, "Recluster in the background after votes arrive."),
    Setting("CLUSTERING_DEBOUNCE_S", float, 5.0, "Wait after a vote before reclustering in the background."),
    Setting("CLUSTERING_UMAP_MAX", int, 5000,
            "Largest assembly (participants) whose clustering runs also compute the UMAP map and measure both "
            "maps' trustworthiness; 0 turns UMAP off."),
    Setting("RESULTS_MIN_GROUP_SIZE", int, 5,
            "Opinion groups are shown (results page, API, exports) only once every group has this many "
            "participants, so a group of one or two does not reveal how individuals voted."),
    Setting("EMBED_ALLOWED_ORIGINS", str, "",
            "Origins (space-separated, e.g. https://vtaiwan.tw) allowed to show the citizen pages in an iframe; "
            "empty forbids framing. Facilitator pages can never be framed."),
    Setting("TIME_ZONE", str, "UTC",
            "IANA time zone (e.g. Asia/Taipei) in which pages show times; the database keeps UTC."),
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


def default(name: str) -> Any:
    """The default of setting `name` (for code that runs without an app)."""
    return _BY_NAME[name].default


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
    if out["COOKIE_SECURE"] not in {"auto", "always", "never"}:
        raise ValueError("COOKIE_SECURE must be auto, always or never")
    for name in ("LOGIN_SESSION_DAYS", "API_TOKEN_DAYS"):
        if not 1 <= out[name] <= 3650:
            raise ValueError(f"{name} must be 1 to 3650 days")
    if out["TRUSTED_PROXIES"] < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")
    for s in SETTINGS:
        if s.name.startswith("RATELIMIT_") and s.type is str and s.name != "RATELIMIT_STORAGE_URI":
            try:
                parse_many(out[s.name])
            except ValueError as exc:
                raise ValueError(f"{s.name} is not a rate limit such as '60 per minute': {out[s.name]!r}") from exc
    if out["CLUSTERING_UMAP_MAX"] < 0:
        raise ValueError("CLUSTERING_UMAP_MAX must be 0 (off) or more")
    if out["RESULTS_MIN_GROUP_SIZE"] < 1:
        raise ValueError("RESULTS_MIN_GROUP_SIZE must be at least 1")
    _check_time_zone(out["TIME_ZONE"])
    from assembly.embedding import parse_origins

    parse_origins(out["EMBED_ALLOWED_ORIGINS"])
    if out["CLUSTERING_DEVICE"] not in {"auto", "cpu", "cuda"}:
        raise ValueError("CLUSTERING_DEVICE must be auto, cpu or cuda")
    # Private keys (leading underscore) let tests pass objects through untouched.
    out.update({k: v for k, v in overrides.items() if k.startswith("_")})
    return out


def _check_time_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"TIME_ZONE must be an IANA time zone such as Asia/Taipei or UTC, got {name!r}") from None


def markdown_table() -> str:
    """The settings table as Markdown, for docs/settings.md."""
    rows = ["| name | type | default | help |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | {s.type.__name__} | `{s.default!r}` | {s.help} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")
