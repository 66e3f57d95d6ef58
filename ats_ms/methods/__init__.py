"""Distillation methods, one module each (``registry.py`` says what a method module provides).

Importing the package imports every module in it, so each method registers itself; the list of methods a
config may name is the registry's.
"""
import importlib
import pkgutil

from ats_ms.methods.registry import METHODS, Method, get, moved_keys, names, register, sections


def discover():
    """Import every module of the package (each registers its method); run at import, and again after a folder
    was added to the package's ``__path__``."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "registry":
            importlib.import_module(f"{__name__}.{info.name}")


discover()

__all__ = ["METHODS", "Method", "discover", "get", "moved_keys", "names", "register", "sections"]
