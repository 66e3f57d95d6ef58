"""May this saved state be resumed with this config?  The one place that decides it.

A state is compared with the config it was trained with (stored inside the state; ``config.yaml`` beside
it for states written before that): a change to what the state means is refused with every difference
named, a harmless change is returned as a note to log.  The teacher checkpoint is compared by content,
the number of steps per epoch (dataset size, batch size, devices) directly, and a longer
``schedule.epochs`` is accepted only when the learning rate of the steps already trained stays the same.
"""
import dataclasses
import json
import os

import numpy as np

from ats_ms.config import to_dict
from ats_ms.config.saved import migrate_saved
from ats_ms.engine import run_dir as rd
from ats_ms.engine import run_plan
from ats_ms.engine.schedule import create_scheduler
from ats_ms.common.errors import RunFolderError


def _state_config(state_path):
    """The config saved beside a training state (its own run folder's), or how to find it."""
    saved = os.path.join(os.path.dirname(os.path.abspath(state_path)), rd.CONFIG)
    return saved if os.path.isfile(saved) else f"the config.yaml of the run folder that wrote {state_path}"


def check_resume(cfg, meta, state_path, run_dir, teacher_sha256, steps, base_lr, lrs):
    """Raise ``RunFolderError`` if ``cfg`` changes what the state means; else return notes to log."""
    saved = migrate_saved(json.loads(meta["config_json"])) if meta.get("config_json") else rd.read_saved_config(
        os.path.dirname(os.path.abspath(state_path)))
    diff = run_plan.config_differences(saved, to_dict(cfg))
    blocking = list(diff.blocking)
    if teacher_sha256 and meta.get("teacher_sha256") and meta["teacher_sha256"] != teacher_sha256:
        blocking.append(f"teacher.checkpoint: the file's content differs from the teacher the state was "
                        f"trained with ('{cfg.teacher.checkpoint}')")
    saved_steps = int(meta.get("steps_per_epoch", steps))
    if saved_steps != steps:
        blocking.append(f"steps per epoch: {saved_steps} -> {steps} (the dataset size, batch size or number of "
                        "devices changed)")
    done = int(meta["steps_done"])
    notes = []
    if diff.epochs is not None and not blocking:
        old_epochs, new_epochs = diff.epochs
        old_lrs = create_scheduler(dataclasses.replace(cfg.schedule, epochs=old_epochs), base_lr, steps)
        if new_epochs * steps < done:
            blocking.append(f"schedule.epochs: {old_epochs} -> {new_epochs}, but {done} steps are already trained")
        elif not np.array_equal(old_lrs[:done], lrs[:done]):
            blocking.append(f"schedule.epochs: {old_epochs} -> {new_epochs} changes the learning rate of the steps "
                            f"already trained (policy '{cfg.schedule.policy}' depends on the total length); only a "
                            "step schedule can be lengthened")
        else:
            notes.append(f"schedule.epochs {old_epochs} -> {new_epochs}: the learning rate of the trained steps is "
                         "unchanged, continuing to the new length")
    if blocking:
        raise RunFolderError(f"Cannot resume '{state_path}' with this config: it changes what the saved state means: "
                             f"{'; '.join(blocking)}. Resume with the config the run was trained with "
                             f"({_state_config(state_path)}), or start a new run under another experiment.name.")
    if diff.harmless:
        notes.append("config changes since the state was saved (harmless): " + "; ".join(diff.harmless))
    return notes
