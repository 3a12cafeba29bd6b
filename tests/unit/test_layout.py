"""The import graph of monitor/: layer contracts, no circles, no borrowed private names.

Three checks, each failing with the offending modules and lines:
- the stage layers below are the ones pyproject.toml's [tool.importlinter] contracts enforce
  (cli > service > pipeline > delivery > config > sources|storage > extract >
  fetch|matching|dedup|metrics > text|models|errors|redact; `lint-imports` itself, with the
  per-package layers, runs in tests/integration/test_static_lint.py);
- grimp's graph of monitor has no import circle (not even a lazy, in-function one);
- no module reaches into another module's `_private` names, by `from m import _x` or `m._x`.
The last two checkers are tested on small made-up inputs first, so they can be seen to fail.
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "monitor"
LAYERS = [
    "cli",
    "service",
    "pipeline",
    "delivery",
    "config",
    "sources | storage",
    "extract",
    "fetch | matching | dedup | metrics",
    "text | models | errors | redact",
]


PUBLIC = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}  # NamedTuple's public API


# ---- checkers -------------------------------------------------------------------------
def import_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every import circle: strongly connected components with more than one module, or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit on long chains)
        nonlocal counter
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    cycles.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def private_uses(module: str, source: str, is_package: bool = False, root: str = "monitor") -> list[str]:
    """`line: what` for each use of another module's _private name in `source` (the module `module`).

    Caught: `from root.x import _name`, `from . import _name`, `import root._x`, and `m._name`
    where `m` is bound to a root module by an import. Dunders (`__version__`) are public. A
    private submodule imported by a module of its own package (`from . import _impl`) is allowed.
    """
    package = module if is_package else module.rpartition(".")[0]
    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> the root module (or module attribute) it is bound to
    found: list[str] = []

    def mine(name: str) -> bool:
        return name == root or name.startswith(root + ".")

    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name not in PUBLIC

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not mine(alias.name):
                    continue
                head, _, last = alias.name.rpartition(".")
                if any(map(private, alias.name.split("."))) and not (head == package and private(last)):
                    found.append(f"{node.lineno}: import {alias.name}")
                bound[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else root
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                origin = ".".join(parts + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            if not mine(origin):
                continue
            for alias in node.names:
                if private(alias.name) and not (origin == package and _is_module(f"{origin}.{alias.name}")):
                    found.append(f"{node.lineno}: from {origin} import {alias.name}")
                bound[alias.asname or alias.name] = f"{origin}.{alias.name}"
    for node in ast.walk(tree):
        if (  # getattr(x, "_name") / setattr / hasattr with a literal private name: the same reach, spelled out
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and not (isinstance(node.args[0], ast.Name) and node.args[0].id in ("self", "cls"))
        ):
            found.append(f"{node.lineno}: {node.func.id}({_dotted(node.args[0])}, {node.args[1].value!r})")
        if isinstance(node, ast.Attribute) and private(node.attr):
            first, _, rest = _dotted(node.value).partition(".")
            if first in bound:
                owner = ".".join(p for p in (bound[first], rest) if p)
                if _is_module(owner) or not _is_module(bound[first]):
                    found.append(f"{node.lineno}: {_dotted(node)} (a private name of {owner})")
    return sorted(set(found), key=lambda f: (int(f.partition(":")[0]), f))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else "?"


def _is_module(name: str) -> bool:
    """True if `name` (dotted) is a module or package of this repository."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def monitor_modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


# ---- the checkers fail when they should ----------------------------------------------------
@pytest.mark.parametrize(
    "graph, cycles",
    [
        ({"a": ["b"], "b": ["c"], "c": []}, []),
        ({"a": ["b"], "b": ["a"]}, [["a", "b"]]),
        ({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}, [["a", "b", "c"]]),
        ({"a": ["a"]}, [["a"]]),
        ({"a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]}, [["a", "b"], ["c", "d"]]),
        ({"m.cli": ["m.cli.feeds"], "m.cli.feeds": ["m.cli"]}, [["m.cli", "m.cli.feeds"]]),
    ],
)
def test_cycle_finder(graph, cycles):
    assert import_cycles(graph) == cycles


@pytest.mark.parametrize(
    "module, source, found",
    [
        ("monitor.cli.feeds", "from monitor.cli.main import _load\n", ["1: from monitor.cli.main import _load"]),
        (
            "monitor.config.load",
            "from monitor.config.schema import (\n    _ENV,\n    Feed,\n)\n",
            ["1: from monitor.config.schema import _ENV"],
        ),
        (
            "monitor.pipeline",
            "from monitor.delivery import notify\nnotify._kind('x')\n",
            ["2: notify._kind (a private name of monitor.delivery.notify)"],
        ),
        (
            "monitor.pipeline",
            "import monitor.delivery.notify as n\nn._TABLE\n",
            ["2: n._TABLE (a private name of monitor.delivery.notify)"],
        ),
        (
            "monitor.pipeline",
            "import monitor.delivery.notify\nmonitor.delivery.notify._kind\n",
            ["2: monitor.delivery.notify._kind (a private name of monitor.delivery.notify)"],
        ),
        ("monitor.sources.page", "from . import _registry\n", ["1: from monitor.sources import _registry"]),
        ("monitor.sources.page", "from .rss import _ttl\n", ["1: from monitor.sources.rss import _ttl"]),
        ("monitor.x", "from monitor import __version__\nfrom monitor.models import Article\n", []),
        ("monitor.x", "from os import _exit\nimport re\nre._compile\n", []),  # not monitor's
        ("monitor.x", "class A:\n    def f(self):\n        return self._y\n", []),  # own attributes
        ("monitor.x", "_z = 1\nprint(_z)\n", []),
        (
            "monitor.x",
            "from monitor.models import Article\nArticle._cache\n",
            ["2: Article._cache (a private name of monitor.models.Article)"],
        ),
        ("monitor.x", "from monitor.models import Row\nRow._make(())\n", []),  # NamedTuple API
        ("monitor.x", "def f(o):\n    return getattr(o, '_engine')\n", ["2: getattr(o, '_engine')"]),
        ("monitor.x", "class A:\n    def f(self):\n        return getattr(self, '_y', None)\n", []),
        (
            "monitor.cli.feeds",
            "from monitor.cli import _shared\n",
            ["1: from monitor.cli import _shared"],
        ),  # no such submodule
    ],
)
def test_private_name_finder(module, source, found):
    assert private_uses(module, source) == found


# ---- the real graph ---------------------------------------------------------------------------
def test_stage_layers_match_the_import_linter_contract():
    """The layer order this file checks is the one `lint-imports` enforces (run by
    tests/integration/test_static_lint.py, with every other contract)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    stages = next(c for c in config["contracts"] if c["name"] == "stages import only downwards")
    assert stages["layers"] == LAYERS and stages["containers"] == ["monitor"]


def test_no_import_circles():
    graph = grimp.build_graph("monitor", cache_dir=None)
    assert {m for m in graph.modules if m.startswith("monitor.")} >= set(monitor_modules()) - {"monitor"}
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles = import_cycles(edges)
    detail = [
        f"{a} -> {b} (l.{', '.join(str(d['line_number']) for d in graph.get_import_details(importer=a, imported=b))})"
        for cycle in cycles
        for a in cycle
        for b in sorted(edges[a] & set(cycle))
    ]
    assert not cycles, "import circles: " + "; ".join(detail)


def test_no_module_uses_another_modules_private_names():
    found = []
    for module, (path, is_package) in monitor_modules().items():
        found += [
            f"{path.relative_to(ROOT)}:{use}"
            for use in private_uses(module, path.read_text(encoding="utf-8"), is_package)
        ]
    assert not found, "private names used across modules:\n" + "\n".join(found)
