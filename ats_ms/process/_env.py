"""Process-wide environment defaults that must be in place before MindSpore runs its first op.

On AVX-512 CPUs MindSpore >= 2.9 lets oneDNN pick an AVX-512 convolution path that falls back to a
*reference* kernel (about 20-40x slower).  Capping oneDNN at AVX2 restores the fast path.  The variable is
read once, when oneDNN dispatches its first primitive, so it is set at import time; it has no effect on GPU
or Ascend kernels.  ``setdefault`` keeps whatever the user exported, and ``USER_VALUES`` remembers what the
user's environment held before ats_ms touched it: a training command may lift the cap again before its first
operation when MindSpore's convolution will not run (``ats_ms.process.cpu_isa``), and ``bench --torch`` starts
PyTorch with the environment the user started with.
"""
import os

CPU_ISA_VAR = "ONEDNN_MAX_CPU_ISA"
CPU_ISA_DEFAULT = "AVX2"
DEFAULTS = {CPU_ISA_VAR: CPU_ISA_DEFAULT,
            "GLOG_v": "3"}  # MindSpore's C++ logger prints pages of warnings at its default level; 3 = errors only
USER_VALUES = {}  # variable -> the user's value, or None when the user had not set it


def apply_defaults():
    for name, value in DEFAULTS.items():
        USER_VALUES.setdefault(name, os.environ.get(name))
        os.environ.setdefault(name, value)


def user_environment(base=None):
    """``base`` (default: this process's environment) with ats_ms's defaults taken back out."""
    env = dict(os.environ if base is None else base)
    for name, value in USER_VALUES.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env
