"""The keys of a config that name files or folders, and how a run's saved config keeps them.

A path a user writes in a config or an override is read from the folder the command runs in.  A run writes its
config (``<run>/config.yaml``, and the copy inside every training state) with each of these paths made absolute,
so that ``--config <run>/config.yaml`` names the same data, teacher, run folder and outputs from any folder: the
resume command a run prints, ``eval``, ``export``, ``analyze`` and sweeps over a saved config.  A saved config of
an earlier release that holds relative paths is read as before, from the folder the command runs in.
"""
import copy
import os

PATH_KEYS = (("experiment", "output_dir"), ("data", "root"), ("model", "checkpoint"), ("teacher", "checkpoint"),
             ("logging", "also_log_to"), ("checkpoint", "copy_last_to"), ("checkpoint", "resume"))
NOT_PATHS = ("none", "auto")  # checkpoint.resume's words


def _absolute(value):
    if not isinstance(value, str) or not value or value in NOT_PATHS or "://" in value:
        return value
    return os.path.abspath(os.path.expanduser(value))


def with_absolute_paths(cfg_dict):
    """A copy of a config dict (``to_dict``) whose path keys are absolute, resolved from the current folder."""
    out = copy.deepcopy(cfg_dict)
    for section, key in PATH_KEYS:
        if isinstance(out.get(section), dict) and key in out[section]:
            out[section][key] = _absolute(out[section][key])
    return out
