"""Architecture metrics of the project, from the source text alone (``ast``; nothing of the project is imported).

    python scripts/arch_metrics.py [--json]

Counts, for issue 25 ("one architecture step"):

- modules: ``.py`` files in ``ugrn_core`` (all; and without the one-file-per-method plugins in ``ugrn_core/methods``);
- top-level modules: ``.py`` files directly in ``ugrn_core`` (``__init__``/``__main__`` included);
- import cycles: strongly connected components of more than one module in the import graph of ``ugrn_core``,
  ``ugrn_app``, ``app.py`` and ``app_pages`` (every import statement counts: module level, inside functions, under
  ``TYPE_CHECKING``); ``from pkg import name`` points at ``pkg.name`` when that is a module, else at ``pkg``;
- levels: the longest import chain (in modules) through the graph with each cycle collapsed to one node; also
  counted over the imports that run at module import (function bodies aside);
- modules over 500 lines;
- method-name literals: string constants in ``ugrn_core`` outside ``ugrn_core/methods/``, in ``ugrn_app``,
  ``app.py`` and ``app_pages`` whose text is a registered method name, or a comma-separated list of them (each name
  counts once); docstrings aside. Registered names are read from ``MethodSpec(name=...)`` in ``ugrn_core/methods/*.py``.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_files() -> list[Path]:
    files = sorted((ROOT / "ugrn_core").rglob("*.py")) + sorted((ROOT / "ugrn_app").rglob("*.py"))
    files += [ROOT / "app.py"] if (ROOT / "app.py").exists() else []
    files += sorted((ROOT / "app_pages").glob("*.py"))
    return [f for f in files if "assets" not in f.relative_to(ROOT).parts]


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _module_level_imports(tree):
    """Import statements that run when the module is imported (not inside functions; ``TYPE_CHECKING`` blocks
    included)."""
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def import_graph(files: list[Path], module_level_only: bool = False) -> dict[str, set[str]]:
    mods = {_module_name(f): f for f in files}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        pkg = name if _is_package(path) else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in (_module_level_imports(tree) if module_level_only else ast.walk(tree)):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = pkg.split(".") if pkg else []
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)] if node.level > 1 else base_parts
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in mods else base)
            for t in targets:
                # `import a.b.c` of a module we do not have: walk up to the nearest project module
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def longest_chain(graph: dict[str, set[str]], comps: list[list[str]]) -> list[str]:
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    dag: dict[int, set[int]] = {i: set() for i in range(len(comps))}
    for v, ws in graph.items():
        for w in ws:
            if comp_of[v] != comp_of[w]:
                dag[comp_of[v]].add(comp_of[w])
    memo: dict[int, list[int]] = {}

    def depth(i):
        if i not in memo:
            best = []
            for j in dag[i]:
                d = depth(j)
                if len(d) > len(best):
                    best = d
            memo[i] = [i] + best
        return memo[i]

    best = max((depth(i) for i in dag), key=len, default=[])
    return ["/".join(comps[i]) for i in best]


def registered_methods() -> list[str]:
    names = []
    for path in sorted((ROOT / "ugrn_core" / "methods").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "MethodSpec":
                for kw in node.keywords:
                    if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                        names.append(kw.value.value)
    return names


def _docstring_nodes(tree) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
    return out


def method_literals(files: list[Path], names: list[str]) -> list[tuple[str, int, str]]:
    known = set(names)
    hits = []
    for path in files:
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("ugrn_core", "methods"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                parts = [p.strip() for p in node.value.split(",")]
                if parts and all(p in known for p in parts):
                    hits += [(str(rel), node.lineno, p) for p in parts]
    return hits


def metrics() -> dict:
    files = project_files()
    core = [f for f in files if f.relative_to(ROOT).parts[0] == "ugrn_core"]
    method_plugins = [f for f in core if f.parent == ROOT / "ugrn_core" / "methods" and not f.name.startswith("_")
                      and f.stem not in ("base",)]
    graph = import_graph(files)
    comps = strongly_connected(graph)
    cycles = [c for c in comps if len(c) > 1]
    chain = longest_chain(graph, comps)
    graph_top = import_graph(files, module_level_only=True)
    chain_top = longest_chain(graph_top, strongly_connected(graph_top))
    long = {str(f.relative_to(ROOT)): n for f in core
            if (n := len(f.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    names = registered_methods()
    lits = method_literals(files, names)
    return {
        "modules": len(core),
        "modules_without_method_files": len(core) - len(method_plugins),
        "top_level_modules": sum(1 for f in core if f.parent == ROOT / "ugrn_core"),
        "import_cycles": len(cycles),
        "cycles": cycles,
        "levels": len(chain),
        "longest_chain": chain,
        "levels_module_level_imports": len(chain_top),
        "longest_chain_module_level_imports": chain_top,
        "modules_over_500_lines": long,
        "method_names": names,
        "method_literals": len(lits),
        "method_literals_where": [f"{p}:{n} {v}" for p, n, v in lits],
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print everything as JSON")
    ap.add_argument("--verbose", "-v", action="store_true", help="list cycles, the chain and every literal")
    args = ap.parse_args(argv)
    m = metrics()
    if args.json:
        print(json.dumps(m, indent=1))
        return 0
    print(f"modules in ugrn_core:           {m['modules']} ({m['modules_without_method_files']} without method files)")
    print(f"top-level modules of ugrn_core: {m['top_level_modules']}")
    print(f"import cycles:                  {m['import_cycles']}")
    print(f"import levels (longest chain):  {m['levels']} ({m['levels_module_level_imports']} counting module-level "
          "imports only)")
    print(f"modules over {MAX_LINES} lines:        {len(m['modules_over_500_lines'])} {m['modules_over_500_lines']}")
    print(f"method-name literals outside ugrn_core/methods: {m['method_literals']}")
    if args.verbose:
        for c in m["cycles"]:
            print("cycle:", " ".join(c))
        print("chain:", " -> ".join(m["longest_chain"]))
        print("chain (module-level imports):", " -> ".join(m["longest_chain_module_level_imports"]))
        for w in m["method_literals_where"]:
            print("literal:", w)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
