"""``distill.method: ctkd``: CTKD (Li et al., AAAI 2023, "Curriculum Temperature for Knowledge Distillation"), its
global form: one learnable temperature, trained adversarially through gradient reversal, with a curriculum on
the reversal strength (``ats_ms/losses/ctkd.py``).  ``distill.ctkd`` holds the authors' CIFAR-100 settings
(T in (1, 21), the strength rising from 0 to 1 over 10 epochs); the KD weights are ``distill.ce_weight`` /
``distill.kd_weight`` (their script: 0.1 / 0.9).  The learned temperature is logged every step and, averaged
over the epoch, in metrics.jsonl (the ``temperature`` term)."""
from dataclasses import dataclass

from ats_ms.methods.registry import Method, check_ranges, register


@dataclass
class CTKDOptions:
    """``distill.ctkd``."""
    t_min: float = 1.0             # T = t_min + t_range * sigmoid(theta)
    t_range: float = 20.0          # the temperature's range above t_min
    init: float = 1.0              # theta at the start (T = 1 + 20 sigmoid(1) = 15.6)
    lambda_min: float = 0.0        # the reversal strength's start ...
    lambda_max: float = 1.0        # ... and end
    curriculum_epochs: float = 10.0  # epochs of the half cosine from lambda_min to lambda_max


def check(cfg):
    check_ranges(cfg.distill.ctkd, "ctkd", positive=("t_min",), non_negative=("t_range", "curriculum_epochs"))


def describe(d):
    o = d.ctkd
    return (f"ctkd: learnable T in ({o.t_min:g}, {o.t_min + o.t_range:g}), reversal strength {o.lambda_min:g} -> "
            f"{o.lambda_max:g} over {o.curriculum_epochs:g} epochs; loss {d.ce_weight:g} CE + {d.kd_weight:g} x T^2 "
            "x KL")


def build(d):
    from ats_ms.losses.ctkd import CTKDLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    o = d.ctkd
    return CTKDLoss(o.t_min, o.t_range, o.init, o.lambda_min, o.lambda_max, o.curriculum_epochs, d.ce_weight,
                    d.kd_weight, d.label_smoothing)


register(Method(names=("ctkd",), summary="CTKD: a temperature learned adversarially, on a curriculum",
                build=build, options=CTKDOptions, check=check, describe=describe))
