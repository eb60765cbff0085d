"""The layer rule of `common/` (docs/architecture.md), read from the source, deferred imports
included: no cycles, no import a layer may not make, and each function loads only what its
routes use. `python -m devtools layers` prints the same closures."""

from __future__ import annotations

import ast
from pathlib import Path

from devtools import layers
from devtools.layers import Module


def test_no_module_imports_in_a_cycle() -> None:
    assert layers.cycles(layers.graph()) == []


def test_every_import_keeps_to_the_layer_rule() -> None:
    modules = layers.graph()
    assert layers.unlayered(modules) == []
    assert layers.violations(modules) == []


def test_each_function_loads_only_what_its_routes_use() -> None:
    closures = layers.function_closures()
    for function, names in closures.items():
        print(f"{function} ({len(names)}): {', '.join(names)}")
    assert set(closures) == {p.parent.name for p in layers.FUNCTIONS.glob("*/main.py")}
    order_modules = ("order", "sheet", "size", "pricing", "catalog", "payments")
    assert not [m for m in closures["contact"] if any(word in m for word in order_modules)]
    assert not [m for m in closures["checkout"] if "size" in m]
    assert not [m for m in closures["auth"] if m.startswith(("common.studio", "common.effects"))]
    for function in ("chat", "generate_image"):
        assert not [m for m in closures[function] if "order" in m or m.startswith("common.effects")]


def _graph(tmp: Path, imports: dict[str, set[str]]) -> dict[str, Module]:
    def path(name: str) -> Path:
        package = name in ("common.web",)
        return tmp / (name.replace(".", "/") + ("/__init__.py" if package else ".py"))

    return {name: Module(name, path(name), frozenset(found)) for name, found in imports.items()}


def test_a_vendor_sdk_is_imported_where_it_is_used(tmp_path: Path) -> None:
    tree = ast.parse("import stripe\n\ndef pay():\n    import openai\n")
    assert set(layers.top_level_imports(tree)) == {"stripe"}
    modules = {
        "common.providers.checkout": Module(
            "common.providers.checkout",
            tmp_path / "c.py",
            frozenset({"stripe"}),
            frozenset({"stripe"}),
        )
    }
    assert layers.violations(modules) == [
        "common.providers.checkout -> stripe: a vendor SDK is imported where it is used"
    ]


def test_the_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    modules = _graph(
        tmp_path,
        {
            "common.shop.orders": {"common.web.http", "flask", "common.shop.pricing"},
            "common.shop.pricing": {"common.shop.orders"},
            "common.providers.mail": {"common.shop.order_store"},
            "common.shop.order_store": set(),
            "common.web.http": {"devtools.server"},
            "common.loose": set(),
            "common.web": set(),
            "common.studio.chat": {"..web", "<dynamic import>", "common.web"},
            "common.effects.sheet": {"flask"},
            "common.core.text": {"stripe"},
        },
    )
    found = layers.violations(modules)
    assert "common.shop.orders -> common.web.http: shop may not import web" in found
    assert "common.shop.orders -> flask: only the web edge imports flask" in found
    assert (
        "common.providers.mail -> common.shop.order_store: a provider reads no domain store"
        in found
    )
    assert "common.web.http -> devtools.server: nothing deployed imports devtools" in found
    assert "common.studio.chat -> ..web: a relative import (say the path)" in found
    assert "common.studio.chat: a dynamic import the layer rule cannot check" in found
    assert "common.studio.chat -> common.web: studio may not import web" in found
    assert "common.effects.sheet -> flask: only the web edge imports flask" in found
    assert "common.core.text -> stripe: only a port imports a vendor SDK" in found
    assert layers.cycles(modules) == [["common.shop.orders", "common.shop.pricing"]]
    assert layers.unlayered(modules) == ["common.loose"]


def test_deferred_imports_count(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def later():\n    from common.studio import mockups\n")
    found = set(layers.imports_in(ast.parse(source.read_text()), {"common.studio.mockups"}))
    assert "common.studio.mockups" in found


def test_imports_for_type_checkers_only_are_not_loaded() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from common.shop import pricing\n"
        "else:\n    from common.shop import orders\n"
    )
    found = set(layers.imports_in(tree, {"common.shop.pricing", "common.shop.orders"}))
    assert "common.shop.orders" in found and "common.shop.pricing" not in found
