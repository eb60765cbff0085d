"""The catalog seed: six products with colors, sizes, print areas, upcharges and price tiers,
their production time and size charts.

A print area is its box on the product template (`common.studio.garments.PRINT_AREAS`) and
its physical size in inches (`PRINT_SIZES`, the same aspect ratio within 1%): print files are
that size at 300 DPI.

Seeding is an upsert, safe to run again; it never deletes what orders may reference.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.infra import db
from common.infra.db import Connection
from common.shop import catalog
from common.studio.garments import PRINT_AREAS, TEMPLATE_SIZE

APPAREL_SIZES = ("XS", "S", "M", "L", "XL", "2XL", "3XL")
ONE_SIZE = ("OS",)


@dataclass(frozen=True)
class ProductSeed:
    id: str
    name: str
    category: str
    description: str
    base_price_cents: int
    colors: tuple[tuple[str, str], ...]
    sizes: tuple[str, ...]
    upcharges: dict[str, int]
    tiers: dict[int, int]
    production_days: int  # business days to make it, before it ships


CORE_COLORS = (
    ("White", "#ffffff"),
    ("Black", "#151515"),
    ("Heather Grey", "#9ea3a8"),
    ("Navy", "#1f2a44"),
)

PRODUCTS = (
    ProductSeed(
        id="classic-tee",
        name="Classic Tee",
        category="tee",
        description="Everyday 180 g/m² ringspun cotton tee with a relaxed fit.",
        base_price_cents=1800,
        colors=(
            *CORE_COLORS,
            ("Red", "#c8102e"),
            ("Royal Blue", "#2452a4"),
            ("Forest Green", "#2c5e3f"),
            ("Sand", "#d8c8a8"),
        ),
        sizes=APPAREL_SIZES,
        upcharges={"2XL": 200, "3XL": 400},
        tiers={12: 1550, 24: 1400, 48: 1250, 100: 1100},
        production_days=5,
    ),
    ProductSeed(
        id="premium-tee",
        name="Premium Tee",
        category="tee",
        description="Soft 200 g/m² combed cotton, tailored fit and a ribbed crew neck.",
        base_price_cents=2600,
        colors=(*CORE_COLORS, ("Olive", "#5b5f3a"), ("Burgundy", "#6d1a2b"), ("Sky", "#8fb8de")),
        sizes=APPAREL_SIZES,
        upcharges={"2XL": 250, "3XL": 500},
        tiers={12: 2300, 24: 2100, 48: 1900, 100: 1700},
        production_days=5,
    ),
    ProductSeed(
        id="hoodie",
        name="Heavy Hoodie",
        category="hoodie",
        description="Brushed-fleece pullover hoodie with a kangaroo pocket and lined hood.",
        base_price_cents=4800,
        colors=(*CORE_COLORS, ("Forest Green", "#2c5e3f"), ("Maroon", "#5c1a24")),
        sizes=APPAREL_SIZES[1:],
        upcharges={"2XL": 300, "3XL": 600},
        tiers={12: 4300, 24: 3950, 48: 3600, 100: 3300},
        production_days=7,
    ),
    ProductSeed(
        id="crewneck",
        name="Crewneck Sweatshirt",
        category="sweatshirt",
        description="Midweight fleece crewneck with ribbed cuffs and hem.",
        base_price_cents=3800,
        colors=(*CORE_COLORS, ("Sand", "#d8c8a8"), ("Dusty Rose", "#c99a9a")),
        sizes=APPAREL_SIZES[1:],
        upcharges={"2XL": 300, "3XL": 600},
        tiers={12: 3400, 24: 3150, 48: 2900, 100: 2650},
        production_days=7,
    ),
    ProductSeed(
        id="tote",
        name="Canvas Tote",
        category="bag",
        description="Heavy 12 oz cotton canvas tote with long handles.",
        base_price_cents=1600,
        colors=(("Natural", "#efe6d2"), ("Black", "#151515"), ("Navy", "#1f2a44")),
        sizes=ONE_SIZE,
        upcharges={},
        tiers={12: 1400, 24: 1250, 48: 1100, 100: 950},
        production_days=4,
    ),
    ProductSeed(
        id="cap",
        name="Dad Cap",
        category="headwear",
        description="Unstructured six-panel cotton cap with an adjustable strap.",
        base_price_cents=2200,
        colors=(
            ("Black", "#151515"),
            ("Navy", "#1f2a44"),
            ("Khaki", "#c3b091"),
            ("White", "#ffffff"),
        ),
        sizes=ONE_SIZE,
        upcharges={},
        tiers={12: 1950, 24: 1800, 48: 1650, 100: 1500},
        production_days=8,
    ),
)


# (width_in, height_in) of each print area. Each keeps its template box's aspect ratio (within
# 1%), so what prints is what the mockup shows; 0006_print_sizes.sql backfilled the same.
PRINT_SIZES: dict[str, dict[str, tuple[float, float]]] = {
    "classic-tee": {"front": (12.2, 16.0), "back": (12.0, 16.5)},
    "premium-tee": {"front": (11.6, 16.0), "back": (11.5, 16.5)},
    "hoodie": {"front": (11.7, 8.0), "back": (12.2, 14.8)},  # front: above the pouch pocket
    "crewneck": {"front": (12.2, 14.4), "back": (12.0, 16.5)},
    "tote": {"front": (12.5, 12.8), "back": (12.5, 12.8)},
    "cap": {"front": (3.4, 2.8), "back": (2.4, 1.6)},  # back: above the strap
}


# The size chart, in inches: (chest across laid flat, pit to pit; length from the high point of
# the shoulder) per size. One-size products have none. 0008_shopping.sql backfilled the same.
SIZE_CHARTS: dict[str, dict[str, tuple[float, float]]] = {
    "classic-tee": {
        "XS": (16.5, 27.0),
        "S": (18.0, 28.0),
        "M": (20.0, 29.0),
        "L": (22.0, 30.0),
        "XL": (24.0, 31.0),
        "2XL": (26.0, 32.0),
        "3XL": (28.0, 33.0),
    },
    "premium-tee": {  # a tailored fit: half an inch narrower
        "XS": (16.0, 27.0),
        "S": (17.5, 28.0),
        "M": (19.5, 29.0),
        "L": (21.5, 30.0),
        "XL": (23.5, 31.0),
        "2XL": (25.5, 32.0),
        "3XL": (27.5, 33.0),
    },
    "hoodie": {
        "S": (20.0, 27.0),
        "M": (22.0, 28.0),
        "L": (24.0, 29.0),
        "XL": (26.0, 30.0),
        "2XL": (28.0, 31.0),
        "3XL": (30.0, 32.0),
    },
    "crewneck": {
        "S": (20.0, 26.5),
        "M": (22.0, 27.5),
        "L": (24.0, 28.5),
        "XL": (26.0, 29.5),
        "2XL": (28.0, 30.5),
        "3XL": (30.0, 31.5),
    },
}


def template_url(product_id: str, side: str) -> str:
    return f"/img/products/{product_id}-{side}.webp"


def _upsert(conn: Connection, sql: str, rows: list[dict[str, object]]) -> None:
    for row in rows:
        conn.execute(sql, row)


def seed_products(conn: Connection) -> None:
    for position, p in enumerate(PRODUCTS):
        conn.execute(
            "INSERT INTO products (id, name, category, description, base_price_cents,"
            " currency, image_url, position, active, production_days)"
            " VALUES (:id, :name, :category, :description, :price, 'usd', :image, :pos, true,"
            " :days)"
            " ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
            " category = EXCLUDED.category, description = EXCLUDED.description,"
            " base_price_cents = EXCLUDED.base_price_cents, image_url = EXCLUDED.image_url,"
            " position = EXCLUDED.position, active = true,"
            " production_days = EXCLUDED.production_days",
            {
                "id": p.id,
                "name": p.name,
                "category": p.category,
                "description": p.description,
                "price": p.base_price_cents,
                "image": template_url(p.id, "front"),
                "pos": position,
                "days": p.production_days,
            },
        )
        _upsert(
            conn,
            "INSERT INTO product_colors (product_id, name, hex, position)"
            " VALUES (:pid, :name, :hex, :pos) ON CONFLICT (product_id, name)"
            " DO UPDATE SET hex = EXCLUDED.hex, position = EXCLUDED.position",
            [
                {"pid": p.id, "name": name, "hex": hex_, "pos": i}
                for i, (name, hex_) in enumerate(p.colors)
            ],
        )
        _upsert(
            conn,
            "INSERT INTO product_sizes"
            " (product_id, size, position, upcharge_cents, chest_in, length_in)"
            " VALUES (:pid, :size, :pos, :up, :chest, :length) ON CONFLICT (product_id, size)"
            " DO UPDATE SET position = EXCLUDED.position, upcharge_cents = EXCLUDED.upcharge_cents,"
            " chest_in = EXCLUDED.chest_in, length_in = EXCLUDED.length_in",
            [
                {
                    "pid": p.id,
                    "size": size,
                    "pos": i,
                    "up": p.upcharges.get(size, 0),
                    "chest": SIZE_CHARTS.get(p.id, {}).get(size, (None, None))[0],
                    "length": SIZE_CHARTS.get(p.id, {}).get(size, (None, None))[1],
                }
                for i, size in enumerate(p.sizes)
            ],
        )
        _upsert(
            conn,
            "INSERT INTO product_print_areas"
            " (product_id, name, x, y, width, height, template_size, template_url,"
            " width_in, height_in)"
            " VALUES (:pid, :name, :x, :y, :w, :h, :ts, :url, :w_in, :h_in)"
            " ON CONFLICT (product_id, name)"
            " DO UPDATE SET x = EXCLUDED.x, y = EXCLUDED.y, width = EXCLUDED.width,"
            " height = EXCLUDED.height, template_size = EXCLUDED.template_size,"
            " template_url = EXCLUDED.template_url, width_in = EXCLUDED.width_in,"
            " height_in = EXCLUDED.height_in",
            [
                {
                    "pid": p.id,
                    "name": side,
                    "x": box.x,
                    "y": box.y,
                    "w": box.width,
                    "h": box.height,
                    "ts": TEMPLATE_SIZE,
                    "url": template_url(p.id, side),
                    "w_in": PRINT_SIZES[p.id][side][0],
                    "h_in": PRINT_SIZES[p.id][side][1],
                }
                for side, box in PRINT_AREAS[p.id].items()
            ],
        )
        conn.execute("DELETE FROM product_price_tiers WHERE product_id = :pid", {"pid": p.id})
        _upsert(
            conn,
            "INSERT INTO product_price_tiers (product_id, min_quantity, unit_price_cents)"
            " VALUES (:pid, :min, :price)",
            [{"pid": p.id, "min": m, "price": price} for m, price in sorted(p.tiers.items())],
        )


def seed() -> None:
    """Upsert the catalog in one transaction."""
    with db.transaction() as conn:
        seed_products(conn)
    catalog.forget()
