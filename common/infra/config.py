"""One settings object, read from the environment (and a `.env` file) once per instance.

`AUREN_ENV=local` (the default) runs the whole shop offline with the local providers;
`AUREN_ENV=production` refuses them and stops start-up when a required setting is missing.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

# Default models (CHAT_MODEL, SIZES_MODEL, IMAGE_MODEL override them). Both OpenAI defaults are
# GPT-6 reasoning models that support Structured Outputs and reasoning_effort="none";
# tests/test_config.py fails when the installed SDK lists one as deprecated or shut down.
DEFAULT_CHAT_MODEL = "gpt-6.1-terra"  # fast, clear natural writing: the design chat
DEFAULT_SIZES_MODEL = "gpt-6-luna"  # cheapest, for focused extraction: the size assistant
DEFAULT_IMAGE_MODEL = "gemini-nano-banana-2.1"  # Vertex AI Gemini image model, 1K/2K/4K output


@dataclass(frozen=True)
class VendorCall:
    """How long one vendor call may take: each attempt's timeout, the attempts (the first and
    the SDK's retries), and the most all the SDK's waits between attempts add up to. With a
    deadline (google-api-core) the SDK retries until the deadline instead, and an attempt
    started just before it may take its whole timeout."""

    timeout_seconds: float
    attempts: int = 1
    backoff_seconds: float = 0.0
    deadline_seconds: float | None = None

    @property
    def retries(self) -> int:
        return self.attempts - 1

    @property
    def budget_seconds(self) -> float:
        """The longest the call can take, all attempts and waits included."""
        if self.deadline_seconds is not None:
            return self.deadline_seconds + self.timeout_seconds
        return self.timeout_seconds * self.attempts + self.backoff_seconds


# Every vendor call's timeout and retries, in this one place: the adapters hand them to the
# SDKs, and docs/deploy.md's time budget per function adds them up (tests/test_time_budgets.py
# fails when a function's sum exceeds its deployed timeout). Backoffs are the SDKs' own
# schedules for these retry counts, jitter at its widest.
VENDOR_CALLS: dict[str, VendorCall] = {
    # openai: min(0.5 s x 2^n, 8 s) less up to 25 %, before retry n+1
    "openai_chat": VendorCall(timeout_seconds=12, attempts=2, backoff_seconds=0.5),
    "openai_sizes": VendorCall(timeout_seconds=8, attempts=2, backoff_seconds=0.5),
    # One attempt (an image takes up to 25 s): the image job runs inside generate_image's
    # timeout, and the queue delivers it again when Vertex was busy (`common.studio.jobs`).
    # More attempts would wait google-genai's 1 s x 2^n plus up to 1 s of jitter between them.
    "vertex_image": VendorCall(timeout_seconds=28),
    # stripe: 0.5 s x 2^n, jittered down to half but never under 0.5 s
    "stripe": VendorCall(timeout_seconds=5, attempts=3, backoff_seconds=1.5),
    # workos: 1 s x 2^n x (0.5 to 1.5)
    "workos": VendorCall(timeout_seconds=8, attempts=2, backoff_seconds=1.5),
    # The SendGrid and Sheets adapters do not retry: a failed side effect stays in the outbox.
    "sendgrid": VendorCall(timeout_seconds=6),
    "sheets": VendorCall(timeout_seconds=4),  # one Sheets API request
    # google-cloud-storage: DEFAULT_RETRY (1 s, then doubling) until the deadline; of each
    # attempt's timeout, 1 s is for connecting
    "gcs": VendorCall(timeout_seconds=3, deadline_seconds=1),
    # google-cloud-pubsub: the publish, and the wait for its message id (`providers.queue`)
    "pubsub": VendorCall(timeout_seconds=10),
}
OPENAI_CHAT = VENDOR_CALLS["openai_chat"]
OPENAI_SIZES = VENDOR_CALLS["openai_sizes"]
VERTEX_IMAGE = VENDOR_CALLS["vertex_image"]
STRIPE = VENDOR_CALLS["stripe"]
WORKOS = VENDOR_CALLS["workos"]
SENDGRID = VENDOR_CALLS["sendgrid"]
SHEETS = VENDOR_CALLS["sheets"]
GCS = VENDOR_CALLS["gcs"]
PUBSUB = VENDOR_CALLS["pubsub"]


class ConfigError(RuntimeError):
    """A setting is missing or not allowed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    site_url: str
    session_secret: str
    database_url: str | None
    instance_connection_name: str | None
    db_name: str
    db_user: str | None
    db_pass: str | None
    db_iam_auth: bool
    stripe_secret_key: str | None
    stripe_webhook_secret: str
    stripe_api_base: str | None
    workos_api_key: str | None
    workos_client_id: str | None
    workos_base_url: str | None
    openai_api_key: str | None
    openai_base_url: str | None
    chat_model: str
    sizes_model: str
    google_cloud_project: str | None
    google_cloud_location: str
    image_model: str
    gcs_bucket: str | None
    gcs_print_bucket: str | None  # private: print files, never public
    state_backend: str
    sendgrid_api_key: str | None
    sendgrid_confirmation_template_id: str | None
    mail_from: str
    ops_email: str
    sheet_id: str | None
    ops_token: str | None
    forwarded_hops: int
    # Shipping (issue 13), in the minor unit of the order's currency and in business days.
    shipping_standard_cents: int = 895
    shipping_free_over_cents: int | None = 15_000  # standard is free from this subtotal on
    shipping_rush_cents: int = 2495
    shipping_standard_days: tuple[int, int] = (3, 5)  # transit, after production
    shipping_rush_days: tuple[int, int] = (1, 2)
    business_holidays: frozenset[date] = field(default_factory=frozenset)
    shop_timezone: str = "America/New_York"  # where "today" and business days are counted
    shop_today: date | None = None  # a fixed "today" (local only: tests, browser tests)
    # The instance's database pool (issue 16): connections kept open, and how many more it may
    # open at a peak. `make deploy` sets both per function from devtools/deploy_config.py.
    db_pool_size: int = 2
    db_max_overflow: int = 3
    # The queue (common.providers.queue): Pub/Sub in production, an in-process worker locally.
    queue_backend: str = "local"
    pubsub_topic_prefix: str = "auren-"  # Pub/Sub topic id = prefix + the code's topic name
    pubsub_push_service_account: str | None = None  # who signs the push requests we accept
    pubsub_push_audience: str | None = None  # the audience those push tokens must carry
    pubsub_push_certs_url: str | None = None  # Google's OAuth2 certificates unless set
    image_delay_seconds: float = 0.0  # local only: the image stand-in takes this long
    # Realistic vendor stand-ins (local only, `common.providers.local.vendors`): with
    # AUREN_VENDORS=realistic every local provider takes a vendor's time and sometimes fails.
    vendors: str = "instant"  # AUREN_VENDORS: instant | realistic
    vendors_speed: float = 1.0  # AUREN_VENDORS_SPEED: every latency is divided by it
    vendors_failure_rate: float = 0.1  # AUREN_VENDORS_FAILURES: calls answered 429 or 500
    vendors_seed: int = 0  # AUREN_VENDORS_SEED: the same seed, the same failures

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def local(self) -> bool:
        return self.env == "local"


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value is not None}


def _environ() -> dict[str, str]:
    return {**_read_dotenv(REPO_ROOT / ".env"), **os.environ}


def _local_secret(data_dir: Path, name: str) -> str:
    """A random secret generated once and kept in `.data/secrets.json` (local mode only)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.is_file() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored))
        tmp.replace(path)
    return str(stored[name])


def _require_in_production(env: dict[str, str], *names: str) -> None:
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise ConfigError(
            f"AUREN_ENV=production but {', '.join(missing)} is not set; "
            "set it (Secret Manager or --set-env-vars) before start-up"
        )


def load(environ: dict[str, str] | None = None) -> Settings:
    """Build the settings from `environ` (default: `.env` overlaid by the process env)."""
    if environ is None:
        environ = _environ()
    env = environ.get("AUREN_ENV", "local")
    if env not in ("local", "production"):
        raise ConfigError(f"AUREN_ENV must be 'local' or 'production', not {env!r}")
    data_dir = Path(environ.get("AUREN_DATA_DIR") or REPO_ROOT / ".data")
    production = env == "production"

    if production:
        _require_in_production(environ, "SITE_URL", "SESSION_SECRET")
        if not environ.get("DATABASE_URL"):
            _require_in_production(environ, "INSTANCE_CONNECTION_NAME", "DB_NAME", "DB_USER")
        if environ.get("STATE_BACKEND", "firestore") != "firestore":
            raise ConfigError("AUREN_ENV=production needs STATE_BACKEND=firestore")
        if environ.get("QUEUE_BACKEND", "pubsub") != "pubsub":
            raise ConfigError("AUREN_ENV=production needs QUEUE_BACKEND=pubsub")

    def secret(name: str) -> str:
        """The secret from the environment; locally, one generated once when it is unset.

        In production an unset secret is empty: the functions that need it name it in
        `require(...)` and so refuse to start without it.
        """
        return environ.get(name) or ("" if production else _local_secret(data_dir, name))

    standard = _cents(environ, "SHIPPING_STANDARD_CENTS", 895) or 0
    rush = _cents(environ, "SHIPPING_RUSH_CENTS", 2495) or 0
    if rush <= standard:  # the rate Checkout reports is told apart by its amount
        raise ConfigError("SHIPPING_RUSH_CENTS must be more than SHIPPING_STANDARD_CENTS")

    port = environ.get("PORT", "8080")
    return Settings(
        env=env,
        data_dir=data_dir,
        site_url=(environ.get("SITE_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
        session_secret=secret("SESSION_SECRET"),
        database_url=environ.get("DATABASE_URL") or None,
        instance_connection_name=environ.get("INSTANCE_CONNECTION_NAME") or None,
        db_name=environ.get("DB_NAME", "auren"),
        db_user=environ.get("DB_USER") or None,
        db_pass=environ.get("DB_PASS") or None,
        db_iam_auth=environ.get("DB_IAM_AUTH", "").lower() in ("1", "true", "yes"),
        stripe_secret_key=environ.get("STRIPE_SECRET_KEY") or None,
        stripe_webhook_secret=secret("STRIPE_WEBHOOK_SECRET"),
        stripe_api_base=environ.get("STRIPE_API_BASE") or None,
        workos_api_key=environ.get("WORKOS_API_KEY") or None,
        workos_client_id=environ.get("WORKOS_CLIENT_ID") or None,
        workos_base_url=environ.get("WORKOS_BASE_URL") or None,
        openai_api_key=environ.get("OPENAI_API_KEY") or None,
        openai_base_url=environ.get("OPENAI_BASE_URL") or None,
        chat_model=environ.get("CHAT_MODEL", DEFAULT_CHAT_MODEL),
        sizes_model=environ.get("SIZES_MODEL", DEFAULT_SIZES_MODEL),
        google_cloud_project=environ.get("GOOGLE_CLOUD_PROJECT") or None,
        google_cloud_location=environ.get("GOOGLE_CLOUD_LOCATION", "us-central1"),
        image_model=environ.get("IMAGE_MODEL", DEFAULT_IMAGE_MODEL),
        gcs_bucket=environ.get("GCS_BUCKET") or None,
        gcs_print_bucket=environ.get("GCS_PRINT_BUCKET") or None,
        state_backend=environ.get("STATE_BACKEND", "firestore" if production else "postgres"),
        sendgrid_api_key=environ.get("SENDGRID_API_KEY") or None,
        sendgrid_confirmation_template_id=environ.get("SENDGRID_CONFIRMATION_TEMPLATE_ID") or None,
        mail_from=environ.get("MAIL_FROM", "Auren <orders@auren.shop>"),
        ops_email=environ.get("OPS_EMAIL", "ops@auren.shop"),
        sheet_id=environ.get("SHEET_ID") or None,
        ops_token=environ.get("OPS_TOKEN") or (None if production else secret("OPS_TOKEN")),
        # Proxies that append the caller's address to X-Forwarded-For: Firebase Hosting's and
        # Cloud Run's front ends in production, the local server locally.
        forwarded_hops=int(environ.get("FORWARDED_HOPS") or (2 if production else 1)),
        shipping_standard_cents=standard,
        shipping_free_over_cents=_cents(environ, "SHIPPING_FREE_OVER_CENTS", 15_000),
        shipping_rush_cents=rush,
        shipping_standard_days=_day_range(environ, "SHIPPING_STANDARD_DAYS", (3, 5)),
        shipping_rush_days=_day_range(environ, "SHIPPING_RUSH_DAYS", (1, 2)),
        business_holidays=_dates(environ, "BUSINESS_HOLIDAYS"),
        shop_timezone=environ.get("SHOP_TIMEZONE") or "America/New_York",
        shop_today=_shop_today(environ, production),
        db_pool_size=_connections(environ.get("DB_POOL_SIZE"), "DB_POOL_SIZE", 2, least=1),
        db_max_overflow=_connections(environ.get("DB_MAX_OVERFLOW"), "DB_MAX_OVERFLOW", 3),
        queue_backend=environ.get("QUEUE_BACKEND", "pubsub" if production else "local"),
        pubsub_topic_prefix=environ.get("PUBSUB_TOPIC_PREFIX", "auren-"),
        pubsub_push_service_account=environ.get("PUBSUB_PUSH_SERVICE_ACCOUNT") or None,
        pubsub_push_audience=environ.get("PUBSUB_PUSH_AUDIENCE") or None,
        pubsub_push_certs_url=environ.get("PUBSUB_PUSH_CERTS_URL") or None,
        image_delay_seconds=_image_delay(environ, production),
        **_vendors(environ, production),
    )


def _vendors(environ: dict[str, str], production: bool) -> dict[str, Any]:
    """AUREN_VENDORS and its knobs; production has no stand-ins to slow down."""
    mode = (environ.get("AUREN_VENDORS") or "instant").strip()
    if mode not in ("instant", "realistic"):
        raise ConfigError(f"AUREN_VENDORS must be 'instant' or 'realistic', not {mode!r}")
    if production and mode != "instant":
        raise ConfigError(
            "AUREN_VENDORS=realistic slows the local stand-ins; production refuses it"
        )
    try:
        speed = float(environ.get("AUREN_VENDORS_SPEED") or 1)
        rate = float(environ.get("AUREN_VENDORS_FAILURES") or 0.1)
        seed = int(environ.get("AUREN_VENDORS_SEED") or 0)
    except ValueError:
        raise ConfigError(
            "AUREN_VENDORS_SPEED and AUREN_VENDORS_FAILURES are numbers, AUREN_VENDORS_SEED a"
            " whole number"
        ) from None
    if not (0 < speed <= 1000 and 0 <= rate < 1):
        raise ConfigError("AUREN_VENDORS_SPEED must be above 0, AUREN_VENDORS_FAILURES in [0, 1)")
    return {
        "vendors": mode,
        "vendors_speed": speed,
        "vendors_failure_rate": rate,
        "vendors_seed": seed,
    }


MAX_POOL_CONNECTIONS = 50  # per instance, DB_POOL_SIZE or DB_MAX_OVERFLOW


def _connections(raw: str | None, name: str, default: int, least: int = 0) -> int:
    """A number of database connections, `least` to MAX_POOL_CONNECTIONS."""
    raw = (raw or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not least <= int(raw) <= MAX_POOL_CONNECTIONS:
        raise ConfigError(
            f"{name} must be a whole number from {least} to {MAX_POOL_CONNECTIONS}, not {raw!r}"
        )
    return int(raw)


def _cents(environ: dict[str, str], name: str, default: int | None) -> int | None:
    """A non-negative amount in minor units; `none` for no amount (where that is allowed)."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    if raw.lower() == "none" and name == "SHIPPING_FREE_OVER_CENTS":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"{name} must be a whole number of cents, not {raw!r}")
    return int(raw)


def _day_range(environ: dict[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    """`3-5` (or `3`): business days from shipping to arrival, 1 to 30."""
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    low, _, high = (part.strip() for part in raw.partition("-"))
    if not all(part.isascii() and part.isdigit() for part in (low, high or low)):
        raise ConfigError(f"{name} must read like 3-5 (business days), not {raw!r}")
    days = (int(low), int(high or low))
    if not 1 <= days[0] <= days[1] <= 30:
        raise ConfigError(f"{name} must be from 1 to 30 business days, the lower first")
    return days


def _dates(environ: dict[str, str], name: str) -> frozenset[date]:
    """`2026-12-25,2027-01-01`: ISO dates."""
    try:
        return frozenset(
            date.fromisoformat(part.strip())
            for part in (environ.get(name) or "").split(",")
            if part.strip()
        )
    except ValueError:
        raise ConfigError(f"{name} must list ISO dates (2026-12-25,2027-01-01)") from None


def _image_delay(environ: dict[str, str], production: bool) -> float:
    """`AUREN_IMAGE_DELAY_S`: seconds the local image stand-in takes (0 to 120)."""
    raw = (environ.get("AUREN_IMAGE_DELAY_S") or "").strip()
    if not raw:
        return 0.0
    if production:
        raise ConfigError(
            "AUREN_IMAGE_DELAY_S slows the local image stand-in; production refuses it"
        )
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 120:
        raise ConfigError(f"AUREN_IMAGE_DELAY_S must be seconds from 0 to 120, not {raw!r}")
    return delay


def _shop_today(environ: dict[str, str], production: bool) -> date | None:
    today = (environ.get("SHOP_TODAY") or "").strip()
    if not today:
        return None
    if production:
        raise ConfigError("SHOP_TODAY fixes the date for tests; AUREN_ENV=production refuses it")
    try:
        return date.fromisoformat(today)
    except ValueError:
        raise ConfigError(f"SHOP_TODAY must be an ISO date (2026-12-11), not {today!r}") from None


@functools.cache
def settings() -> Settings:
    """The settings of this instance, loaded on first use."""
    return load()


def require(*names: str) -> None:
    """Load the settings and, in production, stop start-up when one of `names` is missing.

    Each function calls this at import time with the variables its providers need, so a
    misconfigured deploy fails at once with the variable named instead of at the first request.
    """
    if settings().production:
        _require_in_production(_environ(), *names)
