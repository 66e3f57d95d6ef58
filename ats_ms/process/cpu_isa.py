"""Which instruction set oneDNN may use on the CPU, chosen per run and set inside the process, never exported.

MindSpore 2.10's own CPU convolution falls to oneDNN's reference kernel above AVX2 (20-40x slower on an AVX-512
CPU), while ats_ms's oneDNN convolution (``runtime.cpu_conv``) keeps fast kernels there, where the AVX2 cap costs
it about 1.46x (docs/performance.md).  So:

- the user exported ``ONEDNN_MAX_CPU_ISA``: that value, always (oneDNN reads it itself); a value oneDNN does
  not know (it would ignore it silently) is refused, naming the ones it knows;
- not a CPU run, ``runtime.cpu_conv: builtin``, a ``mindcv:`` network, or AMP (float16 convolutions take
  MindSpore's path): AVX2;
- the oneDNN convolution cannot be had here (not built, and no compiler or headers to build it): AVX2;
- otherwise: no cap (oneDNN picks the CPU's best).

The choice is set with oneDNN's own ``dnnl_set_max_cpu_isa`` in the oneDNN library MindSpore ships (which
ats_ms's convolution shares), not through the environment: a child process (a launch's workers, a benchmark's)
starts with the user's own environment and chooses for its own run.  oneDNN takes that setting once per process,
before its first kernel: a command decides before MindSpore's first operation; a run started from Python
decides when it starts (``ats_ms.process.startup.prepare_unless_prepared``); in a user's own script where no run
chose, building the first ats_ms network sets the AVX2 cap (``default_unless_chosen``), so that MindSpore's
convolution keeps its fast path there.  A run that starts after that cannot change it any more, and its setup
block says so and what is in force.  Nothing here imports MindSpore.
"""
import ctypes
import os
from dataclasses import dataclass
from typing import Optional

from ats_ms.common.errors import ConfigError

VAR = "ONEDNN_MAX_CPU_ISA"
CAP = "AVX2"
# oneDNN's dnnl_cpu_isa_t values (dnnl_types.h); the names are the values ONEDNN_MAX_CPU_ISA takes, any case.
ISA_CODES = {"SSE41": 0x1, "AVX": 0x3, "AVX2": 0x7, "AVX2_VNNI": 0xF, "AVX2_VNNI_2": 0x1F, "AVX512_CORE": 0x27,
             "AVX512_CORE_VNNI": 0x67, "AVX512_CORE_BF16": 0xE7, "AVX10_1_512": 0x1EF, "AVX512_CORE_FP16": 0x1EF,
             "AVX10_1_512_AMX": 0xFEF, "AVX512_CORE_AMX": 0xFEF, "AVX10_1_512_AMX_FP16": 0x1FEF,
             "AVX512_CORE_AMX_FP16": 0x1FEF, "ALL": 0x0, "DEFAULT": 0x0}
ISA_NAMES = {0x1: "SSE41", 0x3: "AVX", 0x7: "AVX2", 0xF: "AVX2_VNNI", 0x1F: "AVX2_VNNI_2", 0x27: "AVX512_CORE",
             0x67: "AVX512_CORE_VNNI", 0xE7: "AVX512_CORE_BF16", 0x1EF: "AVX512_CORE_FP16",
             0xFEF: "AVX512_CORE_AMX", 0x1FEF: "AVX512_CORE_AMX_FP16"}


@dataclass
class Decision:
    value: Optional[str]    # the cap chosen; None = no cap
    reason: str
    applied: bool = True    # False: oneDNN had fixed its instruction set in this process before the choice
    for_run: bool = True    # False: the import-time default, before any run chose

    def describe(self):
        """One line for a setup block: what is in force and why."""
        in_force = in_force_name()
        chosen = self.value or "no cap (the CPU best)"
        if not self.applied:
            return (f"{in_force or 'unknown'} in force: oneDNN fixed it at an earlier operation in this process, before "
                    f"this run chose {chosen} ({self.reason}); a new process chooses afresh")
        return f"{chosen}: {self.reason}" + (f"; oneDNN runs {in_force}" if in_force else "")


_decision = Decision(None, "no run has chosen in this process", for_run=False)
_library = {}


def current():
    return _decision


def onednn():
    """The oneDNN library MindSpore ships (ctypes handle, loaded once), or None where there is none."""
    if "lib" not in _library:
        from ats_ms.cpu_conv import build  # pylint: disable=import-outside-toplevel  (no MindSpore import)
        try:
            _library["lib"] = ctypes.CDLL(build.mindspore_onednn())
        except (build.Unavailable, OSError):
            _library["lib"] = None
    return _library["lib"]


def in_force_name():
    """The instruction set oneDNN uses in this process (asking fixes it, as its first kernel would), or None."""
    lib = onednn()
    return None if lib is None else ISA_NAMES.get(lib.dnnl_get_effective_cpu_isa(), "unknown")


def slow_for_mindspore_convolution():
    """True when the instruction set in force is one above AVX2, where MindSpore's convolution takes oneDNN's
    reference kernel (asking fixes it, so ask only when convolutions are about to run)."""
    name = in_force_name()
    return bool(name) and name.startswith(("AVX512", "AVX10"))


def _set(value):
    """Set oneDNN's cap in this process; False when oneDNN has already fixed its instruction set."""
    lib = onednn()
    if lib is None:
        return True  # no oneDNN here (not x86-64 MindSpore): nothing to cap
    return lib.dnnl_set_max_cpu_isa(ISA_CODES[value or "ALL"]) == 0


def user_value(env=None):
    """What the user exported, checked: a name oneDNN knows (upper case), or None."""
    value = (os.environ if env is None else env).get(VAR, "").strip()
    if not value:
        return None
    if value.upper() not in ISA_CODES:
        raise ConfigError(f"{VAR}={value} is not an instruction set oneDNN knows, so oneDNN would ignore it and use "
                          f"the CPU's best. Valid values: {', '.join(ISA_CODES)}. Unset it to let ats_ms choose per "
                          f"run (AVX2 where MindSpore's convolution runs), or export one of those.")
    return value.upper()


def default_unless_chosen():
    """Before ats_ms builds a network in a process where no run has chosen: the AVX2 cap, unless the user exported a
    value, so MindSpore's convolution keeps its fast path in a user's own script (set once: oneDNN allows one)."""
    global _decision  # pylint: disable=global-statement
    if _decision.for_run or _library.get("default_set"):
        return
    _library["default_set"] = True
    try:
        if user_value() is not None:
            return
    except ConfigError:
        return  # said by the first command or run that decides
    _decision = Decision(CAP, "ats_ms's default for a process where no run chose (MindSpore's convolution falls to "
                              "oneDNN's reference kernel above AVX2)", applied=_set(CAP), for_run=False)


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


def choose(cfgs, user=None, onednn_unavailable=_onednn_unavailable):
    """The Decision for a process that will train (or evaluate) ``cfgs``; pure but for the availability probe."""
    if user:
        return Decision(user, f"exported by you ({VAR}={user})")
    for cfg in cfgs:
        if cfg.runtime.device_target != "CPU":
            return Decision(CAP, f"a {cfg.runtime.device_target} run (no CPU convolution)")
        if cfg.runtime.cpu_conv == "builtin":
            return Decision(CAP, "runtime.cpu_conv: builtin runs MindSpore's convolution, which falls to oneDNN's "
                                 "reference kernel above AVX2")
        mindcv = [n for n in _networks(cfg) if str(n).lower().startswith("mindcv:")]
        if mindcv:
            return Decision(CAP, f"{mindcv[0]} runs MindSpore's convolution, which falls to oneDNN's reference kernel "
                                 "above AVX2")
        if _amp_level(cfg) != "O0":
            return Decision(CAP, f"AMP {_amp_level(cfg)}: float16 convolutions run MindSpore's convolution, which falls "
                                 "to oneDNN's reference kernel above AVX2")
    problem = onednn_unavailable()
    if problem:
        return Decision(CAP, f"ats_ms's oneDNN convolution cannot be had here ({problem}), so MindSpore's "
                             "convolution will run")
    return Decision(None, "every convolution of the run goes through ats_ms's oneDNN convolution, which keeps its "
                          "fast kernels above AVX2")


def decide(cfgs):
    """Choose for ``cfgs`` and set it in this process (before MindSpore's first convolution, or it cannot take
    effect: the Decision then says so).  Returns the Decision (also ``current()``, for the setup block)."""
    global _decision  # pylint: disable=global-statement
    user = user_value()
    decision = choose(cfgs, user)
    if user is None:
        decision.applied = _set(decision.value)
    _decision = decision
    return decision
