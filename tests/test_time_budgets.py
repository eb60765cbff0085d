"""Every request fits its time: the vendor calls of each function's slowest requests, added up
from the timeouts and retries the adapters really hand their SDKs, stay under the function's
deployed timeout and, through Firebase Hosting, under Hosting's 60 s with a margin; and the
storefront waits as long as the server may take, not less."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import stripe
from google.oauth2.credentials import Credentials

from common.infra import config
from common.infra.config import VENDOR_CALLS
from common.providers import assistant, checkout, imagegen, mail, sheets, sizes_openai, storage
from devtools import budgets, hosting
from devtools.deploy_config import (
    FUNCTIONS,
    HOSTING_MARGIN_SECONDS,
    HOSTING_TIMEOUT_SECONDS,
    REQUESTS,
)

REPO = Path(__file__).resolve().parents[1]


def test_every_request_fits_what_it_may_take() -> None:
    print(budgets.table())
    for budget in budgets.budgets():
        assert budget.request.vendor_calls or budget.request.waits_seconds, budget
        assert all(name in VENDOR_CALLS for name, _ in budget.calls), budget
        assert budget.sum_seconds <= budget.limit_seconds, (
            f"{budget.function} {budget.request.route}: {budget.sum_seconds} s of vendor calls"
            f" in {budget.limit_seconds} s"
        )


def test_a_function_reached_only_through_hosting_times_out_before_hosting_does() -> None:
    assert set(REQUESTS) == set(FUNCTIONS), "every function has a time budget"
    for name, spec in FUNCTIONS.items():
        if all(request.through_hosting for request in REQUESTS[name]):
            assert spec.timeout_seconds <= HOSTING_TIMEOUT_SECONDS - HOSTING_MARGIN_SECONDS, name


def test_a_sum_over_its_limit_is_caught() -> None:
    slow = config.VendorCall(timeout_seconds=50, attempts=2, backoff_seconds=1)
    assert slow.budget_seconds == 101
    request = budgets.Request("POST /x", (("vertex_image", 2),))  # 2 x 28 s
    assert budgets.Budget("x", request, timeout_seconds=300).limit_seconds == 55
    assert budgets.Budget("x", request, timeout_seconds=300).margin_seconds < 0
    direct = budgets.Request("POST /x", (("vertex_image", 2),), through_hosting=False)
    assert budgets.Budget("x", direct, timeout_seconds=300).margin_seconds > 0


def test_docs_show_the_time_budgets() -> None:
    runbook = (REPO / "docs" / "deploy.md").read_text()
    assert budgets.table() in runbook, "copy `python -m devtools deploy --matrix` into the docs"


# --- the adapters hand exactly these numbers to their SDKs ------------------------------------


def test_openai_clients_get_the_configured_timeout_and_retries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = assistant.OpenAIAssistant(api_key="sk-test", model=config.DEFAULT_CHAT_MODEL)
    assert chat.client.timeout == config.OPENAI_CHAT.timeout_seconds
    assert chat.client.max_retries == config.OPENAI_CHAT.retries
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    config.settings.cache_clear()
    try:
        sizes = sizes_openai.build_client()
    finally:
        config.settings.cache_clear()
    assert sizes.timeout == config.OPENAI_SIZES.timeout_seconds
    assert sizes.max_retries == config.OPENAI_SIZES.retries


def test_openai_backoff_is_within_the_budget() -> None:
    from openai import _constants

    # openai waits min(0.5 s x 2^n, 8 s), less up to a quarter, before retry n + 1.
    waits = [
        min(_constants.INITIAL_RETRY_DELAY * 2**n, _constants.MAX_RETRY_DELAY)
        for n in range(config.OPENAI_CHAT.retries)
    ]
    assert sum(waits) <= config.OPENAI_CHAT.backoff_seconds
    assert sum(waits[: config.OPENAI_SIZES.retries]) <= config.OPENAI_SIZES.backoff_seconds


def test_stripe_gets_the_configured_timeout_and_retries() -> None:
    client: Any = checkout.StripeCheckout("sk_test_budget")._client
    requestor = client._requestor
    assert requestor._client._timeout == config.STRIPE.timeout_seconds < 80
    assert requestor._options.max_network_retries == config.STRIPE.retries
    http = stripe.HTTPClient
    # stripe: retry n sleeps min(0.5 s x 2^(n-1), 5 s), jittered to half, never under 0.5 s.
    waits = [
        max(http.INITIAL_DELAY, min(http.INITIAL_DELAY * 2 ** (n - 1), http.MAX_DELAY))
        for n in range(1, config.STRIPE.attempts)
    ]
    assert sum(waits) <= config.STRIPE.backoff_seconds


def test_workos_gets_the_configured_timeout_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    from workos import _base_client

    from common.providers import identity

    monkeypatch.setenv("WORKOS_API_KEY", "sk_test_budget")
    monkeypatch.setenv("WORKOS_CLIENT_ID", "client_budget")
    config.settings.cache_clear()
    try:
        client: Any = identity.WorkOSIdentity().client
    finally:
        config.settings.cache_clear()
    assert client._max_retries == config.WORKOS.retries
    assert client._request_timeout == config.WORKOS.timeout_seconds
    most = _base_client.INITIAL_RETRY_DELAY * 1.5  # x (0.5 to 1.5) after the first attempt
    assert most * config.WORKOS.retries <= config.WORKOS.backoff_seconds


def test_vertex_gets_the_configured_timeout_and_retries() -> None:
    artist = imagegen.VertexArtist(
        project="auren-test",
        location="us-central1",
        model=config.DEFAULT_IMAGE_MODEL,
        credentials=Credentials(token="t"),
    )
    options: Any = artist.client()._api_client._http_options
    assert options.timeout == config.VERTEX_IMAGE.timeout_seconds * 1000
    retry = options.retry_options
    assert retry.attempts == config.VERTEX_IMAGE.attempts
    # google-genai waits initial x 2^n plus up to `jitter` before retry n + 1.
    waits = [
        min(retry.initial_delay * 2**n, retry.max_delay) + retry.jitter
        for n in range(config.VERTEX_IMAGE.retries)
    ]
    assert sum(waits) <= config.VERTEX_IMAGE.backoff_seconds


def test_sendgrid_sheets_and_storage_get_the_configured_timeouts() -> None:
    mailer: Any = mail.SendGridMailer("SG.budget")._client
    assert mailer.client.timeout == config.SENDGRID.timeout_seconds
    sheet: Any = sheets.GoogleSheet("sheet-id", credentials=Credentials(token="t"))
    assert sheet._client.http_client.timeout == config.SHEETS.timeout_seconds
    assert sum(storage.TIMEOUT) == config.GCS.timeout_seconds
    assert storage.GcsStorage._retry()._timeout == config.GCS.deadline_seconds


# --- the storefront ----------------------------------------------------------------------------


def storefront_functions() -> set[str]:
    """The functions the storefront's scripts call, by the paths they fetch."""
    site = hosting.load()
    paths = {
        found
        for path in (REPO / "hosting" / "js").rglob("*.js")
        for found in re.findall(r"[\'\"`](/api/[\w/-]*)", path.read_text())
    }
    rewrites = [site.rewrite_for(path) for path in paths]
    return {rewrite.function for rewrite in rewrites if rewrite and rewrite.function}


def test_the_storefront_waits_as_long_as_each_function_may_take_and_no_longer() -> None:
    """hosting/js/lib/api.js: a function listed in FUNCTION_TIMEOUT_MS gets its timeout and
    5 s of network; any other the default, which is at least that for each of them. So the
    browser never gives up on a request its function is still answering, and never waits
    past Hosting's cut."""
    api = (REPO / "hosting" / "js" / "lib" / "api.js").read_text()
    default = re.search(r"const DEFAULT_TIMEOUT_MS = (\d+);", api)
    listed = re.search(r"export const FUNCTION_TIMEOUT_MS = \{([^}]*)\};", api)
    assert default and listed, "api.js has DEFAULT_TIMEOUT_MS and FUNCTION_TIMEOUT_MS"
    waits = {name: int(ms) for name, ms in re.findall(r"(\w+): (\d+)", listed.group(1))}
    called = storefront_functions()
    assert {"chat", "generate_image", "orders", "checkout", "auth", "contact"} <= called
    for name in called:
        wait = waits.get(name, int(default.group(1)))
        assert wait >= (FUNCTIONS[name].timeout_seconds + 5) * 1000, name
        assert wait < HOSTING_TIMEOUT_SECONDS * 1000, name
    for name, wait in waits.items():
        assert wait == (FUNCTIONS[name].timeout_seconds + 5) * 1000, name
