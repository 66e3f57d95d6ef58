"""``distill.method: isats``: instance-specific ATS (PROVISIONAL, after the 2024 extension of the ATS paper): per
sample, the wrong-class temperature in [tau_min, tau_target] that maximises the variance of the wrong-class
probabilities while keeping the target the most probable class (``ats_ms/losses/isats.py``)."""
from dataclasses import dataclass

from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, register


@dataclass
class ISATSOptions:
    """``distill.isats``."""
    tau_min: float = 1.0       # lower bound of the per-sample wrong-class temperature
    candidates: int = 16       # candidate temperatures, spaced geometrically in [tau_min, tau_target]


def check(cfg):
    o, d = cfg.distill.isats, cfg.distill
    if not 0 < o.tau_min <= d.tau_target:
        raise ConfigError(f"'distill.isats.tau_min' must be in (0, distill.tau_target = {d.tau_target:g}], got "
                          f"{o.tau_min:g}: the search runs between them.")
    if o.candidates < 2:
        raise ConfigError(f"'distill.isats.candidates' must be at least 2, got {o.candidates}.")


def describe(d):
    o = d.isats
    return (f"isats: tau_target {d.tau_target:g}, tau_wrong searched in [{o.tau_min:g}, {d.tau_target:g}] "
            f"({o.candidates} candidates); loss {d.ce_weight:g} CE + {d.kd_weight:g} KD")


def build(d):
    from ats_ms.losses.isats import ISATSLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    return ISATSLoss(d.tau_target, d.isats.tau_min, d.isats.candidates, tau_student=d.tau_student,
                     ce_weight=d.ce_weight, kd_weight=d.kd_weight, form=d.form,
                     logit_standardize=d.logit_standardize, label_smoothing=d.label_smoothing)


register(Method(names=("isats",), summary="instance-specific ATS (provisional)", build=build, options=ISATSOptions,
                check=check, describe=describe, moved={"isats_tau_min": "tau_min", "isats_candidates": "candidates"},
                temperatures=("tau_target", "tau_student")))
