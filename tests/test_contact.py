"""The contact form through the `contact` function, against real Postgres: stored first, then
emailed to ops through the outbox (after the answer, by the queue's consumer, the `ops`
function); validation, the honeypot and the rate limit."""

from __future__ import annotations

import uuid
from email import policy
from email.parser import BytesParser
from typing import Any

import pytest

from common.core.text import normalize_text
from common.infra import config, db
from common.providers import mail, sheets
from common.shop import contact
from tests.conftest import function_app
from tests.test_outbox import FlakyMailer, drain
from tests.test_routing import load_main
from tests.test_webhook import effects_performed, mail_file

MESSAGE = {"name": "Ada Lovelace", "email": "ada@example.com", "message": "50 hoodies for a team?"}


@pytest.fixture(autouse=True)
def local_providers(
    database_url: str, monkeypatch: pytest.MonkeyPatch, worker_tries_once: None
) -> None:
    monkeypatch.setattr(sheets.sheet, "built", None)
    monkeypatch.setattr(mail.mailer, "built", None)


@pytest.fixture
def address() -> str:
    """A client address of its own, so rate limits of other tests do not count."""
    first, second = uuid.uuid4().hex, uuid.uuid4().hex
    return f"2001:db8::{first[:4]}:{first[4:8]}, 2001:db8:1::{second[:4]}:{second[4:8]}"


def post(body: dict[str, Any], address: str, **headers: str) -> Any:
    """Post the form, and wait for the email it handed to the queue."""
    response = (
        function_app("contact")
        .test_client()
        .post("/api/contact", json=body, headers={"X-Forwarded-For": address, **headers})
    )
    effects_performed()
    return response


def stored(pool: db.Pool, contact_id: str) -> Any:
    with pool.connect() as conn:
        return conn.execute(
            "SELECT name, email, message FROM contact_messages WHERE public_id = :i",
            {"i": contact_id},
        ).first()


def task(pool: db.Pool, contact_id: str) -> Any:
    with pool.connect() as conn:
        return conn.execute(
            "SELECT attempts, done_at, last_error FROM outbox WHERE dedupe_key = :k",
            {"k": f"contact_email:{contact_id}"},
        ).first()


def count_messages(pool: db.Pool) -> int:
    with pool.connect() as conn:
        return conn.execute("SELECT count(*) FROM contact_messages").scalar_one()


def test_a_message_is_stored_then_emailed_to_ops(pool, address) -> None:
    response = post(MESSAGE, address)
    assert response.status_code == 202
    contact_id = response.get_json()["id"]
    assert contact_id.startswith("msg_") and len(contact_id) >= 20
    assert tuple(stored(pool, contact_id)) == (
        MESSAGE["name"],
        MESSAGE["email"],
        MESSAGE["message"],
    )
    assert task(pool, contact_id).done_at is not None
    parsed = BytesParser(policy=policy.default).parsebytes(
        mail_file(f"contact_email:{contact_id}").read_bytes()
    )
    assert parsed["To"] == config.settings().ops_email
    assert parsed["Reply-To"] == MESSAGE["email"]
    assert parsed["Subject"] == "Contact form: Ada Lovelace"
    text_part = parsed.get_body(preferencelist=("plain",))
    assert text_part is not None and MESSAGE["message"] in text_part.get_content()


def test_a_message_is_stored_even_when_email_fails_and_sent_later(
    pool, address, monkeypatch
) -> None:
    flaky = FlakyMailer(failures=1)
    monkeypatch.setattr(mail.mailer, "built", flaky)
    response = post(MESSAGE, address)
    assert response.status_code == 202
    contact_id = response.get_json()["id"]
    assert stored(pool, contact_id) is not None
    pending = task(pool, contact_id)
    assert (pending.attempts, pending.done_at) == (1, None)
    assert pending.last_error == "MailError: SendGrid answered 500"
    with pool.transaction() as conn:
        conn.execute(
            "UPDATE outbox SET next_attempt_at = now() WHERE dedupe_key = :k",
            {"k": f"contact_email:{contact_id}"},
        )
    drain()
    drain()
    assert task(pool, contact_id).done_at is not None
    assert flaky.sent.count(f"contact_email:{contact_id}") == 1


def test_a_filled_honeypot_gets_a_202_and_nothing_is_stored_or_sent(pool, address) -> None:
    response = post({**MESSAGE, "website": "https://spam.example"}, address)
    assert response.status_code == 202
    contact_id = response.get_json()["id"]
    assert contact_id.startswith("msg_")
    assert stored(pool, contact_id) is None
    assert task(pool, contact_id) is None
    assert not mail_file(f"contact_email:{contact_id}").exists()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"email": "a@example.com", "message": "hi"}, "name", "validation_error"),
        ({**MESSAGE, "name": ""}, "name", "validation_error"),
        ({**MESSAGE, "name": " \u200b\t "}, "name", "validation_error"),
        ({**MESSAGE, "name": "n" * 201}, "name", "validation_error"),
        ({**MESSAGE, "email": "not-an-email"}, "email", "invalid_email"),
        ({**MESSAGE, "email": "a@b"}, "email", "invalid_email"),
        ({**MESSAGE, "email": "ada@example.com\r\nBcc: x@y.z"}, "email", "invalid_email"),
        ({**MESSAGE, "email": "a" * 310 + "@example.com"}, "email", "validation_error"),
        ({**MESSAGE, "message": ""}, "message", "validation_error"),
        ({**MESSAGE, "message": "\u200b\u200b"}, "message", "validation_error"),
        ({**MESSAGE, "message": "m" * 5001}, "message", "validation_error"),
        ({**MESSAGE, "message": 42}, "message", "validation_error"),
        ({**MESSAGE, "phone": "555"}, "phone", "validation_error"),
    ],
)
def test_invalid_messages_are_refused_naming_the_field(
    pool, address, body: dict[str, Any], field: str, code: str
) -> None:
    with pool.connect() as conn:
        before = conn.execute("SELECT count(*) FROM contact_messages").scalar_one()
    response = post(body, address)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["code"]) == (field, code)
    with pool.connect() as conn:
        assert conn.execute("SELECT count(*) FROM contact_messages").scalar_one() == before


def test_the_rate_limit_answers_429_with_retry_after(pool, address) -> None:
    limit = load_main("contact").CONTACT_LIMIT
    assert (limit.limit, limit.window_seconds) == (5, 600)
    answers = [post(MESSAGE, address).status_code for _ in range(limit.limit)]
    assert answers == [202] * limit.limit
    limited = post(MESSAGE, address)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= limit.window_seconds
    honeypot = post({**MESSAGE, "website": "x"}, address)
    assert honeypot.status_code == 429
    other = f"2001:db8:2::{uuid.uuid4().hex[:4]}"
    assert post(MESSAGE, other).status_code == 202


def test_a_cross_site_post_is_refused(pool, address) -> None:
    response = post(MESSAGE, address, Origin="https://evil.example")
    assert response.status_code == 403


def test_a_line_that_nfkc_lengthens_keeps_its_tail() -> None:
    assert normalize_text("Wait\u2026 what?\nok", keep_lines=True) == "Wait... what?\nok"


def test_messages_keep_their_line_breaks_and_lose_invisible_characters() -> None:
    raw = "Hi\u200b there,\r\n\r\n\r\n\r\nWe need\t 50  hoodies.\x00\n-- Ada "
    assert (
        normalize_text(raw, max_chars=contact.MAX_MESSAGE, keep_lines=True)
        == "Hi there,\n\nWe need 50 hoodies.\n-- Ada"
    )


# Each text field has one limit, met by what is stored: too long is a 422 naming the field.


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "\ufb03" * 100),  # 100 characters typed, 300 once "ﬃ" reads as "ffi"
        ("message", "\u2026" * 2000),  # 2,000 typed, 6,000 once "…" reads as "..."
        ("name", "n" * (contact.MAX_NAME + 1)),
        ("message", "m" * (contact.MAX_MESSAGE + 1)),
        ("email", "a" * 60 + "@" + "b" * (contact.MAX_EMAIL - 64) + ".com"),
    ],
)
def test_a_field_longer_than_its_limit_is_refused_never_cut(
    pool, address, field: str, value: str
) -> None:
    before = count_messages(pool)
    response = post({**MESSAGE, field: value}, address)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["field"] == field
    assert count_messages(pool) == before


def test_fields_at_their_limits_are_stored_whole(pool, address) -> None:
    local = "a" * 64
    domain = "b" * 60 + "." + "c" * 60 + "." + "d" * (contact.MAX_EMAIL - len(local) - 127)
    body = {
        "name": "N" * contact.MAX_NAME,
        "email": f"{local}@{domain}.com",
        "message": "M" * (contact.MAX_MESSAGE - 4) + " end",
    }
    assert len(body["email"]) == contact.MAX_EMAIL
    response = post(body, address)
    assert response.status_code == 202, response.get_json()
    assert tuple(stored(pool, response.get_json()["id"])) == (
        body["name"],
        body["email"],
        body["message"],
    )


# Email addresses: a real validator at the edge; nothing that could break a header gets in.

HOSTILE_EMAILS = [
    "ada@example.com\r\nBcc: victim@example.org",
    "ada@example.com\nBcc: victim@example.org",
    "ada@example.com\r\n",
    "ada@example.com\n",
    "ada\r@example.com",
    "ada\x01@example.com",
    "ada@exam\x7fple.com",
    "ada@example.com\x1b",
    "ada\x85@example.com",
    "ada\u2028@example.com",
    "ada\u200b@example.com",
    "Ada <ada@example.com>",
    "ada@example.com, victim@example.org",
    '"ada lovelace"@example.com',
    "ada@[127.0.0.1]",
    "a..da@example.com",
    ".ada@example.com",
    "ada@example..com",
    "ada@-example.com",
    "ada@localhost",
    "ada@example.invalid",
    "a" * 65 + "@example.com",
    "ada@" + "b" * 64 + ".com",
]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
def test_an_address_that_is_not_one_is_refused_and_never_reaches_reply_to(
    pool, address, email: str
) -> None:
    before = count_messages(pool)
    response = post({**MESSAGE, "email": email}, address)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["field"], error["code"]) == ("email", "invalid_email")
    assert count_messages(pool) == before


def test_a_nul_in_the_address_is_refused_before_anything_is_stored(pool, address) -> None:
    before = count_messages(pool)
    response = post({**MESSAGE, "email": "ada@example.com\x00Bcc: x@y.z"}, address)
    assert response.status_code == 422
    assert count_messages(pool) == before


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace+shop@Example.COM ", "Ada.Lovelace+shop@example.com"),
        ("ada@m\u00fcnchen.de", "ada@xn--mnchen-3ya.de"),
    ],
)
def test_valid_addresses_are_kept_in_their_plain_form(pool, address, typed, kept) -> None:
    response = post({**MESSAGE, "email": typed}, address)
    assert response.status_code == 202, response.get_json()
    contact_id = response.get_json()["id"]
    assert stored(pool, contact_id).email == kept
    parsed = BytesParser(policy=policy.default).parsebytes(
        mail_file(f"contact_email:{contact_id}").read_bytes()
    )
    assert parsed["Reply-To"] == kept


def test_a_line_that_normalising_lengthens_keeps_its_end(pool, address) -> None:
    response = post({**MESSAGE, "message": "Wait\u2026 what?\n50 hoodies \ufb03"}, address)
    assert response.status_code == 202
    assert stored(pool, response.get_json()["id"]).message == "Wait... what?\n50 hoodies ffi"
