"""Optional dependencies: each is imported where it is used, through ``require``, so that a plain
``pip install ats_ms`` imports every module and a command that needs a missing package says which extra
brings it (one paragraph, exit code 2) instead of ending in a ``ModuleNotFoundError``.
"""
import importlib
import os

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


# What an extra costs that a user should know before installing it.
EXTRA_NOTES = {"torch": "a plain install of torch takes PyTorch's CUDA build and its CUDA wheels, several GB; for "
                        "the CPU build (about 200 MB) first run pip install torch --index-url "
                        "https://download.pytorch.org/whl/cpu (docs/faq.md: PyTorch without CUDA)"}


def from_checkout():
    """True when ats_ms runs from a source checkout (an editable install or the repository itself), not a wheel."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.isfile(os.path.join(top, "setup.py")) and os.path.isdir(os.path.join(top, "configs"))


def extra_command(extra):
    """The pip command that installs ``extra`` the way this ats_ms was installed."""
    return f'pip install -e ".[{extra}]"' if from_checkout() else f'pip install "ats_ms[{extra}]"'


def install_hint(package):
    """How to install the extra that brings ``package``."""
    extra = EXTRAS[package.split(".")[0]]
    note = f"; {EXTRA_NOTES[extra]}" if extra in EXTRA_NOTES else ""
    return f"{extra_command(extra)} (or pip install {PIP_NAMES.get(package, package)}){note}"


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
