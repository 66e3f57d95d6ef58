"""The configs that ship with ats_ms, wherever it is installed.

In a source checkout they are the repository's top-level ``configs/`` folder (where users browse and
edit them).  A wheel or ``pip install .`` carries a copy inside the package, ``ats_ms/shipped_configs/``,
made by ``setup.py``'s build step, so every command works from any folder after an ordinary install.

A config may be named without a path: ``--config cifar100/ats_paper/resnet110_to_vgg8/ats`` is the
shipped file ``<configs>/cifar100/ats_paper/resnet110_to_vgg8/ats.yaml``; a real file path always wins.
"""
import difflib
import os

from ats_ms.common.errors import ConfigError

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_COPY = os.path.join(_PACKAGE, "shipped_configs")
SOURCE_TREE = os.path.join(os.path.dirname(_PACKAGE), "configs")
MARKER = os.path.join("recipes", "ats_paper.yaml")


def config_root():
    """The folder holding the shipped configs (source checkout first, then the installed copy)."""
    checkout = os.path.isfile(os.path.join(os.path.dirname(_PACKAGE), "setup.py"))
    if checkout and os.path.isfile(os.path.join(SOURCE_TREE, MARKER)):
        return SOURCE_TREE
    if os.path.isfile(os.path.join(PACKAGE_COPY, MARKER)):
        return PACKAGE_COPY
    raise ConfigError(f"The shipped configs were found neither in a source checkout ({SOURCE_TREE}) nor in the "
                      f"installed package ({PACKAGE_COPY}). Reinstall ats_ms (pip install .) or run from a clone.")


def list_configs():
    """[(name, description)] for every shipped config; the description is the comment at the top of the file."""
    root = config_root()
    found = []
    for folder, _, files in os.walk(root):
        for fname in files:
            if fname.endswith(".yaml"):
                file_path = os.path.join(folder, fname)
                name = os.path.relpath(file_path, root)[:-len(".yaml")].replace(os.sep, "/")
                found.append((name, description(file_path)))
    return sorted(found)


def description(file_path):
    lines = []
    with open(file_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    return " ".join(lines)


def resolve_config_path(path):
    """A file path as given if it exists, else the shipped config of that name."""
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        inside = os.path.join(path, "config.yaml")
        hint = (f" It holds a run's config: use '{inside}'." if os.path.isfile(inside)
                else " Give the YAML file itself.")
        raise ConfigError(f"'{path}' is a folder, not a config file.{hint}")
    name = path[:-len(".yaml")] if path.endswith(".yaml") else path
    name = name[len("configs/"):] if name.startswith("configs/") else name
    try:
        root = config_root()
    except ConfigError:
        root = None
    if root and not os.path.isabs(name):
        candidate = os.path.join(root, *name.split("/")) + ".yaml"
        if os.path.isfile(candidate):
            return candidate
    close = difflib.get_close_matches(name, [n for n, _ in list_configs()], n=2, cutoff=0.6) if root else []
    hint = f" Did you mean the shipped config {' or '.join(repr(c) for c in close)}?" if close else ""
    raise ConfigError(f"Config file '{path}' does not exist, and no shipped config has that name.{hint} "
                      "'python -m ats_ms.configs' lists the shipped configs.")


def recipe_path(name):
    """A named recipe (``ats_paper``, ``demo``, ``kd_benchmark``) -> its YAML file."""
    folder = os.path.join(config_root(), "recipes")
    path = os.path.join(folder, f"{name}.yaml")
    if not os.path.isfile(path):
        known = sorted(f[:-5] for f in os.listdir(folder) if f.endswith(".yaml"))
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"Unknown recipe '{name}'.{hint} Recipes: {', '.join(known)}.")
    return path


def quickstart_config(fname):
    return os.path.join(config_root(), "quickstart", fname)
