"""Share for approval: `POST /api/designs/<id>/share` (the owner) gives a read-only link, and
`GET /api/designs/shared/<token>` (anyone, no sign-in) shows the product, colour and mockups,
nothing else."""

from __future__ import annotations

import uuid
from typing import Any

import flask.testing
import pytest

from common.infra import config
from tests.conftest import function_app


def browser() -> flask.testing.FlaskClient:
    client = function_app("generate_image").test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.51.101.{uuid.uuid4().int % 250}"
    return client


@pytest.fixture
def owner(database_url: str) -> flask.testing.FlaskClient:
    return browser()


def a_design(client: flask.testing.FlaskClient, words: str = "Team Auren") -> dict[str, Any]:
    layer = {"id": "title", "type": "text", "area": "back", "x": 0.5, "y": 0.3, "text": words}
    response = client.post(
        "/api/designs", json={"product_id": "hoodie", "color": "Navy", "layers": [layer]}
    )
    assert response.status_code == 200, response.get_json()
    design: dict[str, Any] = response.get_json()
    return design


def share(client: flask.testing.FlaskClient, design_id: str, **headers: str) -> Any:
    return client.post(f"/api/designs/{design_id}/share", headers=headers)


def test_the_owner_shares_a_read_only_link_that_shows_only_the_mockups(owner) -> None:
    design = a_design(owner)
    response = share(owner, design["design_id"])
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "private, no-store"
    link = response.get_json()
    assert set(link) == {"token", "url"}
    assert len(link["token"]) == 32
    assert link["url"] == f"{config.settings().site_url}/shared#{link['token']}"
    assert share(owner, design["design_id"]).get_json() == link  # one link per design
    anyone = function_app("generate_image").test_client()  # no cookie at all
    shown = anyone.get(f"/api/designs/shared/{link['token']}")
    assert shown.status_code == 200
    assert shown.get_json() == {
        "product_name": "Heavy Hoodie",
        "color": "Navy",
        "mockups": design["mockups"],
    }
    assert "Set-Cookie" not in shown.headers
    # The link follows the design as it is edited.
    edited = owner.post(
        "/api/designs",
        json={
            "design_id": design["design_id"],
            "product_id": "hoodie",
            "color": "Black",
            "layers": design["layers"],
        },
    ).get_json()
    again = anyone.get(f"/api/designs/shared/{link['token']}").get_json()
    assert (again["color"], again["mockups"]) == ("Black", edited["mockups"])


def test_only_the_owner_shares(owner) -> None:
    design = a_design(owner)
    for who in (browser(), function_app("generate_image").test_client()):
        a_design(who)  # a session of its own
        response = share(who, design["design_id"])
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "design_not_found"
    assert share(function_app("generate_image").test_client(), design["design_id"]).status_code == (
        404
    )
    assert share(owner, "dsn_" + "x" * 24).status_code == 404
    assert share(owner, "nonsense").status_code == 404
    cross = share(owner, design["design_id"], Origin="https://evil.example")
    assert cross.status_code == 403


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 33, "%00" * 3, "..%2f..%2fetc"])
def test_an_unknown_token_is_a_404(database_url: str, token: str) -> None:
    response = function_app("generate_image").test_client().get(f"/api/designs/shared/{token}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] in ("share_not_found", "not_found")


def test_the_share_routes_refuse_other_methods(owner) -> None:
    design = a_design(owner)
    token = share(owner, design["design_id"]).get_json()["token"]
    assert owner.get(f"/api/designs/{design['design_id']}/share").status_code == 405
    assert owner.post(f"/api/designs/shared/{token}").status_code == 405
