"""Distillation methods by name (``distill.method``).

A method is a function ``(distill_cfg, student, teacher) -> loss network``; the loss network returns
named terms (see ``ats_ms.distill.cell``).  Adding a method: write its loss in ``ats_ms/losses/``,
register a builder here with ``@register("name")``, ship a config.
"""
from ats_ms.distill.cell import DistillNet, SupervisedNet
from ats_ms.losses.ats import ATSLoss

METHODS = {}


def register(*names):
    def wrap(fn):
        for name in names:
            METHODS[name] = fn
        return fn
    return wrap


@register("none")
def _supervised(cfg, student, teacher):
    del cfg, teacher
    return SupervisedNet(student)


@register("ts", "kd", "ats")
def _temperature_scaled(cfg, student, teacher):
    """TS (Hinton KD) and ATS share one loss: TS is ATS with tau_target == tau_wrong."""
    loss = ATSLoss(cfg.tau_target, cfg.tau_wrong, cfg.tau_student, cfg.ce_weight, cfg.kd_weight, cfg.form)
    return DistillNet(student, teacher, loss)


def build_loss_net(cfg_distill, student, teacher=None):
    return METHODS[cfg_distill.method](cfg_distill, student, teacher)
