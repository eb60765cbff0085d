"""The import graph of `common/` and the functions, read from source, deferred imports included.

`python -m devtools layers` prints each function's import closure (the `common` modules its
entry point can load) and every break of the layer rule; `tests/test_layers.py` fails on one.

The rule (docs/architecture.md): a module's layer is the package under `common/` it sits in,
and it may import only the layers listed for it in `MAY_IMPORT`. Only the web edge imports a
web framework; only the ports (providers, infra) import a vendor SDK, and only inside what uses
it; providers read no domain store; nothing imports `devtools`; imports are absolute and
static; and there is no cycle between modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMON = ROOT / "common"
FUNCTIONS = ROOT / "functions"

# Layer -> the layers its modules may import (its own always included). Providers implement
# the domains' ports, so they may use the domains' types, but never a store (`*store`).
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "infra": frozenset({"core"}),
    "providers": frozenset({"core", "infra", "shop", "studio"}),
    "shop": frozenset({"core", "infra", "providers"}),
    "studio": frozenset({"core", "infra", "providers", "shop"}),
    "effects": frozenset({"core", "infra", "providers", "shop", "studio"}),
    "web": frozenset({"core", "infra"}),
    "api": frozenset({"core", "infra", "shop", "studio", "effects"}),
}
# What a domain may use of the effects layer: enqueueing a side effect in its own transaction.
DOMAIN_MAY_USE = frozenset({"common.effects", "common.effects.outbox"})
DOMAINS = frozenset({"shop", "studio"})
# Top-level packages that only the web edge and the vendor ports may import.
WEB_PACKAGES = frozenset({"flask", "werkzeug", "functions_framework"})
VENDOR_PACKAGES = frozenset(
    {"stripe", "openai", "workos", "gspread", "sendgrid", "google", "googleapiclient"}
)


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    imports: frozenset[str]  # every module name imported, anywhere in the file
    on_load: frozenset[str] = frozenset()  # top-level packages imported as the module loads


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run: an `if TYPE_CHECKING:` block is for type checkers only."""
    for node in ast.iter_child_nodes(tree):
        yield node
        if _type_checking(node):
            assert isinstance(node, ast.If)
            for other in node.orelse:
                yield other
                yield from _runtime_nodes(other)
        else:
            yield from _runtime_nodes(node)


def imports_in(tree: ast.AST, known: set[str]) -> Iterator[str]:
    """What a module imports when it runs, at once or later (deferred imports included)."""
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level:
            yield "." * node.level + (node.module or "")  # refused: imports say where they go
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if candidate in known:
                    yield candidate
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
            in ("import_module", "__import__")
        ):
            yield "<dynamic import>"  # refused: the graph could not see it


def top_level_imports(tree: ast.Module) -> Iterator[str]:
    """The top-level packages a module imports as it loads (not inside a function)."""
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module.split(".")[0]
        elif isinstance(node, ast.If) and not _type_checking(node):
            todo.extend([*node.body, *node.orelse])
        elif isinstance(node, ast.If):
            todo.extend(node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend([*node.body, *node.orelse, *node.finalbody])


def _sources() -> list[Path]:
    return sorted(COMMON.rglob("*.py")) + sorted(FUNCTIONS.glob("*/main.py"))


def graph() -> dict[str, Module]:
    """Every module of `common/` and every function entry point (`functions.<name>.main`)."""
    paths = _sources()
    known = {_module_name(path) for path in paths}
    modules = {}
    for path in paths:
        name = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[name] = Module(
            name, path, frozenset(imports_in(tree, known)), frozenset(top_level_imports(tree))
        )
    return modules


def _is_package(module: Module) -> bool:
    return module.path.stem == "__init__"


def _parents(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def internal_edges(modules: dict[str, Module], name: str) -> set[str]:
    """The `common` modules `name` loads directly (a package's `__init__` counts as loaded)."""
    edges = set()
    for imported in modules[name].imports:
        if imported in modules and imported.startswith("common"):
            edges.add(imported)
            edges.update(parent for parent in _parents(imported) if parent in modules)
    edges.discard(name)
    return edges


def closure(modules: dict[str, Module], start: str) -> list[str]:
    """The `common` modules loaded, at once or later, from module `start`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for edge in internal_edges(modules, todo.pop()):
            if edge not in seen:
                seen.add(edge)
                todo.append(edge)
    return sorted(name for name in seen if name.startswith("common"))


def function_closures() -> dict[str, list[str]]:
    modules = graph()
    return {
        name.split(".")[1]: [
            m for m in closure(modules, name) if modules[m].path.stem != "__init__"
        ]
        for name in sorted(modules)
        if name.startswith("functions.")
    }


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        for edge in sorted(internal_edges(modules, name)):
            if edge not in index:
                visit(edge)
                low[name] = min(low[name], low[edge])
            elif edge in on_stack:
                low[name] = min(low[name], index[edge])
        if low[name] == index[name]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(modules):
        if name not in index:
            visit(name)
    return groups


def layer_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "common" or len(parts) < 2 or parts[1] not in MAY_IMPORT:
        return None
    return parts[1]


def violations(modules: dict[str, Module]) -> list[str]:
    """Every import that breaks the layer rule, as 'importer -> imported: why'."""
    found = []
    for module in modules.values():
        layer = layer_of(module.name)
        for imported in sorted(module.imports):
            top = imported.split(".")[0]
            if top == "devtools":
                found.append(f"{module.name} -> {imported}: nothing deployed imports devtools")
            if imported.startswith("."):
                found.append(f"{module.name} -> {imported}: a relative import (say the path)")
            if imported == "<dynamic import>":
                found.append(f"{module.name}: a dynamic import the layer rule cannot check")
            if imported.split(".")[0] == "common" and imported not in modules:
                found.append(f"{module.name} -> {imported}: no such module")
            if module.name.startswith("functions.") or layer is None:
                continue
            target = layer_of(imported) if imported in modules else None
            if imported.startswith("common") and imported in modules and target is None:
                if imported != "common":
                    found.append(f"{module.name} -> {imported}: a module outside any layer")
            elif target is not None and target != layer:
                allowed = target in MAY_IMPORT[layer] or (
                    layer in DOMAINS and imported in DOMAIN_MAY_USE
                )
                if not allowed:
                    found.append(f"{module.name} -> {imported}: {layer} may not import {target}")
            if top in WEB_PACKAGES and layer != "web":
                found.append(f"{module.name} -> {imported}: only the web edge imports {top}")
            if top in VENDOR_PACKAGES and layer not in ("providers", "infra"):
                found.append(f"{module.name} -> {imported}: only a port imports a vendor SDK")
            if layer == "providers" and target in DOMAINS and imported.endswith("store"):
                found.append(f"{module.name} -> {imported}: a provider reads no domain store")
        for top in sorted(module.on_load & VENDOR_PACKAGES):
            if module.name.startswith("common"):
                found.append(f"{module.name} -> {top}: a vendor SDK is imported where it is used")
    return found


def unlayered(modules: Iterable[str]) -> list[str]:
    """Modules of `common` that sit in no layer (only the package itself may)."""
    return sorted(name for name in modules if name.startswith("common.") and layer_of(name) is None)


def main() -> int:
    modules = graph()
    for function, names in function_closures().items():
        lines = sum(len(modules[name].path.read_text().splitlines()) for name in names)
        print(f"{function} ({len(names)} modules, {lines} lines): {', '.join(names)}")
    problems = (
        [f"cycle: {' <-> '.join(group)}" for group in cycles(modules)]
        + [f"outside any layer: {name}" for name in unlayered(modules)]
        + violations(modules)
    )
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problems")
    return 1 if problems else 0
