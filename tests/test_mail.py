"""Email: the real sendgrid SDK against a local stub of the SendGrid v3 API (what it sends, and
failures during fulfilment), the local .eml mailer, the confirmation's content, /_dev/mail."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from common.infra import config, db
from common.providers import mail, sheets
from common.shop import pricing
from devtools import dev_mail
from tests.test_checkout import HOODIE_ITEM, TEE_ITEM, pending_order
from tests.test_outbox import drain, make_due
from tests.test_webhook import event, mail_file, outbox_tasks, send, session_object

API_KEY = "SG.test-key.secret-part"


@dataclass
class SendGridStub:
    """`POST /v3/mail/send`: answers `failures` first (500, 429 ...), then 202."""

    failures: list[int] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            if self.failures:
                status = self.failures.pop(0)
                body = {"errors": [{"message": "try again later"}]}
                return Response(json.dumps(body), status=status, content_type="application/json")
            self.accepted.append(json.loads(request.get_data()))
            return Response("", status=202)

    def subjects(self) -> list[str]:
        return [message["subject"] for message in self.accepted]


@pytest.fixture
def sendgrid(httpserver: HTTPServer) -> SendGridStub:
    stub = SendGridStub()
    httpserver.expect_request("/v3/mail/send", method="POST").respond_with_handler(stub)
    return stub


@pytest.fixture
def mailer(httpserver: HTTPServer, sendgrid: SendGridStub) -> mail.SendGridMailer:
    return mail.SendGridMailer(API_KEY, host=httpserver.url_for("").rstrip("/"))


def part(message: Any, subtype: str) -> str:
    body = message.get_body(preferencelist=(subtype,))
    assert body is not None, f"no text/{subtype} part"
    return str(body.get_content())


@pytest.fixture(autouse=True)
def local_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


MESSAGE = mail.Message(
    to="ada@example.com",
    subject="Your Auren order is confirmed (ord_1)",
    text="Thank you.\n",
    html="<p>Thank you.</p>",
    reply_to="ops@example.com",
)


def test_the_sendgrid_sdk_sends_text_and_html_with_our_sender(
    mailer: mail.SendGridMailer, sendgrid: SendGridStub, database_url: str
) -> None:
    mailer.send(MESSAGE, "order_confirmation_email:ord_1")
    [request] = sendgrid.requests
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    [sent] = sendgrid.accepted
    assert sent["from"] == {"email": "orders@auren.shop", "name": "Auren"}
    assert sent["personalizations"] == [{"to": [{"email": "ada@example.com"}]}]
    assert sent["subject"] == MESSAGE.subject
    assert sent["content"] == [
        {"type": "text/plain", "value": MESSAGE.text},
        {"type": "text/html", "value": MESSAGE.html},
    ]
    assert sent["reply_to"] == {"email": "ops@example.com"}
    assert sent["custom_args"] == {"dedupe_key": "order_confirmation_email:ord_1"}
    assert "template_id" not in sent


def test_a_dynamic_template_is_used_when_configured(
    mailer: mail.SendGridMailer, sendgrid: SendGridStub, database_url: str
) -> None:
    templated = mail.Message(
        **{**MESSAGE.__dict__, "template_id": "d-123", "template_data": {"order_id": "ord_1"}}
    )
    mailer.send(templated, "k")
    [sent] = sendgrid.accepted
    assert sent["template_id"] == "d-123"
    assert sent["personalizations"][0]["dynamic_template_data"] == {"order_id": "ord_1"}


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_sendgrid_refusals_are_mail_errors_without_the_key(
    mailer: mail.SendGridMailer, sendgrid: SendGridStub, database_url: str, status: int
) -> None:
    sendgrid.failures = [status]
    with pytest.raises(mail.MailError, match=f"SendGrid answered {status}") as raised:
        mailer.send(MESSAGE, "k")
    assert API_KEY not in str(raised.value)


def test_sendgrid_unreachable_is_a_mail_error(database_url: str) -> None:
    unreachable = mail.SendGridMailer(API_KEY, host="http://127.0.0.1:9")
    with pytest.raises(mail.MailError, match="unreachable"):
        unreachable.send(MESSAGE, "k")


@pytest.mark.parametrize("failures", [[500], [429], [500, 429, 500, 500]])
def test_sendgrid_errors_during_fulfilment_are_retried_until_sent_once(
    pool: db.Pool,
    monkeypatch,
    mailer: mail.SendGridMailer,
    sendgrid: SendGridStub,
    failures: list[int],
    worker_tries_once: None,
) -> None:
    monkeypatch.setattr(mail.mailer, "built", mailer)
    sendgrid.failures = list(failures)
    pending = pending_order(pool)
    assert send(event("checkout.session.completed", session_object(pending))).status_code == 200
    confirmation = f"order_confirmation_email:{pending.order_id}"
    assert outbox_tasks(pool, pending.order_id)[confirmation].done_at is None
    for _ in range(len(failures)):
        make_due(pool, pending.order_id)
        drain()
    tasks = outbox_tasks(pool, pending.order_id)
    assert all(task.done_at is not None for task in tasks.values())
    to_customer = [m for m in sendgrid.accepted if m["custom_args"]["dedupe_key"] == confirmation]
    assert len(to_customer) == 1
    assert to_customer[0]["personalizations"][0]["to"] == [{"email": pending.shopper.email}]
    to_ops = [m for m in sendgrid.accepted if m["custom_args"]["dedupe_key"].startswith("ops_")]
    assert len(to_ops) == 1
    assert to_ops[0]["personalizations"][0]["to"] == [{"email": config.settings().ops_email}]


def test_the_local_mailer_writes_one_rfc_5322_message_per_key(tmp_path, database_url) -> None:
    local = mail.LocalMailer(tmp_path / "mail")
    local.send(MESSAGE, "order_confirmation_email:ord_1")
    local.send(
        mail.Message(**{**MESSAGE.__dict__, "subject": "again"}), "order_confirmation_email:ord_1"
    )
    [file] = (tmp_path / "mail").iterdir()
    assert file.name == "order_confirmation_email_ord_1.eml"
    parsed = BytesParser(policy=policy.default).parsebytes(file.read_bytes())
    assert parsed["To"] == "ada@example.com"
    assert parsed["From"] == config.settings().mail_from
    assert parsed["Subject"] == MESSAGE.subject
    assert parsed["Reply-To"] == "ops@example.com"
    assert parsed["Message-ID"] and parsed["Date"]
    assert parsed.get_content_type() == "multipart/alternative"
    assert part(parsed, "plain") == MESSAGE.text
    assert part(parsed, "html").strip() == MESSAGE.html


def test_the_confirmation_shows_items_sizes_totals_thumbnails_and_the_order_link(
    pool: db.Pool,
) -> None:
    pending = pending_order(pool, [TEE_ITEM, HOODIE_ITEM])
    send(event("checkout.session.completed", session_object(pending)))
    file = mail_file(f"order_confirmation_email:{pending.order_id}")
    parsed = BytesParser(policy=policy.default).parsebytes(file.read_bytes())
    assert parsed["To"] == pending.shopper.email
    assert re.fullmatch(r"Your Auren order AUR-\d+ is confirmed", parsed["Subject"])
    text_part = part(parsed, "plain")
    html_part = part(parsed, "html")
    link = f"{config.settings().site_url}/confirmation?order={pending.order_id}"
    total = pricing.money(pending.amount_cents, "usd")
    for body in (text_part, html_part):
        assert "Classic Tee" in body and "Heavy Hoodie" in body
        assert "S:4 M:10 L:5" in body and "M:20 2XL:3 3XL:1" in body
        assert total in body
        assert link in body
    assert html_part.count('<img src="http') == 2


def test_money_is_formatted_from_integer_cents() -> None:
    assert pricing.money(123456, "usd") == "$1,234.56"
    assert pricing.money(5, "eur") == "€0.05"
    assert pricing.money(100000, "chf") == "1,000.00 CHF"


def test_dev_mail_lists_and_shows_the_local_messages(pool: db.Pool) -> None:
    pending = pending_order(pool)
    send(event("checkout.session.completed", session_object(pending)))
    name = mail.eml_name(f"order_confirmation_email:{pending.order_id}")
    index = dev_mail.mail_index(Request.from_values("/_dev/mail"))
    assert index.status_code == 200
    assert f'href="/_dev/mail/{name}"' in index.get_data(as_text=True)
    page = dev_mail.mail_message(Request.from_values(f"/_dev/mail/{name}"), name)
    assert page.status_code == 200
    assert f'src="/_dev/mail/{name}/html"' in page.get_data(as_text=True)
    assert "frame-src 'self'" in page.headers["Content-Security-Policy"]
    html_part = dev_mail.mail_html(Request.from_values(f"/_dev/mail/{name}/html"), name)
    assert pending.order_id in html_part.get_data(as_text=True)
    assert "sandbox" in html_part.headers["Content-Security-Policy"]
    for bad in ("../secrets.json", "..", "x.txt", "nope.eml"):
        assert dev_mail.mail_message(Request.from_values("/"), bad).status_code == 404
        assert dev_mail.mail_html(Request.from_values("/"), bad).status_code == 404


def test_production_refuses_the_local_mailer(monkeypatch) -> None:
    production = config.load(
        {
            "AUREN_ENV": "production",
            "SITE_URL": "https://auren.example",
            "SESSION_SECRET": "s" * 32,
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "DATABASE_URL": "postgresql://x@127.0.0.1/x",
        }
    )
    monkeypatch.setattr(mail, "settings", lambda: production)
    with pytest.raises(config.ConfigError, match="SENDGRID_API_KEY"):
        mail.build_mailer()
