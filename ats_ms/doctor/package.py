"""Is the installed package whole?  Import every module of it and compare with the build-time list.

``setup.py``'s build step writes ``ats_ms/_modules.txt``, the module list of the source tree it built from,
into every wheel.  A module in that list but absent from the installed package (a folder without
``__init__.py`` is silently dropped by ``find_packages``) is then named here instead of surfacing as a
``ModuleNotFoundError`` in the middle of a command.  A source checkout has no such list; there the modules
present are imported and a module folder without ``__init__.py`` is flagged, since a wheel would drop it.
"""
import importlib
import os

import ats_ms
from ats_ms.common.optional import EXTRAS, MissingExtra, install_hint

MANIFEST = "_modules.txt"


def package_dir():
    return os.path.dirname(os.path.abspath(ats_ms.__file__))


def present_modules(root=None):
    """Module names of every ``*.py`` file under the package folder (``__init__`` names the package)."""
    root = root or package_dir()
    names = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "shipped_configs"))
        rel = os.path.relpath(folder, os.path.dirname(root)).replace(os.sep, ".")
        for fname in sorted(files):
            if fname.endswith(".py"):
                names.append(rel if fname == "__init__.py" else f"{rel}.{fname[:-3]}")
    return sorted(names)


def folders_without_init(root=None):
    root = root or package_dir()
    bad = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in ("__pycache__", "shipped_configs")]
        if any(f.endswith(".py") for f in files) and "__init__.py" not in files:
            bad.append(os.path.relpath(folder, os.path.dirname(root)))
    return sorted(bad)


def built_modules(root=None):
    """The build-time list, or None in a source checkout."""
    path = os.path.join(root or package_dir(), MANIFEST)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return sorted(line.strip() for line in f if line.strip())


def import_all(names):
    """(imported, [(module, missing optional dependency)], [(module, error)]).

    A module that exists to serve an optional package (``ats_ms.common.optional.EXTRAS``) and cannot import without it
    "needs an optional package"; any other import failure, a missing required package included, is a defect."""
    imported, optional, broken = [], [], []
    for name in names:
        try:
            importlib.import_module(name)
            imported.append(name)
        except MissingExtra as exc:
            optional.append((name, exc.package))
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing.split(".")[0] in EXTRAS:
                optional.append((name, missing.split(".")[0]))
            else:
                broken.append((name, f"No module named '{missing}'"))
        except Exception as exc:  # pylint: disable=broad-except  (any import-time failure is a defect to report)
            broken.append((name, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"))
    return imported, optional, broken


def check(root=None):
    """[(status, name, detail, fix)] lines for the doctor."""
    root = root or package_dir()
    expected = built_modules(root)
    present = present_modules(root)
    lines = []
    if expected is not None:
        lost = [m for m in expected if m not in present]
        if lost:
            lines.append(("fail", "installed files", f"{len(lost)} of the {len(expected)} modules this package was built "
                          f"with are missing from {root} (e.g. {', '.join(lost[:3])})",
                          "the install is broken: reinstall ats_ms from a release or a clone (pip install .)"))
    else:
        unpackaged = folders_without_init(root)
        if unpackaged:
            lines.append(("fail", "source tree", f"module folders without __init__.py, which a wheel would leave out: "
                          f"{', '.join(unpackaged)}", "add an __init__.py to each"))
    names = sorted(set(present) | set(expected or []))
    imported, optional, broken = import_all(names)
    if broken:
        lines.append(("fail", "imports", f"{len(broken)} modules fail to import (e.g. {broken[0][0]}: {broken[0][1]})",
                      "reinstall ats_ms (pip install .); if it persists, report it"))
    for module, dependency in optional:
        lines.append(("info", module, f"needs the optional package '{dependency}' (not installed)",
                      install_hint(dependency)))
    if not broken and not [line for line in lines if line[0] == "fail"]:
        extra = f"; {len(optional)} need optional packages (below)" if optional else ""
        lines.insert(0, ("ok", "package", f"all {len(names)} modules present, {len(imported)} import{extra}", ""))
    return lines
