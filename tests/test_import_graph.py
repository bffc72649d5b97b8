"""No import cycles in store/ or console/: a cycle makes import order matter and hides which module owns a rule.

The graph is read from the source with `ast`, so imports inside functions count too (a lazy import only hides a
cycle, it does not break it). `from package import name` imports the package's `__init__` and, when `name` is a
submodule, that submodule as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("store", "console")


def module_files() -> dict[str, Path]:
    """Every module of the checked packages, by dotted name (a package by its own name, for its __init__)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of a `from ... import` source, relative levels resolved against the importer."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def _with_parents(name: str, known: dict[str, Path]) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ first: each known one is an edge."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & known.keys()


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The known modules `name` imports anywhere in its source, itself excluded.

    A module's own enclosing packages are running before it: reaching them again is no cycle, unless the module
    reads a name their `__init__` defines (`from . import helper` where helper is not a submodule).
    """
    is_package = path.name == "__init__.py"
    ancestors = _with_parents(name, known) - {name}
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found |= _with_parents(alias.name, known) - ancestors
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, is_package, node.level, node.module)
            submodules = {f"{source}.{alias.name}" for alias in node.names} & known.keys()
            found |= (_with_parents(source, known) - ancestors) | submodules
            if source in ancestors and len(submodules) < len(node.names):
                found.add(source)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    known = module_files()
    return {name: imports_of(name, path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Closed import paths covering every module caught in a cycle.

    Modules that reach each other form one knot (a strongly connected component, found with Tarjan's algorithm);
    each knot is reported as shortest cycles through its modules until every module of it has been named.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    walks: list[list[str]] = []
    for component in components:
        named: set[str] = set()
        for start in sorted(component):
            if start not in named:
                walks.append(_closed_walk(graph, component, start))
                named.update(walks[-1])
    return walks


def _closed_walk(graph: dict[str, set[str]], component: set[str], start: str) -> list[str]:
    """A shortest cycle through `start`, found breadth-first inside its component."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    walk = [node]
                    while walk[-1] != start:
                        walk.append(parents[walk[-1]])
                    return list(reversed(walk)) + [start]
                if child not in parents:
                    parents[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")


def test_no_import_cycles():
    found = cycles(import_graph())
    report = "\n".join(" -> ".join(walk) for walk in found)
    print(report)
    assert not found, f"{len(found)} import cycle(s) in store/ or console/:\n{report}"


def _graph_of(tmp_path, sources: dict[str, str]) -> dict[str, set[str]]:
    """The graph of a throwaway package `p` made of the given files."""
    known = {}
    for file, text in sources.items():
        (tmp_path / file).write_text(text)
        stem = file.removesuffix(".py")
        known["p" if stem == "__init__" else f"p.{stem}"] = tmp_path / file
    return {name: imports_of(name, path, known) for name, path in known.items()}


def test_the_graph_sees_cycles_inside_functions(tmp_path):
    """The checker itself: a cycle closed only by an import inside a function is still a cycle."""
    graph = _graph_of(tmp_path, {"__init__.py": "", "a.py": "from . import b\n",
                                 "b.py": "def late():\n    from .a import thing\n"})
    assert graph == {"p": set(), "p.a": {"p.b"}, "p.b": {"p.a"}}
    assert cycles(graph) == [["p.a", "p.b", "p.a"]]


def test_from_a_package_imports_its_init_and_the_named_submodule(tmp_path):
    graph = _graph_of(tmp_path, {"__init__.py": "from .a import x\nHELPER = 1\n",
                                 "a.py": "from . import b\n", "b.py": "from p import HELPER\n"})
    assert graph == {"p": {"p.a"}, "p.a": {"p.b"}, "p.b": {"p"}}
    assert cycles(graph) == [["p", "p.a", "p.b", "p"]]
