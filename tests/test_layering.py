"""The package's layering, read from the source: a library package imports only packages below it, so no import runs
back up and the commands stay apart from the library (docs/development.md, Project layout)."""
import ast
import os

import ats_ms

PACKAGE = os.path.dirname(os.path.abspath(ats_ms.__file__))
# From the bottom up; packages on one level do not import each other.
LEVELS = [("common",), ("cpu_conv",), ("process",), ("losses", "models"), ("methods", "interop"), ("config", "distill"),
          ("data",), ("engine",), ("results", "analysis", "benchmark", "twin"), ("experiments",), ("cli", "doctor", "launch")]
LEVEL = {package: i for i, names in enumerate(LEVELS) for package in names}
# Modules a process starts as its main module: commands, which may use ats_ms.cli.
ENTRY_POINTS = {"benchmark/worker.py", "launch/train_worker.py", "launch/sweep_worker.py"}


def _imported_packages(path):
    tree = ast.parse(open(path, encoding="utf-8").read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ats_ms":
            parts = node.module.split(".")
            yield from ([parts[1]] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            yield from (a.name.split(".")[1] for a in node.names if a.name.startswith("ats_ms."))


def test_every_library_package_imports_only_packages_below_it():
    packages = {d for d in os.listdir(PACKAGE) if os.path.isfile(os.path.join(PACKAGE, d, "__init__.py"))}
    assert packages == set(LEVEL), "a package was added or removed: place it in LEVELS and in docs/development.md"
    wrong = []
    for package in sorted(packages):
        for root, _, files in os.walk(os.path.join(PACKAGE, package)):
            for name in sorted(f for f in files if f.endswith(".py")):
                rel = os.path.relpath(os.path.join(root, name), PACKAGE)
                if name == "__main__.py" or rel in ENTRY_POINTS:
                    continue
                for imported in _imported_packages(os.path.join(root, name)):
                    if imported != package and imported in LEVEL and LEVEL[imported] >= LEVEL[package]:
                        wrong.append(f"{rel} imports ats_ms.{imported}")
    assert not wrong, wrong


def test_the_top_level_holds_only_commands():
    """Every top-level module but __init__ is a command: it has a main() a user runs with python -m."""
    modules = sorted(f for f in os.listdir(PACKAGE) if f.endswith(".py") and f != "__init__.py")
    not_commands = [m for m in modules
                    if "def main(" not in open(os.path.join(PACKAGE, m), encoding="utf-8").read()]
    assert not not_commands, not_commands
