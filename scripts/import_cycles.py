"""Find import cycles inside the seeknal_sqlmesh package; exit 1 when there is one.

Usage: python scripts/import_cycles.py [package folder]   (default: seeknal_sqlmesh next to this script's folder)

The graph has one node per module and an edge for every import of another module of the package, wherever it is
written: at the top of the file or inside a function (a lazy import hides a cycle, it does not remove it).
Imports under `if TYPE_CHECKING:` are left out: they never run, they only tell the type checker about names.
`from package import name` points at the submodule `package.name` when there is one, else at the package.
Importing `a.b.c` also runs `a/__init__.py` and `a/b/__init__.py` first; those implicit edges are left out, or every
package whose `__init__` imports its own modules would be a cycle.
"""

from __future__ import annotations

import ast
import sys
import typing as t
from pathlib import Path


def module_names(package_dir: Path) -> t.Dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package (`__init__.py` names the package)."""
    root = package_dir.parent
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    """`TYPE_CHECKING` or `<anything>.TYPE_CHECKING` (typing.TYPE_CHECKING, t.TYPE_CHECKING)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> t.Iterator[t.Union[ast.Import, ast.ImportFrom]]:
    """Every import statement of the file, at any depth, except those only run by type checkers."""
    stack: t.List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)  # the `else:` branch does run
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve_relative(module: str, is_package: bool, level: int, target: t.Optional[str]) -> str:
    """The absolute name of `from <level dots><target> import ...` written in `module`."""
    base = module.split(".")
    if not is_package:
        base = base[:-1]  # a module's own package is where one dot starts
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def imports_of(module: str, path: Path, known: t.Collection[str]) -> t.Set[str]:
    """Modules of the package that `module` imports at run time."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found: t.Set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
            continue
        source = _resolve_relative(module, is_package, node.level, node.module) if node.level else node.module or ""
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in known:
                found.add(submodule)
            elif source in known:
                found.add(source)
    found.discard(module)
    return found


def import_graph(package_dir: Path) -> t.Dict[str, t.Set[str]]:
    names = module_names(package_dir)
    return {module: imports_of(module, path, names) for module, path in names.items()}


def cycles(graph: t.Mapping[str, t.Set[str]]) -> t.List[t.Tuple[t.List[str], t.List[str]]]:
    """(one cycle, every module of the group) for each group of modules that import each other, in name order.

    Tarjan's strongly connected components, written without recursion; a component of two or more modules holds
    at least one cycle, and the shortest path back to its first module (breadth-first) is the one shown.
    """
    index: t.Dict[str, int] = {}
    low: t.Dict[str, int] = {}
    on_stack: t.Set[str] = set()
    stack: t.List[str] = []
    components: t.List[t.List[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
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
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return [(_shortest_cycle(graph, component), component) for component in sorted(components)]


def _shortest_cycle(graph: t.Mapping[str, t.Set[str]], component: t.List[str]) -> t.List[str]:
    first, members = component[0], set(component)
    came_from: t.Dict[str, str] = {}
    frontier = [first]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == first:
                    path = [node]
                    while path[-1] != first:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), first]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    return component  # unreachable for a strongly connected component


def main(argv: t.Sequence[str]) -> int:
    package_dir = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "seeknal_sqlmesh"
    found = cycles(import_graph(package_dir))
    for cycle, group in found:
        print("import cycle: " + " -> ".join(cycle))
        if len(group) > len(cycle) - 1:  # the group holds more cycles than the one shown
            print(f"  (modules that import each other: {', '.join(group)})")
    if found:
        print(f"{len(found)} import cycle(s) in {package_dir.name}", file=sys.stderr)
        return 1
    print(f"no import cycles in {package_dir.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
