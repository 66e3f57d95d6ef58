"""Distillation methods, one module each (``registry.py`` says what a method module provides).

Importing the package imports every module in it, so each method registers itself; then the methods of the
user's own packages: every entry point of the group ``ats_ms.methods`` (an installed package declares one, e.g.
``[project.entry-points."ats_ms.methods"] my_kd = "my_package.my_kd"``) and every module named in the environment
variable ``ATS_MS_METHODS`` (comma-separated, importable from ``sys.path``).  Their methods get the same checks,
config section and setup line as a built-in one.  The list of methods a config may name is the registry's.
"""
import importlib
import os
import pkgutil

from ats_ms.methods.registry import METHODS, Method, get, moved_keys, names, plugin_failures, register, sections

ENTRY_POINT_GROUP = "ats_ms.methods"
ENV_VAR = "ATS_MS_METHODS"


def discover():
    """Import every module of the package (each registers its method); run at import, and again after a folder
    was added to the package's ``__path__``."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry":
            importlib.import_module(f"{__name__}.{info.name}")


def _load_plugin(what, load):
    """Import one user method; a failure is kept (and named when a config asks for a method), not raised: a broken
    plugin must not stop the commands that do not use it."""
    try:
        loaded = load()
        if isinstance(loaded, Method):
            register(loaded)
    except Exception as exc:  # pylint: disable=broad-except  (any error of the user's module)
        plugin_failures.append(f"{what} could not be loaded ({type(exc).__name__}: {exc})")


def discover_plugins(env=None):
    """The methods of the user's packages: the ``ats_ms.methods`` entry points, then ``$ATS_MS_METHODS``."""
    from importlib.metadata import entry_points  # pylint: disable=import-outside-toplevel
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        _load_plugin(f"the entry point '{ep.name} = {ep.value}' of {getattr(dist, 'name', 'an installed package')}",
                     ep.load)
    env = os.environ if env is None else env
    for module in [m.strip() for m in env.get(ENV_VAR, "").split(",") if m.strip()]:
        _load_plugin(f"the module '{module}' named in {ENV_VAR}", lambda m=module: importlib.import_module(m))


discover()
discover_plugins()

__all__ = ["METHODS", "Method", "discover", "discover_plugins", "get", "moved_keys", "names", "plugin_failures",
           "register", "sections"]
