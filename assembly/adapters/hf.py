"""A Hugging Face Hub-compatible endpoint at /hf, so engineers pull adapters with the standard client.

`HF_ENDPOINT=http://HOST:PORT/hf hf download SLUG/ADAPTER --local-dir D` and
`snapshot_download(repo_id="SLUG/ADAPTER", endpoint="http://HOST:PORT/hf")` work: the client
appends every URL to the endpoint, so the prefix keeps the hub's URL space apart from the app's.
Three calls serve it (../shared/HF-ENDPOINT.md has the protocol facts):

- GET  /hf/api/models/SLUG/NAME[/revision/REV]: id, sha (the content-derived revision) and siblings;
- GET  /hf/api/models/SLUG/NAME/tree/REV: the file list with sizes and hashes;
- HEAD/GET /hf/SLUG/NAME/resolve/REV/PATH: the file, with X-Repo-Commit and its sha256 as the ETag.

The revision is derived from the files' hashes, so a second snapshot_download re-fetches nothing.
Private adapters answer exactly like a missing repository (401 + RepoNotFound) unless the request
carries the owner's token (`--token` / HF_TOKEN = an `aa_...` facilitator token); other tokens on
public repositories are ignored (clients send the user's stored hub token).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, send_file

from assembly.adapters import registry
from assembly.auth import current_facilitator
from assembly.db import get_session

bp = Blueprint("hf", __name__, url_prefix="/hf")
MAIN = "main"


def _error(status: int, code: str, message: str, commit: str | None = None) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    response.headers["X-Error-Code"] = code
    response.headers["X-Error-Message"] = message
    if commit:
        response.headers["X-Repo-Commit"] = commit
    return response


def _repo(ns: str, name: str, revision: str | None) -> tuple[registry.Resolved | None, Response | None]:
    """The adapter for ns/name at `revision` (main or its sha), or the hub's error answer."""
    found = registry.find(get_session(), f"{ns}/{name}", current_facilitator())
    if found is None:
        return None, _error(401, "RepoNotFound", f"Repository not found: {ns}/{name}")
    if revision is not None and revision not in (MAIN, found.adapter.revision):
        return None, _error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
    return found, None


def _hub_time(dt: datetime) -> str:
    """The hub's timestamp format, 2024-01-02T03:04:05.000Z (the client parses exactly this)."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _repo_id(found: registry.Resolved, name: str) -> str:
    return f"{found.assembly.slug}/{name}"


@bp.get("/api/models/<ns>/<name>")
@bp.get("/api/models/<ns>/<name>/revision/<path:revision>")
def model_info(ns: str, name: str, revision: str | None = None):
    found, err = _repo(ns, name, revision)
    if err:
        return err
    a = found.adapter
    files = registry.files_of(a)
    return jsonify({
        "_id": f"adapter-{a.id}", "id": _repo_id(found, name), "modelId": _repo_id(found, name),
        "sha": a.revision, "private": a.is_private, "disabled": False, "gated": False,
        "library_name": "peft", "tags": ["peft", "lora", "alignment-assembly"],
        "createdAt": _hub_time(a.created_at), "lastModified": _hub_time(a.created_at),
        "siblings": [{"rfilename": f["path"], "size": f["size"]} for f in files],
        "usedStorage": sum(f["size"] for f in files),
    })


def _tree_entry(f: dict[str, Any]) -> dict[str, Any]:
    entry = {"type": "file", "path": f["path"], "size": f["size"], "oid": f["git_sha1"]}
    if f["path"].endswith(".safetensors"):  # weights are LFS files on the hub; the sha256 is their oid
        entry["lfs"] = {"oid": f["sha256"], "size": f["size"], "pointerSize": 134}
    return entry


@bp.get("/api/models/<ns>/<name>/tree/<path:revision>")
def tree(ns: str, name: str, revision: str):
    # The revision may carry a folder ("main/sub"); adapters are flat, so anything below the root is empty.
    revision, _, sub = revision.partition("/")
    found, err = _repo(ns, name, revision)
    if err:
        return err
    files = registry.files_of(found.adapter)
    sub = sub.strip("/")
    if sub:
        files = [f for f in files if f["path"].startswith(sub + "/")]
        if not files:
            return _error(404, "EntryNotFound", f"{sub} does not exist on {revision}", found.adapter.revision)
    return jsonify([_tree_entry(f) for f in files])


@bp.route("/<ns>/<name>/resolve/<revision>/<path:filename>", methods=["GET", "HEAD"])
def resolve(ns: str, name: str, revision: str, filename: str):
    found, err = _repo(ns, name, revision)
    if err:
        return err
    a = found.adapter
    entry = next((f for f in registry.files_of(a) if f["path"] == filename), None)
    if entry is None:
        return _error(404, "EntryNotFound", f"{filename} does not exist on {revision}", a.revision)
    path = registry.adapter_dir(current_app, a) / entry["path"]
    response = send_file(path, mimetype="application/octet-stream", etag=False, conditional=False,
                         max_age=0, download_name=path.name)
    response.headers["ETag"] = f'"{entry["sha256"]}"'
    response.headers["X-Repo-Commit"] = a.revision
    response.headers["Content-Length"] = str(entry["size"])
    if "lfs" in _tree_entry(entry):
        response.headers["X-Linked-Size"] = str(entry["size"])
        response.headers["X-Linked-Etag"] = f'"{entry["sha256"]}"'
    return response


@bp.get("/api/agent-harnesses")
def agent_harnesses():
    """The `hf` CLI asks for this at start; there is nothing to offer."""
    return jsonify({"standardEnvVars": [], "harnesses": {}})
