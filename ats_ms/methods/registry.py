"""The methods ``distill.method`` may name, each registered by its own module in this package.

A method is one module (see ``dkd.py``): it registers a ``Method`` with the names it answers to, the dataclass of
its own config section (``distill.<section>``, e.g. ``distill.dkd.alpha``), its checks of a whole config, the
line the run's setup block prints for it, and ``build``, which returns its loss cell.  Modules are found by
themselves (``ats_ms.methods`` imports every module of the package), so adding a method is adding a file.

Nothing here imports MindSpore: configs are checked before it loads; ``build`` imports what the loss needs.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

from ats_ms.common.errors import ConfigError


@dataclass
class Method:
    """One distillation method (or a family of names sharing a loss, like ts / kd / ats)."""
    names: tuple                                # the values of distill.method it answers to
    summary: str                                # one line: what it optimises
    build: Callable                             # build(distill config) -> loss cell with terms() and term_names
    options: Optional[type] = None              # dataclass of its own section, distill.<section>
    section: Optional[str] = None               # default: names[0]
    check: Optional[Callable] = None            # check(whole config) raises ConfigError for a config it refuses
    describe: Optional[Callable] = None         # describe(distill config) -> the setup block's method line
    moved: dict = field(default_factory=dict)   # older flat key of distill -> its key in this section
    needs_teacher: bool = True
    temperatures: tuple = ()                    # the shared keys distill.tau_* it reads (results show only these)

    def __post_init__(self):
        if self.options is not None and self.section is None:
            self.section = self.names[0]


METHODS = {}
plugin_failures = []  # user methods (entry points, ATS_MS_METHODS) that failed to load, named by ``get``


def register(method):
    """Add ``method`` under each of its names (a name taken twice is a programming error)."""
    for name in method.names:
        if name in METHODS and METHODS[name] is not method:
            raise ValueError(f"distill.method '{name}' is registered twice")
        METHODS[name] = method
    return method


def check_ranges(options, section, positive=(), non_negative=()):
    """Refuse a method's key outside its range, naming it (``distill.<section>.<key>``)."""
    for key in positive:
        if not getattr(options, key) > 0:
            raise ConfigError(f"'distill.{section}.{key}' must be > 0, got {getattr(options, key):g}.")
    for key in non_negative:
        if getattr(options, key) < 0:
            raise ConfigError(f"'distill.{section}.{key}' must be >= 0, got {getattr(options, key):g}.")


def get(name):
    if name not in METHODS:
        failed = (" Methods of your own packages that failed to load: " + "; ".join(plugin_failures) + "."
                  if plugin_failures else "")
        raise ConfigError(f"distill.method '{name}' is not a method ats_ms knows; choose one of "
                          f"{', '.join(METHODS)}.{failed}")
    return METHODS[name]


def names():
    return tuple(METHODS)


def sections():
    """[(section name, options dataclass)] of the methods with a section, in registration order."""
    seen, out = set(), []
    for method in METHODS.values():
        if method.options is not None and method.section not in seen:
            seen.add(method.section)
            out.append((method.section, method.options))
    return out


def moved_keys():
    """{older flat key of distill: 'distill.<section>.<key>'} over every method."""
    out = {}
    for method in METHODS.values():
        for old, new in method.moved.items():
            out[old] = f"distill.{method.section}.{new}"
    return out
