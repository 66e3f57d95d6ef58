"""Instance-specific ATS (ISATS), after the 2024 extension of the ATS paper.  PROVISIONAL: the paper's
exact procedure was not available to us; this is our reading of its description.

Per sample, the wrong-class temperature is chosen from ``num_candidates`` values spaced geometrically
in ``[tau_min, tau_target]`` to maximise the variance of the wrong-class probabilities (the paper's
"class discriminability"), among the candidates that keep the target the most probable class.
Unconstrained, the variance is maximised by tau2 -> 0, where a wrong class overtakes the target, hence
the bounds.  If no candidate keeps the target on top (the teacher is wrong on that sample), the largest
candidate, tau2 = tau_target, i.e. plain TS, is used.  All candidates are evaluated as one batched
tensor in the graph: no per-sample Python loop.
"""
import numpy as np
import mindspore as ms
from mindspore import ops

from ats_ms.losses.ats import ATSLoss, log_softmax


def candidate_temperatures(tau_min, tau_max, num):
    return np.geomspace(tau_min, tau_max, num).astype(np.float32)


class ISATSLoss(ATSLoss):
    def __init__(self, tau_target=4.0, tau_min=1.0, num_candidates=16, **kwargs):
        kwargs.pop("tau_wrong", None)
        super().__init__(tau_target=tau_target, tau_wrong=tau_min, **kwargs)
        if not 0 < tau_min <= tau_target:
            raise ValueError(f"ISATS: need 0 < tau_min <= tau_target, got tau_min={tau_min}, tau_target={tau_target}")
        if num_candidates < 2:
            raise ValueError(f"ISATS: num_candidates must be >= 2, got {num_candidates}")
        self.candidates = ms.Tensor(candidate_temperatures(tau_min, tau_target, num_candidates))
        self.num_candidates = int(num_candidates)

    def choose(self, teacher_logits, labels):
        """(log p for the chosen candidate, index of the chosen candidate) per sample."""
        z = teacher_logits.astype(ms.float32)
        n, c = z.shape
        onehot = ops.one_hot(labels.astype(ms.int32), c, ops.ones((), ms.float32), ops.zeros((), ms.float32))
        tau2 = self.candidates.reshape(-1, 1, 1)                                   # (K, 1, 1)
        tau = tau2 + (self.tau_target - tau2) * onehot.expand_dims(0)               # (K, N, C)
        log_p = log_softmax(z.expand_dims(0) / tau)                                 # (K, N, C)
        p = ops.exp(log_p)
        wrong = 1.0 - onehot.expand_dims(0)
        mean_wrong = ops.sum(p * wrong, -1, keepdim=True) / (c - 1)
        variance = ops.sum(wrong * (p - mean_wrong) ** 2, -1) / (c - 1)             # (K, N)
        target = ops.sum(p * onehot, -1)
        top_wrong = (p * wrong).max(axis=-1)
        valid = (target >= top_wrong).astype(ms.float32)
        # invalid candidates score below every valid one; ties broken toward larger tau2
        rank = ops.arange(self.num_candidates, dtype=ms.float32).reshape(-1, 1) * 1e-12
        score = valid * (variance + 1.0) + rank
        fallback = (ops.sum(valid, 0) == 0).astype(ms.int32)
        best = ops.argmax(score, 0).astype(ms.int32)
        best = fallback * (self.num_candidates - 1) + (1 - fallback) * best
        pick = ops.one_hot(best, self.num_candidates, ops.ones((), ms.float32), ops.zeros((), ms.float32))
        chosen = ops.sum(log_p * pick.transpose(1, 0).expand_dims(-1), 0)           # (N, C)
        return chosen, best

    def teacher_log_probs(self, teacher_logits, labels):
        return self.choose(teacher_logits, labels)[0]
