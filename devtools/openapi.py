"""The OpenAPI 3.1 document of the whole API, generated from every function's `router.routes`.

Nothing here is written by hand per route: a route registered in any `functions/<name>/main.py`
appears in the document with its path, parameters, request body, response and error shapes.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Mapping
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from typing import Any

import flask
import functions_framework
import pydantic
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from common.providers import queue
from common.web.http import Route, Router

REPO = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = REPO / "functions"
SCHEMA_REF = "#/components/schemas/{model}"
ModelUse = tuple[type[pydantic.BaseModel], JsonSchemaMode]
ModelSchemas = Mapping[tuple[Any, JsonSchemaMode], Any]
JSON = "application/json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every 4xx and 5xx answer of the API (`common.core.errors.ApiError.body`).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string"},
                "field": {"type": "string", "description": "The first invalid input field."},
                "details": {"description": "More about the error, e.g. every invalid field."},
                "request_id": {"type": "string", "description": "Set on 500: the logged id."},
            },
        }
    },
}

HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "The id of this request in the structured logs.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
    },
    "Allow": {
        "description": "The methods this path accepts.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
ERROR_HEADERS = {405: ("Allow",), 429: ("Retry-After",), 503: ("Retry-After",)}

# What the HTTP edge in `common.web.http` answers by itself: unknown path, wrong method, an
# unhandled error, the database down; and for routes with input, what validating it can raise.
EDGE_ERRORS = (404, 405, 500, 503)
BODY_ERRORS = (400, 413, 415, 422)
QUERY_ERRORS = (422,)
# What handlers raise from `common.core.errors` depending on who calls and when (not signed in,
# not theirs or cross-site, wrong order state, rate limited). A `Route` does not record which
# of them its handler raises, so every route documents all four.
CALLER_ERRORS = (401, 403, 409, 429)


def function_names() -> list[str]:
    """Every function in the repo: each folder of `functions/` with a `main.py`."""
    return sorted(source.parent.name for source in FUNCTIONS_DIR.glob("*/main.py"))


def load_function(name: str) -> tuple[flask.Flask, Router]:
    """The function's app, built the way Cloud Functions builds it, and its router."""
    source = FUNCTIONS_DIR / name / "main.py"
    # A function that prints at import must not corrupt `python -m devtools openapi` output.
    with contextlib.redirect_stdout(sys.stderr):
        app = functions_framework.create_app(name, str(source))
    # functions-framework registers each source it loads as the module `main`, replacing the
    # previous one; the router is read at once, before the next function is loaded.
    module = sys.modules["main"]
    if os.path.realpath(module.__file__ or "") != os.path.realpath(source):
        raise RuntimeError(f"functions-framework did not load {source} as `main`")
    router = getattr(module, "router", None)
    if not isinstance(router, Router):
        raise RuntimeError(f"{source} has no module-level `router = Router()`")
    return app, router


def openapi_path(path: str) -> str:
    """`/api/orders/<id>` (the router's syntax) as `/api/orders/{id}`."""
    return re.sub(r"<(\w+)>", r"{\1}", path)


def error_statuses(route: Route) -> list[int]:
    """The error statuses this route can answer with."""
    statuses = {*EDGE_ERRORS, *CALLER_ERRORS, *route.errors}
    if route.body is not None:
        statuses.update(BODY_ERRORS)
    if route.query is not None:
        statuses.update(QUERY_ERRORS)
    return sorted(statuses)


def _model_schemas(routes: list[tuple[str, Route]]) -> tuple[ModelSchemas, dict[str, Any]]:
    """One JSON schema per model use (input or output), with shared, de-duplicated `$defs`."""
    uses: dict[ModelUse, None] = {}
    for _, route in routes:
        models: tuple[tuple[type[pydantic.BaseModel] | None, JsonSchemaMode], ...] = (
            (route.body, "validation"),
            (route.query, "validation"),
            (route.response, "serialization"),
        )
        for model, mode in models:
            if model is not None:
                uses[(model, mode)] = None
    if not uses:
        return {}, {}
    schemas, top = models_json_schema(list(uses), ref_template=SCHEMA_REF)
    return schemas, top.get("$defs", {})


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    prefix = SCHEMA_REF.removesuffix("{model}")
    return components[ref.removeprefix(prefix)] if ref.startswith(prefix) else schema


def _parameters(route: Route, query_schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[^/]+$"},
        }
        for name in re.findall(r"<(\w+)>", route.path)
    ]
    if query_schema is not None:
        required = set(query_schema.get("required", ()))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": schema}
            for name, schema in query_schema.get("properties", {}).items()
        ]
    return parameters


def _response(description: str, schema: dict[str, Any] | None, headers: tuple[str, ...]) -> Any:
    response: dict[str, Any] = {
        "description": description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in headers},
    }
    if schema is not None:
        response["content"] = {JSON: {"schema": schema}}
    return response


def _operation(
    function: str,
    route: Route,
    schemas: ModelSchemas,
    components: dict[str, Any],
) -> dict[str, Any]:
    query = _resolve(schemas[(route.query, "validation")], components) if route.query else None
    responses = {
        str(route.status): _response(
            HTTPStatus(route.status).phrase,
            schemas[(route.response, "serialization")] if route.response else None,
            ("X-Request-Id",),
        )
    }
    error = {"$ref": SCHEMA_REF.format(model="Error")}
    for status in error_statuses(route):
        headers = ("X-Request-Id", *ERROR_HEADERS.get(status, ()))
        responses[str(status)] = _response(HTTPStatus(status).phrase, error, headers)
    operation: dict[str, Any] = {
        "operationId": route.handler.__name__,
        "summary": route.summary,
        "tags": [function],
        "parameters": _parameters(route, query),
        "responses": responses,
    }
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": schemas[(route.body, "validation")]}},
        }
    return operation


def build_document(routers: Mapping[str, Router] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of `routers` (default: every function's)."""
    if routers is None:
        routers = {name: load_function(name)[1] for name in function_names()}
    # Pub/Sub's push routes belong to the queue, at a function's own URL: not the shop's API.
    routes = [
        (function, route)
        for function, router in routers.items()
        for route in router.routes
        if not route.path.startswith(queue.PUSH_PREFIX)
    ]
    schemas, components = _model_schemas(routes)
    if "Error" in components:
        raise ValueError("a route model is named `Error`, which the document keeps for errors")
    paths: dict[str, dict[str, Any]] = {}
    owners: dict[str, str] = {}
    for function, route in routes:
        operation = _operation(function, route, schemas, components)
        operation_id = operation["operationId"]
        if operation_id in owners:
            raise ValueError(
                f"two routes have the handler name {operation_id!r} (functions "
                f"{owners[operation_id]} and {function}): operationIds must be unique"
            )
        owners[operation_id] = function
        paths.setdefault(openapi_path(route.path), {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Auren API",
            "version": metadata.version("auren"),
            "description": "Generated from each function's router by `python -m devtools openapi`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": {**components, "Error": ERROR_SCHEMA}, "headers": HEADERS},
    }
