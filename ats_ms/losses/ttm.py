"""Transformed teacher matching (Zheng and Yang, ICLR 2024, "Knowledge Distillation Based on Transformed Teacher
Matching"): TTM and its weighted form WTTM.

Temperature on the teacher side only.  The teacher's distribution p_t = softmax(z_t) is power-transformed with
exponent gamma (= 1 / T) and renormalised, which equals softmax(gamma z_t); the student is matched at
temperature 1, with no T^2 factor:

    TTM:   L = ce_weight * CE + beta * KL(p_t^gamma / U || q)
    WTTM:  L = ce_weight * CE + beta * mean_i [ U_i * KL(p_t^gamma / U || q)_i ],   U = sum_c p_t,c^gamma

The paper reads TTM as KD plus a Renyi-entropy regulariser on the student, and WTTM weights each sample by the
power sum U of the teacher's probabilities, larger for a less confident teacher.  U is computed in log space
(logsumexp of gamma log p_t), so a teacher with probabilities of 1e-40 stays finite.
"""
import mindspore as ms
from mindspore import nn, ops

from ats_ms.losses.ats import log_softmax


def _logsumexp(x):
    top = ops.stop_gradient(x.max(axis=-1, keepdims=True))
    return (top + ops.log(ops.sum(ops.exp(x - top), -1, keepdim=True))).squeeze(-1)


class TTMLoss(nn.Cell):
    term_names = ("loss", "ce", "kd", "power_sum")

    def __init__(self, gamma=0.1, ce_weight=1.0, kd_weight=45.0, weighted=False, label_smoothing=0.0):
        super().__init__()
        if not gamma > 0 or ce_weight < 0 or kd_weight < 0:
            raise ValueError("TTM: need gamma > 0 and ce_weight, kd_weight >= 0")
        self.gamma, self.ce_weight, self.kd_weight, self.weighted = float(gamma), float(ce_weight), \
            float(kd_weight), bool(weighted)
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))

    def terms(self, student_logits, teacher_logits, labels):
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        scaled = self.gamma * log_softmax(ops.stop_gradient(teacher_logits.astype(ms.float32)))  # gamma log p_t
        log_u = _logsumexp(scaled)                                     # log of the power sum U
        log_p = scaled - log_u.expand_dims(-1)                        # log of the transformed teacher
        log_q = log_softmax(student_logits.astype(ms.float32))
        kl = ops.sum(ops.exp(log_p) * (log_p - log_q), -1)
        u = ops.exp(log_u)
        kd = ops.mean(u * kl) if self.weighted else ops.mean(kl)
        return self.ce_weight * ce + self.kd_weight * kd, ce, kd, ops.mean(u)

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]
