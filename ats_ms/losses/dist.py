"""DIST (Huang et al., NeurIPS 2022, "Knowledge Distillation from A Stronger Teacher"), section 3.

A stronger teacher's probabilities are hard to match exactly, so DIST matches their relations instead: with
Y_s = softmax(Z_s / tau) and Y_t = softmax(Z_t / tau) over a batch (B x C),

    inter-class:  L_inter = tau^2 * (1 - mean_i  rho(Y_s[i, :], Y_t[i, :]))    (each image's class ranking)
    intra-class:  L_intra = tau^2 * (1 - mean_j  rho(Y_s[:, j], Y_t[:, j]))    (each class over the batch)
    L = ce_weight * CE + beta * L_inter + gamma * L_intra

where rho is Pearson's correlation, computed as the cosine of the mean-centred vectors with a 1e-8 guard in
the denominator (the authors' implementation).  The intra-class term runs over the batch a step sees (per
device under data parallelism).
"""
import mindspore as ms
from mindspore import nn, ops


def pearson_rows(a, b, eps=1e-8):
    """Pearson's correlation of each row of ``a`` with the same row of ``b``."""
    a = a - a.mean(axis=-1, keep_dims=True)
    b = b - b.mean(axis=-1, keep_dims=True)
    norm = ops.sqrt(ops.sum(a * a, -1)) * ops.sqrt(ops.sum(b * b, -1))
    return ops.sum(a * b, -1) / (norm + eps)


class DISTLoss(nn.Cell):
    term_names = ("loss", "ce", "kd", "inter", "intra")

    def __init__(self, beta=1.0, gamma=1.0, temperature=1.0, ce_weight=1.0, label_smoothing=0.0):
        super().__init__()
        if temperature <= 0 or beta < 0 or gamma < 0 or ce_weight < 0:
            raise ValueError("DIST: need temperature > 0 and beta, gamma, ce_weight >= 0")
        self.beta, self.gamma, self.temperature, self.ce_weight = float(beta), float(gamma), float(temperature), \
            float(ce_weight)
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))

    def terms(self, student_logits, teacher_logits, labels):
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        y_s = ops.softmax(student_logits.astype(ms.float32) / self.temperature, -1)
        y_t = ops.stop_gradient(ops.softmax(teacher_logits.astype(ms.float32) / self.temperature, -1))
        scale = self.temperature * self.temperature
        inter = scale * (1.0 - ops.mean(pearson_rows(y_s, y_t)))
        intra = scale * (1.0 - ops.mean(pearson_rows(y_s.T, y_t.T)))
        kd = self.beta * inter + self.gamma * intra
        return self.ce_weight * ce + kd, ce, kd, inter, intra

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]
