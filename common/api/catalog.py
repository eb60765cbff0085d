"""The JSON of `GET /api/catalog`, described: what `common.shop.catalog.catalog_out` writes.

The catalog is answered as plain JSON, without pydantic (it is a function's first request);
these models document it in the OpenAPI document, and tests/test_catalog.py checks that what
it writes is what they describe.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from common.api.orders import ArrivalOut
from common.core.model import Model


class Color(Model):
    name: str
    hex: str


class PrintArea(Model):
    """A print area: its box in template pixels (`x`, `y`, `width`, `height` of a
    `template_size` square) and its physical size, which has the box's aspect ratio."""

    name: str
    x: int
    y: int
    width: int
    height: int
    template_size: int
    template_url: str
    width_in: float = Field(gt=0, description="printed width, in inches")
    height_in: float = Field(gt=0, description="printed height, in inches")


class PriceTier(Model):
    min_quantity: int
    unit_price_cents: int


class SizeChartRow(Model):
    """A size's garment measurements, in inches."""

    size: str
    chest_in: float = Field(gt=0, description="across the chest, laid flat (pit to pit)")
    length_in: float = Field(gt=0, description="from the high point of the shoulder to the hem")


class TransitDays(Model):
    min: int
    max: int


class ShippingRateOut(Model):
    id: str = Field(description="standard or rush")
    name: str
    amount_cents: int = Field(description="its price, in each product's currency")
    free_over_cents: int | None = Field(
        description="free once an order's subtotal reaches this (null: never free)"
    )
    transit_days: TransitDays = Field(description="business days from shipping to arrival")


class ProductShippingOut(Model):
    id: str = Field(description="the rate: standard or rush")
    name: str
    arrives: ArrivalOut = Field(description="if ordered today: production, then transit")


class ProductOut(Model):
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
    production_days: int = Field(ge=1, description="business days to make it, before it ships")
    size_chart: list[SizeChartRow] = Field(
        description="each size's measurements, in the order of `sizes`; empty for one size"
    )
    shipping_options: list[ProductShippingOut]


class CatalogOut(Model):
    today: date = Field(description="the shop's date the arrival dates count from")
    shipping_rates: list[ShippingRateOut]
    products: list[ProductOut]
