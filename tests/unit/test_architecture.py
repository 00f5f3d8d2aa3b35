"""The package's architecture, checked on its import graph (built with grimp).

* no import cycle among the ``consign_core`` modules, deferred (function-level) and
  ``TYPE_CHECKING`` imports included;
* the layers point downward only: cli > lab > testing | adapters > engine > store > domain >
  errors, and testing and adapters do not import each other;
* the domain imports no I/O or heavy extra (httpx, sqlite3, stamina, dask, matplotlib), not
  even through another module;
* ``import consign_core`` loads no HTTP library, so the package works without the ``http``
  extra.

Each check is a function of a graph, and each is also run on a small graph with the fault
it looks for, to show that it can fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import grimp
import pytest

import consign_core


PACKAGE = "consign_core"
LAYERS: tuple[str | grimp.Layer, ...] = (
    "cli",
    "lab",
    grimp.Layer("testing", "adapters", independent=True),
    "engine",
    "store",
    "domain",
    "errors",
)
PURE = "domain"
NOT_IN_THE_DOMAIN = ("dask", "httpx", "matplotlib", "sqlite3", "stamina")
HTTP_EXTRA = ("httpx", "stamina")


# ------------------------------------------------------------------ the checks


def build_graph(package: str) -> grimp.ImportGraph:
    """The import graph of ``package`` with every import statement: module-level, deferred
    into a function, or guarded by ``TYPE_CHECKING``; outside packages as single nodes."""
    return grimp.build_graph(
        package,
        include_external_packages=True,
        exclude_type_checking_imports=False,
        cache_dir=None,  # nothing written beside the sources
    )


def import_cycles(graph: grimp.ImportGraph, package: str) -> list[tuple[str, ...]]:
    """One cycle per strongly connected component of more than one module of ``package``,
    as a closed chain of imports (``a, b, c, a``: a imports b imports c imports a)."""
    inside = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    successors = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in inside}
    cycles: list[tuple[str, ...]] = []
    for component in _strongly_connected(sorted(inside), successors):
        if len(component) < 2:
            continue
        start = min(component)
        step = next(m for m in successors[start] if m in component)
        back = graph.find_shortest_chain(importer=step, imported=start)
        assert back is not None  # in one component, each module reaches every other
        cycles.append((start, *back))
    return sorted(cycles)


def _strongly_connected(nodes: Sequence[str], successors: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (no recursion limit on a long chain of imports)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            children = successors[node]
            if child < len(children):
                work.append((node, child + 1))
                nxt = children[child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def layer_violations(graph: grimp.ImportGraph, container: str) -> list[str]:
    """Every chain of imports from a lower layer of ``container`` up to a higher one, or
    between the independent siblings of one layer (direct or through other modules)."""
    found = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers={container})
    out: list[str] = []
    for dependency in found:
        for route in dependency.routes:
            for head in sorted(route.heads):
                for tail in sorted(route.tails):
                    chain = " -> ".join((head, *route.middle, tail))
                    out.append(f"{dependency.importer} imports {dependency.imported}: {chain}")
    return sorted(out)


def missing_layers(graph: grimp.ImportGraph, container: str) -> list[str]:
    """Layers the graph does not have (grimp would silently skip a misspelt one)."""
    names: list[str] = []
    for layer in LAYERS:
        names += sorted(layer.module_tails) if isinstance(layer, grimp.Layer) else [layer]
    return [f"{container}.{name}" for name in names if f"{container}.{name}" not in graph.modules]


def forbidden_chains(graph: grimp.ImportGraph, source: str, forbidden: Iterable[str]) -> list[str]:
    """The shortest chain of imports from ``source`` (or a module inside it) to each of the
    ``forbidden`` outside packages it reaches, directly or through other modules."""
    out: list[str] = []
    for name in forbidden:
        if name not in graph.modules:
            continue
        chain = graph.find_shortest_chain(importer=source, imported=name, as_packages=True)
        if chain is not None:
            out.append(" -> ".join(chain))
    return out


def modules_loaded_by(code: str) -> set[str]:
    """The names in ``sys.modules`` after a fresh interpreter runs ``code``."""
    source_root = str(Path(consign_core.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH")) if p)
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def describe(problems: Iterable[str | tuple[str, ...]]) -> str:
    """One problem a line: a message, or a chain of imports as ``a -> b -> c``."""
    return "\n".join("  " + (p if isinstance(p, str) else " -> ".join(p)) for p in problems)


# ------------------------------------------------------------------ the package


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build_graph(PACKAGE)


def test_no_import_cycle_among_the_package_modules(graph: grimp.ImportGraph) -> None:
    cycles = import_cycles(graph, PACKAGE)
    assert not cycles, "import cycles (deferred and TYPE_CHECKING imports included):\n" + (
        describe(cycles)
    )


def test_the_layers_exist_so_none_is_skipped_unchecked(graph: grimp.ImportGraph) -> None:
    assert missing_layers(graph, PACKAGE) == []


def test_imports_point_down_the_layers_and_testing_and_adapters_stay_apart(
    graph: grimp.ImportGraph,
) -> None:
    violations = layer_violations(graph, PACKAGE)
    assert not violations, "imports against the layers:\n" + describe(violations)


def test_the_domain_imports_no_io_or_heavy_extra(graph: grimp.ImportGraph) -> None:
    chains = forbidden_chains(graph, f"{PACKAGE}.{PURE}", NOT_IN_THE_DOMAIN)
    assert not chains, "the pure domain reaches:\n" + describe(chains)


def test_importing_the_package_loads_no_http_library() -> None:
    loaded = modules_loaded_by("import consign_core")
    leaked = sorted(m for m in loaded if m.split(".")[0] in HTTP_EXTRA)
    ours = sorted(m for m in loaded if m.startswith(PACKAGE))
    assert not leaked, f"import consign_core loaded {leaked}; its modules: {ours}"
    assert PACKAGE in loaded


# ------------------------------------------------------------------ the checks can fail


def synthetic(imports: Iterable[tuple[str, str]], container: str = "pkg") -> grimp.ImportGraph:
    """A graph with every layer of ``container`` and the given (importer, imported) pairs."""
    made = grimp.ImportGraph()
    made.add_module(container)
    for name in (
        "cli",
        "lab",
        "testing",
        "adapters",
        "engine",
        "store",
        "domain",
        "errors",
    ):
        made.add_module(f"{container}.{name}")
    for importer, imported in imports:
        made.add_import(importer=importer, imported=imported)
    return made


def test_the_cycle_check_finds_a_cycle_and_shows_it() -> None:
    made = synthetic(
        [
            ("pkg.engine._a", "pkg.engine._b"),
            ("pkg.engine._b", "pkg.engine._c"),
            ("pkg.engine._c", "pkg.engine._a"),
            ("pkg.lab", "pkg.engine._a"),  # reaches the cycle, is not in it
            ("pkg.store", "pkg.domain"),
        ]
    )
    assert import_cycles(made, "pkg") == [
        ("pkg.engine._a", "pkg.engine._b", "pkg.engine._c", "pkg.engine._a")
    ]
    assert "pkg.engine._a -> pkg.engine._b -> pkg.engine._c -> pkg.engine._a" in describe(
        import_cycles(made, "pkg")
    )
    made.remove_import(importer="pkg.engine._c", imported="pkg.engine._a")
    assert import_cycles(made, "pkg") == []


def test_the_cycle_check_sees_deferred_and_type_checking_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cycle_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from cycle_probe_pkg.b import B
            """
        )
    )
    (package / "b.py").write_text(
        textwrap.dedent(
            """
            class B:
                def use(self) -> None:
                    from cycle_probe_pkg import a  # deferred
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    made = build_graph("cycle_probe_pkg")
    assert import_cycles(made, "cycle_probe_pkg") == [
        ("cycle_probe_pkg.a", "cycle_probe_pkg.b", "cycle_probe_pkg.a")
    ]


def test_the_layer_check_finds_upward_sibling_and_indirect_imports() -> None:
    made = synthetic(
        [
            ("pkg.domain.model", "pkg.engine._engine"),  # up, directly
            ("pkg.testing._market", "pkg.adapters.coupang"),  # between independent siblings
            ("pkg.store._codec", "pkg._helpers"),  # up, through a module of no layer
            ("pkg._helpers", "pkg.lab.sim"),
            ("pkg.engine._engine", "pkg.store._codec"),  # down: fine
            ("pkg.cli", "pkg.errors"),  # down: fine
        ]
    )
    violations = layer_violations(made, "pkg")
    assert violations == [
        "pkg.domain imports pkg.engine: pkg.domain.model -> pkg.engine._engine",
        "pkg.store imports pkg.lab: pkg.store._codec -> pkg._helpers -> pkg.lab.sim",
        "pkg.testing imports pkg.adapters: pkg.testing._market -> pkg.adapters.coupang",
    ]
    for importer, imported in [
        ("pkg.domain.model", "pkg.engine._engine"),
        ("pkg.testing._market", "pkg.adapters.coupang"),
        ("pkg._helpers", "pkg.lab.sim"),
    ]:
        made.remove_import(importer=importer, imported=imported)
    assert layer_violations(made, "pkg") == []


def test_the_layer_check_reports_a_missing_layer() -> None:
    made = synthetic([])
    made.remove_module("pkg.store")
    assert missing_layers(made, "pkg") == ["pkg.store"]


def test_the_domain_check_finds_direct_and_indirect_imports_of_a_forbidden_package() -> None:
    made = synthetic(
        [
            ("pkg.domain.rules", "pkg._helpers"),
            ("pkg._helpers", "httpx"),  # indirect
            ("pkg.domain.calendar._business", "sqlite3"),  # direct
            ("pkg.store._sqlite", "sqlite3"),  # not the domain: fine
            ("pkg.lab.sweep", "dask"),  # not the domain: fine
        ]
    )
    chains = forbidden_chains(made, "pkg.domain", NOT_IN_THE_DOMAIN)
    assert chains == [
        "pkg.domain.rules -> pkg._helpers -> httpx",
        "pkg.domain.calendar._business -> sqlite3",
    ]
    made.remove_import(importer="pkg._helpers", imported="httpx")
    made.remove_import(importer="pkg.domain.calendar._business", imported="sqlite3")
    assert forbidden_chains(made, "pkg.domain", NOT_IN_THE_DOMAIN) == []


def test_the_import_probe_sees_a_library_the_code_loads() -> None:
    loaded = modules_loaded_by("import consign_core\nimport httpx")
    assert "httpx" in loaded
    assert not {"httpx", "stamina"} & modules_loaded_by("import json")
