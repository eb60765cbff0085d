"""Work done after the request that asks for it, delivered again until it is done: Google
Cloud Pub/Sub in production (`QUEUE_BACKEND=pubsub`, honours `PUBSUB_EMULATOR_HOST`), an
in-process worker locally.

    broker().publish(topic, message)     # a producer: a JSON object, at most MAX_MESSAGE_BYTES
    subscribe(topic, handler)            # the consuming function, at import
    receive_push(topic, authorization, body)   # its push route, at push_path(topic)

A topic is a short name in the code (`image-jobs`); its Pub/Sub topic id is
`PUBSUB_TOPIC_PREFIX` + that name, with one push subscription to the consuming function's
`push_path(topic)` (created by `python -m devtools.deploy --platform`). The push route answers
2xx once the handler returned (Pub/Sub acknowledges the message) and non-2xx when it raised
(Pub/Sub delivers it again, with backoff). Locally, the worker calls the handler in a thread
of the process and retries a raising handler LOCAL_ATTEMPTS times with backoff, then logs the
message as lost. Either way a message may be delivered more than once: handlers are
idempotent.

A push request is authenticated by its OIDC token (Pub/Sub signs it as
`PUBSUB_PUSH_SERVICE_ACCOUNT`, for `PUBSUB_PUSH_AUDIENCE`): required in production, so a
shopper who finds the function's own URL cannot post work to it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from common.core import errors
from common.core.lazy import Lazy
from common.infra import log
from common.infra.config import PUBSUB, ConfigError, settings

Handler = Callable[[dict[str, Any]], None]

MAX_MESSAGE_BYTES = 32 * 1024  # a message names its work; the work's data lives elsewhere
MAX_PUSH_BYTES = 2 * MAX_MESSAGE_BYTES  # the message in base64, in Pub/Sub's envelope
PUSH_PREFIX = "/_queue/"  # outside every Hosting rewrite: only the function's own URL has it
PUBLISH_TIMEOUT_SECONDS = PUBSUB.timeout_seconds  # common.infra.config.VENDOR_CALLS
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")

LOCAL_WORKERS = 2  # handlers running at once in one local process
LOCAL_CAPACITY = 64  # messages waiting or running in one local process, then 503
LOCAL_ATTEMPTS = 5
LOCAL_BACKOFF_SECONDS = 0.5  # doubled after each failed attempt

_handlers: dict[str, Handler] = {}
_handlers_changed = threading.Condition()


class QueueUnavailable(errors.ServiceUnavailable):
    code = "queue_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"Retry-After": "5"})


def subscribe(topic: str, handler: Handler) -> None:
    """Make `handler` the consumer of `topic` in this process (the consuming function calls
    this at import); its push route and the local worker both deliver to it."""
    with _handlers_changed:
        _handlers[topic] = handler
        _handlers_changed.notify_all()


def push_path(topic: str) -> str:
    """The path of the consuming function's push route for `topic`."""
    return PUSH_PREFIX + topic


def encode(message: dict[str, Any]) -> bytes:
    """The message as the queue carries it: compact JSON, at most MAX_MESSAGE_BYTES."""
    if not isinstance(message, dict):
        raise TypeError("a queue message is a JSON object")
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"a queue message is at most {MAX_MESSAGE_BYTES} bytes, not {len(data)}")
    return data


class Broker(Protocol):
    name: str

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        """Hand `message` to the queue of `topic`: once this returns, it will be delivered
        (at least once); raises QueueUnavailable (503) when the queue cannot take it."""
        ...


# --- production: Pub/Sub -----------------------------------------------------------------------


class PubSubBroker:
    name = "pubsub"

    def __init__(self, *, project: str, prefix: str) -> None:
        self.project = project
        self.prefix = prefix
        self.client: Lazy[Any] = Lazy(self._build_client)

    def _build_client(self) -> Any:
        from google.cloud.pubsub_v1 import PublisherClient

        return PublisherClient()

    def topic_path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{self.prefix}{topic}"

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        from google.api_core import exceptions

        data = encode(message)
        try:
            future = self.client().publish(
                self.topic_path(topic), data, timeout=PUBLISH_TIMEOUT_SECONDS
            )
            message_id = future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
        except (exceptions.GoogleAPIError, TimeoutError) as exc:
            log.warning("publish failed", topic=topic, detail=str(exc))
            raise QueueUnavailable("the work queue is unavailable, try again shortly") from None
        log.info("published", topic=topic, message_id=message_id)


def _push_claims(authorization: str | None) -> None:
    """Check the push request's OIDC token: signed by Google for PUBSUB_PUSH_AUDIENCE, as
    PUBSUB_PUSH_SERVICE_ACCOUNT. Without that account configured (the emulator sends no
    token) only a local instance accepts pushes."""
    cfg = settings()
    account = cfg.pubsub_push_service_account
    if account is None:
        if cfg.production:
            raise ConfigError("AUREN_ENV=production needs PUBSUB_PUSH_SERVICE_ACCOUNT for pushes")
        return
    if not cfg.pubsub_push_audience:
        raise ConfigError("PUBSUB_PUSH_SERVICE_ACCOUNT needs PUBSUB_PUSH_AUDIENCE")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise errors.Unauthorized("a push needs a bearer token", code="push_unauthenticated")
    from google.auth import exceptions as auth_errors
    from google.auth.transport import requests as auth_requests
    from google.oauth2 import id_token

    try:
        claims = id_token.verify_token(
            token,
            auth_requests.Request(),
            audience=cfg.pubsub_push_audience,
            certs_url=cfg.pubsub_push_certs_url or GOOGLE_CERTS_URL,
        )
    except (ValueError, auth_errors.GoogleAuthError) as exc:
        log.warning("push token refused", detail=str(exc))
        raise errors.Unauthorized(
            "the push token is not valid", code="push_unauthenticated"
        ) from None
    if (
        claims.get("iss") not in GOOGLE_ISSUERS
        or claims.get("email") != account
        or claims.get("email_verified") is not True
    ):
        raise errors.Forbidden("the push was not sent by our subscription", code="push_forbidden")


def _pushed_message(body: bytes) -> tuple[dict[str, Any], str]:
    """The message in Pub/Sub's push envelope `{"message": {"data", "messageId", ...},
    "subscription"}`, and its id."""
    bad = errors.BadRequest("not a Pub/Sub push envelope", code="bad_push")
    try:
        envelope = json.loads(body)
        pushed = envelope["message"]
        message = json.loads(base64.b64decode(pushed["data"], validate=True))
        message_id = str(pushed.get("messageId", ""))
    except (ValueError, TypeError, KeyError, binascii.Error):
        raise bad from None
    if not isinstance(message, dict):
        raise bad
    return message, message_id


def receive_push(topic: str, authorization: str | None, body: bytes) -> None:
    """A Pub/Sub push for `topic`, authenticated and decoded, given to its handler. Returns
    when the handler has done the work (answer 2xx); raises when it did not (a 401/403/400
    for a push that is not ours, or the handler's own error: Pub/Sub delivers it again)."""
    _push_claims(authorization)
    message, message_id = _pushed_message(body)
    handler = _handlers.get(topic)
    if handler is None:
        raise ConfigError(f"nothing in this function subscribes to {topic!r}")
    log.info("push received", topic=topic, message_id=message_id)
    handler(message)


# --- local: an in-process worker -----------------------------------------------------------------


@dataclass
class _Delivery:
    topic: str
    data: bytes
    attempt: int
    due: float


class LocalBroker:
    """A bounded queue and LOCAL_WORKERS threads per process, delivering each message to the
    handler subscribed to its topic (a message waits while none is)."""

    name = "local"

    def __init__(
        self,
        *,
        workers: int = LOCAL_WORKERS,
        capacity: int = LOCAL_CAPACITY,
        attempts: int = LOCAL_ATTEMPTS,
        backoff_seconds: float = LOCAL_BACKOFF_SECONDS,
    ) -> None:
        self.capacity = capacity
        self.attempts = attempts
        self.backoff_seconds = backoff_seconds
        self._workers = workers
        self._waiting: list[_Delivery] = []
        self._running = 0
        self._threads: list[threading.Thread] = []

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        data = encode(message)
        with _handlers_changed:
            if len(self._waiting) + self._running >= self.capacity:
                raise QueueUnavailable("too much work is waiting; try again shortly")
            self._waiting.append(_Delivery(topic, data, 1, time.monotonic()))
            while len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work, name="queue-worker", daemon=True)
                thread.start()
                self._threads.append(thread)
            _handlers_changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no message is waiting or running; False when `timeout` s passed first."""
        deadline = time.monotonic() + timeout
        with _handlers_changed:
            while self._waiting or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                _handlers_changed.wait(left)
        return True

    def _next(self) -> tuple[_Delivery, Handler]:
        """The first due message whose topic has a handler (waits for one); under the lock."""
        while True:
            now = time.monotonic()
            ready = [d for d in self._waiting if d.topic in _handlers]
            due = [d for d in ready if d.due <= now]
            if due:
                delivery = min(due, key=lambda d: d.due)
                self._waiting.remove(delivery)
                self._running += 1
                return delivery, _handlers[delivery.topic]
            soonest = min((d.due for d in ready), default=None)
            _handlers_changed.wait(None if soonest is None else soonest - now)

    def _work(self) -> None:
        while True:
            with _handlers_changed:
                delivery, handler = self._next()
            try:
                handler(json.loads(delivery.data))
            except Exception as exc:
                self._failed(delivery, exc)
            finally:
                with _handlers_changed:
                    self._running -= 1
                    _handlers_changed.notify_all()

    def _failed(self, delivery: _Delivery, exc: Exception) -> None:
        if delivery.attempt >= self.attempts:
            log.error(
                "queue message lost after its last attempt",
                topic=delivery.topic,
                attempts=delivery.attempt,
                detail=repr(exc),
            )
            return
        wait = self.backoff_seconds * 2 ** (delivery.attempt - 1)
        log.warning(
            "queue handler failed; retrying",
            topic=delivery.topic,
            attempt=delivery.attempt,
            retry_in_s=wait,
            detail=repr(exc),
        )
        with _handlers_changed:
            self._waiting.append(
                _Delivery(
                    delivery.topic, delivery.data, delivery.attempt + 1, time.monotonic() + wait
                )
            )


def build_broker() -> Broker:
    cfg = settings()
    if cfg.queue_backend == "pubsub":
        if not cfg.google_cloud_project:
            raise ConfigError("QUEUE_BACKEND=pubsub needs GOOGLE_CLOUD_PROJECT")
        return PubSubBroker(project=cfg.google_cloud_project, prefix=cfg.pubsub_topic_prefix)
    if cfg.queue_backend != "local":
        raise ConfigError(f"QUEUE_BACKEND must be pubsub or local, not {cfg.queue_backend!r}")
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs QUEUE_BACKEND=pubsub")
    return LocalBroker()


broker = Lazy(build_broker)  # the instance's queue
