"""``distill.method: ttm | wttm``: transformed teacher matching (Zheng and Yang, ICLR 2024, "Knowledge Distillation
Based on Transformed Teacher Matching"): a temperature on the teacher only (its probabilities raised to gamma =
1/T and renormalised), the student matched at temperature 1 without a T^2 factor; WTTM weights each sample by
the power sum of the teacher's probabilities (``ats_ms/losses/ttm.py``).  ATS's closest relative: it too changes
only the teacher's side.  ``distill.ttm.gamma`` defaults to the authors' example (0.1); their weights are
``distill.ce_weight`` 1 and ``distill.kd_weight`` (beta) 45, which the shipped configs set."""
from dataclasses import dataclass

from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, register


@dataclass
class TTMOptions:
    """``distill.ttm`` (both ttm and wttm)."""
    gamma: float = 0.1   # exponent of the power transform of the teacher's probabilities (1 / T)


def check(cfg):
    if not cfg.distill.ttm.gamma > 0:
        raise ConfigError(f"'distill.ttm.gamma' must be > 0 (the exponent, 1 / T), got {cfg.distill.ttm.gamma:g}.")


def describe(d):
    weighted = d.method == "wttm"
    return (f"{d.method}: teacher transformed with gamma {d.ttm.gamma:g} (T = {1 / d.ttm.gamma:g}), student at T 1"
            + (", each sample weighted by the power sum" if weighted else "")
            + f"; loss {d.ce_weight:g} CE + {d.kd_weight:g} x KL")


def build(d):
    from ats_ms.losses.ttm import TTMLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    return TTMLoss(d.ttm.gamma, d.ce_weight, d.kd_weight, weighted=d.method == "wttm",
                   label_smoothing=d.label_smoothing)


register(Method(names=("ttm", "wttm"), section="ttm", summary="transformed teacher matching (WTTM: weighted)",
                build=build, options=TTMOptions, check=check, describe=describe))
