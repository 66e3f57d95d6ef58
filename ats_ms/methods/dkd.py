"""``distill.method: dkd``: Decoupled Knowledge Distillation (Zhao et al., CVPR 2022), the usual baseline for the
capacity-mismatch problem: ``ce_weight CE + w(epoch) T^2 (alpha TCKD + beta NCKD)``, w rising linearly over the
warm-up epochs (``ats_ms/losses/dkd.py``).  mdistiller's CIFAR-100 values are the defaults of ``distill.dkd``;
its CE weight 1.0 is set by the shipped configs (``distill.ce_weight``, whose own default is 0.5)."""
from dataclasses import dataclass

from ats_ms.methods.registry import Method, check_ranges, register


@dataclass
class DKDOptions:
    """``distill.dkd``."""
    alpha: float = 1.0            # weight of the target-class term (TCKD)
    beta: float = 8.0             # weight of the non-target term (NCKD)
    temperature: float = 4.0      # T of both softmaxes (the terms are multiplied by T^2)
    warmup_epochs: float = 20.0   # the KD weight rises linearly over these epochs
    logit_standardize: bool = False  # z-score both logits first (Sun et al., CVPR 2024; their DKD setting: T 2)


def check(cfg):
    check_ranges(cfg.distill.dkd, "dkd", positive=("temperature",), non_negative=("alpha", "beta", "warmup_epochs"))


def describe(d):
    o = d.dkd
    return (f"dkd: alpha {o.alpha:g}, beta {o.beta:g}, T {o.temperature:g}, warm-up {o.warmup_epochs:g} epochs; "
            f"CE weight {d.ce_weight:g}" + ("; logits z-scored first" if o.logit_standardize else ""))


def build(d):
    from ats_ms.losses.dkd import DKDLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    o = d.dkd
    return DKDLoss(o.alpha, o.beta, o.temperature, d.ce_weight, o.warmup_epochs, d.label_smoothing,
                   logit_standardize=o.logit_standardize)


register(Method(names=("dkd",), summary="decoupled KD: target and non-target terms weighted apart", build=build,
                options=DKDOptions, check=check, describe=describe,
                moved={"dkd_alpha": "alpha", "dkd_beta": "beta", "dkd_temperature": "temperature",
                       "dkd_warmup_epochs": "warmup_epochs"}))
