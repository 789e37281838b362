"""JSON API (flask-openapi3): assemblies, statements, next statement, votes, results, eval items.

The routes live in facilitation/api.py, voting/api.py and evals/community_api.py; this module nests them
under /api, turns every error into `{"error": message}`, and serves the
generated OpenAPI document at /api/openapi.json.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, request
from flask_openapi3 import APIBlueprint, OpenAPI
from flask_wtf.csrf import generate_csrf
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from assembly.db import get_session
from assembly.domain_errors import AssemblyError
from assembly.evals import community_api as api_items
from assembly.evals import rating_api
from assembly.facilitation import api as api_assemblies
from assembly.openapi_plain import merged
from assembly.schemas import ERROR_RESPONSES, CsrfOut, ErrorOut
from assembly.voting import api as api_voting

api = APIBlueprint("api", __name__, url_prefix="/api", abp_responses=ERROR_RESPONSES)
api.register_api(api_assemblies.bp)
api.register_api(api_voting.bp)
api.register_api(rating_api.bp)
api.register_api(api_items.bp)

SECURITY_SCHEMES = {
    "participantToken": {
        "type": "http", "scheme": "bearer",
        "description": "Participant token `pt_...` from POST /api/assemblies/{slug}/participants.",
    },
    "facilitatorToken": {
        "type": "http", "scheme": "bearer",
        "description": "Facilitator API token `aa_...` from `flask --app app facilitator token EMAIL`.",
    },
    "cookieSession": {
        "type": "apiKey", "in": "cookie", "name": "session",
        "description": "The browser's signed session; POST/PATCH then also need the X-CSRFToken header.",
    },
}


def error(message: str, status: int, **extra: Any):
    response = jsonify({"error": message, **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.errorhandler(AssemblyError)
def _assembly_error(exc: AssemblyError):
    get_session().rollback()  # nothing half-written survives a refused request
    return error(exc.message, exc.status)


@api.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code is None and exc.response is not None:  # flask-openapi3 validation: already a response
        return exc.response
    if isinstance(exc, InternalServerError):
        return error("internal error; the request may not have been applied", 500)
    return error(exc.description or exc.name, exc.code or 500)


def _field(loc: tuple) -> str:
    # RootModel unions put the model name in the path; people want the field.
    parts = [str(p) for p in loc if not (isinstance(p, str) and ("[" in p or p[:1].isupper()))]
    return ".".join(parts) or "body"


def validation_error(exc: ValidationError):
    """flask-openapi3 validation errors as a 422 `{"error": ..., "detail": [...]}`."""
    if request.method in {"POST", "PATCH", "PUT"} and request.content_length and request.get_json(silent=True) is None:
        return error("the request body must be JSON (Content-Type: application/json)", 422)
    details = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors(include_url=False)]
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return error(f"invalid request: {message}", 422, detail=details)


@api.get("/openapi.json", summary="This API's OpenAPI 3.1 document", doc_ui=False)
def openapi_json():
    return jsonify(merged(current_app.api_doc))  # + the plain blueprints' paths (assembly/openapi_plain.py)


@api.get("/csrf-token", summary="CSRF token for cookie-authenticated calls", responses={200: CsrfOut}, security=[])
def csrf_token():
    return {"csrf_token": generate_csrf()}


def _unknown(rest: str):
    """JSON 404 (or 405) for any other /api/ path, so API clients never get an HTML page."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PATCH"):
        try:
            endpoint, _ = adapter.match(f"/api/{rest}", method=method)
        except HTTPException:
            continue
        if endpoint != "api_unknown":
            allowed.append(method)
    if allowed:
        response = error(f"{request.method} is not allowed here; use {', '.join(allowed)}", 405)
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error(f"no API endpoint {request.method} /api/{rest}; see /api/openapi.json", 404)


def init_app(app: Flask) -> None:
    assert isinstance(app, OpenAPI), "the JSON API needs the flask-openapi3 app from create_app()"
    app.security_schemes = SECURITY_SCHEMES
    app.validation_error_callback = validation_error
    app.validation_error_model = ErrorOut
    app.register_api(api)
    app.add_url_rule(
        "/api/<path:rest>", "api_unknown", _unknown, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]
    )
