"""``distill.method: ts | kd | ats``: temperature-scaled distillation, the teacher's soft label softmax(z / tau)
with tau = tau_target on the label's class and tau_wrong elsewhere (``ats_ms/losses/ats.py`` holds the loss).

- ``ats``: Asymmetric Temperature Scaling (Li et al., NeurIPS 2022), tau_target > tau_wrong in the paper;
- ``ts`` / ``kd``: Hinton KD (symmetric temperature), so tau_target must equal tau_wrong.

The loss is ``ce_weight CE + kd_weight tau_student^2 D(p_teacher, p_student)``, D the authors' soft cross-entropy
or KL (``distill.form``); ``distill.keep_target_top`` and ``distill.logit_standardize`` are opt-in variants.
"""
from ats_ms.common.errors import ConfigError
from ats_ms.methods.registry import Method, register


def check(cfg):
    d = cfg.distill
    if d.method in ("ts", "kd") and d.tau_target != d.tau_wrong:
        raise ConfigError(f"distill.method '{d.method}' is symmetric temperature scaling, but tau_target "
                          f"({d.tau_target}) != tau_wrong ({d.tau_wrong}). Set both to the same value, "
                          "or use distill.method=ats for asymmetric temperatures.")


def describe(d):
    form = "KL" if d.form == "kl" else "soft CE"
    text = (f"{d.method}: tau_target {d.tau_target:g}, tau_wrong {d.tau_wrong:g}, tau_student {d.tau_student:g}; "
            f"loss {d.ce_weight:g} CE + {d.kd_weight:g} x tau_s^2 x {form}")
    extras = [k for k in ("keep_target_top", "logit_standardize") if getattr(d, k)]
    return text + (f" ({', '.join(extras)})" if extras else "")


def build(d):
    from ats_ms.losses.ats import ATSLoss  # pylint: disable=import-outside-toplevel  (MindSpore loads here)
    return ATSLoss(d.tau_target, d.tau_wrong, d.tau_student, d.ce_weight, d.kd_weight, d.form,
                   keep_target_top=d.keep_target_top, logit_standardize=d.logit_standardize,
                   label_smoothing=d.label_smoothing)


register(Method(names=("ts", "kd", "ats"), summary="temperature scaling: symmetric (ts, kd) or asymmetric (ats)",
                build=build, check=check, describe=describe,
                temperatures=("tau_target", "tau_wrong", "tau_student")))
