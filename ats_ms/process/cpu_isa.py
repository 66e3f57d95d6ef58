"""Which instruction set oneDNN may use on the CPU (``ONEDNN_MAX_CPU_ISA``), chosen per run.

MindSpore 2.10's own CPU convolution falls to oneDNN's reference kernel above AVX2, so ``import ats_ms`` caps
oneDNN at AVX2 (``ats_ms.process._env``).  ats_ms's oneDNN convolution (``runtime.cpu_conv``) has no such problem: on an
AVX-512 Intel CPU the cap costs it about 1.46x (docs/performance.md).  So a run whose every convolution goes
through that op lifts the cap, and any run where MindSpore's convolution will execute keeps it:

- the user exported ONEDNN_MAX_CPU_ISA: that value, always;
- not a CPU run, ``runtime.cpu_conv: builtin``, a ``mindcv:`` network, or AMP (float16 convolutions take
  MindSpore's path): AVX2;
- the oneDNN convolution cannot be had here (not built and no compiler or headers to build it): AVX2;
- otherwise: no cap (oneDNN picks the CPU's best instruction set).

oneDNN reads the variable once per process, at its first primitive, so ``decide`` runs before MindSpore's
first operation, from what is known then: the configs, and whether the library is built or can be.  Nothing
here imports MindSpore.
"""
import os
from dataclasses import dataclass
from typing import Optional

from ats_ms.process import _env

VAR = _env.CPU_ISA_VAR


@dataclass
class Decision:
    value: Optional[str]   # the variable's value in force; None = no cap
    reason: str

    def describe(self):
        return f"{self.value or 'no cap (the CPU best)'}: {self.reason}"


_decision = Decision(os.environ.get(VAR), "ats_ms's default at import (no run has chosen yet)")


def current():
    return _decision


def _networks(cfg):
    nets = [cfg.model.arch]
    if cfg.distill.method != "none" and cfg.teacher.arch:
        nets.append(cfg.teacher.arch)
    return nets


def _amp_level(cfg):
    return cfg.runtime.amp_level if cfg.runtime.amp_level != "auto" else {"CPU": "O0"}.get(
        cfg.runtime.device_target, "O2")


def _onednn_unavailable():
    """Why ats_ms's oneDNN convolution cannot be had in this environment, or None when it is built or buildable."""
    from ats_ms.cpu_conv import build  # pylint: disable=import-outside-toplevel  (no MindSpore import)
    try:
        compiler = build.find_compiler()
        include, version = build.find_headers()
        onednn_lib = build.mindspore_onednn()
    except build.Unavailable as exc:
        return exc.reason
    del compiler, include, version, onednn_lib
    return None


def choose(cfgs, user_value=None, onednn_unavailable=_onednn_unavailable):
    """The Decision for a process that will train (or evaluate) ``cfgs``; pure but for the availability probe."""
    if user_value:
        return Decision(user_value, f"exported by you ({VAR}={user_value})")
    for cfg in cfgs:
        if cfg.runtime.device_target != "CPU":
            return Decision(_env.CPU_ISA_DEFAULT, f"a {cfg.runtime.device_target} run (no CPU convolution)")
        if cfg.runtime.cpu_conv == "builtin":
            return Decision(_env.CPU_ISA_DEFAULT, "runtime.cpu_conv: builtin runs MindSpore's convolution, which "
                                                  "falls to oneDNN's reference kernel above AVX2")
        mindcv = [n for n in _networks(cfg) if str(n).lower().startswith("mindcv:")]
        if mindcv:
            return Decision(_env.CPU_ISA_DEFAULT, f"{mindcv[0]} runs MindSpore's convolution, which falls to "
                                                  "oneDNN's reference kernel above AVX2")
        if _amp_level(cfg) != "O0":
            return Decision(_env.CPU_ISA_DEFAULT, f"AMP {_amp_level(cfg)}: float16 convolutions run MindSpore's "
                                                  "convolution, which falls to oneDNN's reference kernel above AVX2")
    problem = onednn_unavailable()
    if problem:
        return Decision(_env.CPU_ISA_DEFAULT, f"ats_ms's oneDNN convolution cannot be had here ({problem}), so "
                                              "MindSpore's convolution will run")
    return Decision(None, "every convolution of the run goes through ats_ms's oneDNN convolution, which keeps its "
                          "fast kernels above AVX2")


def decide(cfgs):
    """Choose for ``cfgs`` and put the choice into this process's environment; call it before MindSpore's first
    operation.  Returns the Decision (also ``current()``, for the setup block and the doctor)."""
    global _decision  # pylint: disable=global-statement
    _decision = choose(cfgs, _env.USER_VALUES.get(VAR))
    if _decision.value is None:
        os.environ.pop(VAR, None)
    else:
        os.environ[VAR] = _decision.value
    return _decision
