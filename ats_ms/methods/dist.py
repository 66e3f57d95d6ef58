"""``distill.method: dist``: DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger Teacher"),
relations instead of probabilities: Pearson correlations between the student's and the teacher's predictions,
per image over the classes (inter-class) and per class over the batch (intra-class) (``ats_ms/losses/dist.py``).
The defaults of ``distill.dist`` are the authors' implementation's (beta = gamma = tau = 1); the shipped CIFAR-100
configs use tau 4 and beta = gamma = 2, with CE weight 1 (``distill.ce_weight``)."""
from dataclasses import dataclass

from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, check_ranges, register


@dataclass
class DISTOptions:
    """``distill.dist``."""
    beta: float = 1.0          # weight of the inter-class relation
    gamma: float = 1.0         # weight of the intra-class relation
    temperature: float = 1.0   # tau of both softmaxes (the terms are multiplied by tau^2)


def check(cfg):
    check_ranges(cfg.distill.dist, "dist", positive=("temperature",), non_negative=("beta", "gamma"))
    if cfg.data.batch_size < 2:
        raise ConfigError("DIST's intra-class relation correlates each class over the batch: data.batch_size must be "
                          "at least 2.")


def describe(d):
    o = d.dist
    return (f"dist: beta {o.beta:g} (inter-class), gamma {o.gamma:g} (intra-class), tau {o.temperature:g}; "
            f"CE weight {d.ce_weight:g}")


def build(d):
    from ats_ms.losses.dist import DISTLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    o = d.dist
    return DISTLoss(o.beta, o.gamma, o.temperature, d.ce_weight, d.label_smoothing)


register(Method(names=("dist",), summary="DIST: inter- and intra-class Pearson relations of the predictions",
                build=build, options=DISTOptions, check=check, describe=describe))
