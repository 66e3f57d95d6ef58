"""A run's saved ``config.yaml``: how to tell it from a config a user wrote, and how a file saved by an earlier
release is read in today's shape (keys that have moved since are carried to their new place, with one note)."""
import os

from ats_ms import methods


RUN_FILES = ("env.json", "summary.json", "train_state.ckpt", "metrics.jsonl")  # what a run folder holds besides


def is_saved_run_config(path):
    """True for the ``config.yaml`` an ats_ms run wrote into its folder (read in today's shape, not refused)."""
    folder = os.path.dirname(os.path.abspath(path))
    return os.path.basename(path) == "config.yaml" and any(os.path.exists(os.path.join(folder, f)) for f in RUN_FILES)


def migrate_saved(raw):
    """A saved config.yaml of an earlier release in today's shape: keys that have moved (``distill.dkd_alpha`` ->
    ``distill.dkd.alpha``) are carried to their new place.  Only ats_ms's own saved files are migrated; a user's
    config with an old key gets an error naming the new place."""
    if not isinstance(raw, dict) or not isinstance(raw.get("distill"), dict):
        return raw
    distill = dict(raw["distill"])
    for old, new in methods.moved_keys().items():
        if old in distill:
            _, section, key = new.split(".")
            value = distill.pop(old)
            distill[section] = dict(distill.get(section) or {})
            distill[section].setdefault(key, value)
    return dict(raw, distill=distill)


def read_in_todays_shape(path, raw):
    """``migrate_saved`` for the saved config at ``path``, saying once which keys it carried."""
    migrated = migrate_saved(raw)
    moves = methods.moved_keys()
    distill = raw.get("distill") if isinstance(raw, dict) else None
    moved = sorted(k for k in distill if k in moves) if isinstance(distill, dict) else []
    if moved:
        print(f"note: {path} was saved by an earlier release of ats_ms; its keys are read in today's shape "
              f"({', '.join(f'distill.{k} -> {moves[k]}' for k in moved)})")
    return migrated
