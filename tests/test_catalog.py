"""GET /api/catalog served from Postgres through the `orders` function."""

import pytest

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


def test_the_catalog_is_what_its_documented_schema_describes(orders_client) -> None:
    """The catalog is written as plain JSON; `CatalogOut` (the OpenAPI document's) describes
    every field of it, with its type: read back through the schema, it is the same JSON."""
    from common.api.catalog import CatalogOut

    shown = orders_client.get("/api/catalog").get_json()
    assert CatalogOut.model_validate(shown).model_dump(mode="json") == shown
    area = shown["products"][0]["print_areas"][0]
    assert isinstance(area["width_in"], float) and isinstance(area["height_in"], float)


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


def test_catalog_comes_from_the_database(orders_client, pool) -> None:
    from common.shop import catalog

    with pool.transaction() as conn:
        conn.execute("UPDATE products SET name = 'Tote Deluxe' WHERE id = 'tote'")
    catalog.forget()
    try:
        names = {
            p["id"]: p["name"] for p in orders_client.get("/api/catalog").get_json()["products"]
        }
        assert names["tote"] == "Tote Deluxe"
    finally:
        with pool.transaction() as conn:
            conn.execute("UPDATE products SET name = 'Canvas Tote' WHERE id = 'tote'")
        catalog.forget()


def test_catalog_refuses_other_methods(orders_client) -> None:
    response = orders_client.post("/api/catalog", json={})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]


def test_print_areas_have_a_physical_size_of_their_box_s_aspect(orders_client) -> None:
    from devtools.seed import PRINT_SIZES

    products = orders_client.get("/api/catalog").get_json()["products"]
    for product in products:
        for area in product["print_areas"]:
            width_in, height_in = area["width_in"], area["height_in"]
            assert (width_in, height_in) == PRINT_SIZES[product["id"]][area["name"]]
            assert 1 <= width_in <= 16 and 1 <= height_in <= 18
            # The print matches the mockup: the same shape as the area's box on the template.
            aspect = (width_in / height_in) / (area["width"] / area["height"])
            assert abs(aspect - 1) <= 0.01, (product["id"], area["name"], aspect)


class RolledBack(Exception):
    """Raised to end a transaction by rolling it back."""


def test_the_migration_backfills_the_seeded_print_sizes(pool) -> None:
    """0006 run again on the seeded rows (columns dropped first, in a transaction rolled
    back): every area gets the seed's size, an area it does not know one of its aspect."""
    from common.infra import db
    from devtools.seed import PRINT_SIZES

    [sql] = [sql for version, sql in db.migration_files() if version == "0006_print_sizes"]
    with pool.connect() as conn, pytest.raises(RolledBack), conn.transaction():
        conn.execute(
            "INSERT INTO products (id, name, category, base_price_cents, image_url)"
            " VALUES ('apron', 'Apron', 'bag', 2000, '/img/apron.png')"
        )
        conn.execute(
            "INSERT INTO product_print_areas (product_id, name, x, y, width, height,"
            " template_size, template_url, width_in, height_in)"
            " VALUES ('apron', 'front', 10, 10, 270, 135, 1024, '/a.png', 1, 1)"
        )
        conn.execute(
            "ALTER TABLE product_print_areas DROP CONSTRAINT"
            " product_print_areas_inches_positive, DROP COLUMN width_in,"
            " DROP COLUMN height_in"
        )
        conn.simple(sql)
        rows = conn.execute(
            "SELECT product_id, name, width_in, height_in FROM product_print_areas"
        ).all()
        raise RolledBack
    sizes = {(r.product_id, r.name): (float(r.width_in), float(r.height_in)) for r in rows}
    assert sizes.pop(("apron", "front")) == (10.0, 5.0)
    assert sizes == {
        (product, side): size
        for product, areas in PRINT_SIZES.items()
        for side, size in areas.items()
    }


def test_each_product_has_its_production_time_and_a_size_chart(orders_client) -> None:
    from devtools.seed import SIZE_CHARTS

    products = orders_client.get("/api/catalog").get_json()["products"]
    for product, seeded in zip(products, PRODUCTS, strict=True):
        assert product["production_days"] == seeded.production_days
        chart = product["size_chart"]
        if product["sizes"] == ["OS"]:
            assert chart == []
            continue
        assert [row["size"] for row in chart] == product["sizes"]
        assert {r["size"]: (r["chest_in"], r["length_in"]) for r in chart} == SIZE_CHARTS[
            product["id"]
        ]
        chests = [row["chest_in"] for row in chart]
        lengths = [row["length_in"] for row in chart]
        assert chests == sorted(chests) and lengths == sorted(lengths)  # bigger, size by size
        assert all(
            15 <= c <= 32 and 25 <= length <= 34 for c, length in zip(chests, lengths, strict=True)
        )


def test_the_catalog_says_when_each_product_arrives_at_each_rate(
    orders_client, monkeypatch
) -> None:
    from datetime import UTC, datetime

    from common.shop import delivery

    monkeypatch.setattr(delivery, "clock", lambda: datetime(2026, 12, 11, 15, 0, tzinfo=UTC))
    body = orders_client.get("/api/catalog").get_json()
    assert body["today"] == "2026-12-11"  # a Friday
    standard, rush = body["shipping_rates"]
    assert standard == {
        "id": "standard",
        "name": "Standard shipping",
        "amount_cents": 895,
        "free_over_cents": 15000,
        "transit_days": {"min": 3, "max": 5},
    }
    assert (rush["id"], rush["amount_cents"], rush["free_over_cents"]) == ("rush", 2495, None)
    products = {p["id"]: p for p in body["products"]}
    tee = products["classic-tee"]  # 5 business days to make: shipped Fri 18
    assert tee["shipping_options"] == [
        {
            "id": "standard",
            "name": "Standard shipping",
            "arrives": {"earliest": "2026-12-23", "latest": "2026-12-25"},
        },
        {
            "id": "rush",
            "name": "Rush shipping",
            "arrives": {"earliest": "2026-12-21", "latest": "2026-12-22"},
        },
    ]
    cap = products["cap"]  # 8 business days: shipped Wed 23, standard Mon 28 .. Wed 30
    assert cap["shipping_options"][0]["arrives"] == {
        "earliest": "2026-12-28",
        "latest": "2026-12-30",
    }


def test_the_migration_backfills_the_seeded_size_charts_and_production_days() -> None:
    """0008 writes the same numbers the seed upserts (a deployed catalog has them before it is
    seeded again)."""
    import re

    from common.infra import db
    from devtools.seed import SIZE_CHARTS

    [sql] = [sql for version, sql in db.migration_files() if version == "0008_shopping"]
    charts: dict[str, dict[str, tuple[float, float]]] = {}
    for product, size, chest, length in re.findall(
        r"\('([a-z-]+)', '(\w+)', ([\d.]+), ([\d.]+)\)", sql
    ):
        charts.setdefault(product, {})[size] = (float(chest), float(length))
    assert charts == SIZE_CHARTS
    days = dict(re.findall(r"\('([a-z-]+)', (\d+)\)", sql))
    assert {product: int(d) for product, d in days.items()} == {
        p.id: p.production_days for p in PRODUCTS
    }
