"""A distillation method from a package of its own: logit regression (Ba and Caruana, NeurIPS 2014, "Do Deep Nets
Really Need to be Deep?"): the student regresses the teacher's logits,

    L = ce_weight * CE + kd_weight * mean over samples and classes of (z_s - z_t)^2.

It registers itself with ats_ms when ats_ms loads the entry point this package declares (pyproject.toml).
"""
from dataclasses import dataclass

from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, register


@dataclass
class LogitMSEOptions:
    """``distill.logit_mse``."""
    scale: float = 1.0   # multiplies both logits before the squared error


def check(cfg):
    if not cfg.distill.logit_mse.scale > 0:
        raise ConfigError(f"'distill.logit_mse.scale' must be > 0, got {cfg.distill.logit_mse.scale:g}.")


def build(d):
    import mindspore as ms
    from mindspore import nn, ops

    class LogitMSELoss(nn.Cell):
        term_names = ("loss", "ce", "kd")

        def __init__(self, scale, ce_weight, kd_weight):
            super().__init__()
            self.scale, self.ce_weight, self.kd_weight = scale, ce_weight, kd_weight
            self.ce = nn.CrossEntropyLoss()

        def terms(self, student_logits, teacher_logits, labels):
            ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
            diff = self.scale * (student_logits.astype(ms.float32) - ops.stop_gradient(teacher_logits))
            kd = ops.mean(diff * diff)
            return self.ce_weight * ce + self.kd_weight * kd, ce, kd

        def construct(self, student_logits, teacher_logits, labels):
            return self.terms(student_logits, teacher_logits, labels)[0]

    return LogitMSELoss(d.logit_mse.scale, d.ce_weight, d.kd_weight)


register(Method(names=("logit_mse",), summary="logit regression: squared error between the logits", build=build,
                options=LogitMSEOptions, check=check,
                describe=lambda d: f"logit_mse: scale {d.logit_mse.scale:g}; loss {d.ce_weight:g} CE + "
                                   f"{d.kd_weight:g} x MSE"))
