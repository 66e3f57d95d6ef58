"""Decoupled Knowledge Distillation (DKD; Zhao et al., CVPR 2022), the usual baseline for the
capacity-mismatch problem.

The KD term splits into a target-class part (TCKD: KL between the binary [target, rest] distributions)
and a non-target part (NCKD: KL between the distributions over the wrong classes only, each
renormalised), weighted separately:

    L = ce_weight * CE + w(epoch) * T^2 * (alpha * TCKD + beta * NCKD),   w = min(epoch / warmup, 1)

Published CIFAR-100 defaults (mdistiller): ce_weight 1, alpha 1, beta 8, T 4, warm-up 20 epochs.
``logit_standardize`` z-scores both logits per sample first (Sun et al., CVPR 2024).
``set_epoch`` (called by the trainer at every epoch start) moves the warm-up weight, which lives in a
non-trainable Parameter so the compiled graph reads it at run time.
"""
import numpy as np
import mindspore as ms
from mindspore import nn, ops

from ats_ms.losses.ats import log_softmax, standardize


def _logsumexp(x):
    top = ops.stop_gradient(x.max(axis=-1, keepdims=True))
    return (top + ops.log(ops.sum(ops.exp(x - top), -1, keepdim=True))).squeeze(-1)


def _binary_and_wrong(logits, onehot):
    """(log [p_target, 1 - p_target], log-softmax over the wrong classes only)."""
    masked = logits - 1000.0 * onehot
    lse_all, lse_wrong = _logsumexp(logits), _logsumexp(masked)
    log_target = ops.sum(logits * onehot, -1) - lse_all
    log_binary = ops.stack([log_target, lse_wrong - lse_all], -1)
    return log_binary, log_softmax(masked)


class DKDLoss(nn.Cell):
    term_names = ("loss", "ce", "kd", "tckd", "nckd")

    def __init__(self, alpha=1.0, beta=8.0, temperature=4.0, ce_weight=1.0, warmup_epochs=20, label_smoothing=0.0,
                 logit_standardize=False):
        super().__init__()
        if temperature <= 0 or warmup_epochs < 0 or alpha < 0 or beta < 0 or ce_weight < 0:
            raise ValueError("DKD: need temperature > 0 and alpha, beta, ce_weight, warmup_epochs >= 0")
        self.alpha, self.beta, self.temperature = float(alpha), float(beta), float(temperature)
        self.ce_weight, self.warmup_epochs = float(ce_weight), float(warmup_epochs)
        self.warmup = ms.Parameter(ms.Tensor(np.float32(1.0 if warmup_epochs == 0 else 0.0)), name="dkd_warmup",
                                   requires_grad=False)
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))
        self.logit_standardize = bool(logit_standardize)

    def set_epoch(self, epoch):
        """``epoch`` counts from 1, as in mdistiller."""
        value = 1.0 if self.warmup_epochs == 0 else min(epoch / self.warmup_epochs, 1.0)
        self.warmup.set_data(ms.Tensor(np.float32(value)))

    def parts(self, student_logits, teacher_logits, labels):
        s = student_logits.astype(ms.float32)
        t = ops.stop_gradient(teacher_logits.astype(ms.float32))
        if self.logit_standardize:  # logit standardization (Sun et al., CVPR 2024) before the temperature
            s, t = standardize(s), standardize(t)
        s, t = s / self.temperature, t / self.temperature
        onehot = ops.one_hot(labels.astype(ms.int32), s.shape[-1], ops.ones((), ms.float32), ops.zeros((), ms.float32))
        # binary [target, non-target] distributions, in log space so a confident teacher (p_t -> 1)
        # gives log(1 - p_t) = logsumexp(wrong) - logsumexp(all) instead of log(0)
        log_bin_s, log_qs = _binary_and_wrong(s, onehot)
        log_bin_t, log_qt = _binary_and_wrong(t, onehot)
        tckd = ops.mean(ops.sum(ops.exp(log_bin_t) * (log_bin_t - log_bin_s), -1))
        # distributions over the wrong classes only (target logit pushed to -1000 as in the reference)
        nckd = ops.mean(ops.sum(ops.exp(log_qt) * (log_qt - log_qs), -1))
        scale = self.temperature * self.temperature
        return tckd * scale, nckd * scale

    def terms(self, student_logits, teacher_logits, labels):
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        tckd, nckd = self.parts(student_logits, teacher_logits, labels)
        kd = self.alpha * tckd + self.beta * nckd
        return self.ce_weight * ce + self.warmup * kd, ce, kd, tckd, nckd

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]
