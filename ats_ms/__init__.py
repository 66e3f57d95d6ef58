"""ats_ms: knowledge distillation with Asymmetric Temperature Scaling (ATS) in MindSpore.

Importing the package sets MindSpore's log level before MindSpore loads (``ats_ms.process._env``) and nothing
else: the CPU instruction set oneDNN may use is chosen per run, inside the process (``ats_ms.process.cpu_isa``).
"""
from ats_ms.process import _env

_env.apply_defaults()

__version__ = "0.4.0"
