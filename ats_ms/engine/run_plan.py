"""Whether a run folder holds a new, resumable or finished run for a config, and which config changes a
saved training state tolerates.  Nothing here writes: every case that would mix two runs is refused with a
``RunFolderError`` before any work starts."""
import json
import os
from dataclasses import dataclass, field
from typing import List, Optional

from ats_ms.config import to_dict
from ats_ms.config.paths import with_absolute_paths
from ats_ms.config.schema import Config
from ats_ms.engine.run_dir import STATE, holds_run, path, read_saved_config, read_summary, run_files
from ats_ms.engine.run_lock import check_not_busy
from ats_ms.common.errors import RunFolderError

# Keys a saved training state depends on: resuming with one of them changed would continue another
# experiment under the old name, so it is refused and every difference is named.  ``teacher.checkpoint``
# is compared by content (its SHA-256), ``schedule.epochs`` by ``plan_run`` (a finished run) and
# ``resume_check.check_resume`` (a state: the steps already trained keep their learning rates); every other
# key (logging, evaluation interval, device, paths of data, workers, ...) may change and is logged.
STATE_KEYS = (
    "experiment.seed",
    "data.name", "data.image_size", "data.mean", "data.std", "data.augment", "data.hflip", "data.crop_padding",
    "data.batch_size", "data.train_samples", "data.test_samples",
    "data.subset_per_class", "data.val_per_class", "data.speech_task", "data.speech_split",
    "model.arch", "model.pretrained", "model.num_classes", "model.checkpoint", "model.padding", "model.conv_bias",
    "teacher.arch", "teacher.padding", "teacher.conv_bias", "teacher.mean", "teacher.std",
    "distill.*", "optim.*", "schedule.*",
)
NOT_STATE_KEYS = ("distill.cache_teacher_logits", "schedule.epochs")
IDENTITY_KEYS = ("experiment.name", "experiment.output_dir", "checkpoint.resume", "teacher.checkpoint")


# -- comparing configs ------------------------------------------------------------------------------------

def flat_config(cfg_dict):
    """``{"section.key": value}`` (``"section.sub.key"`` inside a sub-section such as ``distill.dkd``) for every key
    of the schema: the given config's value, else the default."""
    flat = {}

    def walk(defaults, given, prefix):
        given = given if isinstance(given, dict) else {}
        for key, default in defaults.items():
            if isinstance(default, dict):
                walk(default, given.get(key), f"{prefix}{key}.")
            else:
                flat[f"{prefix}{key}"] = given.get(key, default)

    walk(to_dict(Config()), cfg_dict or {}, "")
    return flat


def is_state_key(key):
    """Does a saved training state depend on this key (STATE_KEYS)?"""
    if key in NOT_STATE_KEYS:
        return False
    section = key.split(".")[0]
    return key in STATE_KEYS or f"{section}.*" in STATE_KEYS


def _same(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@dataclass
class Differences:
    blocking: List[str] = field(default_factory=list)   # "key: old -> new"
    harmless: List[str] = field(default_factory=list)
    epochs: Optional[tuple] = None                       # (saved, requested) when they differ

    def describe_blocking(self):
        return "; ".join(self.blocking)


def config_differences(saved, requested):
    """Compare two resolved configs (dicts), their paths as absolute ones (a saved config holds them so; an older
    one's relative paths are read from the current folder).  ``teacher.checkpoint`` is left to the caller (by
    content)."""
    old, new = flat_config(with_absolute_paths(saved or {})), flat_config(with_absolute_paths(requested or {}))
    diff = Differences()
    for key in new:
        if _same(old[key], new[key]) or key in IDENTITY_KEYS:
            continue
        text = f"{key}: {old[key]!r} -> {new[key]!r}"
        if key == "schedule.epochs":
            diff.epochs = (old[key], new[key])
        elif is_state_key(key):
            diff.blocking.append(text)
        else:
            diff.harmless.append(text)
    return diff


def state_config_json(cfg):
    """The resolved config stored inside every training state, so a state file is self-describing."""
    return json.dumps(with_absolute_paths(to_dict(cfg)), sort_keys=True)


# -- what to do with a folder -------------------------------------------------------------------------------

@dataclass
class RunPlan:
    kind: str                            # "new" | "resume" | "complete"
    run_dir: str
    state_path: Optional[str] = None
    forked_from: Optional[str] = None
    summary: Optional[dict] = None
    restart: bool = False                # a folder whose first attempt died before saving any state
    notes: List[str] = field(default_factory=list)


def _describe_existing(run_dir):
    summary, _ = read_summary(run_dir)
    if summary:
        return (f"a finished run (best top-1 {summary['best_top1']:.2f}, last "
                f"{summary.get('last_top1') if summary.get('last_top1') is None else round(summary['last_top1'], 2)}, "
                f"{summary['epochs']} epochs)")
    return "a run" + (" with a saved training state" if os.path.exists(path(run_dir, STATE)) else "")


def plan_run(run_dir, cfg, check_lock=True, peer=False):
    """Decide, without writing anything, whether ``cfg`` starts, resumes or finds complete the run in
    ``run_dir``.  Raises ``RunFolderError`` for every case that would mix two runs.

    ``peer``: a data-parallel rank other than 0.  Rank 0 alone checks and writes the folder; a peer only
    needs to know whether to resume, and must not mistake rank 0's fresh files for another run."""
    if peer:
        return _peer_plan(run_dir, cfg)
    if check_lock:
        check_not_busy(run_dir)
    mode = cfg.checkpoint.resume
    requested = to_dict(cfg)
    files = run_files(run_dir)
    if mode == "none":
        if holds_run(run_dir):
            raise RunFolderError(f"Run folder '{run_dir}' already holds {_describe_existing(run_dir)}. Continue it with "
                                 "--resume (checkpoint.resume=auto), or choose another experiment.name / "
                                 "experiment.output_dir. Nothing was changed.")
        if files:
            raise RunFolderError(f"'{run_dir}' exists and holds files that are not an ats_ms run ({', '.join(files[:3])}"
                                 f"{', ...' if len(files) > 3 else ''}). Choose another experiment.name or "
                                 "experiment.output_dir; ats_ms does not write into other folders.")
        return RunPlan("new", run_dir)
    own_state = path(run_dir, STATE)
    if mode != "auto" and os.path.realpath(os.path.dirname(os.path.abspath(mode))) != os.path.realpath(run_dir):
        if files:
            raise RunFolderError(f"checkpoint.resume points at '{mode}', a state of another run folder, but the target "
                                 f"'{run_dir}' is not empty. A state is resumed only into its own run folder, or "
                                 "into a new, empty one (a fork). Set experiment.name to a new name to fork it, or "
                                 "use --resume to continue the run in its own folder.")
        return RunPlan("resume", run_dir, state_path=mode, forked_from=os.path.abspath(mode))
    state_path = own_state if mode == "auto" else mode
    summary, problem = read_summary(run_dir)
    saved = read_saved_config(run_dir)
    notes = [f"ignoring {problem}; the run is treated as unfinished"] if problem else []
    if summary is not None and saved is not None:
        diff = config_differences(saved, requested)
        if diff.blocking:
            raise RunFolderError(f"Run folder '{run_dir}' holds a finished run trained with another config: "
                                 f"{diff.describe_blocking()}. Its results are kept as they are; use another "
                                 "experiment.name for the new setting.")
        if diff.epochs is None or diff.epochs[1] == summary["epochs"]:
            return RunPlan("complete", run_dir, summary=summary, notes=notes)
        if diff.epochs[1] < summary["epochs"]:
            raise RunFolderError(f"Run folder '{run_dir}' holds a run finished at {summary['epochs']} epochs; "
                                 f"schedule.epochs={diff.epochs[1]} would mean training backwards. Its results are "
                                 "kept; use another experiment.name.")
        notes.append(f"the run finished {summary['epochs']} epochs; continuing to {diff.epochs[1]} as the config asks")
    if os.path.exists(state_path):
        return RunPlan("resume", run_dir, state_path=state_path, notes=notes)
    if summary is not None:
        raise RunFolderError(f"Run folder '{run_dir}' holds a finished run but its training state "
                             f"'{state_path}' is missing, so it cannot be continued. Its results are kept; use "
                             "another experiment.name.")
    if files and saved is None:
        raise RunFolderError(f"'{run_dir}' exists and holds files that are not an ats_ms run ({', '.join(files[:3])}). "
                             "Choose another experiment.name or experiment.output_dir.")
    if saved is not None:
        diff = config_differences(saved, requested)
        notes.append("the folder's earlier attempt ended before its first saved state; starting it over"
                     + (f" (config changes: {diff.describe_blocking()})" if diff.blocking else ""))
        return RunPlan("new", run_dir, restart=True, notes=notes)
    return RunPlan("new", run_dir, notes=notes)


def _peer_plan(run_dir, cfg):
    mode = cfg.checkpoint.resume
    if mode == "none":
        return RunPlan("new", run_dir)
    summary = finished_summary(run_dir, cfg)
    if summary is not None:
        return RunPlan("complete", run_dir, summary=summary)
    state_path = path(run_dir, STATE) if mode == "auto" else mode
    if os.path.exists(state_path):
        forked = None if os.path.realpath(os.path.dirname(os.path.abspath(state_path))) == os.path.realpath(run_dir) \
            else os.path.abspath(state_path)
        return RunPlan("resume", run_dir, state_path=state_path, forked_from=forked)
    return RunPlan("new", run_dir)


def finished_summary(run_dir, cfg):
    """The summary of ``run_dir`` if it holds a run finished with exactly this experiment, else None
    (used by sweep and chain to skip work)."""
    summary, _ = read_summary(run_dir)
    saved = read_saved_config(run_dir)
    if summary is None or saved is None:
        return None
    diff = config_differences(saved, to_dict(cfg))
    if diff.blocking or (diff.epochs is not None and diff.epochs[1] != summary["epochs"]):
        return None
    return summary


def describe_status(run_dir, cfg, peer=False):
    """One word for listings (sweep --dry-run): finished, resume, new, busy, conflict.  A data-parallel peer
    (rank > 0) ignores the lock, which rank 0 holds while it writes."""
    try:
        if not peer:
            check_not_busy(run_dir)
    except RunFolderError:
        return "busy"
    if finished_summary(run_dir, cfg) is not None:
        return "finished"
    if os.path.exists(path(run_dir, STATE)):
        return "resume"
    return "conflict" if holds_run(run_dir) and read_summary(run_dir)[0] else "new"

