"""`POST /api/designs`: saving a design's edited layers through the `generate_image` function."""

from __future__ import annotations

import pytest

from tests.test_generate_image_api import client, generate, made, png_at


@pytest.fixture
def shopper(database_url: str):
    return client()


def save(browser, **body):
    return browser.post("/api/designs", json=body)


def test_text_only_designs_are_created_from_layers(shopper) -> None:
    layer = {
        "id": "title",
        "type": "text",
        "area": "back",
        "x": 0.5,
        "y": 0.3,
        "text": "Team\u200b Auren",
        "font": "Aileron Black",
        "size": 0.15,
        "color": "#FFD60A",
        "rotation": -5,
    }
    response = save(shopper, product_id="crewneck", color="Navy", layers=[layer])
    assert response.status_code == 200, response.get_json()
    design = response.get_json()
    [saved] = design["layers"]
    assert saved["text"] == "Team Auren" and saved["color"] == "#ffd60a"
    assert design["artwork_url"] is None
    back = png_at(design["mockups"]["back"])
    assert back.size == (1024, 1024)


def test_edited_layers_replace_the_old_ones_and_re_render(shopper) -> None:
    design = made(
        shopper, generate(shopper, prompt="a minimal mountain", product_id="tote", color="Natural")
    )
    art = design["layers"][0]
    moved = {**art, "x": 0.4, "y": 0.45, "scale": 0.5, "rotation": 12}
    response = save(
        shopper,
        design_id=design["design_id"],
        product_id="tote",
        color="Black",
        layers=[moved],
    )
    assert response.status_code == 200, response.get_json()
    saved = response.get_json()
    assert saved["version"] == design["version"] + 1
    assert saved["color"] == "Black"
    assert saved["layers"][0]["rotation"] == 12 and saved["layers"][0]["url"] == art["url"]
    assert saved["mockups"]["front"] != design["mockups"]["front"]
    assert saved["brief"]["image"]["prompt"] == "a minimal mountain"


@pytest.mark.parametrize(
    ("layer", "code"),
    [
        ({"x": 0.95, "scale": 1.0}, "layer_outside_print_area"),
        ({"asset": "uploads/" + "z" * 24 + ".png"}, "unknown_asset"),
        ({"area": "sleeve"}, "validation_error"),
        ({"asset": "../../secrets.json"}, "validation_error"),
    ],
)
def test_invalid_layers_are_422(shopper, layer: dict, code: str) -> None:
    design = made(
        shopper, generate(shopper, prompt="a star", product_id="classic-tee", color="White")
    )
    base = {**design["layers"][0], "x": 0.5, "y": 0.5, "scale": 0.5}
    response = save(shopper, product_id="classic-tee", color="White", layers=[{**base, **layer}])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == code


def test_only_the_owner_can_save_a_design(shopper, database_url: str) -> None:
    design = made(shopper, generate(shopper, prompt="a bold heart"))
    stranger = client()
    response = save(
        stranger,
        design_id=design["design_id"],
        product_id="hoodie",
        color="Black",
        layers=[],
    )
    assert response.status_code == 404


def test_only_the_sides_that_changed_are_rendered_again(shopper) -> None:
    design = made(
        shopper, generate(shopper, prompt="a bold crown", product_id="classic-tee", color="Navy")
    )
    title = {
        "id": "title",
        "type": "text",
        "area": "back",
        "x": 0.5,
        "y": 0.5,
        "text": "Royalty",
        "size": 0.15,
    }
    saved = save(
        shopper,
        design_id=design["design_id"],
        product_id="classic-tee",
        color="Navy",
        layers=[*design["layers"], title],
    ).get_json()
    assert saved["mockups"]["front"] == design["mockups"]["front"]
    assert saved["mockups"]["back"] != design["mockups"]["back"]


def test_the_owner_reopens_a_design_and_nobody_else_sees_it(shopper, database_url: str) -> None:
    design = made(shopper, generate(shopper, prompt="a bold heart"))
    reopened = shopper.get(f"/api/designs/{design['design_id']}")
    assert reopened.status_code == 200
    assert reopened.get_json() == design
    assert reopened.headers["Cache-Control"] == "private, no-store"
    assert client().get(f"/api/designs/{design['design_id']}").status_code == 404
    assert shopper.get("/api/designs/dsn_nope").status_code == 404
