"""Settings: local defaults, and a production start-up that names what is missing."""

import subprocess
import sys
from pathlib import Path

import pytest

from common.infra import config, db

REPO = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "AUREN_ENV": "production",
    "SITE_URL": "https://auren.example",
    "SESSION_SECRET": "s" * 32,
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "INSTANCE_CONNECTION_NAME": "proj:us-central1:auren",
    "DB_NAME": "auren",
    "DB_USER": "auren-fn@proj.iam",
}


def test_local_is_the_default_and_keeps_generated_secrets(tmp_path: Path) -> None:
    first = config.load({"AUREN_DATA_DIR": str(tmp_path)})
    again = config.load({"AUREN_DATA_DIR": str(tmp_path)})
    assert first.local and not first.production
    assert first.state_backend == "postgres"
    assert first.site_url == "http://127.0.0.1:8080"
    assert len(first.session_secret) >= 32
    assert first.session_secret == again.session_secret
    assert first.stripe_webhook_secret == again.stripe_webhook_secret


def test_production_with_everything_set_loads() -> None:
    settings = config.load(PRODUCTION)
    assert settings.production
    assert settings.state_backend == "firestore"


@pytest.mark.parametrize("missing", ["SITE_URL", "SESSION_SECRET", "DB_USER"])
def test_production_names_the_missing_variable(missing: str) -> None:
    environ = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(config.ConfigError, match=missing):
        config.load(environ)


def test_production_refuses_the_local_state_backend() -> None:
    with pytest.raises(config.ConfigError, match="STATE_BACKEND"):
        config.load({**PRODUCTION, "STATE_BACKEND": "postgres"})


def test_production_refuses_the_embedded_database() -> None:
    cfg = config.load(PRODUCTION)
    no_database = config.Settings(**{**cfg.__dict__, "instance_connection_name": None})
    with pytest.raises(config.ConfigError, match="INSTANCE_CONNECTION_NAME"):
        db.build_pool(no_database)


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(config.ConfigError, match="AUREN_ENV"):
        config.load({"AUREN_ENV": "staging"})


def test_a_function_does_not_start_in_production_without_its_settings(tmp_path: Path) -> None:
    """Start-up itself (loading the function the way Cloud Functions does) fails, naming it."""
    script = (
        "import functions_framework;"
        f"functions_framework.create_app('orders', {str(REPO / 'functions/orders/main.py')!r})"
    )
    env = {"PATH": "/usr/bin:/bin", "AUREN_ENV": "production", "AUREN_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr


def test_dotenv_and_local_data_are_read_from_the_repository_root() -> None:
    assert (config.REPO_ROOT / "pyproject.toml").is_file()
    assert config.load({}).data_dir == config.REPO_ROOT / ".data"


def _openai_deprecated_chat_models() -> tuple[set[str], set[str]]:
    """(every ChatModel id, the ids its "Deprecated values" docstring lists) in the installed SDK.

    The SDK marks deprecations in the string after `ChatModel`: one `- "id", "id": Announced
    shutdown date: ...` (or `Not a supported model ID`) entry per group.
    """
    import ast
    import re
    import typing

    from openai.types.shared import chat_model

    source = Path(chat_model.__file__).read_text()
    tree = ast.parse(source)
    notes = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        and "Deprecated values" in node.value.value
    ]
    assert notes, f"no 'Deprecated values' note in {chat_model.__file__}: the SDK changed form"
    deprecated: set[str] = set()
    for entry in re.split(r"\n- ", notes[0].split("Deprecated values:", 1)[1]):
        if not entry.strip():
            continue
        ids, _, why = entry.partition('":')
        assert "shutdown" in why or "Not a supported" in why, entry
        deprecated.update(re.findall(r'"([^"]+)"', ids + '"'))
    return set(typing.get_args(chat_model.ChatModel)), deprecated


def test_the_default_openai_models_are_current_in_the_installed_sdk() -> None:
    known, deprecated = _openai_deprecated_chat_models()
    assert {"gpt-4o", "gpt-4o-mini"} <= deprecated  # the parse finds the SDK's own entries
    for model in (config.DEFAULT_CHAT_MODEL, config.DEFAULT_SIZES_MODEL):
        assert model in known, f"{model} is not a chat model of the installed openai SDK"
        assert model not in deprecated, f"{model} has an announced shutdown in the openai SDK"
    defaults = config.load({})
    assert (defaults.chat_model, defaults.sizes_model, defaults.image_model) == (
        config.DEFAULT_CHAT_MODEL,
        config.DEFAULT_SIZES_MODEL,
        config.DEFAULT_IMAGE_MODEL,
    )


def test_the_default_image_model_can_be_asked_for_2k_output() -> None:
    from google.genai import types

    assert "image_size" in types.ImageConfig.model_fields
    assert config.DEFAULT_IMAGE_MODEL != "gemini-2.5-flash-image"  # 1K only, a generation behind
