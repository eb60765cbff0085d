"""The product catalog, read from Postgres.

The catalog changes only when ops re-seed it, so an instance keeps it for `CACHE_SECONDS`.
`GET /api/catalog` shows it with the shipping rates and, for each product, when it would
arrive at each rate if ordered today (`catalog_out`).

The catalog is what a storefront asks for first, so it is read and shown without pydantic:
its types are dataclasses built from the JSON its statement writes, and `catalog_out` is plain
JSON, described by `common.api.catalog.CatalogOut` (issue 16: the `orders` function answers
its first request without loading pydantic).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from common.core import errors
from common.infra import db
from common.shop import delivery

CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class Color:
    name: str
    hex: str


@dataclass(frozen=True)
class PrintArea:
    """A print area: its box in template pixels (`x`, `y`, `width`, `height` of a
    `template_size` square) and its physical size in inches, which has the box's aspect
    ratio."""

    name: str
    x: int
    y: int
    width: int
    height: int
    template_size: int
    template_url: str
    width_in: float
    height_in: float


@dataclass(frozen=True)
class PriceTier:
    min_quantity: int
    unit_price_cents: int


@dataclass(frozen=True)
class SizeChartRow:
    """A size's garment measurements, in inches."""

    size: str
    chest_in: float
    length_in: float


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    category: str
    description: str
    base_price_cents: int
    currency: str
    colors: list[Color]
    sizes: list[str]
    size_upcharges: dict[str, int]
    print_areas: list[PrintArea]
    price_tiers: list[PriceTier]
    image_url: str
    production_days: int  # business days to make it, before it ships
    size_chart: list[SizeChartRow]  # in the order of `sizes`; empty for one size

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Product:
        """A product as CATALOG_SQL writes it."""
        return cls(
            **{
                **data,
                "colors": [Color(**color) for color in data["colors"]],
                "print_areas": [
                    PrintArea(
                        **{
                            **area,
                            "width_in": float(area["width_in"]),
                            "height_in": float(area["height_in"]),
                        }
                    )
                    for area in data["print_areas"]
                ],
                "price_tiers": [PriceTier(**tier) for tier in data["price_tiers"]],
                "size_chart": [
                    SizeChartRow(
                        **{
                            **row,
                            "chest_in": float(row["chest_in"]),
                            "length_in": float(row["length_in"]),
                        }
                    )
                    for row in data["size_chart"]
                ],
            }
        )

    def color(self, name: str) -> Color | None:
        wanted = name.strip().lower()
        return next((c for c in self.colors if c.name.lower() == wanted), None)


@dataclass(frozen=True)
class Catalog:
    products: list[Product]

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


CATALOG_SQL = """
SELECT json_build_object(
    'id', p.id, 'name', p.name, 'category', p.category, 'description', p.description,
    'base_price_cents', p.base_price_cents, 'currency', p.currency, 'image_url', p.image_url,
    'production_days', p.production_days,
    'colors', COALESCE((
        SELECT json_agg(json_build_object('name', c.name, 'hex', c.hex) ORDER BY c.position)
        FROM product_colors c WHERE c.product_id = p.id), '[]'),
    'sizes', COALESCE((
        SELECT json_agg(s.size ORDER BY s.position)
        FROM product_sizes s WHERE s.product_id = p.id), '[]'),
    'size_upcharges', COALESCE((
        SELECT json_object_agg(s.size, s.upcharge_cents)
        FROM product_sizes s WHERE s.product_id = p.id AND s.upcharge_cents > 0), '{}'),
    'size_chart', COALESCE((
        SELECT json_agg(json_build_object(
            'size', s.size, 'chest_in', s.chest_in, 'length_in', s.length_in) ORDER BY s.position)
        FROM product_sizes s WHERE s.product_id = p.id AND s.chest_in IS NOT NULL), '[]'),
    'print_areas', COALESCE((
        SELECT json_agg(json_build_object(
            'name', a.name, 'x', a.x, 'y', a.y, 'width', a.width, 'height', a.height,
            'template_size', a.template_size, 'template_url', a.template_url,
            'width_in', a.width_in, 'height_in', a.height_in) ORDER BY a.name DESC)
        FROM product_print_areas a WHERE a.product_id = p.id), '[]'),
    'price_tiers', COALESCE((
        SELECT json_agg(json_build_object(
            'min_quantity', t.min_quantity, 'unit_price_cents', t.unit_price_cents)
            ORDER BY t.min_quantity)
        FROM product_price_tiers t WHERE t.product_id = p.id), '[]')
)
FROM products p
WHERE p.active
ORDER BY p.position, p.id
"""

_cached: tuple[float, Catalog] | None = None


def load_catalog() -> Catalog:
    with db.connect() as conn:
        rows = conn.execute(CATALOG_SQL).scalars()
    return Catalog(products=[Product.from_json(row) for row in rows])


def catalog() -> Catalog:
    """The active products, from this instance's cache when it is fresh.

    A stale cache is reloaded by each request that finds it stale, with no lock: on a database
    that hangs, requests that waited for one another's reload would answer one deadline after
    the other, past the request budget (tests/test_db_faults.py). Replacing the cached tuple
    is atomic.
    """
    global _cached
    cached = _cached
    if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
        cached = _cached = (time.monotonic(), load_catalog())
    return cached[1]


def forget() -> None:
    """Drop the cached catalog (after a re-seed, and between tests)."""
    global _cached
    _cached = None


# The catalog as GET /api/catalog shows it, with shipping, from today.


def catalog_out(now: datetime | None = None) -> dict[str, Any]:
    """The active products, the shipping rates, and when each product would arrive at each
    rate if ordered `now` (default: today), as JSON (`common.api.catalog.CatalogOut`)."""
    start = delivery.today(now)
    rates = delivery.rates()
    return {
        "today": start.isoformat(),
        "shipping_rates": [
            {
                "id": rate.id,
                "name": rate.name,
                "amount_cents": rate.amount_cents,
                "free_over_cents": rate.free_over_cents,
                "transit_days": {"min": rate.transit_days[0], "max": rate.transit_days[1]},
            }
            for rate in rates
        ],
        "products": [
            {
                **dataclasses.asdict(product),
                "shipping_options": [
                    {
                        "id": rate.id,
                        "name": rate.name,
                        "arrives": _arrival(delivery.arrival(product.production_days, rate, start)),
                    }
                    for rate in rates
                ],
            }
            for product in catalog().products
        ],
    }


def _arrival(arrival: delivery.Arrival) -> dict[str, str]:
    return {"earliest": arrival.earliest.isoformat(), "latest": arrival.latest.isoformat()}


class UnknownProduct(errors.Unprocessable):
    code = "unknown_product"


class UnknownColor(errors.Unprocessable):
    code = "unknown_color"


def product_named(product_id: str, *, field: str) -> Product:
    """The active product `product_id`, or a 422 on `field`."""
    product = catalog().product(product_id)
    if product is None:
        raise UnknownProduct(f"there is no product {product_id!r}", field=field)
    return product


def color_of(product: Product, name: str, *, field: str) -> Color:
    """The product's colour called `name` (any case), or a 422 on `field` listing its colours."""
    color = product.color(name)
    if color is None:
        names = ", ".join(c.name for c in product.colors)
        raise UnknownColor(f"{product.name} comes in {names}", field=field)
    return color
