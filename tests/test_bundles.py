"""Every function's bundle boots alone: a fresh venv with only its hashed lock, its own
`functions-framework` process on a loopback port, and a real request to one of its routes.

The functions and their routes are read when the tests run (the folders under `functions/`,
each router's `routes`), so a new function, route or requirement is covered without editing
this file. A bundle that imports something its requirements.txt does not install fails here.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools import bundle
from tests.emulators import free_port

FUNCTION_NAMES = bundle.function_names()
HOST = "127.0.0.1"
BOOT_TIMEOUT_SECONDS = 60.0
UNKNOWN_PATH = "/api/__bundle_probe__/no-such-route"

# Routes whose answer is known in a freshly seeded database: checked beyond "not an error".
KNOWN_ANSWERS: dict[str, Callable[[Any], bool]] = {
    "/api/catalog": lambda body: len(body["products"]) > 0 and "price_tiers" in body["products"][0],
}

ROUTES_SCRIPT = """
import json, sys
import functions_framework
functions_framework.create_app({name!r}, "main.py")
import common
router = getattr(sys.modules["main"], "router", None)
routes = [[r.method, r.path] for r in getattr(router, "routes", [])]
print(json.dumps({{"common": common.__file__, "routes": routes}}))
"""


class BootFailed(AssertionError):
    """The bundle's process exited (or never answered) instead of serving."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        assert self.headers.get("content-type", "").startswith("application/json"), self
        return json.loads(self.body)


def request(port: int, method: str, path: str, body: Any = None) -> Answer:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        found = {key.lower(): value for key, value in response.getheaders()}
        return Answer(response.status, found, response.read())
    finally:
        conn.close()


def start(
    python: Path, target: Path, name: str, env: dict[str, str], log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    """`functions-framework --target <name> --source main.py` in the bundle, on a free port."""
    for _ in range(3):
        port = free_port()
        command = [
            str(python.parent / "functions-framework"),
            f"--target={name}",
            "--source=main.py",
            f"--host={HOST}",
            f"--port={port}",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=target, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
        while process.poll() is None:
            try:
                request(port, "GET", UNKNOWN_PATH)
                return process, port
            except OSError:
                if time.monotonic() > deadline:
                    process.kill()
                    raise BootFailed(f"{name} did not answer:\n{log.read_text()}") from None
                time.sleep(0.2)
        if "Address already in use" not in log.read_text():  # another test took the port
            break
    raise BootFailed(f"{name} exited with {process.returncode}:\n{log.read_text()}")


@contextmanager
def serving(python: Path, target: Path, name: str, env: dict[str, str]) -> Iterator[int]:
    """The bundle served by its own functions-framework process; yields its port."""
    process, port = start(python, target, name, env, target.parent / f"{name}.log")
    try:
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def assert_error_shape(answer: Answer, status: int) -> None:
    assert answer.status == status, answer
    error = answer.json()["error"]
    assert error["code"] and error["message"], error


def probe_route(port: int, routes: list[list[str]]) -> Answer:
    """One real request to one of the function's own routes, picked from its router.

    The first GET route (an id that does not exist for a path parameter), else the first
    route with an empty JSON body. The route must answer as itself: a success, a redirect, or
    one of its JSON errors (401, 404, 422...), never a 5xx (an import that fails at first use
    answers 500) nor a 405 (the route did not match).
    """
    gets = [path for method, path in routes if method == "GET"]
    method, path = ("GET", gets[0]) if gets else routes[0]
    concrete = re.sub(r"<\w+>", "bundle-probe-missing", path)
    answer = request(port, method, concrete, body=None if method == "GET" else {})
    assert answer.status < 500 and answer.status != 405, (method, concrete, answer)
    if answer.status >= 400:
        assert_error_shape(answer, answer.status)
    if path in KNOWN_ANSWERS:
        assert answer.status == 200 and KNOWN_ANSWERS[path](answer.json()), answer
    return answer


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_bundle_boots_alone_from_its_requirements_and_answers(
    name: str, database_url: str, tmp_path: Path
) -> None:
    target = bundle.build(name, tmp_path / "bundles")
    python = bundle.create_venv(target, tmp_path / "venv")
    env = bundle.bundle_env(tmp_path / "data", {"DATABASE_URL": database_url})

    listed = subprocess.run(
        [str(python), "-c", ROUTES_SCRIPT.format(name=name)],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, f"{name} does not import from its bundle:\n{listed.stderr}"
    loaded = json.loads(listed.stdout.strip().splitlines()[-1])
    assert Path(loaded["common"]).is_relative_to(target.resolve()), loaded["common"]

    with serving(python, target, name, env) as port:
        assert_error_shape(request(port, "GET", UNKNOWN_PATH), 404)
        routes = loaded["routes"]
        if routes:
            probe_route(port, routes)
            method, path = routes[0]
            concrete = re.sub(r"<\w+>", "bundle-probe-missing", path)
            other = "DELETE" if method != "DELETE" else "PATCH"
            refused = request(port, other, concrete)
            assert_error_shape(refused, 405)
            assert method in refused.headers["allow"], refused


def lock_blocks(text: str) -> dict[str, str]:
    """{normalized name: its lines} of each package of a hashed lock, the header left out."""
    blocks: dict[str, str] = {}
    name = None
    for line in text.splitlines(keepends=True):
        if line[:1].isalnum():
            name = bundle.normalize(line.split("==", 1)[0])
        if name:
            blocks[name] = blocks.get(name, "") + line
    return blocks


def test_a_bundle_missing_a_dependency_fails_its_first_request_that_needs_it(
    tmp_path: Path,
) -> None:
    """A function starts on the framework alone (its routes' models and domain load on first
    use), so a missing dependency shows on the first request that needs it: a 500 whose log
    names the missing module, never a silent success."""
    name = "contact"
    target = bundle.build(name, tmp_path / "bundles")
    requirements = target / "requirements.txt"
    blocks = lock_blocks(requirements.read_text())
    framework = bundle._installed_closure([("functions-framework", frozenset())])
    assert set(blocks) > framework, "the function needs more than functions-framework"
    requirements.write_text("".join(blocks[n] for n in sorted(framework)))  # still hashed
    python = bundle.create_venv(target, tmp_path / "venv")
    env = bundle.bundle_env(tmp_path / "data")

    with serving(python, target, name, env) as port:
        answer = request(port, "POST", "/api/contact", body={})
    assert_error_shape(answer, 500)
    assert "ModuleNotFoundError" in (target.parent / f"{name}.log").read_text()


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_bundle_holds_the_function_common_and_pinned_requirements_only(
    name: str, tmp_path: Path
) -> None:
    target = bundle.build(name, tmp_path)
    source = bundle.FUNCTIONS_DIR / name

    def relative_files(root: Path) -> set[str]:
        return {
            str(p.relative_to(root))
            for p in root.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        }

    shipped = relative_files(target)
    expected = (relative_files(source) - {"requirements.in"}) | {
        f"common/{f}" for f in relative_files(bundle.COMMON_DIR) if not f.startswith("test_")
    }
    assert shipped == expected | {".gcloudignore"}
    assert not any(p.split("/")[0] in bundle.TOOLING_PACKAGES for p in shipped)
    assert (target / "main.py").read_bytes() == (source / "main.py").read_bytes()
    for module in (bundle.COMMON_DIR).glob("*.py"):
        assert (target / "common" / module.name).read_bytes() == module.read_bytes()
    assert bundle.pinned_requirements(target / "requirements.txt")
    assert "__pycache__/" in (target / ".gcloudignore").read_text()


HASH = "--hash=sha256:" + "0" * 64


def hashed(*pins: str) -> str:
    return "".join(f"{pin} {HASH}\n" for pin in pins)


def test_unpinned_or_unhashed_requirements_are_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(hashed("functions-framework==3.10.2", "flask>=3.0"))
    with pytest.raises(bundle.BundleError, match="not pinned"):
        bundle.pinned_requirements(requirements)
    requirements.write_text(hashed("flask==3.1.3"))
    with pytest.raises(bundle.BundleError, match="functions-framework"):
        bundle.pinned_requirements(requirements)
    requirements.write_text(hashed("functions-framework==3.10.2") + "flask==3.1.3\n")
    with pytest.raises(
        bundle.BundleError, match=r"requirements.txt:2: 'flask==3.1.3' has no --hash"
    ):
        bundle.pinned_requirements(requirements)
    requirements.write_text(
        "# runtime\nfunctions-framework==3.10.2 \\\n"
        f"    {HASH} \\\n    {HASH}\n    # via -r requirements.in\n"
        f"cloud-sql-python-connector[pg8000]==1.23.0 {HASH}  # the connector\n"
    )
    pins = bundle.pinned_requirements(requirements)
    assert [(p.name, p.version, p.extras) for p in pins] == [
        ("functions-framework", "3.10.2", frozenset()),
        ("cloud-sql-python-connector", "1.23.0", frozenset({"pg8000"})),
    ]


def write_function(root: Path, name: str, source: str, requirements: str) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "main.py").write_text(source)
    (folder / "requirements.txt").write_text(requirements)


def test_a_function_importing_tooling_is_not_bundled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "FUNCTIONS_DIR", tmp_path / "functions")
    source = "from devtools import seed\n\ndef leaky(request):\n    return seed\n"
    write_function(tmp_path / "functions", "leaky", source, hashed("functions-framework==3.10.2"))
    with pytest.raises(bundle.BundleError, match="devtools"):
        bundle.build("leaky", tmp_path / "out")
    no_entry = "def something_else(request):\n    return 'ok'\n"
    write_function(
        tmp_path / "functions", "nameless", no_entry, hashed("functions-framework==3.10.2")
    )
    with pytest.raises(bundle.BundleError, match="def nameless"):
        bundle.build("nameless", tmp_path / "out")


def test_lazy_imports_missing_from_requirements_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "FUNCTIONS_DIR", tmp_path / "functions")
    source = (
        "import flask\n\n"
        "def pay(request):\n"
        "    import stripe\n"
        "    from google.cloud import firestore\n"
        "    return flask.jsonify(stripe.api_version, firestore.__name__)\n"
    )
    write_function(tmp_path / "functions", "pay", source, hashed("functions-framework==3.10.2"))
    problems = bundle.undeclared_imports("pay")
    assert any("stripe" in p for p in problems), problems
    assert any("google-cloud-firestore" in p for p in problems), problems
    assert not any("flask" in p for p in problems), problems  # functions-framework brings it

    (tmp_path / "functions" / "pay" / "requirements.txt").write_text(
        hashed("functions-framework==3.10.2", "stripe==1.0", "google-cloud-firestore==2.0")
    )
    assert bundle.undeclared_imports("pay") == []


def test_the_report_measures_a_bundle_in_its_own_venv(tmp_path: Path) -> None:
    row = bundle.measure("orders", tmp_path, runs=1)
    shipped = bundle.files_of(bundle.build("orders", tmp_path / "fresh"))
    assert (row.bundle_files, row.bundle_bytes) == (
        len(shipped),
        sum(p.stat().st_size for p in shipped),
    )
    assert row.bundle_bytes > 0 and row.venv_bytes > row.bundle_bytes
    assert row.dependencies >= row.requirements > 0
    assert row.import_ms is not None and row.import_ms > 0, row.error
    table = bundle.report_table([row])
    assert table.splitlines()[2].startswith("| orders | ")


@pytest.mark.parametrize("name", FUNCTION_NAMES)
def test_every_package_a_function_can_import_is_in_its_requirements(name: str) -> None:
    assert bundle.undeclared_imports(name) == []
