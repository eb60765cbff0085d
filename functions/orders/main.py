"""The `orders` function: the catalog and, as they are built, bulk order drafts."""

import flask
import functions_framework

from common import config
from common.catalog import Catalog, catalog
from common.http import PUBLIC_CACHE, Call, Router

config.require()
router = Router()


@router.route("GET", "/api/catalog", response=Catalog, cache=PUBLIC_CACHE)
def get_catalog(call: Call) -> Catalog:
    """The active products with colors, sizes, print areas and price tiers."""
    return catalog()


@functions_framework.http
def orders(request: flask.Request) -> flask.Response:
    """Entry point of the `orders` Cloud Function."""
    return router(request)
