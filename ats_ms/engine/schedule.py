"""Per-step learning rates (``create_scheduler``).

The optimizer indexes this array by its ``global_step``, so a resumed run that restores
``global_step`` continues at exactly the same point of the schedule.  Warm-up is linear from
``lr / warmup_steps`` (or from ``warmup_start_lr``, as in the model-zoo demo) to ``lr``; the policies
then follow epochs:

- ``step``: lr * gamma^k after each milestone epoch (the ATS paper: 150, 180, 210, gamma 0.1);
- ``cosine``: half-cosine from lr to min_lr over the post-warm-up steps;
- ``poly``: (lr - min_lr) * (1 - t)^power + min_lr (the MindSpore model-zoo demo: power 2).
"""
import numpy as np

from ats_ms.common.errors import ConfigError

MAX_STEPS = 20_000_000  # the table is one float32 per step, held by the optimizer


def create_scheduler(cfg_schedule, base_lr, steps_per_epoch):
    """Return a float32 array with one learning rate per training step."""
    s = cfg_schedule
    total = s.epochs * steps_per_epoch
    if total > MAX_STEPS:
        raise ConfigError(f"schedule.epochs={s.epochs} x {steps_per_epoch} steps per epoch = {total:,} steps, more than "
                          f"the {MAX_STEPS:,} this run's learning-rate table may hold. Lower schedule.epochs.")
    warmup = int(round(s.warmup_epochs * steps_per_epoch))
    step = np.arange(total, dtype=np.float64)
    if s.policy == "step":
        epoch = np.arange(total) // steps_per_epoch
        passed = np.zeros(total)
        for milestone in s.milestones:
            passed += epoch >= milestone
        lrs = base_lr * s.gamma ** passed
    else:
        t = (step - warmup) / max(1, total - warmup)
        if s.policy == "cosine":
            lrs = s.min_lr + (base_lr - s.min_lr) * 0.5 * (1 + np.cos(np.pi * t))
        else:
            lrs = s.min_lr + (base_lr - s.min_lr) * np.clip(1 - t, 0, None) ** s.power
    if warmup:
        head = step[:warmup]
        if s.warmup_start_lr is None:
            lrs[:warmup] = base_lr * (head + 1) / warmup
        else:
            lrs[:warmup] = s.warmup_start_lr + (base_lr - s.warmup_start_lr) * head / warmup
    return lrs.astype(np.float32)
