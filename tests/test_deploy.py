"""The deploy path: `make deploy FN=... DRY_RUN=1` prints the right gcloud command for each
function, the settings table agrees with what each function's code asks for, firebase.json
routes every API path to the function that owns it, and `make migrate` goes through the Cloud
SQL connector when INSTANCE_CONNECTION_NAME is set.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import pytest

from common.infra import db
from devtools import bundle, deploy, hosting
from devtools.deploy_config import (
    BASE_SECRETS,
    FUNCTIONS,
    SECRET_NAMES,
    SUBSCRIPTIONS,
    FunctionSpec,
)
from tests.conftest import on_database, server_admin

REPO = Path(__file__).resolve().parents[1]
FUNCTION_NAMES = bundle.function_names()

# Values a deploying shell might hold: none of the secret ones may ever be printed.
SECRET_VALUES = {name: f"value-of-{name.lower()}-must-not-print" for name in SECRET_NAMES}
DEPLOY_ENV = {
    "PROJECT": "auren-test",
    "SITE_URL": "https://auren.example",
    "WORKOS_CLIENT_ID": "client_01TEST",
    "SHEET_ID": "sheet-id-1",
    **SECRET_VALUES,
}

# The routes ARCHITECTURE.md section 1 gives each function: a contract, so written out here.
CONTRACT_ROUTES = {
    "/api/chat": "chat",
    "/api/generate-image": "generate_image",
    "/api/catalog": "orders",
    "/api/orders": "orders",
    "/api/orders/draft": "orders",
    "/api/orders/assistant": "orders",
    "/api/orders/ord_123": "orders",
    "/api/checkout/session": "checkout",
    "/api/webhooks/stripe": "stripe_webhook",
    "/api/auth/login": "auth",
    "/api/auth/callback": "auth",
    "/api/auth/logout": "auth",
    "/api/auth/me": "auth",
    "/api/contact": "contact",
    "/api/sheets/append": "ops",
    "/api/ops/outbox/drain": "ops",
}


def run_make(target: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path))}
    return subprocess.run(
        ["make", "--no-print-directory", "-s", target],
        cwd=REPO,
        env={**clean, "BUILD_DIR": str(tmp_path / "build"), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def flags(printed: str) -> tuple[list[str], dict[str, str]]:
    """(positional words, {--flag: value}) of a printed command."""
    words = shlex.split(printed.replace("\\\n", " "))
    positional = [w for w in words if not w.startswith("--")]
    options = {}
    for word in words:
        if word.startswith("--"):
            key, _, value = word.partition("=")
            options[key] = value
    return positional, options


def gcloud_list(value: str) -> list[str]:
    """A gcloud list flag's items, honouring its `^delim^` escape."""
    found = re.match(r"^\^(.)\^(.*)$", value, re.S)
    return found[2].split(found[1]) if found else value.split(",")


def dry_run(name: str, tmp_path: Path, **env: str) -> tuple[list[str], dict[str, str], str]:
    result = run_make("deploy", tmp_path, FN=name, DRY_RUN="1", **{**DEPLOY_ENV, **env})
    assert result.returncode == 0, result.stderr
    positional, options = flags(result.stdout)
    return positional, options, result.stdout + result.stderr


def memory_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", value).groups()  # type: ignore[union-attr]
    return int(number) * (2**20 if unit == "Mi" else 2**30)


# --- the settings table against the code ----------------------------------------------------


def test_every_function_folder_has_deploy_settings() -> None:
    assert sorted(FUNCTIONS) == FUNCTION_NAMES


def required_names(source: str) -> list[str]:
    """The string arguments of every `config.require(...)` / `require(...)` call in `source`."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if called == "require":
            names += [str(a.value) for a in node.args if isinstance(a, ast.Constant)]
    return names


def production_requirements_of_config() -> set[str]:
    """What `common.infra.config.load` itself refuses to start without in production."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((REPO / "common" / "infra" / "config.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_require_in_production":
            names |= {str(a.value) for a in node.args if isinstance(a, ast.Constant)}
    return names


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_what_the_function_requires_is_deployed_to_it(name: str) -> None:
    source = (REPO / "functions" / name / "main.py").read_text()
    required = set(required_names(source)) | production_requirements_of_config()
    every_optional = {s: "x" for s in FUNCTIONS[name].optional_settings}
    settings = deploy.settings_for(name, {**DEPLOY_ENV, **every_optional})
    secrets = set(deploy.secrets_for(name, {"DB_IAM_AUTH": "false"}))
    # DB_PASS is only needed (and only mounted) without IAM database auth.
    missing = required - settings.keys() - secrets
    assert not missing, f"functions/{name} requires {sorted(missing)}: add them to deploy_config"
    as_plain = (required & SECRET_NAMES) & settings.keys()
    assert not as_plain, f"{sorted(as_plain)} must be mounted from Secret Manager"


def names_config_reads() -> set[str]:
    source = (REPO / "common" / "infra" / "config.py").read_text()
    return set(re.findall(r"""(?:environ\.get|secret)\(\s*["']([A-Z0-9_]+)["']""", source))


def test_the_table_only_names_settings_the_code_reads() -> None:
    # Read by functions-framework (gunicorn threads per instance) and pydantic (no plugins).
    runtime_knobs = {"THREADS", "PYDANTIC_DISABLE_PLUGINS"}
    known = names_config_reads() | runtime_knobs
    for name, spec in FUNCTIONS.items():
        named = {*BASE_SECRETS, *spec.secrets, *spec.settings, *spec.optional_settings}
        assert named <= known, (
            f"{name}: {sorted(named - known)} are not read by common/infra/config.py"
        )
        assert set(spec.secrets) <= SECRET_NAMES, name
        assert not (set(spec.settings) | set(spec.optional_settings)) & SECRET_NAMES, name


def test_the_runbook_shows_the_table_as_deployed() -> None:
    runbook = (REPO / "docs" / "deploy.md").read_text()
    regenerate = "copy the tables of `python -m devtools deploy --matrix` into docs/deploy.md"
    assert deploy.secrets_matrix() in runbook, regenerate
    assert deploy.resources_table() in runbook, regenerate


# --- DRY_RUN=1 make deploy FN=... ------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_dry_run_prints_the_gcloud_command_for_the_function(name: str, tmp_path: Path) -> None:
    spec = FUNCTIONS[name]
    positional, options, printed = dry_run(name, tmp_path)

    assert positional[:4] == ["gcloud", "functions", "deploy", name]
    assert "--gen2" in options and "--trigger-http" in options
    assert options["--runtime"] == "python312"
    assert options["--region"] == "us-central1"
    assert options["--project"] == "auren-test"
    assert options["--source"] == str(tmp_path / "build" / name)
    assert options["--entry-point"] == name
    assert ("--allow-unauthenticated" in options) is spec.public
    assert ("--no-allow-unauthenticated" in options) is not spec.public
    assert options["--memory"] == spec.memory
    assert options["--timeout"] == f"{spec.timeout_seconds}s"
    assert options["--concurrency"] == str(spec.concurrency)
    assert options["--min-instances"] == str(spec.min_instances)
    assert options["--max-instances"] == str(spec.max_instances)

    secrets = dict(item.split("=", 1) for item in gcloud_list(options["--set-secrets"]))
    assert set(secrets) == {*BASE_SECRETS, *spec.secrets}
    assert all(ref == f"{secret}:latest" for secret, ref in secrets.items())
    settings = dict(item.split("=", 1) for item in gcloud_list(options["--set-env-vars"]))
    assert settings["AUREN_ENV"] == "production"
    assert settings["SITE_URL"] == "https://auren.example"
    assert settings["INSTANCE_CONNECTION_NAME"] == "auren-test:us-central1:auren"
    assert settings["DB_IAM_AUTH"] == "true"
    assert settings["DB_USER"] == "auren-functions@auren-test.iam"
    assert not set(settings) & SECRET_NAMES
    for value in SECRET_VALUES.values():
        assert value not in printed
    assert (tmp_path / "build" / name / "main.py").is_file()


def test_each_function_gets_the_secrets_its_vendor_needs(tmp_path: Path) -> None:
    def deployed(name: str) -> tuple[set[str], dict[str, str]]:
        _, options, _ = dry_run(name, tmp_path)
        secrets = {item.split("=")[0] for item in gcloud_list(options["--set-secrets"])}
        settings = dict(item.split("=", 1) for item in gcloud_list(options["--set-env-vars"]))
        return secrets, settings

    assert "STRIPE_SECRET_KEY" in deployed("checkout")[0]
    assert "STRIPE_WEBHOOK_SECRET" in deployed("stripe_webhook")[0]
    assert "OPENAI_API_KEY" in deployed("chat")[0]
    assert "OPS_TOKEN" in deployed("ops")[0]
    auth_secrets, auth_settings = deployed("auth")
    assert "WORKOS_API_KEY" in auth_secrets
    assert auth_settings["WORKOS_CLIENT_ID"] == "client_01TEST"
    assert "WORKOS_CLIENT_ID" not in auth_secrets
    assert "STRIPE_SECRET_KEY" not in deployed("chat")[0]
    assert "OPS_TOKEN" not in deployed("orders")[0]


HOSTING_CUT_SECONDS = 60  # Firebase Hosting ends a rewritten request after this


def test_image_functions_get_more_memory_and_fit_under_hosting_with_their_jobs() -> None:
    from common.infra import config
    from common.studio import jobs

    image, chat = FUNCTIONS["generate_image"], FUNCTIONS["chat"]
    # A chat edit composites mockups too, so chat is sized like generate_image.
    others = [s for n, s in FUNCTIONS.items() if n not in ("generate_image", "chat", "ops")]
    assert all(memory_bytes(image.memory) > memory_bytes(o.memory) for o in others)
    # No shopper's request waits for the image model: both answer well inside Hosting's cut.
    assert image.timeout_seconds <= HOSTING_CUT_SECONDS - 10
    assert chat.timeout_seconds <= HOSTING_CUT_SECONDS - 10
    # The job, pushed to generate_image, waits for the model and then renders the mockups.
    assert image.timeout_seconds >= config.VERTEX_IMAGE.timeout_seconds + 5
    # A job still running after its lease was left by an instance cut at its timeout.
    assert image.timeout_seconds < jobs.LEASE_SECONDS


def test_min_instances_db_password_and_commas_are_configurable(tmp_path: Path) -> None:
    _, options, printed = dry_run(
        "ops",  # it sends the emails, so it reads MAIL_FROM
        tmp_path,
        MIN_INSTANCES="1",
        DB_IAM_AUTH="false",
        DB_USER="auren_app",
        MAIL_FROM="Auren, Orders <orders@auren.example>",
    )
    assert options["--min-instances"] == "1"
    secrets = {item.split("=")[0] for item in gcloud_list(options["--set-secrets"])}
    assert "DB_PASS" in secrets
    settings = dict(item.split("=", 1) for item in gcloud_list(options["--set-env-vars"]))
    assert settings["DB_IAM_AUTH"] == "false"
    assert settings["DB_USER"] == "auren_app"
    assert settings["MAIL_FROM"] == "Auren, Orders <orders@auren.example>"
    assert SECRET_VALUES["DB_PASS"] not in printed


def test_dry_run_names_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in DEPLOY_ENV.items() if k != "WORKOS_CLIENT_ID"}
    result = run_make("deploy", tmp_path, FN="auth", DRY_RUN="1", **env)
    assert result.returncode != 0 and "WORKOS_CLIENT_ID" in result.stderr
    result = run_make("deploy", tmp_path, FN="orders", DRY_RUN="1", SITE_URL="https://x")
    assert result.returncode != 0 and "PROJECT" in result.stderr
    result = run_make("deploy", tmp_path, DRY_RUN="1", **DEPLOY_ENV)
    assert result.returncode != 0 and "FN=" in result.stderr
    result = run_make(
        "deploy", tmp_path, FN="orders", DRY_RUN="1", REGION="europe-west1", **DEPLOY_ENV
    )
    assert result.returncode != 0 and "firebase.json" in result.stderr


def test_a_private_function_is_not_invocable_by_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    private = FunctionSpec(purpose="scheduler only", public=False)
    monkeypatch.setitem(FUNCTIONS, "ops", private)
    with pytest.raises(deploy.DeployError, match="403"):
        deploy.plan("ops", DEPLOY_ENV)  # firebase.json still rewrites to it
    monkeypatch.setattr(deploy, "hosting_rewrites", lambda path=None: {})
    command = deploy.plan("ops", DEPLOY_ENV).command
    assert "--no-allow-unauthenticated" in command
    assert "--allow-unauthenticated" not in command


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="the gcloud CLI is not installed")
def test_gcloud_knows_every_flag_the_deploy_uses() -> None:
    help_text = subprocess.run(
        ["gcloud", "functions", "deploy", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
    ).stdout
    plain = re.sub(r"\x1b\[[0-9;]*m", "", help_text)
    known = set(re.findall(r"--(?:\[no-\])?([a-z][a-z0-9-]+)", plain))
    known |= {f"no-{flag}" for flag in known}
    for name in FUNCTION_NAMES:
        command = deploy.plan(name, DEPLOY_ENV).command
        used = {arg[2:].split("=")[0] for arg in command if arg.startswith("--")}
        assert used <= known | {"project", "quiet"}, sorted(used - known)


def test_dry_run_deploy_hosting_prints_the_firebase_command(tmp_path: Path) -> None:
    result = run_make("deploy-hosting", tmp_path, DRY_RUN="1", PROJECT="auren-test")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "firebase",
        "deploy",
        "--only",
        "hosting",
        "--project=auren-test",
        "--non-interactive",
    ]


# --- firebase.json --------------------------------------------------------------------------

# The Firebase Hosting rewrite shapes (firebase.json reference, "rewrites"): one matcher
# (`source` glob or `regex`) and one target: a file `destination`, a `function` (a name, or
# `{functionId, region?, pinTag?}`), a Cloud Run service `run: {serviceId, region?, pinTag?}`
# or `dynamicLinks: true`. Nothing else is accepted by `firebase deploy`.
MATCHER = {"source": {"type": "string", "minLength": 1}, "regex": {"type": "string"}}
REWRITE_TARGETS: list[dict[str, Any]] = [
    {"destination": {"type": "string"}},
    {"function": {"type": "string"}, "region": {"type": "string"}},
    {
        "function": {
            "type": "object",
            "additionalProperties": False,
            "required": ["functionId"],
            "properties": {
                "functionId": {"type": "string", "minLength": 1},
                "region": {"type": "string"},
                "pinTag": {"type": "boolean"},
            },
        }
    },
    {
        "run": {
            "type": "object",
            "additionalProperties": False,
            "required": ["serviceId"],
            "properties": {
                "serviceId": {"type": "string", "minLength": 1},
                "region": {"type": "string"},
                "pinTag": {"type": "boolean"},
            },
        }
    },
    {"dynamicLinks": {"const": True}},
]
REWRITE_SCHEMA = {
    "anyOf": [
        {
            "type": "object",
            "additionalProperties": False,
            "required": [matcher, next(iter(target))],
            "properties": {matcher: MATCHER[matcher], **target},
        }
        for matcher in MATCHER
        for target in REWRITE_TARGETS
    ]
}
HOSTING_SCHEMA = {
    "type": "object",
    "required": ["hosting"],
    "properties": {
        "hosting": {
            "type": "object",
            "required": ["public"],
            "properties": {
                "public": {"type": "string"},
                "rewrites": {"type": "array", "items": REWRITE_SCHEMA},
            },
        }
    },
}


def test_firebase_json_rewrites_follow_the_hosting_schema() -> None:
    import jsonschema_rs

    config = json.loads((REPO / "firebase.json").read_text())
    jsonschema_rs.validator_for(HOSTING_SCHEMA).validate(config)
    bad = {"hosting": {"public": "x", "rewrites": [{"source": "/a", "function": {"name": "x"}}]}}
    assert not jsonschema_rs.validator_for(HOSTING_SCHEMA).is_valid(bad)


def test_firebase_json_rewrites_name_deployed_functions_in_their_region() -> None:
    rewrites = json.loads((REPO / "firebase.json").read_text())["hosting"]["rewrites"]
    for rule in rewrites:
        target = rule.get("function")
        if target is None:
            continue
        assert isinstance(target, dict), f"use the functionId form: {rule}"
        assert target["functionId"] in FUNCTION_NAMES, rule
        assert target.get("region") == "us-central1", f"say the region explicitly: {rule}"
    rewritten = set(deploy.hosting_rewrites())
    public = {name for name, spec in FUNCTIONS.items() if spec.public}
    assert rewritten == public


def router_paths(name: str) -> list[str]:
    """The paths a function's main.py registers (`@router.route("GET", "/api/...")`)."""
    tree = ast.parse((REPO / "functions" / name / "main.py").read_text())
    paths = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", None) == "route"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            paths.append(re.sub(r"<\w+>", "some-id", str(node.args[1].value)))
    return paths


def test_every_api_path_reaches_its_function_before_any_catch_all() -> None:
    site = hosting.load(REPO / "firebase.json")
    owners = dict(CONTRACT_ROUTES)
    for name in FUNCTION_NAMES:
        owners.update((path, name) for path in router_paths(name))
    for path, owner in owners.items():
        rule = site.rewrite_for(path)
        assert rule is not None and rule.function == owner, (path, rule)
    function_rules = [i for i, r in enumerate(site.rewrites) if r.function]
    catch_alls = [
        i
        for i, r in enumerate(site.rewrites)
        if not r.function and r.source.matches("/api/zz-catch-all-probe/x")
    ]
    assert all(i > max(function_rules) for i in catch_alls), "catch-all before an API rewrite"


# --- make migrate through the Cloud SQL connector ------------------------------------------

FAKE_CONNECTOR = """
import json, os
import pg8000.dbapi
from google.cloud.sql import connector

class RecordingConnector:
    '''Stands in for the Cloud SQL connector: records the call, connects to the test server.'''

    def __init__(self, **options):
        self.options = options

    def connect(self, instance, driver, **kwargs):
        record = {"instance": instance, "driver": driver, "init": self.options,
                  **{k: v for k, v in kwargs.items() if k != "password"}}
        with open(os.environ["CONNECTOR_LOG"], "a") as log:
            log.write(json.dumps(record) + "\\n")
        return pg8000.dbapi.connect(
            host=os.environ["TEST_PG_HOST"], port=int(os.environ["TEST_PG_PORT"]),
            user=os.environ["TEST_PG_USER"], password=os.environ.get("TEST_PG_PASSWORD") or None,
            database=kwargs["db"], unix_sock=os.environ.get("TEST_PG_SOCKET") or None,
        )

connector.Connector = RecordingConnector
"""


def test_migrate_goes_through_the_cloud_sql_connector(database_url: str, tmp_path: Path) -> None:
    server = db.connect_params(database_url)
    name = f"auren_migrate_{uuid.uuid4().hex[:10]}"
    admin = server_admin(database_url)
    with admin.connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        (tmp_path / "sitecustomize.py").write_text(FAKE_CONNECTOR)
        log = tmp_path / "connector.jsonl"
        result = subprocess.run(
            [sys.executable, "-m", "devtools", "migrate"],
            cwd=REPO,
            env={
                "PATH": os.environ["PATH"],
                "PYTHONPATH": str(tmp_path),
                "AUREN_DATA_DIR": str(tmp_path / "data"),
                "DATABASE_URL": "",
                "INSTANCE_CONNECTION_NAME": "auren-test:us-central1:auren",
                "DB_NAME": name,
                "DB_USER": "auren-functions@auren-test.iam",
                "DB_IAM_AUTH": "true",
                "CONNECTOR_LOG": str(log),
                "TEST_PG_HOST": server.get("host", ""),
                "TEST_PG_PORT": str(server.get("port", 5432)),
                "TEST_PG_USER": server["user"],
                "TEST_PG_PASSWORD": server["password"] or "",
                "TEST_PG_SOCKET": server.get("unix_sock", ""),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "applied" in result.stdout
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        assert calls[0]["instance"] == "auren-test:us-central1:auren"
        assert calls[0]["driver"] == "pg8000"
        assert calls[0]["user"] == "auren-functions@auren-test.iam"
        assert calls[0]["db"] == name
        assert calls[0]["enable_iam_auth"] is True
        assert calls[0]["init"] == {"refresh_strategy": "lazy"}
        migrated = db.url_pool(on_database(database_url, name))
        with migrated.connect() as conn:
            versions = conn.execute("SELECT version FROM schema_migrations").scalars()
            assert sorted(versions) == [version for version, _ in db.migration_files()]
        migrated.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _state_constants() -> dict[str, str]:
    """The collection constants of the modules that call the state backend, read at runtime."""
    from common.providers import checkout, identity
    from common.shop import accounts
    from common.studio import chat, jobs, suggestions
    from common.web import sessions

    return {
        "chat.COLLECTION": chat.COLLECTION,
        "suggestions.COLLECTION": suggestions.COLLECTION,
        "jobs.COLLECTION": jobs.COLLECTION,
        "accounts.STATES": accounts.STATES,
        "sessions.REVOCATIONS": sessions.REVOCATIONS,
        "checkout.LOCAL_SESSIONS": checkout.LOCAL_SESSIONS,
        "identity.LOCAL_CODES": identity.LOCAL_CODES,
    }


def test_state_collections_come_from_every_state_backend_call() -> None:
    collections = deploy.state_collections()
    # Every `state.backend()` call site in common/ is read (an unreadable one raises), so a new
    # collection is found by itself; these are the ones the code has today.
    assert set(_state_constants().values()) | {"rate_limits"} == set(collections)
    calls = sum(
        len(re.findall(r"state\.backend\(\)\.(?:get|get_many|put|take)\(", p.read_text()))
        for p in (REPO / "common").rglob("*.py")
    )
    assert calls >= len(collections) - 1


def test_an_unreadable_collection_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("def f(name):\n    state.backend().put(name, 'x', {})\n")
    with pytest.raises(deploy.DeployError, match="cannot read the state collection"):
        deploy.state_collections(tmp_path)


def test_the_ttl_field_is_the_one_the_firestore_backend_writes() -> None:
    from common.infra.state import FirestoreState

    class Recorder:
        def collection(self, name: str) -> Any:
            return self

        def document(self, doc_id: str) -> Any:
            return self

        def set(self, document: dict[str, Any]) -> None:
            self.written = document

    backend = FirestoreState.__new__(FirestoreState)
    recorder = Recorder()
    backend.client = recorder  # type: ignore[assignment]
    backend.put("conversations", "c1", {"a": 1}, ttl_seconds=60)
    assert (
        set(recorder.written) == {"a", deploy.ttl_field()} and deploy.ttl_field() == "_expires_at"
    )


def test_platform_dry_run_prints_ttl_policies_and_the_webhook_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import stripe

    from common.shop.fulfilment import EVENT_HANDLERS

    env = {**DEPLOY_ENV, "DRY_RUN": "1"}
    assert deploy.deploy_platform(env) == 0
    out = capsys.readouterr().out
    for value in SECRET_VALUES.values():
        assert value not in out
    lines = out.splitlines()
    ttl = [shlex.split(line) for line in lines if line.startswith("gcloud firestore")]
    assert ttl == [
        [
            "gcloud", "firestore", "fields", "ttls", "update", "_expires_at",
            f"--collection-group={collection}", "--enable-ttl", "--project=auren-test",
            "--async", "--quiet",
        ]
        for collection in deploy.state_collections()
    ]  # fmt: skip
    assert {c.split("=", 1)[1] for _, *_, c in [t[:7] for t in ttl]} == set(
        _state_constants().values()
    ) | {"rate_limits"}

    assert "# Stripe API: POST /v1/webhook_endpoints" in lines
    fields = [line.strip() for line in lines if line.startswith("  ")]
    events = [f.split("=", 1)[1] for f in fields if f.startswith("enabled_events[]=")]
    assert sorted(events) == sorted(EVENT_HANDLERS) and len(events) == len(EVENT_HANDLERS)
    assert f"api_version={stripe.api_version}" in fields
    assert "url=https://auren.example/api/webhooks/stripe" in fields
    assert deploy.hosting_rewrites().get("stripe_webhook")
    rewrites = json.loads((REPO / "firebase.json").read_text())["hosting"]["rewrites"]
    assert any(r.get("source") == deploy.WEBHOOK_PATH for r in rewrites)


def test_platform_pushes_each_topic_to_its_consumer_authenticated(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from common.providers import queue

    assert deploy.deploy_platform({**DEPLOY_ENV, "DRY_RUN": "1"}) == 0
    lines = capsys.readouterr().out.splitlines()
    creates = [
        shlex.split(line) for line in lines if line.startswith("gcloud pubsub subscriptions")
    ]
    assert len(creates) == len(SUBSCRIPTIONS)
    for (topic, function), command in zip(sorted(SUBSCRIPTIONS.items()), creates, strict=True):
        flags = dict(flag.split("=", 1) for flag in command if flag.startswith("--"))
        region = deploy.region_for(function, DEPLOY_ENV)
        assert flags["--topic"] == f"auren-{topic}"
        assert flags["--push-endpoint"] == (
            f"https://{region}-auren-test.cloudfunctions.net/{function}{queue.push_path(topic)}"
        )
        # the function checks each push's token against exactly these two
        settings = deploy.settings_for(function, DEPLOY_ENV)
        assert flags["--push-auth-service-account"] == settings["PUBSUB_PUSH_SERVICE_ACCOUNT"]
        assert flags["--push-auth-token-audience"] == settings["PUBSUB_PUSH_AUDIENCE"]
        assert int(flags["--ack-deadline"]) > FUNCTIONS[function].timeout_seconds
        # outside every Hosting rewrite: a shopper's browser cannot reach the push route
        assert not any(
            fnmatch.fnmatch(queue.push_path(topic), rule["source"].replace("{,/**}", "*"))
            for rule in json.loads((REPO / "firebase.json").read_text())["hosting"]["rewrites"]
        )


def test_platform_creates_the_endpoint_through_the_stripe_sdk(
    monkeypatch: pytest.MonkeyPatch, httpserver: Any
) -> None:
    import stripe

    from common.shop.fulfilment import EVENT_HANDLERS

    httpserver.expect_oneshot_request("/v1/webhook_endpoints", method="POST").respond_with_json(
        {"id": "we_1", "object": "webhook_endpoint", "secret": "whsec_new"}
    )
    ran: list[tuple[list[str], str | None]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        ran.append((command, kwargs.get("input")))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(deploy.subprocess, "run", fake_run)
    env = {**DEPLOY_ENV, "STRIPE_API_BASE": httpserver.url_for("").rstrip("/")}
    assert deploy.deploy_platform(env) == 0

    request, _ = httpserver.log[0]
    form = parse_qs(request.get_data(as_text=True))
    pairs = parse_qsl(request.get_data(as_text=True))
    # The SDK numbers list items (`enabled_events[0]=...`); Stripe reads them as one list.
    events = [value for key, value in pairs if key.startswith("enabled_events[")]
    assert events == sorted(EVENT_HANDLERS)
    assert form["api_version"] == [stripe.api_version]
    assert form["url"] == ["https://auren.example/api/webhooks/stripe"]
    assert request.headers["Authorization"] == f"Bearer {SECRET_VALUES['STRIPE_SECRET_KEY']}"
    gcloud = [(command, given) for command, given in ran if command[0] == "gcloud"]
    *ttl, (store, secret) = [(c, given) for c, given in gcloud if c[1] != "pubsub"]
    pubsub = [command[:4] for command, _ in gcloud if command[1] == "pubsub"]
    assert pubsub == [
        ["gcloud", "pubsub", "topics", "create"],
        ["gcloud", "pubsub", "subscriptions", "create"],
    ] * len(SUBSCRIPTIONS)
    assert [command[6] for command, _ in ttl] == [
        f"--collection-group={collection}" for collection in deploy.state_collections()
    ]
    assert store[:5] == ["gcloud", "secrets", "versions", "add", "STRIPE_WEBHOOK_SECRET"]
    assert secret == "whsec_new"
