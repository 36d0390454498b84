"""The package's import graph, read with `ast`: no cycles, and no import from a lower layer into a higher one.

Every import counts, including those inside functions (a lazy import is still a dependency). The layer
order is written here, lowest first; a module may import modules of its own folder, of lower layers and the
standard library / third-party packages, never of its own layer's sibling folders or of higher layers.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "spatial_ssrl"

# layer rank of each top-level module or folder of spatial_ssrl
LAYERS = {
    "contract": 0,
    "engine": 1,
    "rewards": 1,
    "tasks": 2,
    "sources": 2,
    "dataset": 3,
    "export": 4,
    "evaluate": 4,
    "train": 5,
    "demo": 6,
    "cli": 7,
}
FACADE = "spatial_ssrl"  # the package __init__: lazy re-exports of the public API, above everything


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "spatial_ssrl" else None


def imports_of(path: Path, here: str | None = None) -> set[str]:
    """Every `spatial_ssrl` module the file imports (absolute or relative, at any depth of the file);
    `here` is the file's module name (default: from its place in the package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = here or module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target != "spatial_ssrl" or any(a.name != "__version__" for a in node.names):
                found.add(target)  # the facade's __version__ is a constant, importing it loads nothing
            # `from spatial_ssrl.x import y` may import the submodule y
            found.update(f"{target}.{a.name}" for a in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != here}


def graph() -> dict[str, set[str]]:
    return {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_folder_has_a_layer():
    top = {p.stem if p.is_file() else p.name for p in PACKAGE.iterdir() if p.suffix == ".py" or p.is_dir()}
    top -= {"__init__", "__pycache__", "assets", "configs", "templates"}
    assert top == set(LAYERS), f"give every top-level module or folder a layer: {sorted(top ^ set(LAYERS))}"


def test_no_import_goes_up_or_sideways_between_layers():
    bad = []
    for module, targets in graph().items():
        if module == FACADE:
            continue
        src = layer_of(module)
        for target in targets:
            dst = layer_of(target)
            if dst is None:
                bad.append(f"{module} imports the package facade {target}")
            elif dst != src and LAYERS[dst] >= LAYERS[src]:
                bad.append(f"{module} ({src}, layer {LAYERS[src]}) imports {target} ({dst}, layer {LAYERS[dst]})")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            # a package's __init__ importing its own submodules is how packages are built, not a cycle
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_the_checker_sees_a_violation(tmp_path):
    """The rules above can fail: an upward import written into a copy of a module is reported."""
    assert "spatial_ssrl.dataset.builder" not in imports_of(PACKAGE / "engine" / "rng.py")
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from ..dataset.builder import build\n    import spatial_ssrl.cli\n")
    found = imports_of(probe, here="spatial_ssrl.engine.probe")
    assert {"spatial_ssrl.dataset.builder", "spatial_ssrl.cli"} <= found
    assert LAYERS[layer_of("spatial_ssrl.dataset.builder")] > LAYERS[layer_of("spatial_ssrl.engine.probe")]


def _modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys, time\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)\n"
    code += "print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return set(out[1:])


def test_reward_adapters_load_no_numpy_pil_or_task():
    for adapter in ("verl", "easyr1"):
        loaded = _modules_loaded_by(f"import spatial_ssrl.rewards.{adapter}")
        heavy = {m for m in loaded if m.split(".")[0] in ("numpy", "PIL", "torch", "pyarrow")}
        tasks = {m for m in loaded if m.startswith(("spatial_ssrl.tasks", "spatial_ssrl.engine"))}
        assert not heavy and not tasks, (adapter, sorted(heavy | tasks)[:10])


def test_commands_import_only_what_they_use():
    loaded = _modules_loaded_by("from spatial_ssrl.cli import build_parser; build_parser()")
    assert not {m for m in loaded if m.startswith(("spatial_ssrl.evaluate", "spatial_ssrl.train", "numpy"))}
