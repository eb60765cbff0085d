"""What the group order tests share: an organizer with a design, members in browsers of
their own, and the group's routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import flask.testing

from common.infra import db
from common.web import sessions
from tests.conftest import function_app, new_user, user_cookie

FRONT_TEXT = {
    "id": "crest",
    "type": "text",
    "area": "front",
    "x": 0.5,
    "y": 0.4,
    "text": "AUREN FC",
}


def browser(function: str = "orders") -> flask.testing.FlaskClient:
    """A client of its own address and cookie jar: one person's phone."""
    client = function_app(function).test_client()
    client.environ_base["REMOTE_ADDR"] = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client


@dataclass
class Organizer:
    public_id: str
    email: str
    cookie: str

    def client(self, function: str = "orders") -> flask.testing.FlaskClient:
        client = browser(function)
        client.set_cookie(sessions.COOKIE_NAME, self.cookie)
        return client

    def design(self, product_id: str = "classic-tee", color: str = "Black") -> str:
        response = self.client("generate_image").post(
            "/api/designs", json={"product_id": product_id, "color": color, "layers": [FRONT_TEXT]}
        )
        assert response.status_code == 200, response.get_json()
        design_id: str = response.get_json()["design_id"]
        return design_id

    def start(self, **fields: Any) -> dict[str, Any]:
        """A group of a new design (a classic tee in black, names and numbers printed)."""
        body = {
            "design_id": fields.pop("design_id", None) or self.design(),
            "product_id": "classic-tee",
            "color": "Black",
            "title": "Auren FC kit",
            "personalization": {"name": True, "number": True},
            **fields,
        }
        response = self.client().post("/api/groups", json=body)
        assert response.status_code == 201, response.get_json()
        group: dict[str, Any] = response.get_json()
        return group


def new_organizer(pool: db.Pool) -> Organizer:
    public_id, email = new_user(pool)
    return Organizer(public_id, email, user_cookie(public_id, email))


def join(client: flask.testing.FlaskClient, token: str, name: str, size: str, **fields: Any) -> Any:
    return client.post(f"/api/groups/{token}/members", json={"name": name, "size": size, **fields})
