"""ats_ms.engine.run_plan: what a run folder holds for a config (new, resume, complete, refused) and which config
changes a saved state tolerates, as pure rules on files written here (no training; milliseconds each).  The same
rules end to end, through real training runs, are in test_resume.py and test_faults.py."""
import json
import os

import pytest
import yaml

from ats_ms.config import load_config, to_dict
from ats_ms.engine import run_dir as rd
from ats_ms.engine.run_plan import config_differences, describe_status, finished_summary, plan_run
from ats_ms.common.errors import RunFolderError

BASE = ["data.name=digits", "model.arch=resnet8", "schedule.epochs=4", "schedule.milestones=[2]"]


def _cfg(*extra, resume="auto"):
    return load_config(None, BASE + [f"checkpoint.resume={resume}", *extra])


def _folder(tmp_path, cfg=None, summary=None, state=False, files=()):
    run = tmp_path / "run"
    run.mkdir()
    if cfg is not None:
        (run / rd.CONFIG).write_text(yaml.safe_dump(to_dict(cfg)))
    if summary is not None:
        (run / rd.SUMMARY).write_text(json.dumps(summary))
    if state:
        (run / rd.STATE).write_bytes(b"a saved state")
    for name in files:
        (run / name).write_text("a user's file")
    return str(run)


def test_config_differences_sort_keys_into_blocking_harmless_and_epochs():
    saved = to_dict(_cfg())
    diff = config_differences(saved, to_dict(_cfg("optim.lr=0.1", "logging.log_interval=7", "schedule.epochs=6",
                                                  "data.root=/elsewhere", "distill.dkd.alpha=2")))
    assert diff.blocking == ["distill.dkd.alpha: 1.0 -> 2.0", "optim.lr: 0.05 -> 0.1"]
    assert diff.epochs == (4, 6)
    # paths compare as the absolute paths a saved config holds (a relative one is read from the current folder)
    assert sorted(diff.harmless) == [f"data.root: '{os.path.abspath('data')}' -> '/elsewhere'",
                                     "logging.log_interval: 50 -> 7"]
    assert config_differences(saved, to_dict(_cfg("experiment.name=other"))).blocking == []  # identity, not state
    assert config_differences(saved, to_dict(_cfg(f"data.root={os.path.abspath('data')}"))).harmless == []


def test_an_empty_or_missing_folder_is_a_new_run(tmp_path):
    assert plan_run(str(tmp_path / "absent"), _cfg()).kind == "new"
    assert plan_run(_folder(tmp_path), _cfg(resume="none")).kind == "new"


def test_a_folder_of_someone_elses_files_is_never_written(tmp_path):
    run = _folder(tmp_path, files=["thesis.tex"])
    for resume in ("none", "auto"):
        with pytest.raises(RunFolderError, match="holds files that are not an ats_ms run"):
            plan_run(run, _cfg(resume=resume))


def test_a_finished_run_is_complete_for_its_own_config_and_refused_for_another(tmp_path):
    run = _folder(tmp_path, _cfg(), summary={"best_top1": 90.0, "last_top1": 89.0, "epochs": 4}, state=True)
    assert plan_run(run, _cfg()).kind == "complete"
    assert finished_summary(run, _cfg())["epochs"] == 4 and describe_status(run, _cfg()) == "finished"
    with pytest.raises(RunFolderError, match="trained with another config: optim.lr: 0.05 -> 0.1"):
        plan_run(run, _cfg("optim.lr=0.1"))
    with pytest.raises(RunFolderError, match="already holds a finished run"):
        plan_run(run, _cfg(resume="none"))
    longer = plan_run(run, _cfg("schedule.epochs=6"))  # a step schedule may be lengthened
    assert longer.kind == "resume" and "continuing to 6" in longer.notes[0]
    with pytest.raises(RunFolderError, match="would mean training backwards"):
        plan_run(run, _cfg("schedule.epochs=2"))


def test_a_finished_run_without_its_state_cannot_be_continued(tmp_path):
    run = _folder(tmp_path, _cfg(), summary={"best_top1": 90.0, "last_top1": 89.0, "epochs": 4})
    with pytest.raises(RunFolderError, match="training state .* is missing"):
        plan_run(run, _cfg("schedule.epochs=6"))


def test_a_saved_state_resumes_and_an_attempt_that_saved_none_starts_over(tmp_path):
    assert plan_run(_folder(tmp_path, _cfg(), state=True), _cfg()).kind == "resume"
    (tmp_path / "run" / rd.STATE).unlink()
    again = plan_run(str(tmp_path / "run"), _cfg("optim.lr=0.2"))
    assert again.kind == "new" and again.restart and "optim.lr: 0.05 -> 0.2" in again.notes[0]


def test_a_state_forks_only_into_an_empty_folder(tmp_path):
    origin = _folder(tmp_path, _cfg(), state=True)
    state = f"{origin}/{rd.STATE}"
    fork = plan_run(str(tmp_path / "fork"), _cfg(resume=state))
    assert fork.kind == "resume" and fork.forked_from == state
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    with pytest.raises(RunFolderError, match="resumed only into its own run folder, or into a new, empty one"):
        plan_run(str(tmp_path / "busy"), _cfg(resume=state))
