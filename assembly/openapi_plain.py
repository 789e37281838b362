"""OpenAPI paths of the JSON routes that are plain Flask blueprints (the fine-tuning API, assembly/adapters/api.py).

flask-openapi3 documents only APIBlueprint routes; the adapters API is a plain Blueprint (its
bodies are checked by the train form's own validation), so its paths are described here by hand
and merged into /api/openapi.json. tests/test_openapi_plain.py walks app.url_map so a new plain
/api/ route without an entry here fails the suite.
"""

from __future__ import annotations

import copy
from typing import Any

_ERR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def _errors(*codes: int) -> dict[str, Any]:
    why = {400: "Bad request", 401: "Facilitator login or a Bearer aa_... token is required",
           403: "Not the assembly's owner", 404: "No such assembly, adapter or training run",
           409: "Conflict: no published constitution, an empty dataset, or a run in the wrong state",
           422: "Invalid body or field", 507: "The disk is full; nothing was kept"}
    return {str(c): {"description": why[c], **_ERR} for c in codes}


def _json(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


def _path(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string"}}


SLUG = _path("slug", "The assembly's slug")
NAME = _path("name", "The adapter's name (repo id SLUG/NAME)")
RUN_ID = _path("run_id", "The training run's id", {"type": "integer"})
ACTION = _path("action", "What to do with the run", {"type": "string", "enum": ["cancel", "resume"]})
FACILITATOR = [{"facilitatorToken": []}, {"cookieSession": []}]
TAG = ["fine-tuning"]

TRAINING_RUN_BODY = {
    "required": False,
    "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "version": {"type": "integer", "description": "Published constitution version (default: newest)"},
            "base_model": {"type": "string", "description": "Base model name, local folder or hub id"},
            "method": {"type": "string", "enum": ["sft", "dpo", "sft+dpo"], "default": "sft"},
            "steps": {"type": "integer", "minimum": 1},
            "name": {"type": "string", "description": "Adapter name (default: generated)"},
            "parent": {"type": "string", "description": "Adapter of this assembly to continue from"},
            "private": {"type": "boolean", "default": False},
            "critique": {"type": "boolean", "default": False,
                         "description": "Constitutional critique-and-revision stage"},
            "taigi": {"type": "boolean", "description": "Taigi language records; left out, the language decides"},
        }}}},
}

PLAIN_PATHS: dict[str, dict[str, Any]] = {
    "/api/adapters": {"get": {
        "tags": TAG, "summary": "Every adapter the caller may see, newest first", "operationId": "adapters_list_all",
        "responses": {"200": _json("{adapters: [...]}")}}},
    "/api/assemblies/{slug}/adapters": {"get": {
        "tags": TAG, "summary": "The assembly's adapters the caller may see", "operationId": "adapters_list",
        "parameters": [SLUG], "responses": {"200": _json("{adapters: [...]}"), **_errors(404)}}},
    "/api/assemblies/{slug}/adapters/{name}": {"get": {
        "tags": TAG, "summary": "One adapter: files, archive sha256, base model, run and provenance",
        "operationId": "adapters_show", "parameters": [SLUG, NAME],
        "responses": {"200": _json("The adapter"), **_errors(404)}}},
    "/api/assemblies/{slug}/training-runs": {
        "post": {"tags": TAG, "summary": "Start a training run (queued in the worker)",
                 "operationId": "training_runs_start", "parameters": [SLUG], "security": FACILITATOR,
                 "requestBody": TRAINING_RUN_BODY,
                 "responses": {"202": _json("The queued training run"),
                               **_errors(401, 403, 404, 409, 422, 507)}},
        "get": {"tags": TAG, "summary": "The assembly's training runs, newest first",
                "operationId": "training_runs_list", "parameters": [SLUG], "security": FACILITATOR,
                "responses": {"200": _json("{training_runs: [...]}"), **_errors(401, 403, 404)}}},
    "/api/assemblies/{slug}/training-runs/{run_id}": {"get": {
        "tags": TAG, "summary": "One training run: status, step, loss, tokens/s, time left",
        "operationId": "training_runs_show", "parameters": [SLUG, RUN_ID], "security": FACILITATOR,
        "responses": {"200": _json("The training run"), **_errors(401, 403, 404)}}},
    "/api/assemblies/{slug}/training-runs/{run_id}/{action}": {"post": {
        "tags": TAG, "summary": "Cancel a run, or resume one from its last checkpoint",
        "operationId": "training_runs_action", "parameters": [SLUG, RUN_ID, ACTION], "security": FACILITATOR,
        "responses": {"202": _json("The training run"), **_errors(401, 403, 404, 409)}}},
}


def merged(spec: dict[str, Any]) -> dict[str, Any]:
    """The generated document with the plain blueprints' paths added (a copy: the cached one stays as built)."""
    out = copy.copy(spec)
    out["paths"] = {**spec.get("paths", {}), **copy.deepcopy(PLAIN_PATHS)}
    return out
