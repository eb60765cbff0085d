"""`AUREN_VENDORS=realistic`: the local stand-ins take a vendor's time and sometimes answer 429
or 500, and our adapters' retries (the SDKs' own, or the outbox's) carry the call through.

The latencies are divided by AUREN_VENDORS_SPEED, so these tests wait milliseconds; the SDKs'
own backoff between attempts is real time (half a second for OpenAI, one to two for Vertex).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from common.infra import config
from common.providers import assistant, checkout, imagegen, mail, sheets
from common.providers.local import vendors
from common.providers.local.assistant import LocalAssistant
from common.shop import size_assistant
from common.studio import images
from common.studio.briefs import Brief
from common.studio.prompts import ArtworkRequest
from tests import realistic as realistic_mode
from tests.test_chat_local import REQUESTS
from tests.test_generate_image_api import client, generate, job

SPEED = "1000"


def _reset() -> None:
    realistic_mode.forget()


@pytest.fixture
def realistic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """Realistic stand-ins, 1000 times faster, failing a tenth of the calls (seed 0)."""
    monkeypatch.setenv("AUREN_VENDORS", "realistic")
    monkeypatch.setenv("AUREN_VENDORS_SPEED", SPEED)
    monkeypatch.setenv("AUREN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    _reset()
    yield monkeypatch
    monkeypatch.undo()
    _reset()


def failing_first(vendor: str, rate: float = 0.5) -> int:
    """A seed whose first call to `vendor` fails and whose second succeeds."""
    for seed in range(1000):
        weather = vendors.Weather(speed=1, failure_rate=rate, seed=seed, sleep=lambda _: None)
        if weather.answer(vendor) is not None and weather.answer(vendor) is None:
            return seed
    raise AssertionError("no such seed")


def with_seed(monkeypatch: pytest.MonkeyPatch, seed: int, rate: float = 0.5) -> vendors.Weather:
    monkeypatch.setenv("AUREN_VENDORS_SEED", str(seed))
    monkeypatch.setenv("AUREN_VENDORS_FAILURES", str(rate))
    _reset()
    weather = vendors.weather()
    assert weather is not None
    return weather


# --- the model -----------------------------------------------------------------------------


def test_latency_is_each_vendors_and_scaled_by_the_speed() -> None:
    slept: list[float] = []
    weather = vendors.Weather(speed=10, failure_rate=0, seed=1, sleep=slept.append)
    for vendor, (low, high) in vendors.LATENCY.items():
        slept.clear()
        for _ in range(50):
            assert weather.answer(vendor) is None
        assert all(low / 10 <= seconds <= high / 10 for seconds in slept), vendor
        assert max(slept) - min(slept) > (high - low) / 10 / 2, "spread over the range"
    assert vendors.LATENCY["vertex"] == (8.0, 25.0) and vendors.LATENCY["openai"] == (1.0, 6.0)
    assert vendors.LATENCY["sendgrid"] == vendors.LATENCY["sheets"] == (0.2, 2.0)


def test_failures_follow_the_rate_and_the_seed() -> None:
    def run(seed: int) -> list[int | None]:
        weather = vendors.Weather(speed=1, failure_rate=0.2, seed=seed, sleep=lambda _: None)
        return [weather.answer("openai") for _ in range(500)]

    first = run(7)
    assert first == run(7), "the same seed fails the same calls"
    assert first != run(8)
    failed = [status for status in first if status is not None]
    assert 60 <= len(failed) <= 140  # 20 % of 500
    assert set(failed) == {429, 500}
    quiet = vendors.Weather(speed=1, failure_rate=0.99, seed=7, sleep=lambda _: None)
    assert [quiet.answer("workos") for _ in range(20)] == [None] * 20, "WorkOS: latency only"


def test_instant_is_the_default_and_production_refuses_realistic() -> None:
    assert config.load({}).vendors == "instant"
    cfg = config.load({"AUREN_VENDORS": "realistic", "AUREN_VENDORS_SPEED": "50"})
    assert (cfg.vendors, cfg.vendors_speed, cfg.vendors_failure_rate) == ("realistic", 50, 0.1)
    with pytest.raises(config.ConfigError, match="AUREN_VENDORS"):
        config.load({"AUREN_VENDORS": "slow"})
    with pytest.raises(config.ConfigError, match="AUREN_VENDORS_FAILURES"):
        config.load({"AUREN_VENDORS": "realistic", "AUREN_VENDORS_FAILURES": "1.5"})
    with pytest.raises(config.ConfigError, match="production refuses"):
        config.load(
            {
                "AUREN_ENV": "production",
                "SITE_URL": "https://auren.example",
                "SESSION_SECRET": "s" * 32,
                "DATABASE_URL": "postgresql://x@h/db",
                "AUREN_VENDORS": "realistic",
            }
        )


def test_instant_stand_ins_do_not_wait(tmp_path: Path) -> None:
    assert vendors.weather() is None
    assert vendors.answer("vertex") is None
    assert isinstance(assistant.build_assistant(), LocalAssistant)
    assert isinstance(imagegen.build_provider(), imagegen.LocalArtist)


# --- OpenAI: the adapter and the SDK against the local endpoint ------------------------------


@pytest.mark.parametrize(("message", "_"), REQUESTS[:12])
def test_the_local_openai_endpoint_answers_as_the_local_assistant(
    realistic: pytest.MonkeyPatch, database_url: str, message: str, _: object
) -> None:
    with_seed(realistic, seed=0, rate=0)
    openai = assistant.build_assistant()
    assert isinstance(openai, assistant.OpenAIAssistant)
    through_openai = openai.respond([], message, Brief(), None)
    local = LocalAssistant().respond([], message, Brief(), None)
    assert through_openai.brief == local.brief
    assert through_openai.reply == local.reply


def test_a_429_or_500_from_openai_is_retried_by_the_sdk(
    realistic: pytest.MonkeyPatch, database_url: str
) -> None:
    weather = with_seed(realistic, failing_first("openai"))
    turn = assistant.assistant().respond([], REQUESTS[0][0], Brief(), None)
    assert turn.brief.product_id == "hoodie"
    assert weather.calls["openai"] == 2
    assert sum(weather.failures.values()) == 1


def test_the_size_assistant_goes_through_openai_and_its_retry(
    realistic: pytest.MonkeyPatch, database_url: str
) -> None:
    weather = with_seed(realistic, failing_first("openai"))
    update = size_assistant.assistant(
        "10 M, 5 L and 5 XL", available=("S", "M", "L", "XL"), current={}
    )
    assert update.sizes == {"M": 10, "L": 5, "XL": 5}
    assert weather.calls["openai"] == 2 and sum(weather.failures.values()) == 1
    weather = with_seed(realistic, seed=0, rate=0)
    asked = size_assistant.assistant("a few", available=("S", "M"), current={"M": 2})
    assert asked.sizes is None and asked.reply
    assert weather.calls["openai"] == 1


# --- Vertex: the adapter and google-genai against the local endpoint ---------------------------


def test_a_429_or_500_from_vertex_sends_the_image_job_back_to_the_queue(
    realistic: pytest.MonkeyPatch, database_url: str
) -> None:
    """One Vertex attempt fits a delivery of the job: a busy Vertex has the queue deliver the
    job again (the local worker, with its backoff), and that delivery draws the artwork."""
    weather = with_seed(realistic, failing_first("vertex"))
    assert isinstance(imagegen.provider(), imagegen.VertexArtist)
    shopper = client()
    finished = job(shopper, generate(shopper, prompt="a neon tiger"))
    assert finished["status"] == "done", finished
    assert finished["artwork_url"].startswith("/storage/artwork/")
    assert weather.calls["vertex"] == 2 and sum(weather.failures.values()) == 1


def test_an_uploaded_reference_comes_back_from_the_local_vertex(
    realistic: pytest.MonkeyPatch,
) -> None:
    with_seed(realistic, seed=0, rate=0)
    upload = Image.new("RGBA", (300, 200), "white")
    upload.paste((200, 30, 40, 255), (100, 50, 200, 150))
    request = ArtworkRequest("my dog", "neon", (), images.encode_png(upload))
    image = imagegen.provider().generate(request)
    assert image.size == (300, 200)
    assert image.getpixel((150, 100)) == (200, 30, 40, 255)  # the upload itself, not a drawing
    corner = image.getpixel((5, 5))
    assert isinstance(corner, tuple) and corner[3] == 0  # the white backdrop removed


def test_vertex_failing_every_attempt_is_the_adapters_error(
    realistic: pytest.MonkeyPatch,
) -> None:
    with_seed(realistic, seed=0, rate=0.999)
    with pytest.raises(imagegen.ImageGenerationFailed):
        imagegen.provider().generate(ArtworkRequest("a tiger", "neon"))
    weather = vendors.weather()
    assert weather is not None and weather.calls["vertex"] == config.VERTEX_IMAGE.attempts


# --- SendGrid and Sheets: the adapters' errors, which the outbox retries -----------------------


def test_mail_and_sheet_stand_ins_fail_like_their_adapters(
    realistic: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with_seed(realistic, failing_first("sendgrid"))
    message = mail.Message(to="a@example.com", subject="Hi", text="Hello", html="<p>Hello</p>")
    with pytest.raises(mail.MailError, match=r"SendGrid answered (429|500)"):
        mail.mailer().send(message, "task-1")
    mail.mailer().send(message, "task-1")
    assert [path.name for path in (tmp_path / "mail").iterdir()] == ["task-1.eml"]

    with_seed(realistic, failing_first("sheets"))
    with pytest.raises(sheets.SheetError, match=r"APIError: \[(429|500)\]"):
        sheets.sheet().append_once("ord_1", [("ord_1", "x")])
    assert sheets.sheet().append_once("ord_1", [("ord_1", "x")])


# --- Stripe: the adapter and the stripe SDK against the local Stripe API -----------------------


def test_checkout_goes_through_the_stripe_sdk_and_its_retry_with_the_same_key(
    realistic: pytest.MonkeyPatch, database_url: str
) -> None:
    weather = with_seed(realistic, failing_first("stripe"))
    stripe = checkout.provider()
    assert isinstance(stripe, checkout.StripeCheckout)
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 20,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1550,
                    "product_data": {"name": "Classic Tee · Navy", "metadata": {"n": "7"}},
                },
            }
        ],
        "shipping_options": [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": 0, "currency": "usd"},
                    "display_name": "Standard",
                    "delivery_estimate": {"minimum": {"unit": "business_day", "value": 3}},
                }
            }
        ],
        "client_reference_id": "ord_1234",
        "metadata": {"order_id": "ord_1234"},
        "customer_email": "a@example.com",
        "shipping_address_collection": {"allowed_countries": ["US", "CA"]},
        "success_url": "http://127.0.0.1/confirmation?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1/summary",
    }
    created = stripe.create_session(params, "auren-checkout-ord_1234-v1")
    assert created.id.startswith("cs_local_") and created.url == f"/_dev/checkout/{created.id}"
    assert weather.calls["stripe"] == 2 and sum(weather.failures.values()) == 1
    stored = checkout.local_session(created.id)
    assert stored is not None and stored["params"] == params, "the params Stripe received"
    with_seed(realistic, seed=0, rate=0)
    stripe = checkout.provider()
    again = stripe.create_session(params, "auren-checkout-ord_1234-v1")
    assert again == created, "one session per idempotency key"
    with pytest.raises(checkout.CheckoutConflict):
        stripe.create_session(
            {**params, "customer_email": "b@example.com"}, "auren-checkout-ord_1234-v1"
        )
    assert stripe.paid_session(created.id) is None
    checkout.set_local_session_status(stored, "complete")
    paid = stripe.paid_session(created.id)
    assert paid is not None and paid["amount_total"] == 31_000
    assert stripe.end_session(created.id) == "complete"
