"""GET /api/catalog served from Postgres through the `orders` function."""

from sqlalchemy import text

from devtools.seed import PRODUCTS


def test_catalog_lists_the_seeded_products(orders_client) -> None:
    response = orders_client.get("/api/catalog")
    assert response.status_code == 200
    products = response.get_json()["products"]
    assert [p["id"] for p in products] == [p.id for p in PRODUCTS]
    assert len(products) >= 6
    for product in products:
        assert product["currency"] == "usd"
        assert product["base_price_cents"] > 0
        assert product["colors"] and all(c["hex"].startswith("#") for c in product["colors"])
        assert product["sizes"]
        assert {a["name"] for a in product["print_areas"]} == {"front", "back"}
        assert product["image_url"].startswith("/img/products/")
        prices = [t["unit_price_cents"] for t in product["price_tiers"]]
        assert prices == sorted(prices, reverse=True)
        assert prices[0] < product["base_price_cents"]


def test_catalog_has_upcharged_large_sizes(orders_client) -> None:
    tee = next(
        p
        for p in orders_client.get("/api/catalog").get_json()["products"]
        if p["id"] == "classic-tee"
    )
    assert tee["sizes"] == ["XS", "S", "M", "L", "XL", "2XL", "3XL"]
    assert tee["size_upcharges"] == {"2XL": 200, "3XL": 400}


def test_catalog_is_cacheable_by_the_cdn(orders_client) -> None:
    response = orders_client.get("/api/catalog")
    assert response.headers["Cache-Control"].startswith("public")


def test_catalog_comes_from_the_database(orders_client, engine) -> None:
    from common.shop import catalog

    with engine.begin() as conn:
        conn.execute(text("UPDATE products SET name = 'Tote Deluxe' WHERE id = 'tote'"))
    catalog.forget()
    try:
        names = {
            p["id"]: p["name"] for p in orders_client.get("/api/catalog").get_json()["products"]
        }
        assert names["tote"] == "Tote Deluxe"
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE products SET name = 'Canvas Tote' WHERE id = 'tote'"))
        catalog.forget()


def test_catalog_refuses_other_methods(orders_client) -> None:
    response = orders_client.post("/api/catalog", json={})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
