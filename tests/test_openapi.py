"""The generated OpenAPI document: valid OpenAPI 3.1, complete, and true of the running API.

The document is built from the routers at test time, so every route added to any function is
checked here without editing this file.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import jsonschema_rs
import pydantic
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from common.providers import queue
from common.web.http import Call, Router
from devtools import hosting
from devtools.openapi import build_document, function_names, load_function, openapi_path

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Loaded at collection: schemathesis makes one test per documented operation. The apps reach
# the database only when a request needs it, after the `database_url` fixture has set it up.
FUNCTIONS = {name: load_function(name) for name in function_names()}
DOCUMENT = build_document({name: router for name, (_, router) in FUNCTIONS.items()})


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def assert_valid_openapi(document: dict[str, Any]) -> None:
    schemathesis.openapi.from_dict(document).validate()
    for name, schema in document["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    for ref in refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]


def test_document_is_valid_openapi_3_1() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    assert DOCUMENT["servers"] == [{"url": "/"}]
    assert_valid_openapi(DOCUMENT)


def test_document_has_every_route_of_every_function() -> None:
    expected = {
        (openapi_path(route.path), route.method.lower(), route.handler.__name__)
        for _, router in FUNCTIONS.values()
        for route in router.routes
        if not route.path.startswith(queue.PUSH_PREFIX)  # the queue's, not the shop's API
    }
    documented = {
        (path, method, operation["operationId"])
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
    }
    assert ("/api/catalog", "get", "get_catalog") in expected
    assert documented == expected


def test_hosting_rewrites_every_route_to_the_function_that_owns_it() -> None:
    site = hosting.load()
    for name, (_, router) in FUNCTIONS.items():
        for route in router.routes:
            if route.path.startswith(queue.PUSH_PREFIX):
                continue  # Pub/Sub's, at the function's own URL (tests/test_routing.py)
            rewrite = site.rewrite_for(re.sub(r"<\w+>", "x", route.path))
            target = rewrite.function if rewrite else None
            assert target == name, f"firebase.json sends {route.path} to {target}, not {name}"


class Note(pydantic.BaseModel):
    text: str = pydantic.Field(min_length=1)
    tags: list[str] = []


class Page(pydantic.BaseModel):
    limit: int = pydantic.Field(default=10, ge=1, le=50)


class Shelf(pydantic.BaseModel):
    notes: list[Note]


def test_body_query_and_path_parameters_are_documented() -> None:
    router = Router()

    @router.route("POST", "/api/shelves/<shelf_id>/notes", body=Note, response=Shelf, status=201)
    def add_note(call: Call) -> Shelf:
        """Add a note to a shelf."""
        return Shelf(notes=[call.body])

    @router.route("GET", "/api/shelves/<shelf_id>", query=Page, response=Shelf)
    def get_shelf(call: Call) -> Shelf:
        return Shelf(notes=[])

    document = build_document({"shelves": router})
    assert_valid_openapi(document)
    post = document["paths"]["/api/shelves/{shelf_id}/notes"]["post"]
    assert post["operationId"] == "add_note"
    assert post["summary"] == "Add a note to a shelf."
    assert [p["name"] for p in post["parameters"]] == ["shelf_id"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].startswith("#/components/schemas/Note")
    errors = {"401", "403", "404", "405", "409", "429", "500", "503"}
    assert set(post["responses"]) == {"201", "400", "413", "415", "422", *errors}
    get = document["paths"]["/api/shelves/{shelf_id}"]["get"]
    limit = next(p for p in get["parameters"] if p["in"] == "query")
    assert limit["name"] == "limit" and limit["required"] is False
    assert limit["schema"]["maximum"] == 50
    assert set(get["responses"]) == {"200", "422", *errors}


def test_handler_names_must_be_unique_operation_ids() -> None:
    first, second = Router(), Router()
    for router in (first, second):
        router.route("GET", f"/api/{id(router)}")(lambda call: {})
    with pytest.raises(ValueError, match="operationIds must be unique"):
        build_document({"first": first, "second": second})


@pytest.fixture(scope="module")
def api(database_url: str) -> WsgiApp:
    """The whole API as one WSGI app: each request goes where firebase.json rewrites it."""
    site = hosting.load()

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        rewrite = site.rewrite_for(path)
        assert rewrite and rewrite.function, f"firebase.json rewrites {path} to no function"
        app, _ = FUNCTIONS[rewrite.function]
        # An address of its own, so rate limits count these requests apart from other tests'.
        return app({**environ, "REMOTE_ADDR": "203.0.113.1"}, start_response)

    return dispatch


# A copy: schemathesis may add what it infers (links) to the document it is given.
schema = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
)
def test_api_answers_as_documented(case: schemathesis.Case, api: WsgiApp) -> None:
    case.call_and_validate(
        app=api,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            response_headers_conformance,
            unsupported_method,
        ],
    )
