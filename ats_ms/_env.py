"""Process-wide environment defaults that must be in place before MindSpore runs its first op.

On AVX-512 CPUs MindSpore >= 2.9 lets oneDNN pick an AVX-512 convolution path that falls back to a
*reference* kernel (about 40x slower).  Capping oneDNN at AVX2 restores the fast path.  The variable is
read once, when oneDNN dispatches its first primitive, so it has to be set at import time; it has no
effect on GPU or Ascend kernels.  ``setdefault`` keeps whatever the user exported.
"""
import os

CPU_ISA_VAR = "ONEDNN_MAX_CPU_ISA"
CPU_ISA_DEFAULT = "AVX2"


def apply_defaults():
    os.environ.setdefault(CPU_ISA_VAR, CPU_ISA_DEFAULT)
    # MindSpore's C++ logger prints pages of warnings at its default level; 3 = errors only.
    os.environ.setdefault("GLOG_v", "3")
