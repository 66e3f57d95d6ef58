"""ats_ms.engine.resume_check: which config changes a saved training state tolerates, as pure rules on a state's
metadata (no training; milliseconds).  End to end, with real states: test_resume.py and test_faults.py."""
import json

import pytest

from ats_ms.config import load_config, to_dict
from ats_ms.engine.resume_check import check_resume
from ats_ms.engine.schedule import create_scheduler
from ats_ms.common.errors import RunFolderError

STEPS = 10


def _cfg(*extra):
    return load_config(None, ["data.name=digits", "schedule.epochs=4", "schedule.milestones=[2]",
                              "schedule.warmup_epochs=0", *extra])


def _check(saved, requested, state_path="/runs/r/train_state.ckpt", done=20, **meta):
    meta = dict({"config_json": json.dumps(to_dict(saved)), "steps_done": done, "steps_per_epoch": STEPS}, **meta)
    lrs = create_scheduler(requested.schedule, requested.optim.lr, STEPS)
    return check_resume(requested, meta, state_path, "/runs/r", meta.get("sha_now"), STEPS, requested.optim.lr, lrs)


def test_harmless_changes_are_noted_and_state_changes_refused_with_the_states_own_config():
    notes = _check(_cfg(), _cfg("logging.log_interval=3"))
    assert notes == ["config changes since the state was saved (harmless): logging.log_interval: 50 -> 3"]
    with pytest.raises(RunFolderError, match=r"optim.lr: 0.05 -> 0.1\. Resume with the config the run was trained "
                                             r"with \(the config.yaml of the run folder that wrote "):
        _check(_cfg(), _cfg("optim.lr=0.1"))


def test_a_step_schedule_may_be_lengthened_but_not_below_the_steps_trained():
    assert "continuing to the new length" in _check(_cfg(), _cfg("schedule.epochs=6"))[0]
    with pytest.raises(RunFolderError, match="but 30 steps are already trained"):
        _check(_cfg(), _cfg("schedule.epochs=2"), done=30)


def test_a_schedule_shaped_by_its_length_may_not_be_lengthened():
    with pytest.raises(RunFolderError, match="policy 'cosine' depends on the total length"):
        _check(_cfg("schedule.policy=cosine"), _cfg("schedule.policy=cosine", "schedule.epochs=6"))


def test_another_teacher_file_or_another_epoch_length_is_refused():
    with pytest.raises(RunFolderError, match="the file's content differs from the teacher"):
        _check(_cfg(), _cfg(), teacher_sha256="aaa", sha_now="bbb")
    with pytest.raises(RunFolderError, match=r"steps per epoch: 12 -> 10"):
        _check(_cfg(), _cfg(), steps_per_epoch=12)
