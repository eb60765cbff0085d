"""How each function runs in production: the one table `make deploy` reads.

Per function: whether the internet may invoke it, its resources, and which settings it gets,
split into secrets (mounted from Secret Manager, same secret id as the variable name) and
plain settings (`--set-env-vars`). The tests hold this table to the code: every name a
function's `config.require(...)` asks for must be deployed to it, every function folder must
have a row, and public must mean "rewritten from Firebase Hosting".
"""

from __future__ import annotations

from dataclasses import dataclass

from common.effects.outbox import DRAIN_WINDOW_SECONDS

# Names that are secrets: only ever mounted from Secret Manager, never passed as plain values.
SECRET_NAMES = frozenset(
    {
        "SESSION_SECRET",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "WORKOS_API_KEY",
        "OPENAI_API_KEY",
        "SENDGRID_API_KEY",
        "OPS_TOKEN",
        "DB_PASS",
    }
)

# `common.infra.config.load` refuses to start in production without it, in every function.
BASE_SECRETS = ("SESSION_SECRET",)
# Mounted too when the database is reached with a password instead of IAM auth.
PASSWORD_SECRET = "DB_PASS"

# Plain settings every function gets: the values come from the deploying shell (see deploy.py).
BASE_SETTINGS = (
    "AUREN_ENV",
    "SITE_URL",
    "GOOGLE_CLOUD_PROJECT",
    "INSTANCE_CONNECTION_NAME",
    "DB_NAME",
    "DB_USER",
    "DB_IAM_AUTH",
    "STATE_BACKEND",
    "THREADS",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "PYDANTIC_DISABLE_PLUGINS",
)

# Settings of the runtime itself, the same for every function. The shop has no pydantic plugin:
# without this, the first model of each new instance scans every installed package's entry
# points for one (about 10 ms of a cold start).
RUNTIME_SETTINGS = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}

MAIL_SETTINGS = ("MAIL_FROM", "OPS_EMAIL", "SENDGRID_CONFIRMATION_TEMPLATE_ID")

# Database connections all functions may hold at once, every instance of every function at its
# max_instances (docs/deploy.md, "Capacity"): the runbook's Cloud SQL instance is created with
# max_connections=300, of which 30 stay free for Cloud SQL's own and superuser connections,
# migrations and psql. `make deploy` refuses a table whose total is larger; DB_CONNECTION_BUDGET
# in the deploying shell replaces it (another tier, or a pooler in front of the database).
CONNECTION_BUDGET = 270

# The consumer of each queue topic (`common.providers.queue`): `deploy --platform` creates the
# Pub/Sub topic and a push subscription to that function's `queue.push_path(topic)`, and the
# local server loads that function at start, so its handler is subscribed.
SUBSCRIPTIONS: dict[str, str] = {"image-jobs": "generate_image", "outbox": "ops"}
# Settings of a function that consumes a topic: who signs Pub/Sub's pushes, and for whom.
PUSH_SETTINGS = ("PUBSUB_PUSH_SERVICE_ACCOUNT", "PUBSUB_PUSH_AUDIENCE")


@dataclass(frozen=True)
class FunctionSpec:
    """One row: what `gcloud functions deploy <name>` is told about the function."""

    purpose: str
    public: bool
    secrets: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()  # plain settings it must have, beyond BASE_SETTINGS
    optional_settings: tuple[str, ...] = ()  # passed on only when set in the deploying shell
    memory: str = "512Mi"
    cpu: str = "1"
    timeout_seconds: int = 60
    # Requests one instance serves at once; gunicorn gets as many threads (THREADS).
    concurrency: int = 8
    min_instances: int = 0
    max_instances: int = 5
    # Its database pool (DB_POOL_SIZE, DB_MAX_OVERFLOW, read by common.infra.config): the
    # connections an instance keeps open, and how many more it may open at a peak. A request
    # holds one connection at a time, so more than `concurrency` in all would never be used.
    pool_size: int = 2
    max_overflow: int = 3

    def connections(self, max_instances: int | None = None) -> int:
        """The most database connections its instances hold at once (at `max_instances`,
        default the table's)."""
        return (max_instances or self.max_instances) * (self.pool_size + self.max_overflow)


FUNCTIONS: dict[str, FunctionSpec] = {
    "chat": FunctionSpec(
        purpose="the design chat (OpenAI); an edit re-renders mockups, or starts an image job",
        public=True,
        secrets=("OPENAI_API_KEY",),
        settings=("GCS_BUCKET", "GOOGLE_CLOUD_LOCATION"),
        optional_settings=("CHAT_MODEL", "OPENAI_BASE_URL", "IMAGE_MODEL", "PUBSUB_TOPIC_PREFIX"),
        # An edit composites mockups; a new picture is an image job, never waited for here,
        # so a turn (the assistant's call and a re-render) ends well inside Hosting's 60 s.
        memory="2Gi",
        cpu="2",
        timeout_seconds=45,
        concurrency=4,
        max_instances=10,
    ),
    "generate_image": FunctionSpec(
        purpose="image jobs: artwork (Vertex AI Gemini) and mockups (Pillow) stored in GCS",
        public=True,
        settings=("GCS_BUCKET", "GOOGLE_CLOUD_LOCATION"),
        optional_settings=("IMAGE_MODEL", "PUBSUB_TOPIC_PREFIX"),
        # Shoppers' requests answer at once (202, then polls); the job itself, pushed by
        # Pub/Sub to this function, waits for the image model (config.VERTEX_IMAGE)
        # and composites full-size images: both fit this timeout, under Hosting's 60 s.
        memory="2Gi",
        cpu="2",
        timeout_seconds=50,
        concurrency=4,
        max_instances=10,
    ),
    "orders": FunctionSpec(
        purpose="catalog, bulk drafts, the size assistant (OpenAI structured outputs), group"
        " orders (a member's back preview in GCS)",
        public=True,
        secrets=("OPENAI_API_KEY",),
        settings=("GCS_BUCKET",),
        optional_settings=("SIZES_MODEL", "OPENAI_BASE_URL"),
        timeout_seconds=30,
        max_instances=10,
    ),
    "checkout": FunctionSpec(
        purpose="Stripe Checkout sessions; fulfils a paid one from the success page",
        public=True,
        secrets=("STRIPE_SECRET_KEY",),
        timeout_seconds=50,
    ),
    "stripe_webhook": FunctionSpec(
        purpose="signed Stripe events; marks orders paid, queues the sheet row and emails",
        public=True,
        secrets=("STRIPE_WEBHOOK_SECRET",),
        timeout_seconds=45,
    ),
    "auth": FunctionSpec(
        purpose="WorkOS AuthKit sign-in (Google, Apple) and the session cookie",
        public=True,
        secrets=("WORKOS_API_KEY",),
        settings=("WORKOS_CLIENT_ID",),
        timeout_seconds=30,
    ),
    "contact": FunctionSpec(
        purpose="the contact form, stored and queued to be mailed to ops",
        public=True,
        timeout_seconds=30,
        max_instances=3,
    ),
    "ops": FunctionSpec(
        purpose="ops-token routes (sheet rows, outbox drain, orders); performs queued effects",
        public=True,
        secrets=("OPS_TOKEN", "SENDGRID_API_KEY", "STRIPE_SECRET_KEY"),
        settings=("SHEET_ID", "GCS_BUCKET", "GCS_PRINT_BUCKET"),
        memory="1Gi",
        optional_settings=MAIL_SETTINGS,
        timeout_seconds=300,
        concurrency=2,
        max_instances=2,
    ),
}


# --- time budgets (docs/deploy.md; devtools.budgets adds them up) ------------------------------

# Firebase Hosting cuts a rewritten request after this long, whatever the function's timeout.
HOSTING_TIMEOUT_SECONDS = 60
HOSTING_MARGIN_SECONDS = 5  # what a request through Hosting leaves for the way there and back


@dataclass(frozen=True)
class Request:
    """The slowest request of one kind a function answers, and the vendor calls it makes one
    after another at worst: each a name in `common.infra.config.VENDOR_CALLS` and how many
    times."""

    route: str
    vendor_calls: tuple[tuple[str, int], ...]
    through_hosting: bool = True  # False: called at the function's own URL (a scheduler)
    waits_seconds: float = 0.0  # time the request spends on purpose (the drain's window)


# Each function's slowest requests. A sheet row is up to 3 Sheets requests (the spreadsheet,
# its first column, the append).
REQUESTS: dict[str, tuple[Request, ...]] = {
    "auth": (Request("GET /api/auth/callback", (("workos", 1),)),),
    "chat": (
        # The design's mockups re-rendered: the artwork read, two mockups stored.
        Request("POST /api/chat (an edit of the design)", (("openai_chat", 1), ("gcs", 3))),
        Request(
            "POST /api/chat (an edit that draws: an image job)", (("openai_chat", 1), ("pubsub", 1))
        ),
    ),
    "checkout": (
        Request("POST /api/checkout/session", (("stripe", 1),)),
        # The open session expired, or (paid meanwhile) looked up.
        Request("POST /api/checkout/reopen", (("stripe", 2),)),
        # The paid session retrieved; its side effects handed to the queue.
        Request("POST /api/checkout/fulfil", (("stripe", 1), ("pubsub", 1))),
    ),
    "contact": (Request("POST /api/contact (the email queued)", (("pubsub", 1),)),),
    "generate_image": (
        Request(
            "POST /api/generate-image (an upload stored, a job queued)", (("gcs", 1), ("pubsub", 1))
        ),
        Request("POST /api/designs (the mockups re-rendered)", (("gcs", 3),)),
        # Pub/Sub's push of an image job: the upload read, the picture drawn, the artwork
        # stored, read back for the mockups, and the two mockups stored.
        Request(
            "image job (pushed by Pub/Sub)",
            (("gcs", 1), ("vertex_image", 1), ("gcs", 4)),
            through_hosting=False,
        ),
    ),
    "ops": (
        Request("POST /api/sheets/append", (("sheets", 3),)),
        # A paid session found for the order; its sheet row and emails handed to the queue.
        Request("POST /api/ops/orders/<id>/clear-flag", (("stripe", 1), ("pubsub", 1))),
        # Pub/Sub's push of a transaction's tasks: a sheet row and two emails.
        Request(
            "outbox tasks (pushed by Pub/Sub)",
            (("sheets", 3), ("sendgrid", 2)),
            through_hosting=False,
        ),
        # Claims no task after its window; then the slowest task (a sheet row) finishes.
        Request(
            "POST /api/ops/outbox/drain (Cloud Scheduler)",
            (("sheets", 3),),
            through_hosting=False,
            waits_seconds=DRAIN_WINDOW_SECONDS,
        ),
    ),
    "orders": (
        Request("POST /api/orders/assistant", (("openai_sizes", 1),)),
        # A personalized entry's back preview: the design's artwork read, the preview stored.
        Request("POST /api/groups/<token>/members", (("gcs", 2),)),
    ),
    "stripe_webhook": (Request("POST /api/webhooks/stripe (effects queued)", (("pubsub", 1),)),),
}
