"""Per-step learning rates (``create_scheduler``).

The optimizer indexes this array by its ``global_step``, so a resumed run that restores
``global_step`` continues at exactly the same point of the schedule.  Warm-up is linear from
``lr / warmup_steps`` (or from ``warmup_start_lr``, as in the model-zoo demo) to ``lr``; the policies
then follow epochs:

- ``step``: lr * gamma^k after each milestone epoch (the ATS paper: 150, 180, 210, gamma 0.1);
- ``cosine``: half-cosine from lr to min_lr over the post-warm-up steps;
- ``poly``: (lr - min_lr) * (1 - t)^power + min_lr (the MindSpore model-zoo demo: power 2).
"""
import math

import numpy as np


def create_scheduler(cfg_schedule, base_lr, steps_per_epoch):
    """Return a float32 array with one learning rate per training step."""
    s = cfg_schedule
    total = s.epochs * steps_per_epoch
    warmup = int(round(s.warmup_epochs * steps_per_epoch))
    lrs = np.empty(total, np.float64)
    for step in range(total):
        if step < warmup:
            if s.warmup_start_lr is None:
                lrs[step] = base_lr * (step + 1) / warmup
            else:
                lrs[step] = s.warmup_start_lr + (base_lr - s.warmup_start_lr) * step / warmup
            continue
        if s.policy == "step":
            epoch = step // steps_per_epoch
            lrs[step] = base_lr * s.gamma ** sum(epoch >= m for m in s.milestones)
        else:
            t = (step - warmup) / max(1, total - warmup)
            if s.policy == "cosine":
                lrs[step] = s.min_lr + (base_lr - s.min_lr) * 0.5 * (1 + math.cos(math.pi * t))
            else:
                lrs[step] = s.min_lr + (base_lr - s.min_lr) * (1 - t) ** s.power
    return lrs.astype(np.float32)
