"""Asymmetric Temperature Scaling (ATS) distillation loss, Li et al., NeurIPS 2022.

The teacher's soft label uses a per-class temperature: ``tau_target`` on the ground-truth class and
``tau_wrong`` on every other class,

    p_c = softmax(z / tau)_c,   tau = tau_wrong + (tau_target - tau_wrong) * onehot(y).

``tau_target > tau_wrong`` keeps a large, over-confident teacher's wrong-class probabilities spread
apart (discriminable) while its target probability stays moderate.  ``tau_target == tau_wrong`` is
ordinary temperature scaling (Hinton KD).  The student is matched at ``tau_student``:

    L = ce_weight * CE(s, y) + kd_weight * tau_student^2 * D(p, softmax(s / tau_student))

where D is the soft cross-entropy ``-sum p log q`` (``form="soft_ce"``, the authors' code; its value
includes the teacher's entropy) or ``KL(p || q)`` (``form="kl"``; same gradient).  The authors' defaults
are ce_weight = kd_weight = 0.5 and tau_student = 1; the benchmark KD (RepDistiller) is
ce_weight 0.1, kd_weight 0.9, tau_target = tau_wrong = tau_student = 4, form "kl".

Everything is computed in float32 with max-subtracted log-softmax: no clamps, no epsilons.

Two opt-in switches (both off by default, so the default reproduces the formula above):
``keep_target_top`` falls back to TS (``tau_target`` on every class) for the samples where ATS would
put a wrong class above the target; ``logit_standardize`` z-scores teacher and student logits before
the temperatures (Sun et al., CVPR 2024: "Logit Standardization in Knowledge Distillation").
"""
import mindspore as ms
from mindspore import nn, ops

FORMS = ("soft_ce", "kl")


def log_softmax(logits):
    """Max-subtracted log-softmax over the last axis.

    Written out rather than ``ops.log_softmax`` because MindSpore's CPU kernel carries about 3e-6
    absolute error, which the tau^2 factor of the KD term amplifies past 1e-5.
    """
    shifted = logits - ops.stop_gradient(logits.max(axis=-1, keepdims=True))
    return shifted - ops.log(ops.sum(ops.exp(shifted), -1, keepdim=True))


def standardize(logits):
    """Per-sample z-score of the logits, as in logit standardisation (sample std, 1e-7 guard)."""
    mean = logits.mean(axis=-1, keep_dims=True)
    std = ops.std(logits, axis=-1, ddof=1, keepdims=True)
    return (logits - mean) / (std + 1e-7)


def target_is_top(log_probs, labels):
    """True for samples whose target class has the (joint) highest probability."""
    num_classes = log_probs.shape[-1]
    onehot = ops.one_hot(labels.astype(ms.int32), num_classes, ops.ones((), ms.float32), ops.zeros((), ms.float32))
    target = ops.sum(log_probs * onehot, -1)
    wrong_max = (log_probs - 1e9 * onehot).max(axis=-1)
    return target >= wrong_max


def ats_temperatures(labels, num_classes, tau_target, tau_wrong):
    """Per-sample, per-class temperature matrix built from a one-hot mask (no index assignment,
    so it compiles in graph mode)."""
    onehot = ops.one_hot(labels.astype(ms.int32), num_classes,
                         ops.ones((), ms.float32), ops.zeros((), ms.float32))
    return tau_wrong + (tau_target - tau_wrong) * onehot


def ats_log_soft_targets(teacher_logits, labels, tau_target, tau_wrong):
    """log p of the ATS soft label (float32)."""
    z = teacher_logits.astype(ms.float32)
    tau = ats_temperatures(labels, z.shape[-1], tau_target, tau_wrong)
    return log_softmax(z / tau)


def ats_soft_targets(teacher_logits, labels, tau_target, tau_wrong):
    """The teacher's ATS soft label p (float32, rows sum to 1)."""
    return ops.exp(ats_log_soft_targets(teacher_logits, labels, tau_target, tau_wrong))


class ATSLoss(nn.Cell):
    """Weighted CE + temperature-scaled distillation term against an ATS soft label.

    ``construct`` returns the total loss; ``terms`` returns ``(total, ce, kd)`` where ``kd`` is the
    unweighted distillation term (already multiplied by ``tau_student**2``) so logs are comparable
    across weightings.
    """

    def __init__(self, tau_target=4.0, tau_wrong=2.0, tau_student=1.0, ce_weight=0.5, kd_weight=0.5,
                 form="soft_ce", keep_target_top=False, logit_standardize=False, label_smoothing=0.0):
        super().__init__()
        for name, value in (("tau_target", tau_target), ("tau_wrong", tau_wrong), ("tau_student", tau_student)):
            if not value > 0:
                raise ValueError(f"ATSLoss: {name} must be > 0, got {value}")
        for name, value in (("ce_weight", ce_weight), ("kd_weight", kd_weight)):
            if value < 0:
                raise ValueError(f"ATSLoss: {name} must be >= 0, got {value}")
        if form not in FORMS:
            raise ValueError(f"ATSLoss: form must be one of {FORMS}, got '{form}'")
        self.tau_target = float(tau_target)
        self.tau_wrong = float(tau_wrong)
        self.tau_student = float(tau_student)
        self.ce_weight = float(ce_weight)
        self.kd_weight = float(kd_weight)
        self.form = form
        self.keep_target_top = bool(keep_target_top)
        self.logit_standardize = bool(logit_standardize)
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))  # the CE term's smoothing, 0 = none

    def teacher_log_probs(self, teacher_logits, labels):
        """log p of the soft label from (already float32, possibly standardised) teacher logits.
        Methods that build the soft label differently (ISATS) override this one method."""
        log_p = ats_log_soft_targets(teacher_logits, labels, self.tau_target, self.tau_wrong)
        if self.keep_target_top:
            log_ts = log_softmax(teacher_logits / self.tau_target)
            keep = target_is_top(log_p, labels).astype(ms.float32).expand_dims(-1)
            log_p = keep * log_p + (1.0 - keep) * log_ts
        return log_p

    def kd_term(self, student_logits, teacher_logits, labels):
        student_logits = student_logits.astype(ms.float32)
        teacher_logits = teacher_logits.astype(ms.float32)
        if self.logit_standardize:
            student_logits, teacher_logits = standardize(student_logits), standardize(teacher_logits)
        log_p = ops.stop_gradient(self.teacher_log_probs(teacher_logits, labels))
        log_q = log_softmax(student_logits / self.tau_student)
        p = ops.exp(log_p)
        if self.form == "kl":
            per_sample = ops.sum(p * (log_p - log_q), -1)
        else:
            per_sample = -ops.sum(p * log_q, -1)
        return ops.mean(per_sample) * (self.tau_student * self.tau_student)

    def terms(self, student_logits, teacher_logits, labels):
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        kd = self.kd_term(student_logits, teacher_logits, labels)
        return self.ce_weight * ce + self.kd_weight * kd, ce, kd

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]


def KDLoss(temperature=4.0, ce_weight=0.1, kd_weight=0.9, form="kl"):  # pylint: disable=invalid-name
    """Hinton KD as in the standard CIFAR benchmark: symmetric temperature on teacher and student."""
    return ATSLoss(temperature, temperature, temperature, ce_weight, kd_weight, form)
