"""HTTP plumbing shared by every function: routing on the full `/api/...` path, request
validation with pydantic, the JSON error shape, request ids, security and cache headers.

A function's `main.py` builds a `Router`, registers its routes and hands each request to it:

    router = Router()

    @router.route("GET", "/api/catalog", response=Catalog, cache=PUBLIC_CACHE)
    def get_catalog(call: Call) -> Catalog: ...

    @functions_framework.http
    def orders(request: flask.Request) -> flask.Response:
        return router(request)
"""

from __future__ import annotations

import functools
import html
import json
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import flask
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.routing import Map, RequestRedirect, Rule

from common.core import errors, jsondoc
from common.infra import log
from common.infra.config import settings
from common.web import ratelimits
from common.web.ratelimits import RateLimit

# pydantic loads with the first model a function defines or its first request validates: the
# edge itself needs it only then (a function may answer plain JSON without it).
if TYPE_CHECKING:
    import pydantic

NO_STORE = "private, no-store"
PUBLIC_CACHE = "public, max-age=60, s-maxage=300"
DEFAULT_MAX_BODY = 64 * 1024
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Cross-Origin-Opener-Policy": "same-origin",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"

Handler = Callable[["Call"], Any]

# A route's model: the class, or a function that imports and returns it on the route's first
# call. A function gives its routes' models that way when they live in a module it does not
# otherwise need at start, so that it starts without them (issue 16); `make openapi` and
# tests/test_openapi.py load every one.
type ModelRef = type[pydantic.BaseModel] | Callable[[], type[pydantic.BaseModel]]


@functools.cache
def resolve(ref: ModelRef) -> type[pydantic.BaseModel]:
    """The model `ref` is or returns."""
    return ref if isinstance(ref, type) else ref()


@dataclass
class Call:
    """One request as a handler sees it: the raw request, path parameters, validated input."""

    request: flask.Request
    params: dict[str, str]
    body: Any = None
    query: Any = None
    after: list[Callable[[flask.Response], None]] = field(default_factory=list)

    def on_response(self, hook: Callable[[flask.Response], None]) -> None:
        """Run `hook` on the response before it is sent (e.g. to set a cookie)."""
        self.after.append(hook)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    body_ref: ModelRef | None
    query_ref: ModelRef | None
    response_ref: ModelRef | None
    status: int
    summary: str
    cache: str
    max_body: int
    errors: tuple[int, ...]
    check_origin: bool
    rate_limit: RateLimit | None

    @property
    def body(self) -> type[pydantic.BaseModel] | None:
        return None if self.body_ref is None else resolve(self.body_ref)

    @property
    def query(self) -> type[pydantic.BaseModel] | None:
        return None if self.query_ref is None else resolve(self.query_ref)

    @property
    def response(self) -> type[pydantic.BaseModel] | None:
        return None if self.response_ref is None else resolve(self.response_ref)


def _validation_details(exc: pydantic.ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def validate(model: type[pydantic.BaseModel], data: Any, *, where: str = "body") -> Any:
    """Validate `data` into `model`, or raise a 422 that names the first wrong field."""
    import pydantic

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        details = _validation_details(exc)
        first = details[0]
        raise errors.Unprocessable(
            f"{where}: {first['field']}: {first['message']}", field=first["field"], details=details
        ) from None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nul(data: Any, where: str) -> None:
    """No text we store may hold a NUL character (Postgres text cannot)."""
    if _has_nul(data):
        raise errors.Unprocessable(
            f"the {where} holds a NUL character", code="invalid_characters", field=where
        )


def parse_json(raw: bytes | str, where: str = "body") -> Any:
    """The JSON in `raw` (empty: null), or a 400; no string in it may hold a NUL (a 422)."""
    data = jsondoc.parse(raw, where)
    _refuse_nul(data, where)
    return data


def json_response(data: Any, status: int = 200) -> flask.Response:
    """`data` (a model, or plain JSON) as compact UTF-8 JSON; a model is serialized by
    pydantic in one pass (a fifth of the time of dumping it to a dict, then by `json`)."""
    if hasattr(data, "model_dump_json"):  # a pydantic model
        body = data.model_dump_json()
    else:
        body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return flask.Response(body, status=status, mimetype="application/json")


PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'"


def html_page(title: str, body: str, status: int = 200, head: str = "") -> flask.Response:
    """A minimal page of the site's look for the few routes a browser lands on directly.

    `body` and `head` are trusted HTML; put any user-visible value through `html.escape`.
    """
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)} · Auren</title><link rel="stylesheet" href="/css/site.css">'
        f'{head}</head><body><main class="container page-message">{body}</main></body></html>'
    )
    response = flask.Response(page, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def read_body(request: flask.Request, limit: int) -> bytes:
    """The raw body, or a 413 when it is longer than `limit` (chunked bodies included)."""
    if request.content_length is not None and request.content_length > limit:
        # Refused before the stream is opened: a stream opened over its limit fails for every
        # later reader too (functions-framework reads the body again after the response).
        raise errors.PayloadTooLarge(f"the body is larger than {limit} bytes")
    request.max_content_length = limit
    data = request.get_data(cache=True)
    if len(data) >= limit and request.stream.read(1):
        raise errors.PayloadTooLarge(f"the body is larger than {limit} bytes")
    return data


def same_site(request: flask.Request) -> bool:
    """True unless the browser says the request comes from another site.

    Browsers send `Origin` on every state-changing request; clients that are not browsers
    (curl, Stripe, Cloud Scheduler) send neither header and cannot carry a shopper's cookie
    into a forged request.
    """
    origin = request.headers.get("Origin")
    if origin is not None:
        site = urlsplit(settings().site_url)
        sent = urlsplit(origin)
        return (sent.scheme, sent.netloc) == (site.scheme, site.netloc)
    fetch_site = request.headers.get("Sec-Fetch-Site")
    return fetch_site in (None, "same-origin", "none")


class Router:
    """Routes requests on their full path to handlers; maps errors to JSON in one place."""

    def __init__(self, *, check_origin: bool = True) -> None:
        self.routes: list[Route] = []
        self.check_origin = check_origin
        # Paths are matched by werkzeug's routing (`<name>`: one segment); no redirects: `//`
        # and a trailing `/` are simply not found.
        self._map = Map(merge_slashes=False, redirect_defaults=False)
        if flask.has_app_context():
            # Built while functions-framework loads main.py: paths its catch-all URL rule
            # cannot match (an encoded newline, say) get our JSON 404 too, not Flask's HTML.
            flask.current_app.register_error_handler(NotFound, lambda _: self(flask.request))

    def route(
        self,
        method: str,
        path: str,
        *,
        body: ModelRef | None = None,
        query: ModelRef | None = None,
        response: ModelRef | None = None,
        status: int = 200,
        summary: str = "",
        cache: str = NO_STORE,
        max_body: int = DEFAULT_MAX_BODY,
        errors: tuple[int, ...] = (),
        rate_limit: RateLimit | None = None,
    ) -> Callable[[Handler], Handler]:
        """Register a handler. `errors` lists the statuses it raises beyond what the edge
        answers by itself (documented in the OpenAPI document); `rate_limit` is checked for
        each call before its input is read."""

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method=method,
                    path=path,
                    handler=handler,
                    body_ref=body,
                    query_ref=query,
                    response_ref=response,
                    status=status,
                    summary=summary or (handler.__doc__ or "").strip().split("\n")[0],
                    cache=cache,
                    max_body=max_body,
                    errors=errors,
                    check_origin=self.check_origin,
                    rate_limit=rate_limit,
                )
            )
            self._map.add(Rule(path, methods=[method], endpoint=len(self.routes) - 1))
            return handler

        return register

    def _match(self, request: flask.Request) -> tuple[Route, dict[str, str]]:
        adapter = self._map.bind("", path_info=request.path)
        try:
            # A fixed path (/api/orders/draft) is that route's alone: other methods on it are a
            # 405, never a match of a parameter (/api/orders/<order_id>).
            fixed = [r.method for r in self.routes if r.path == request.path]
            method = "GET" if request.method == "HEAD" else request.method
            if fixed and method not in fixed:
                raise WerkzeugMethodNotAllowed(valid_methods=fixed + ["HEAD"] * ("GET" in fixed))
            index, params = adapter.match(method=request.method)
        except WerkzeugMethodNotAllowed as exc:
            raise errors.MethodNotAllowed(
                f"{request.method} is not allowed here",
                headers={"Allow": ", ".join(sorted(exc.valid_methods or ()))},
            ) from None
        except (NotFound, RequestRedirect):
            raise errors.NotFound(f"no route for {request.path}") from None
        return self.routes[index], dict(params)

    def _read_input(self, route: Route, request: flask.Request, call: Call) -> None:
        if request.content_length is not None and request.content_length > route.max_body:
            raise errors.PayloadTooLarge(f"the body is larger than {route.max_body} bytes")
        request.max_content_length = route.max_body
        if route.query is not None:
            query = request.args.to_dict()
            _refuse_nul(query, "query")
            call.query = validate(route.query, query, where="query")
        if route.body is None:
            return
        if request.mimetype != "application/json":
            raise errors.UnsupportedMediaType("send the body as application/json")
        call.body = validate(route.body, parse_json(read_body(request, route.max_body)))

    def _handle(self, request: flask.Request) -> flask.Response:
        route, params = self._match(request)
        if route.check_origin and request.method in STATE_CHANGING and not same_site(request):
            raise errors.Forbidden("cross-site request refused", code="cross_site_request")
        if route.rate_limit is not None:
            ratelimits.check(route.rate_limit, request)
        call = Call(request=request, params=params)
        self._read_input(route, request, call)
        result = route.handler(call)
        response = (
            result if isinstance(result, flask.Response) else json_response(result, route.status)
        )
        response.headers.setdefault("Cache-Control", route.cache)
        for hook in call.after:
            hook(response)
        return response

    def __call__(self, request: flask.Request) -> flask.Response:
        started = time.perf_counter()
        rid = uuid.uuid4().hex
        log.request_id.set(rid)
        trace_header = request.headers.get("X-Cloud-Trace-Context", "")
        project = settings().google_cloud_project
        if trace_header and project:
            log.trace.set(f"projects/{project}/traces/{trace_header.split('/')[0]}")
        try:
            response = self._handle(request)
        except RequestEntityTooLarge:
            response = _error_response(errors.PayloadTooLarge("the body is too large"))
        except errors.ApiError as exc:
            response = _error_response(exc)
        except Exception as exc:
            response = _unhandled(exc, rid)
        defaults = {**SECURITY_HEADERS, "Cache-Control": NO_STORE}
        if response.mimetype == "application/json":
            defaults["Content-Security-Policy"] = API_CSP
        _add_missing(response, defaults)
        response.headers["X-Request-Id"] = rid
        log.info(
            f"{request.method} {request.path} {response.status_code}",
            httpRequest={
                "requestMethod": request.method,
                "requestUrl": request.path,
                "status": response.status_code,
                "latency": f"{time.perf_counter() - started:.6f}s",
            },
        )
        return response


def _add_missing(response: flask.Response, headers: dict[str, str]) -> None:
    """Add each of `headers` the response does not have yet, in one pass over its headers
    (werkzeug's `setdefault` looks each one up, raising and catching a KeyError when it is
    missing: a tenth of a warm order read's time in the router)."""
    present = {name.lower() for name, _ in response.headers.items()}
    for name, value in headers.items():
        if name.lower() not in present:
            response.headers.add(name, value)


def _error_response(exc: errors.ApiError) -> flask.Response:
    response = json_response(exc.body(), exc.status)
    response.headers.update(exc.headers)
    response.headers["Cache-Control"] = NO_STORE
    return response


def _database_unavailable(exc: Exception) -> bool:
    """Unreachable, or past one of its deadlines (`common.infra.db.unavailable`)."""
    from common.infra import db

    return db.unavailable(exc)


def _unhandled(exc: Exception, rid: str) -> flask.Response:
    stack = "".join(traceback.format_exception(exc))
    if _database_unavailable(exc):
        log.error("database unavailable", stack_trace=stack)
        return _error_response(
            errors.ServiceUnavailable(
                "the database is unavailable, try again shortly",
                code="database_unavailable",
                headers={"Retry-After": "5"},
            )
        )
    log.error("unhandled error", stack_trace=stack)
    body = {
        "error": {
            "code": "internal",
            "message": "something went wrong on our side",
            "request_id": rid,
        }
    }
    return json_response(body, 500)
