"""`make deploy FN=<name>` and `make deploy-hosting`: ship one function, or the static site.

`deploy --platform` completes what the functions rely on: the Firestore TTL policy on the
expiry field of every state collection the code uses, the Pub/Sub topics and their push
subscriptions, and the Stripe webhook endpoint.

`deploy` builds the function's bundle fresh, then runs one `gcloud functions deploy` whose
flags come from `devtools/deploy_config.py` (public or not, resources, which secrets and
settings) and whose values come from the deploying shell, so nothing in the repo is edited to
deploy. Secrets are passed as Secret Manager references (`NAME=NAME:latest`): their values are
never read here. `DRY_RUN=1` prints the exact command instead of running it.

Values read from the environment (defaults match docs/deploy.md):

    PROJECT                  the GCP project id (required)
    SITE_URL                 the shop's public origin, e.g. https://auren.shop (required)
    REGION                   default: the region firebase.json rewrites the function to
    RUNTIME_SERVICE_ACCOUNT  default: auren-functions@PROJECT.iam.gserviceaccount.com
    INSTANCE_CONNECTION_NAME default: PROJECT:REGION:auren
    DB_NAME                  default: auren
    DB_IAM_AUTH              default: true (DB_USER = the service account; no password)
    DB_USER                  default with IAM auth: the service account minus its domain
    GCS_BUCKET               default: PROJECT-auren-media
    GCS_PRINT_BUCKET         default: PROJECT-auren-prints (private: print files)
    GOOGLE_CLOUD_LOCATION    default: REGION
    WORKOS_CLIENT_ID, SHEET_ID   required by the functions that use them
    PUBSUB_PUSH_SERVICE_ACCOUNT  default: auren-pubsub-push@PROJECT.iam.gserviceaccount.com
    PUBSUB_PUSH_AUDIENCE     default: SITE_URL/_queue
    PUBSUB_TOPIC_PREFIX      default: auren-
    SECRET_VERSION           default: latest
    MIN_INSTANCES, MAX_INSTANCES override the table for this deploy
    DB_CONNECTION_BUDGET     default: CONNECTION_BUDGET; the deploy refuses a table (with this
                             deploy's MAX_INSTANCES) whose connections at full scale-out exceed it
    ALLOW_DIRTY=1            deploy although the function's files have uncommitted changes
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools import budgets, bundle, lock
from devtools.deploy_config import (
    BASE_SECRETS,
    BASE_SETTINGS,
    CONNECTION_BUDGET,
    FUNCTIONS,
    PASSWORD_SECRET,
    PUSH_SETTINGS,
    RUNTIME_SETTINGS,
    SECRET_NAMES,
    SUBSCRIPTIONS,
    FunctionSpec,
)

REPO = bundle.REPO
FIREBASE_JSON = REPO / "firebase.json"
DEFAULT_REGION = "us-central1"
TRUE = ("1", "true", "yes")


class DeployError(RuntimeError):
    """The deploy cannot go ahead; the message names what to set or fix."""


def hosting_rewrites(path: Path = FIREBASE_JSON) -> dict[str, set[str]]:
    """{function id: regions} of every Firebase Hosting rewrite to a function."""
    rewrites = json.loads(path.read_text()).get("hosting", {}).get("rewrites", [])
    found: dict[str, set[str]] = {}
    for rule in rewrites:
        target = rule.get("function")
        if isinstance(target, dict):
            name, region = str(target.get("functionId")), target.get("region")
        elif isinstance(target, str):
            name, region = target, rule.get("region")
        else:
            continue
        found.setdefault(name, set()).add(region or DEFAULT_REGION)
    return found


def spec_for(name: str) -> FunctionSpec:
    if name not in FUNCTIONS:
        known = ", ".join(sorted(FUNCTIONS))
        raise DeployError(f"no deploy settings for {name!r} in devtools/deploy_config.py ({known})")
    return FUNCTIONS[name]


def region_for(name: str, env: Mapping[str, str]) -> str:
    """The deploy region: where Hosting sends the function's routes, unless REGION says so."""
    spec = spec_for(name)
    rewritten = hosting_rewrites().get(name, set())
    if spec.public and not rewritten:
        raise DeployError(f"{name} is public in deploy_config.py but no firebase.json rewrite")
    if not spec.public and rewritten:
        raise DeployError(
            f"firebase.json rewrites to {name}, which deploy_config.py keeps private: "
            "Hosting would get 403 from it"
        )
    if len(rewritten) > 1:
        raise DeployError(f"firebase.json rewrites to {name} in several regions: {rewritten}")
    region = env.get("REGION") or next(iter(rewritten), DEFAULT_REGION)
    if rewritten and region not in rewritten:
        raise DeployError(
            f"REGION={region} but firebase.json rewrites {name} to {next(iter(rewritten))}: "
            "Hosting would not reach it; change both together"
        )
    return region


def _require(env: Mapping[str, str], name: str, why: str) -> str:
    value = env.get(name)
    if not value:
        raise DeployError(f"set {name} ({why})")
    return value


def _service_account(env: Mapping[str, str], project: str) -> str:
    return (
        env.get("RUNTIME_SERVICE_ACCOUNT") or f"auren-functions@{project}.iam.gserviceaccount.com"
    )


def settings_for(name: str, env: Mapping[str, str]) -> dict[str, str]:
    """The plain settings (`--set-env-vars`) of one function, from the deploying shell."""
    spec = spec_for(name)
    project = _require(env, "PROJECT", "the GCP project id")
    region = region_for(name, env)
    iam = (env.get("DB_IAM_AUTH") or "true").lower() in TRUE
    account = _service_account(env, project)
    fixed = {
        "AUREN_ENV": "production",
        "STATE_BACKEND": "firestore",
        "GOOGLE_CLOUD_PROJECT": project,
        "DB_IAM_AUTH": "true" if iam else "false",
        "THREADS": str(spec.concurrency),
        "DB_POOL_SIZE": str(spec.pool_size),
        "DB_MAX_OVERFLOW": str(spec.max_overflow),
        **RUNTIME_SETTINGS,
    }
    defaults = {
        "INSTANCE_CONNECTION_NAME": f"{project}:{region}:auren",
        "DB_NAME": "auren",
        "DB_USER": account.removesuffix(".gserviceaccount.com") if iam else "",
        "GCS_BUCKET": f"{project}-auren-media",
        "GCS_PRINT_BUCKET": f"{project}-auren-prints",
        "GOOGLE_CLOUD_LOCATION": region,
        **_push_settings(env, project),
    }
    consumes = name in SUBSCRIPTIONS.values()
    values: dict[str, str] = {}
    for setting in (*BASE_SETTINGS, *spec.settings, *(PUSH_SETTINGS if consumes else ())):
        value = fixed.get(setting) or env.get(setting) or defaults.get(setting)
        if not value:
            raise DeployError(f"set {setting}: {name} needs it in production")
        values[setting] = value
    for setting in spec.optional_settings:
        if env.get(setting):
            values[setting] = env[setting]
    leaked = SECRET_NAMES & values.keys()
    if leaked:
        raise DeployError(f"{sorted(leaked)} are secrets: list them under secrets, not settings")
    return values


def _push_settings(env: Mapping[str, str], project: str) -> dict[str, str]:
    """Who signs Pub/Sub's push requests, and the audience their tokens carry."""
    site = _require(env, "SITE_URL", "the shop's public origin").rstrip("/")
    return {
        "PUBSUB_PUSH_SERVICE_ACCOUNT": env.get("PUBSUB_PUSH_SERVICE_ACCOUNT")
        or f"auren-pubsub-push@{project}.iam.gserviceaccount.com",
        "PUBSUB_PUSH_AUDIENCE": env.get("PUBSUB_PUSH_AUDIENCE") or site + "/_queue",
    }


def secrets_for(name: str, env: Mapping[str, str]) -> list[str]:
    """The secret names mounted into one function (each from the secret of the same id)."""
    spec = spec_for(name)
    iam = (env.get("DB_IAM_AUTH") or "true").lower() in TRUE
    names = [*BASE_SECRETS, *spec.secrets, *([] if iam else [PASSWORD_SECRET])]
    return list(dict.fromkeys(names))


def _list_flag(flag: str, items: Sequence[str]) -> str:
    """A gcloud list flag; with gcloud's `^delim^` escape when a value contains a comma."""
    if not any("," in item for item in items):
        return f"{flag}={','.join(items)}"
    delimiter = next(d for d in "@|#~;" if not any(d in item for item in items))
    return f"{flag}=^{delimiter}^{delimiter.join(items)}"


def source_commit(name: str) -> str:
    """The commit the bundle is built from, `-dirty` when its files have uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", f"functions/{name}", "common"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}-dirty" if status else head


def connection_budget(env: Mapping[str, str]) -> int:
    raw = (env.get("DB_CONNECTION_BUDGET") or "").strip()
    if not raw:
        return CONNECTION_BUDGET
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise DeployError(
            f"DB_CONNECTION_BUDGET must be a whole number of connections, not {raw!r}"
        )
    return int(raw)


def check_connections(name: str, max_instances: int, env: Mapping[str, str]) -> None:
    """Refuse a deploy after which every instance of every function, each holding its whole
    pool, would need more database connections than the budget.

    `name` is counted at `max_instances` (this deploy's MAX_INSTANCES), the others at the
    table's max_instances."""
    instances = {f: max_instances if f == name else s.max_instances for f, s in FUNCTIONS.items()}
    total = sum(s.connections(instances[f]) for f, s in FUNCTIONS.items())
    budget = connection_budget(env)
    if total <= budget:
        return
    parts = ", ".join(
        f"{f} {s.connections(instances[f])} ({instances[f]} x {s.pool_size}+{s.max_overflow})"
        for f, s in sorted(FUNCTIONS.items())
    )
    raise DeployError(
        f"at full scale-out the functions would hold {total} database connections, over the"
        f" budget of {budget} (DB_CONNECTION_BUDGET): {parts}. Lower max_instances, pool_size"
        " or max_overflow in devtools/deploy_config.py (or MAX_INSTANCES), or raise the budget"
        " with the database's max_connections or a pooler (docs/deploy.md, Capacity)"
    )


@dataclass(frozen=True)
class Plan:
    command: list[str]
    source: Path
    commit: str


def plan(name: str, env: Mapping[str, str]) -> Plan:
    """The `gcloud functions deploy` command for one function (no side effects)."""
    spec = spec_for(name)
    project = _require(env, "PROJECT", "the GCP project id")
    region = region_for(name, env)
    settings = settings_for(name, env)
    version = env.get("SECRET_VERSION") or "latest"
    secrets = [f"{secret}={secret}:{version}" for secret in secrets_for(name, env)]
    source = Path(env.get("BUILD_DIR") or bundle.DEFAULT_OUT) / name
    commit = source_commit(name)
    min_instances = env.get("MIN_INSTANCES") or str(spec.min_instances)
    max_instances = env.get("MAX_INSTANCES") or str(spec.max_instances)
    if not max_instances.isdigit() or int(max_instances) < 1:
        raise DeployError(f"MAX_INSTANCES must be a whole number from 1, not {max_instances!r}")
    check_connections(name, int(max_instances), env)
    command = [
        "gcloud",
        "functions",
        "deploy",
        name,
        "--gen2",
        f"--project={project}",
        f"--region={region}",
        f"--runtime={lock.runtime()}",  # pyproject.toml requires-python names it
        f"--source={source}",
        f"--entry-point={name}",
        "--trigger-http",
        "--allow-unauthenticated" if spec.public else "--no-allow-unauthenticated",
        "--ingress-settings=all",
        f"--run-service-account={_service_account(env, project)}",
        f"--memory={spec.memory}",
        f"--cpu={spec.cpu}",
        f"--timeout={spec.timeout_seconds}s",
        f"--concurrency={spec.concurrency}",
        f"--min-instances={min_instances}",
        f"--max-instances={max_instances}",
        _list_flag("--set-env-vars", [f"{k}={v}" for k, v in settings.items()]),
        _list_flag("--set-secrets", secrets),
        f"--update-labels=app=auren,auren-commit={commit}",
        "--serve-all-traffic-latest-revision",
        "--quiet",
    ]
    return Plan(command=command, source=source, commit=commit)


def printable(command: Sequence[str]) -> str:
    """The command as one shell command, a flag per line."""
    head = shlex.join(command[:4])
    return " \\\n  ".join([head, *(shlex.quote(arg) for arg in command[4:])])


def _dry_run(env: Mapping[str, str]) -> bool:
    return (env.get("DRY_RUN") or "").lower() in TRUE


def deploy(name: str, env: Mapping[str, str]) -> int:
    """Bundle and deploy one function (or print the command with DRY_RUN=1)."""
    deployment = plan(name, env)
    stale = lock.stale(name)
    if stale:
        raise DeployError("; ".join(stale) + ": run make lock")
    target = bundle.build(name, REPO / deployment.source.parent)
    for problem in bundle.undeclared_imports(name):
        print(f"warning: {problem}, not in functions/{name}/requirements.in", file=sys.stderr)
    if deployment.commit.endswith("-dirty"):
        message = f"functions/{name} or common/ has uncommitted changes"
        if not _dry_run(env) and (env.get("ALLOW_DIRTY") or "").lower() not in TRUE:
            raise DeployError(f"{message}: commit them, or set ALLOW_DIRTY=1")
        print(f"warning: {message}", file=sys.stderr)
    print(f"# bundle: {target}", file=sys.stderr)
    print(printable(deployment.command))
    if _dry_run(env):
        return 0
    return subprocess.run(deployment.command, cwd=REPO).returncode


def hosting_command(env: Mapping[str, str]) -> list[str]:
    project = _require(env, "PROJECT", "the Firebase (GCP) project id")
    firebase = shlex.split(env.get("FIREBASE") or "firebase")
    return [*firebase, "deploy", "--only", "hosting", f"--project={project}", "--non-interactive"]


def deploy_hosting(env: Mapping[str, str]) -> int:
    """Publish `hosting/` with firebase.json's headers and rewrites."""
    command = hosting_command(env)
    print(shlex.join(command))
    if _dry_run(env):
        return 0
    if shutil.which(command[0]) is None:
        raise DeployError(
            f"{command[0]} is not on PATH: `npm install -g firebase-tools`, "
            'or FIREBASE="npx --yes firebase-tools"'
        )
    return subprocess.run(command, cwd=REPO).returncode


STATE_MODULE = REPO / "common" / "infra" / "state.py"
STATE_METHODS = frozenset({"get", "get_many", "put", "take"})
WEBHOOK_PATH = "/api/webhooks/stripe"


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """The module-level `NAME = "text"` constants of one module."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _is_state_backend(node: ast.expr) -> bool:
    """`state.backend()`: the one way the code reaches the state backend."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "backend"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "state"
    )


def state_collections(root: Path = REPO / "common") -> list[str]:
    """Every Firestore collection the deployed code uses, read from the code itself.

    The collection argument of each `state.backend().get/get_many/put/take(...)` call (a literal
    or a module constant), and each `.collection("...")` of the backend itself (rate limits).
    A call whose collection cannot be read here is an error, so none is ever missed.
    """
    found: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        constants = _module_strings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if path == STATE_MODULE and node.func.attr == "collection":
                if node.args and isinstance(node.args[0], ast.Constant):
                    found.add(str(node.args[0].value))
                continue
            if node.func.attr not in STATE_METHODS or not _is_state_backend(node.func.value):
                continue
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            elif isinstance(first, ast.Name) and first.id in constants:
                found.add(constants[first.id])
            else:
                where = f"{path.relative_to(root.parent)}:{node.lineno}"
                raise DeployError(f"{where}: cannot read the state collection of this call")
    return sorted(found)


def ttl_field(path: Path = STATE_MODULE) -> str:
    """The expiry field the Firestore backend writes (`document["<field>"] = ...`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    fields = {
        str(target.slice.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Subscript)
        and isinstance(target.slice, ast.Constant)
        and str(target.slice.value).startswith("_expires")
    }
    if len(fields) != 1:
        raise DeployError(f"expected one expiry field in {path.name}, found {sorted(fields)}")
    return fields.pop()


def ttl_commands(env: Mapping[str, str]) -> list[list[str]]:
    """One `gcloud firestore fields ttls update` per collection group the code uses."""
    project = _require(env, "PROJECT", "the GCP project id")
    field = ttl_field()
    return [
        [
            "gcloud",
            "firestore",
            "fields",
            "ttls",
            "update",
            field,
            f"--collection-group={collection}",
            "--enable-ttl",
            f"--project={project}",
            "--async",
            "--quiet",
        ]
        for collection in state_collections()
    ]


def queue_commands(env: Mapping[str, str]) -> list[tuple[list[str], list[str]]]:
    """Per topic of SUBSCRIPTIONS, its Pub/Sub topic and push subscription: each as (create,
    what to run instead when it exists already), so the platform step can run again."""
    from common.providers import queue

    project = _require(env, "PROJECT", "the GCP project id")
    prefix = env.get("PUBSUB_TOPIC_PREFIX") or "auren-"
    push = _push_settings(env, project)
    commands = []
    for topic, function in sorted(SUBSCRIPTIONS.items()):
        region = region_for(function, env)
        endpoint = (
            f"https://{region}-{project}.cloudfunctions.net/{function}{queue.push_path(topic)}"
        )
        topic_id, subscription = prefix + topic, f"{prefix}{topic}-push"
        # Pub/Sub waits for the push answer this long, then delivers again: the function's
        # own timeout, and a little more.
        ack = spec_for(function).timeout_seconds + 10
        flags = [
            f"--push-endpoint={endpoint}",
            f"--push-auth-service-account={push['PUBSUB_PUSH_SERVICE_ACCOUNT']}",
            f"--push-auth-token-audience={push['PUBSUB_PUSH_AUDIENCE']}",
            f"--ack-deadline={ack}",
            "--min-retry-delay=10s",
            "--max-retry-delay=600s",
            "--message-retention-duration=1d",
            f"--project={project}",
        ]
        pubsub = ["gcloud", "pubsub"]
        commands.append(
            (
                [*pubsub, "topics", "create", topic_id, f"--project={project}"],
                [*pubsub, "topics", "describe", topic_id, f"--project={project}"],
            )
        )
        commands.append(
            (
                [*pubsub, "subscriptions", "create", subscription, f"--topic={topic_id}", *flags],
                [*pubsub, "subscriptions", "update", subscription, *flags],
            )
        )
    return commands


def handled_events() -> list[str]:
    """The Stripe event types `stripe_webhook` handles: exactly what the endpoint is sent."""
    from common.shop.fulfilment import EVENT_HANDLERS

    return sorted(EVENT_HANDLERS)


def webhook_request(env: Mapping[str, str]) -> dict[str, object]:
    """The Stripe API request that creates the webhook endpoint (no secret in it)."""
    import stripe

    site = _require(env, "SITE_URL", "the shop's public origin").rstrip("/")
    return {
        "method": "POST",
        "path": "/v1/webhook_endpoints",
        "params": {
            "url": site + WEBHOOK_PATH,
            "enabled_events": handled_events(),
            "api_version": stripe.api_version,
            "description": "Auren: stripe_webhook",
        },
    }


def _form(params: Mapping[str, object]) -> list[str]:
    """The request's form fields as Stripe receives them (`enabled_events[]`), one a line."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list):
            pairs.extend((f"{key}[]", str(item)) for item in value)
        else:
            pairs.append((key, str(value)))
    return [f"  {key}={value}" for key, value in pairs]


def _create_webhook(env: Mapping[str, str], request: Mapping[str, object]) -> str:
    """Create the endpoint with STRIPE_SECRET_KEY; its signing secret, never printed."""
    import stripe

    key = _require(env, "STRIPE_SECRET_KEY", "a Stripe key allowed Webhook Endpoints: write")
    base = env.get("STRIPE_API_BASE")
    client = stripe.StripeClient(key, base_addresses={"api": base} if base else {})
    params = request["params"]
    assert isinstance(params, dict)
    endpoint = client.v1.webhook_endpoints.create(params=params)  # type: ignore[arg-type]
    return str(endpoint.secret)


def deploy_platform(env: Mapping[str, str]) -> int:
    """Firestore TTL policies, Pub/Sub topics and push subscriptions, and the Stripe webhook
    endpoint (DRY_RUN=1 prints them)."""
    commands = ttl_commands(env)
    queues = queue_commands(env)
    request = webhook_request(env)
    project = _require(env, "PROJECT", "the GCP project id")
    store = [
        "gcloud",
        "secrets",
        "versions",
        "add",
        "STRIPE_WEBHOOK_SECRET",
        "--data-file=-",
        f"--project={project}",
    ]
    for command in commands:
        print(shlex.join(command))
    for create, existing in queues:
        print(shlex.join(create))
        print(f"#   when it exists: {shlex.join(existing)}")
    print(f"# Stripe API: {request['method']} {request['path']}")
    print(*_form(request["params"]), sep="\n")  # type: ignore[arg-type]
    print(f"# then its signing secret, from stdin: {shlex.join(store)}")
    if _dry_run(env):
        return 0
    for command in commands:
        code = subprocess.run(command, cwd=REPO).returncode
        if code:
            return code
    for create, existing in queues:
        if subprocess.run(create, cwd=REPO).returncode:
            code = subprocess.run(existing, cwd=REPO).returncode
            if code:
                return code
    secret = _create_webhook(env, request)
    return subprocess.run(store, cwd=REPO, input=secret, text=True).returncode


def secrets_matrix() -> str:
    """Which function gets which secret (markdown), as docs/deploy.md shows it."""
    names = sorted(FUNCTIONS)
    secrets = [*BASE_SECRETS, *sorted({s for f in FUNCTIONS.values() for s in f.secrets})]
    secrets = list(dict.fromkeys(secrets))
    lines = ["| secret | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for secret in secrets:
        marks = ["x" if secret in secrets_for(n, {}) else "" for n in names]
        lines.append(f"| `{secret}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)


def resources_table() -> str:
    """Each function's resources and exposure (markdown), as docs/deploy.md shows them."""
    lines = [
        "| function | public | memory | cpu | timeout | concurrency | instances | db pool"
        " | db connections | does |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, spec in sorted(FUNCTIONS.items()):
        lines.append(
            f"| `{name}` | {'yes' if spec.public else 'no'} | {spec.memory} | {spec.cpu} "
            f"| {spec.timeout_seconds}s | {spec.concurrency} "
            f"| {spec.min_instances}-{spec.max_instances} | {spec.pool_size}+{spec.max_overflow}"
            f" | {spec.connections()} | {spec.purpose} |"
        )
    most = sum(spec.connections() for spec in FUNCTIONS.values())
    lines.append(
        f"\nAt full scale-out the functions hold at most {most} database connections (max"
        " instances x (pool_size + max_overflow), set as DB_POOL_SIZE and DB_MAX_OVERFLOW),"
        f" within the budget of {CONNECTION_BUDGET} (`CONNECTION_BUDGET`; `make deploy` refuses"
        " more)."
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools deploy", description=__doc__)
    parser.add_argument("name", nargs="?", help="the function to deploy (FN=...)")
    parser.add_argument("--hosting", action="store_true", help="deploy Firebase Hosting instead")
    parser.add_argument("--matrix", action="store_true", help="print the tables of docs/deploy.md")
    parser.add_argument(
        "--platform",
        action="store_true",
        help="Firestore TTL policies, Pub/Sub push subscriptions, the Stripe webhook endpoint"
        " (DRY_RUN=1 prints them)",
    )
    args = parser.parse_args(argv)
    try:
        if args.platform:
            sys.exit(deploy_platform(os.environ))
        if args.matrix:
            print(resources_table(), budgets.table(), secrets_matrix(), sep="\n\n")
            return
        if args.hosting:
            sys.exit(deploy_hosting(os.environ))
        if not args.name:
            known = ", ".join(sorted(FUNCTIONS))
            raise DeployError(f"say which function: make deploy FN=<name> ({known})")
        sys.exit(deploy(args.name, os.environ))
    except (DeployError, bundle.BundleError) as exc:
        sys.exit(f"deploy: {exc}")


if __name__ == "__main__":
    main()
