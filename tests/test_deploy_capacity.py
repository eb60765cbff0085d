"""`make deploy` holds the database connections of every function at full scale-out to the
connection budget, and the pool it deploys is the pool the pool builds (issue 16)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from common.infra import config, db
from devtools import deploy
from devtools.deploy_config import CONNECTION_BUDGET, FUNCTIONS
from tests.test_deploy import DEPLOY_ENV, dry_run, gcloud_list, run_make


def test_the_table_as_shipped_fits_the_budget() -> None:
    total = sum(spec.connections() for spec in FUNCTIONS.values())
    assert total <= CONNECTION_BUDGET
    for name, spec in FUNCTIONS.items():
        deploy.check_connections(name, spec.max_instances, {})  # no refusal


def test_dry_run_refuses_more_instances_than_the_connections_allow(tmp_path: Path) -> None:
    result = run_make(
        "deploy", tmp_path, FN="orders", DRY_RUN="1", MAX_INSTANCES="20", **DEPLOY_ENV
    )
    assert result.returncode != 0
    # orders goes from 10 x 5 to 20 x 5 connections: 250 + 50 = 300 > 270.
    assert "300 database connections, over the budget of 270" in result.stderr
    assert "orders 100 (20 x 2+3)" in result.stderr
    assert "gcloud" not in result.stdout  # no command was printed, so none could be copied


def test_the_budget_is_a_setting_of_the_deploying_shell(tmp_path: Path) -> None:
    refused = run_make(
        "deploy", tmp_path, FN="contact", DRY_RUN="1", DB_CONNECTION_BUDGET="200", **DEPLOY_ENV
    )
    assert refused.returncode != 0 and "over the budget of 200" in refused.stderr
    positional, options, _ = dry_run(
        "orders", tmp_path, MAX_INSTANCES="20", DB_CONNECTION_BUDGET="400"
    )
    assert positional[:4] == ["gcloud", "functions", "deploy", "orders"]
    assert options["--max-instances"] == "20"
    result = run_make(
        "deploy", tmp_path, FN="orders", DRY_RUN="1", DB_CONNECTION_BUDGET="lots", **DEPLOY_ENV
    )
    assert result.returncode != 0 and "DB_CONNECTION_BUDGET" in result.stderr


def test_a_bigger_pool_counts_like_more_instances(monkeypatch: pytest.MonkeyPatch) -> None:
    bigger = dataclasses.replace(FUNCTIONS["stripe_webhook"], pool_size=4, max_overflow=4)
    monkeypatch.setitem(FUNCTIONS, "stripe_webhook", bigger)  # 5 x 8 = 40 instead of 25
    with pytest.raises(
        deploy.DeployError, match="265 database connections, over the budget of 260"
    ):
        deploy.plan("auth", {**DEPLOY_ENV, "DB_CONNECTION_BUDGET": "260"})


def test_the_deployed_pool_is_the_pool_the_instance_builds(tmp_path: Path) -> None:
    _, options, _ = dry_run("chat", tmp_path)
    deployed = dict(item.split("=", 1) for item in gcloud_list(options["--set-env-vars"]))
    spec = FUNCTIONS["chat"]
    assert deployed["DB_POOL_SIZE"] == str(spec.pool_size)
    assert deployed["DB_MAX_OVERFLOW"] == str(spec.max_overflow)
    cfg = config.load(
        {
            "DATABASE_URL": "postgresql://u@127.0.0.1:1/none",
            "AUREN_DATA_DIR": str(tmp_path),
            "DB_POOL_SIZE": "4",
            "DB_MAX_OVERFLOW": "1",
        }
    )
    pool = db.build_pool(cfg)  # builds the pool; connects on first use only
    try:
        assert (pool.size, pool.overflow) == (4, 1)
        assert pool.opened() == 0
        assert db.max_connections(cfg) == 5
    finally:
        pool.dispose()


@pytest.mark.parametrize("value", ["0", "-1", "many", "51"])
def test_a_pool_size_out_of_range_stops_start_up(value: str, tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match="DB_POOL_SIZE"):
        config.load({"AUREN_DATA_DIR": str(tmp_path), "DB_POOL_SIZE": value})
