"""ats_ms: knowledge distillation with Asymmetric Temperature Scaling (ATS) in MindSpore.

Importing the package applies CPU environment defaults (see ``ats_ms.process._env``) before MindSpore is
loaded, so every entry point and user script gets the fast convolution path.
"""
from ats_ms.process import _env

_env.apply_defaults()

__version__ = "0.3.0"
