"""Finished runs and the settings they belong to.

A run folder holds ``config.yaml`` and, once finished, ``summary.json``.  Runs are seeds of one setting only
when everything that defines the experiment but ``experiment.seed`` agrees: every key a training state depends
on (``ats_ms.engine.run_plan.STATE_KEYS``), ``schedule.epochs`` and the teacher's checkpoint.  A one-epoch sweep
point beside a 40-epoch run of the same seed is therefore a setting of its own, never a "second seed".
"""
import json
import math
import os
import sys
from collections import defaultdict

from ats_ms.engine import run_dir as rd
from ats_ms.engine.run_plan import flat_config, is_state_key
from ats_ms.common.errors import AtsError
from ats_ms import methods

SETTING_EXTRA_KEYS = ("schedule.epochs", "teacher.checkpoint")
LABEL_KEYS = ("data.name", "teacher.arch", "model.arch", "distill.method", "distill.tau_target", "distill.tau_wrong",
              "distill.tau_student")


def run_folders(roots, required):
    """Folders under ``roots`` that hold ``required`` beside a config.yaml."""
    for root in roots:
        if not os.path.isdir(root):
            raise AtsError(f"'{root}' is not a folder of runs.")
        for dirpath, _, files in os.walk(root):
            if required in files and rd.CONFIG in files:
                yield dirpath


def config_of(dirpath):
    """The saved config as a dict, or None (with a warning) when it is not a readable ats_ms run config."""
    cfg = rd.read_saved_config(dirpath)
    if not cfg or not isinstance(cfg.get("distill"), dict) or not isinstance(cfg.get("model"), dict):
        print(f"warning: skipping '{os.path.join(dirpath, rd.CONFIG)}': not a readable ats_ms run config",
              file=sys.stderr)
        return None
    return cfg


def find_runs(roots):
    """Finished runs as (folder, config dict, summary dict); unreadable ones are skipped with a warning."""
    runs = []
    for dirpath in run_folders(roots, rd.SUMMARY):
        summary, problem = rd.read_summary(dirpath)
        if problem:
            print(f"warning: skipping {problem}", file=sys.stderr)
            continue
        cfg = config_of(dirpath)
        if cfg is not None:
            runs.append((dirpath, cfg, summary))
    return sorted(runs, key=lambda r: r[0])


def setting_of(cfg):
    """{key: value} of everything that defines the run's experiment except its seed."""
    flat = flat_config(cfg)
    distilled = flat["distill.method"] != "none"
    setting = {}
    for key, value in flat.items():
        if key == "experiment.seed" or not (is_state_key(key) or key in SETTING_EXTRA_KEYS):
            continue
        if not distilled and key.split(".")[0] in ("teacher", "distill") and key not in (
                "distill.method", "distill.label_smoothing"):
            continue  # a run without a teacher is not changed by its (unused) teacher and distillation keys
        setting[key] = value
    return setting


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return float("nan"), float("nan")
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float("nan")
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _group_letters(runs):
    """Shared-teacher groups -> short labels A, B, ... (by their sorted member lists)."""
    groups = sorted({tuple(s["shared_teacher_group"]) for _, _, s in runs if s.get("shared_teacher_group")})
    return {group: chr(ord("A") + i % 26) + (str(i // 26) if i >= 26 else "") for i, group in enumerate(groups)}


def _shown(value):
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def varying_keys(peers):
    """The keys whose value is not the same in all of ``peers`` (settings that share a label), sorted."""
    values = defaultdict(set)
    for peer in peers:
        for key, value in peer.items():
            values[key].add(json.dumps(value, sort_keys=True, default=str))
    return sorted(k for k, v in values.items() if len(v) > 1)


SHARED_TEMPERATURES = ("tau_target", "tau_wrong", "tau_student")


def temperatures_read(method):
    """The shared temperatures (distill.tau_*) ``method`` reads: a table shows these and "-" for the others, so
    that a DIST or DKD row does not seem to have trained at an ATS pair it never used.  A method this process
    does not know (a user's package not installed here) shows all three."""
    known = methods.METHODS.get(method)
    return SHARED_TEMPERATURES if known is None else known.temperatures


def _describe(setting, keys):
    """"key=value, ..." of ``setting`` over ``keys`` (what tells it apart from its peers)."""
    return ", ".join(f"{k}={_shown(setting.get(k))}" for k in keys)


# A heat map's cells are the settings of one dataset, teacher and student that differ only in these.
GRID_LABEL_KEYS = ("data.name", "teacher.arch", "model.arch")
GRID_AXES = ("distill.method", "distill.tau_target", "distill.tau_wrong")


def _grid_of(setting):
    return tuple(str(setting.get(k)) for k in GRID_LABEL_KEYS)


def group_runs(runs):
    """One row per setting: its label columns, seeds, best and last top-1 (mean and sample std over seeds), the
    validation top-1 when runs hold one out, ``setting``: what tells it apart from rows with the same label, and
    ``grid_setting``: what tells its temperature grid apart from other grids of the same networks."""
    settings = {}
    for _, cfg, summary in runs:
        setting = setting_of(cfg)
        entry = settings.setdefault(json.dumps(setting, sort_keys=True, default=str), (setting, []))
        entry[1].append(summary)
    letters = _group_letters(runs)
    by_label = defaultdict(list)
    for setting, _ in settings.values():
        by_label[tuple(str(setting.get(k)) for k in LABEL_KEYS)].append(setting)
    varying = {label: varying_keys(peers) for label, peers in by_label.items()}
    by_grid = defaultdict(list)  # a temperature grid: the settings of one dataset, teacher and student
    for setting, _ in settings.values():
        by_grid[_grid_of(setting)].append(setting)
    grid_varying = {label: [k for k in varying_keys(peers) if k not in GRID_AXES] for label, peers in by_grid.items()}
    rows = []
    for setting, summaries in settings.values():
        distilled = setting["distill.method"] != "none"
        read = temperatures_read(setting["distill.method"])
        differing = _describe(setting, varying[tuple(str(setting.get(k)) for k in LABEL_KEYS)])
        best, last = mean_std([s["best_top1"] for s in summaries]), mean_std([s.get("last_top1") for s in summaries])
        val = mean_std([s.get("last_val_top1") for s in summaries])
        paired = sorted({letters[tuple(s["shared_teacher_group"])] for s in summaries if s.get("shared_teacher_group")})
        rows.append({"dataset": setting["data.name"], "teacher": setting["teacher.arch"] if distilled else "-",
                     "student": setting["model.arch"], "method": method_label(setting),
                     **{k: setting[f"distill.{k}"] if k in read else None for k in SHARED_TEMPERATURES},
                     "setting": differing,
                     "grid_setting": _describe(setting, grid_varying[_grid_of(setting)]),
                     "grid_base": _describe(setting, [k for k in grid_varying[_grid_of(setting)]
                                                      if not k.startswith("distill.")]),
                     "seeds": len(summaries), "best_mean": best[0], "best_std": best[1], "last_mean": last[0],
                     "last_std": last[1], "val_mean": val[0], "val_std": val[1], "shared_teacher_groups": paired,
                     "distill_setting": {k: v for k, v in setting.items() if k.startswith("distill.")}})
    return sorted(rows, key=lambda r: tuple(str(r[k]) for k in ("dataset", "teacher", "student", "method", "tau_target",
                                                                  "tau_wrong", "tau_student", "setting")))


def method_label(setting):
    """The method a run trained with, as a reader names it: an ATS run at equal temperatures is TS (the sweeps of a
    temperature grid run every point as distill.method ats)."""
    method = setting["distill.method"]
    if method == "ats" and float(setting["distill.tau_target"]) == float(setting["distill.tau_wrong"]):
        return "ts"
    return method


def run_label(cfg):
    """A curve's legend: the networks, the method as ``method_label`` names it and the temperatures it reads."""
    d = cfg["distill"]
    arch = cfg["model"]["arch"]
    if d["method"] == "none":
        return f"{arch} (CE)"
    method = method_label({f"distill.{k}": v for k, v in d.items()})
    pair = [k for k in ("tau_target", "tau_wrong") if k in temperatures_read(d["method"])]
    taus = f"{d['tau_target']:g}" if method == "ts" else "/".join(f"{d[k]:g}" for k in pair)
    return f"{cfg['teacher']['arch']} -> {arch} {method.upper()} {taus}".strip()


def read_curves(run_folder):
    """Per epoch: test top-1 (evaluated epochs), training top-1 and the training cross-entropy on the labels,
    from metrics.jsonl.  The label CE (the ``ce`` term every method logs) is drawn rather than the total loss
    because a KD run's total adds its weighted soft-label term, which would put KD curves above CE-only ones
    for a reason that says nothing about fit; runs that logged no ``ce`` term fall back to their total."""
    curves = {"test": {}, "train_top1": {}, "train_ce": {}}
    for r in rd.read_metrics(run_folder):
        if r.get("type") not in ("eval", "train") or "epoch" not in r:
            continue
        epoch = int(r["epoch"])
        if "top1" in r:
            curves["test"][epoch] = r["top1"]
        if "train_top1" in r:
            curves["train_top1"][epoch] = r["train_top1"]
        if "train_ce" in r or "train_loss" in r:
            curves["train_ce"][epoch] = r.get("train_ce", r.get("train_loss"))
    return curves


def curve_settings(folders):
    """{setting label: [curves of each run (seed)]} for the runs that have metrics; seeds of one setting share a
    label, and settings that would share one get what tells them apart appended."""
    found = []
    for folder in folders:
        cfg = config_of(folder)
        if cfg is not None and os.path.exists(rd.path(folder, rd.METRICS)):
            found.append((run_label(cfg), setting_of(cfg), folder))
    by_label = defaultdict(list)
    for label, setting, _ in found:
        by_label[label].append(setting)
    varying = {label: varying_keys(peers) for label, peers in by_label.items()}
    settings = defaultdict(list)
    for label, setting, folder in found:
        differing = _describe(setting, varying[label])
        settings[label + (f" [{differing}]" if differing else "")].append(read_curves(folder))
    return dict(settings)
