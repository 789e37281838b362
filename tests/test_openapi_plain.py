"""Every /api/ route of the plain Flask blueprints (the fine-tuning API) is in /api/openapi.json.

flask-openapi3 documents only its own APIBlueprints; assembly/openapi_plain.py describes the rest
by hand. This walks app.url_map, so a plain /api/ route added without a description fails here.
"""

from __future__ import annotations

import re

from flask_openapi3 import APIBlueprint

PLAIN_BLUEPRINTS = {"adapters_api"}


def openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def plain_api_rules(app) -> list[tuple[str, str, str]]:
    """(path, method, endpoint) of every /api/ rule whose blueprint is a plain Flask Blueprint."""
    out = []
    for rule in app.url_map.iter_rules():
        bp_name = rule.endpoint.split(".")[0] if "." in rule.endpoint else None
        bp = app.blueprints.get(bp_name) if bp_name else None
        if not rule.rule.startswith("/api/") or bp is None or isinstance(bp, APIBlueprint):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((openapi_path(rule.rule), method.lower(), rule.endpoint))
    return out


def test_every_plain_api_route_is_documented_with_its_responses(app, client):
    rules = plain_api_rules(app)
    blueprints = {e.split(".")[0] for _, _, e in rules}
    assert blueprints == PLAIN_BLUEPRINTS  # a new plain /api/ blueprint: describe it and list it here
    assert len(rules) >= 7  # adapters: list all, list, show; training runs: start, list, show, action
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path, method, endpoint in rules:
        op = paths.get(path, {}).get(method)
        assert op is not None, f"{method.upper()} {path} ({endpoint}) is missing from /api/openapi.json"
        codes = set(op["responses"])
        assert codes & {"200", "201", "202"}, (path, method, codes)
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert names == set(re.findall(r"{([a-z_]+)}", path)), (path, method, names)
        if names:
            assert "404" in codes, (path, method)
        if "training-runs" in path:  # the owner's routes: login and ownership refusals
            assert {"401", "403"} <= codes, (path, method, codes)
        for code in codes - {"200", "201", "202"}:
            assert op["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_documented_start_body_and_refusals_match_the_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert "ErrorOut" in spec["components"]["schemas"]
    op = spec["paths"]["/api/assemblies/{slug}/training-runs"]["post"]
    props = op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert set(props) == {"version", "base_model", "method", "steps", "name", "parent", "private", "critique", "taigi"}
    assert {"202", "409", "422"} <= set(op["responses"])
    # The documented refusal is the real one: no login answers 401 as JSON.
    r = client.post("/api/assemblies/town/training-runs", json={})
    assert r.status_code == 401 and "error" in r.get_json()
