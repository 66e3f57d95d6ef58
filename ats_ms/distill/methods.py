"""Distillation methods by name (``distill.method``), and the one place the loss network is built.

A method is a function ``distill_cfg -> loss`` where the loss has ``terms(student_logits,
teacher_logits, labels)`` returning named scalars (first = the optimised total) and ``term_names``.
Adding a method: write its loss in ``ats_ms/losses/``, register a builder here with
``@register("name")``, ship a config.
"""
from ats_ms.distill.cell import LossNet
from ats_ms.distill.frozen import FrozenTeacher
from ats_ms.losses.ats import ATSLoss
from ats_ms.losses.ce import CELoss
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
def _supervised(cfg):
    return CELoss(cfg.label_smoothing)


@register("ts", "kd", "ats")
def _temperature_scaled(cfg):
    """TS (Hinton KD) and ATS share one loss: TS is ATS with tau_target == tau_wrong."""
    return ATSLoss(cfg.tau_target, cfg.tau_wrong, cfg.tau_student, cfg.ce_weight, cfg.kd_weight, cfg.form,
                   keep_target_top=cfg.keep_target_top, logit_standardize=cfg.logit_standardize,
                   label_smoothing=cfg.label_smoothing)


@register("isats")
def _instance_specific_ats(cfg):
    return ISATSLoss(cfg.tau_target, cfg.isats_tau_min, cfg.isats_candidates, tau_student=cfg.tau_student,
                     ce_weight=cfg.ce_weight, kd_weight=cfg.kd_weight, form=cfg.form,
                     logit_standardize=cfg.logit_standardize, label_smoothing=cfg.label_smoothing)


@register("dkd")
def _decoupled_kd(cfg):
    return DKDLoss(cfg.dkd_alpha, cfg.dkd_beta, cfg.dkd_temperature, cfg.ce_weight, cfg.dkd_warmup_epochs,
                   cfg.label_smoothing)


def build_loss(cfg_distill):
    return METHODS[cfg_distill.method](cfg_distill)


def build_loss_net(distill_cfgs, students, teacher=None, cached=False, fold_teacher_bn=True):
    """One training network for ``students`` (one ``distill`` config each).  The teacher is frozen
    here, once (its BatchNorms folded unless ``fold_teacher_bn`` is false); with ``cached`` the
    teacher's logits come in as a third input instead."""
    if teacher is not None and not isinstance(teacher, FrozenTeacher):
        teacher = FrozenTeacher(teacher, fold_bn=fold_teacher_bn)
    losses = [build_loss(cfg) for cfg in distill_cfgs]
    return LossNet(students, losses, teacher=teacher, cached=cached)
