"""The tree keeps the layout a newcomer can read (issue 13, docs/architecture.md).

Read from the files and their imports, nothing is run: no module over 400 lines, no
folder over 20 modules, no family of three or more modules sharing a filename prefix
in one folder, and no import cycle between modules (imports inside functions and
under TYPE_CHECKING count).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "connectors")
MAX_LINES = 400
MAX_MODULES = 20
MAX_FAMILY = 2


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every product module."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules `name` imports anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            wanted = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in wanted:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                targets.add(target)
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
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
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in _modules().values()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by what they do): {long}"


def test_no_folder_holds_over_20_modules_nor_a_prefix_family() -> None:
    folders: dict[Path, list[str]] = defaultdict(list)
    for path in _modules().values():
        if path.name != "__init__.py":
            folders[path.parent].append(path.stem)
    crowded = {str(f.relative_to(ROOT)): len(n) for f, n in folders.items() if len(n) > MAX_MODULES}
    assert not crowded, f"folders over {MAX_MODULES} modules: {crowded}"
    families = {}
    for folder, names in folders.items():
        subpackages = [d.name for d in folder.iterdir() if (d / "__init__.py").is_file()]
        by_prefix: dict[str, list[str]] = defaultdict(list)
        for name in names + subpackages:
            by_prefix[name.split("_")[0]].append(name)
        for prefix, members in by_prefix.items():
            if len(members) > MAX_FAMILY:
                families[f"{folder.relative_to(ROOT)}/{prefix}_*"] = sorted(members)
    assert not families, f"prefix families (make them a package): {families}"


def test_no_import_cycle_between_modules() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = _cycles(graph)
    assert not cycles, f"modules that import each other (lazy imports count): {cycles}"


def test_a_cycle_of_three_is_found_and_a_chain_is_not() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
