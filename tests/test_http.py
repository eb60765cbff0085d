"""The shared HTTP edge: routing, validation, the JSON error shape, headers."""

import io
import json

import flask
import flask.testing
import pg8000.dbapi
import pydantic
import pytest

from common.core import errors
from common.web.http import Call, Router


class Greeting(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str = pydantic.Field(min_length=1, max_length=20)
    times: int = pydantic.Field(default=1, ge=1, le=3)


router = Router()


@router.route("POST", "/api/greet", body=Greeting, max_body=256)
def greet(call: Call) -> dict:
    return {"text": " ".join([f"hi {call.body.name}"] * call.body.times)}


@router.route("GET", "/api/things/<thing_id>")
def get_thing(call: Call) -> dict:
    if call.params["thing_id"] == "missing":
        raise errors.NotFound("no such thing", code="thing_not_found")
    return {"id": call.params["thing_id"]}


@router.route("POST", "/api/things/new")
def new_thing(call: Call) -> dict:
    return {"id": "new"}


@router.route("GET", "/api/crash")
def crash(call: Call) -> dict:
    raise RuntimeError("secret internals: password=hunter2")


@router.route("GET", "/api/db-down")
def db_down(call: Call) -> dict:
    raise pg8000.dbapi.InterfaceError("network error: ConnectionRefusedError")


@pytest.fixture
def client() -> flask.testing.FlaskClient:
    app = flask.Flask("test")
    app.add_url_rule(
        "/<path:path>",
        "all",
        lambda path: router(flask.request),
        methods=["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"],
    )
    return app.test_client()


def error_of(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


def test_valid_request_is_handled_with_security_headers(client) -> None:
    response = client.post("/api/greet", json={"name": "Ann", "times": 2})
    assert response.status_code == 200
    assert response.get_json() == {"text": "hi Ann hi Ann"}
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert len(response.headers["X-Request-Id"]) == 32


def test_path_parameters_and_typed_errors(client) -> None:
    assert client.get("/api/things/abc").get_json() == {"id": "abc"}
    missing = client.get("/api/things/missing")
    assert missing.status_code == 404
    assert error_of(missing) == {"code": "thing_not_found", "message": "no such thing"}


def test_unknown_path_is_a_json_404(client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_405_with_allow(client) -> None:
    response = client.delete("/api/greet")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert error_of(response)["code"] == "method_not_allowed"
    assert client.post("/api/things/x").headers["Allow"] == "GET, HEAD"


def test_a_fixed_path_wins_over_a_path_parameter(client) -> None:
    assert client.post("/api/things/new").get_json() == {"id": "new"}
    wrong = client.get("/api/things/new")
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


@pytest.mark.parametrize("body", ["NaN", '{"order_id": Infinity}', "\ufeff{}"])
def test_json_that_is_not_strict_json_is_a_400(orders_client, body: str) -> None:
    response = orders_client.post("/api/orders/draft", data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_deeply_nested_json_is_a_400_not_a_crash(orders_client) -> None:
    body = "[" * 20_000
    response = orders_client.post("/api/orders/draft", data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_paths_the_framework_cannot_route_get_the_json_404(orders_client) -> None:
    response = orders_client.get("/api/orders/a%0Ab")
    assert response.status_code == 404
    assert error_of(response)["code"] in ("not_found", "order_not_found")
    assert response.headers["X-Request-Id"]


def test_head_is_served_by_get_routes(client) -> None:
    response = client.head("/api/things/abc")
    assert response.status_code == 200
    assert response.data == b""


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        (
            {"data": "name=Ann", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
        ({"json": {"name": ""}}, 422, "validation_error"),
        ({"json": {"name": "Ann", "times": 9}}, 422, "validation_error"),
        ({"json": {"name": "Ann", "admin": True}}, 422, "validation_error"),
        ({"json": ["Ann"]}, 422, "validation_error"),
        ({"json": {"name": "A" * 400}}, 413, "payload_too_large"),
    ],
)
def test_bad_input_gets_the_right_status(client, kwargs, status, code) -> None:
    response = client.post("/api/greet", **kwargs)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_nul_characters_are_refused_before_they_reach_the_database(client) -> None:
    response = client.post("/api/greet", json={"name": "A\u0000n"})
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_characters"


def test_validation_error_names_the_field(client) -> None:
    error = error_of(client.post("/api/greet", json={"name": "Ann", "times": 0}))
    assert error["field"] == "times"
    assert error["details"][0]["field"] == "times"


def test_oversized_chunked_body_is_refused(client) -> None:
    body = io.BytesIO(b'{"name": "' + b"A" * 1000 + b'"}')
    response = client.post(
        "/api/greet",
        input_stream=body,
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_unhandled_error_is_500_with_request_id_and_no_internals(client, capsys) -> None:
    response = client.get("/api/crash")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal"
    assert error["request_id"] == response.headers["X-Request-Id"]
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    crash_entry = next(entry for entry in logged if entry["message"] == "unhandled error")
    assert crash_entry["severity"] == "ERROR"
    assert crash_entry["request_id"] == error["request_id"]


def test_database_down_is_503_so_callers_retry(client) -> None:
    response = client.get("/api/db-down")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert error_of(response)["code"] == "database_unavailable"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "http://127.0.0.1:8080"}, 200),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-origin"}, 200),
        ({}, 200),
    ],
)
def test_state_changing_requests_from_other_sites_are_refused(client, headers, status) -> None:
    response = client.post("/api/greet", json={"name": "Ann"}, headers=headers)
    assert response.status_code == status


def test_every_request_is_logged_as_one_json_line(client, capsys) -> None:
    client.get("/api/things/abc")
    lines = capsys.readouterr().out.splitlines()
    entry = json.loads(lines[-1])
    assert entry["severity"] == "INFO"
    assert entry["httpRequest"]["status"] == 200
    assert entry["httpRequest"]["requestUrl"] == "/api/things/abc"


def test_a_route_model_given_by_a_function_is_loaded_on_the_routes_first_call() -> None:
    loads: list[str] = []

    def greeting() -> type[pydantic.BaseModel]:
        loads.append("Greeting")
        return Greeting

    lazy = Router()

    @lazy.route("POST", "/api/greet", body=greeting)
    def greet_lazily(call: Call) -> dict:
        return {"name": call.body.name}

    app = flask.Flask(__name__)
    app.add_url_rule("/<path:path>", "api", lambda path: lazy(flask.request), methods=["POST"])
    client = app.test_client()
    assert loads == []  # registered without it
    assert client.post("/api/greet", json={"name": "Ada"}).get_json() == {"name": "Ada"}
    invalid = client.post("/api/greet", json={"name": ""})
    assert (invalid.status_code, error_of(invalid)["field"]) == (422, "name")
    assert loads == ["Greeting"]  # once, then kept
    assert lazy.routes[0].body is Greeting
