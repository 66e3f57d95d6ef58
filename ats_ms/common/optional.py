"""Optional dependencies: each is imported where it is used, through ``require``, so that a plain
``pip install ats_ms`` imports every module and a command that needs a missing package says which extra
brings it (one paragraph, exit code 2) instead of ending in a ``ModuleNotFoundError``.
"""
import importlib

from ats_ms.common.errors import AtsError

# top-level package -> the extra of setup.py that installs it
EXTRAS = {
    "torch": "torch",
    "mindcv": "mindcv",
    "matplotlib": "plot",
    "tensorboardX": "tensorboard",
    "sklearn": "demo",
}
PIP_NAMES = {"sklearn": "scikit-learn"}


class MissingExtra(AtsError):
    """An optional package a feature needs is not installed; ``package`` names it and ``extra`` the extra of
    ats_ms that installs it."""

    def __init__(self, message, package, extra):
        super().__init__(message)
        self.package, self.extra = package, extra


def install_hint(package):
    """How to install the extra that brings ``package``."""
    extra = EXTRAS[package.split(".")[0]]
    return (f"pip install 'ats_ms[{extra}]' (from a clone: pip install -e '.[{extra}]'; or pip install "
            f"{PIP_NAMES.get(package, package)})")


def require(module, purpose):
    """Import ``module`` (e.g. "matplotlib.pyplot") or raise ``MissingExtra`` saying that ``purpose`` needs it
    and how to install it."""
    package = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != package:
            raise
        raise MissingExtra(f"{purpose} needs the optional package '{PIP_NAMES.get(package, package)}', which is not "
                           f"installed. Install it with: {install_hint(package)}.", package, EXTRAS[package]) from None


def pyplot(purpose):
    """matplotlib's pyplot on the file-only Agg backend (no display needed)."""
    matplotlib = require("matplotlib", purpose)
    matplotlib.use("Agg")
    return require("matplotlib.pyplot", purpose)
