"""CTKD (Li et al., AAAI 2023, "Curriculum Temperature for Knowledge Distillation"), its global temperature.

The temperature is learned, adversarially: a parameter theta gives T = t_min + t_range * sigmoid(theta), the
student minimises the KD loss at T, and theta maximises it, through a gradient reversal layer that passes the
gradient to theta multiplied by -lambda.  The curriculum raises lambda from lambda_min to lambda_max along a
half cosine over the first ``curriculum_epochs`` epochs (the paper's Eq. 8):

    lambda_n = lambda_min + (lambda_max - lambda_min) * (1 - cos(pi * min(n, E) / E)) / 2

so the task starts easy (T free to settle) and grows harder.  The KD term is Hinton's at the learned T:

    L = ce_weight * CE + kd_weight * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))

theta is trained by the run's optimizer with the student (the authors' code gives it the student's SGD, weight
decay included), saved in the training state and logged every step as the ``temperature`` term.
"""
import math

import numpy as np
import mindspore as ms
from mindspore import nn, ops

from ats_ms.losses.ats import log_softmax


class ReversedGradient(nn.Cell):
    """The identity forward; backward, the incoming gradient times -strength:
    y = stop_gradient(x) - strength * (x - stop_gradient(x)), whose value is x exactly.  The strength is a
    non-trainable Parameter, so the compiled graph reads its current value (the curriculum moves it)."""

    def __init__(self, strength):
        super().__init__()
        self.strength = ms.Parameter(ms.Tensor(np.float32(strength)), name="ctkd_reversal_strength",
                                     requires_grad=False)

    def construct(self, x):
        fixed = ops.stop_gradient(x)
        return fixed - self.strength * (x - fixed)


def curriculum(epoch, epochs, lambda_min=0.0, lambda_max=1.0):
    """The reversal strength at ``epoch`` (counted from 0 at the start of training)."""
    if epochs <= 0:
        return lambda_max
    n = min(max(epoch, 0), epochs)
    return lambda_min + (lambda_max - lambda_min) * (1.0 - math.cos(math.pi * n / epochs)) / 2.0


class CTKDLoss(nn.Cell):
    term_names = ("loss", "ce", "kd", "temperature")

    def __init__(self, t_min=1.0, t_range=20.0, init=1.0, lambda_min=0.0, lambda_max=1.0, curriculum_epochs=10,
                 ce_weight=0.1, kd_weight=0.9, label_smoothing=0.0):
        super().__init__()
        if not t_min > 0 or t_range < 0 or ce_weight < 0 or kd_weight < 0 or curriculum_epochs < 0:
            raise ValueError("CTKD: need t_min > 0 and t_range, ce_weight, kd_weight, curriculum_epochs >= 0")
        self.t_min, self.t_range = float(t_min), float(t_range)
        self.lambda_min, self.lambda_max, self.epochs = float(lambda_min), float(lambda_max), float(curriculum_epochs)
        self.ce_weight, self.kd_weight = float(ce_weight), float(kd_weight)
        self.theta = ms.Parameter(ms.Tensor(np.array([init], np.float32)), name="ctkd_temperature_logit")
        self.reverse = ReversedGradient(curriculum(0, curriculum_epochs, lambda_min, lambda_max))
        self.ce = nn.CrossEntropyLoss(label_smoothing=float(label_smoothing))

    def set_epoch(self, epoch):
        """``epoch`` counts from 1 (the trainer's); the curriculum counts the epochs done before it."""
        self.reverse.strength.set_data(ms.Tensor(np.float32(curriculum(epoch - 1, self.epochs, self.lambda_min,
                                                                       self.lambda_max))))

    def temperature(self):
        return self.t_min + self.t_range * ops.sigmoid(self.reverse(self.theta))[0]

    def terms(self, student_logits, teacher_logits, labels):
        ce = self.ce(student_logits.astype(ms.float32), labels.astype(ms.int32))
        t = self.temperature()
        log_p = log_softmax(ops.stop_gradient(teacher_logits.astype(ms.float32)) / t)
        log_q = log_softmax(student_logits.astype(ms.float32) / t)
        kd = ops.mean(ops.sum(ops.exp(log_p) * (log_p - log_q), -1)) * t * t
        return self.ce_weight * ce + self.kd_weight * kd, ce, kd, ops.stop_gradient(t)

    def construct(self, student_logits, teacher_logits, labels):
        return self.terms(student_logits, teacher_logits, labels)[0]
