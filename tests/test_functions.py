"""Every function loads the way Cloud Functions loads it, without heavy SDKs at import."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FUNCTIONS

REPO = Path(__file__).resolve().parents[1]
HEAVY_MODULES = (
    "openai",
    "google.genai",
    "workos",
    "stripe",
    "google.cloud",
    "gspread",
    "sendgrid",
)


def is_heavy(module: str) -> bool:
    # functions-framework itself imports google.cloud.functions*: the runtime, not an SDK.
    if module == "google.cloud" or module.startswith("google.cloud.functions"):
        return False
    return any(module == h or module.startswith(h + ".") for h in HEAVY_MODULES)


PROBE = """
import json, sys
import functions_framework
functions_framework.create_app({name!r}, {source!r})
print(json.dumps(sorted(sys.modules)))
"""


def loaded_at_start(name: str, tmp_path: Path) -> list[str]:
    """The modules loaded once `name` is loaded as Cloud Functions loads it."""
    source = str(REPO / "functions" / name / "main.py")
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(name=name, source=source)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AUREN_DATA_DIR": str(tmp_path)},
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_imports_no_heavy_sdk_at_module_level(name: str, tmp_path: Path) -> None:
    assert [module for module in loaded_at_start(name, tmp_path) if is_heavy(module)] == []


# Every function starts without pydantic: its routes' models load on their first call (issue 16).
@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_function_starts_without_pydantic_or_its_route_models(name: str, tmp_path: Path) -> None:
    loaded = loaded_at_start(name, tmp_path)
    assert [m for m in loaded if m.startswith(("common.api", "pydantic"))] == []


def test_orders_starts_with_the_catalog(tmp_path: Path) -> None:
    assert "common.shop.catalog" in loaded_at_start("orders", tmp_path)  # asked for first


FIRST_CATALOG = """
import json, sys
import functions_framework
app = functions_framework.create_app("orders", {source!r})
response = app.test_client().get("/api/catalog")
print(json.dumps([response.status_code, len(response.get_json()["products"]), sorted(sys.modules)]))
"""


def test_orders_answers_its_first_catalog_request_without_pydantic(
    database_url: str, tmp_path: Path
) -> None:
    source = str(REPO / "functions" / "orders" / "main.py")
    result = subprocess.run(
        [sys.executable, "-c", FIRST_CATALOG.format(source=source)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "AUREN_DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
        },
        check=True,
    )
    status, products, loaded = json.loads(result.stdout.splitlines()[-1])
    assert (status, products > 0) == (200, True)
    assert [m for m in loaded if m.split(".")[0] in ("pydantic", "pydantic_core")] == []


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_has_its_entry_point_and_requirements(name: str) -> None:
    folder = REPO / "functions" / name
    assert f"def {name}(request: flask.Request)" in (folder / "main.py").read_text()
    requirements = (folder / "requirements.txt").read_text().split()
    assert any(line.startswith("functions-framework==") for line in requirements)
