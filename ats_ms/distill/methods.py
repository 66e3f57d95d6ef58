"""Distillation methods by name (``distill.method``).

A method is a function ``(distill_cfg, student, teacher) -> loss network``; the loss network returns
named terms (see ``ats_ms.distill.cell``).  Adding a method: write its loss in ``ats_ms/losses/``,
register a builder here with ``@register("name")``, ship a config.
"""
from ats_ms.distill.cell import DistillNet, SupervisedNet
from ats_ms.distill.frozen import FrozenTeacher
from ats_ms.losses.ats import ATSLoss
from ats_ms.losses.dkd import DKDLoss
from ats_ms.losses.isats import ISATSLoss

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
    loss = ATSLoss(cfg.tau_target, cfg.tau_wrong, cfg.tau_student, cfg.ce_weight, cfg.kd_weight, cfg.form,
                   keep_target_top=cfg.keep_target_top, logit_standardize=cfg.logit_standardize)
    return DistillNet(student, teacher, loss)


@register("isats")
def _instance_specific_ats(cfg, student, teacher):
    loss = ISATSLoss(cfg.tau_target, cfg.isats_tau_min, cfg.isats_candidates, tau_student=cfg.tau_student,
                     ce_weight=cfg.ce_weight, kd_weight=cfg.kd_weight, form=cfg.form,
                     logit_standardize=cfg.logit_standardize)
    return DistillNet(student, teacher, loss)


@register("dkd")
def _decoupled_kd(cfg, student, teacher):
    loss = DKDLoss(cfg.dkd_alpha, cfg.dkd_beta, cfg.dkd_temperature, cfg.ce_weight, cfg.dkd_warmup_epochs)
    return DistillNet(student, teacher, loss)


def build_loss_net(cfg_distill, student, teacher=None, fold_teacher_bn=True):
    """The teacher is frozen here (its BatchNorms folded unless ``fold_teacher_bn`` is false), so
    method builders receive a ready ``FrozenTeacher``."""
    if teacher is not None and not isinstance(teacher, FrozenTeacher):
        teacher = FrozenTeacher(teacher, fold_bn=fold_teacher_bn)
    return METHODS[cfg_distill.method](cfg_distill, student, teacher)
