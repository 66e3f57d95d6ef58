"""``distill.method: ls``: KD with logit standardization (Sun et al., CVPR 2024, "Logit Standardization in Knowledge
Distillation"): the teacher's and the student's logits are each z-scored per sample before a softmax at the base
temperature, so the student matches the teacher's logit relations, not their range:

    L = ce_weight * CE + kd_weight * T^2 * KL(softmax(Z(z_t) / T) || softmax(Z(z_s) / T)),   Z(z) = (z - mean) / std

(``ats_ms/losses/ats.py`` computes it: ``standardize``, the KL form).  The authors' CIFAR-100 setting is T = 2,
CE weight 0.1, KD weight 9 (their README's command lines), which the shipped configs use.  The same z-score works
on top of DKD (``distill.dkd.logit_standardize``) and of TS / ATS (``distill.logit_standardize``)."""
from dataclasses import dataclass

from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, register


@dataclass
class LSOptions:
    """``distill.ls``."""
    temperature: float = 2.0   # the base temperature T, applied to the z-scored logits


def check(cfg):
    if not cfg.distill.ls.temperature > 0:
        raise ConfigError(f"'distill.ls.temperature' must be > 0, got {cfg.distill.ls.temperature:g}.")


def describe(d):
    return (f"ls: KD on z-scored logits, base temperature {d.ls.temperature:g}; loss {d.ce_weight:g} CE + "
            f"{d.kd_weight:g} x T^2 x KL")


def build(d):
    from ats_ms.losses.ats import ATSLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    t = d.ls.temperature
    return ATSLoss(t, t, t, d.ce_weight, d.kd_weight, form="kl", logit_standardize=True,
                   label_smoothing=d.label_smoothing)


register(Method(names=("ls",), summary="KD on z-scored (standardised) logits at a base temperature",
                build=build, options=LSOptions, check=check, describe=describe))
