"""Best TS against best ATS per teacher, chosen on the validation split, compared pair by pair; and every other
method the same way (``select_others``): its best setting over its own keys, against the best TS.

For each teacher (and everything else that defines the runs except the temperatures and the seed), the
temperature-scaled students fall into TS (tau_target == tau_wrong) and ATS (tau_target != tau_wrong).  The best
of each is the setting with the highest last validation top-1 (``data.val_per_class``) averaged over its seeds:
the test set plays no part in the choice.  The mean is over the seeds every candidate has, so a study may train
the whole grid with one seed, choose, and train only the chosen settings with more seeds.  The two chosen settings are then compared on the test set seed by
seed; a seed's two runs trained in one shared-teacher group saw the same initial weights and batches, so their
difference is paired.  Runs without a validation split are chosen by nothing and reported as such.
"""
import json
import math
from collections import defaultdict

from ats_ms.results.runs import mean_std, method_label, setting_of, varying_keys
from ats_ms.results.tables import pm

TEMPERATURE_METHODS = ("ts", "kd", "ats")

TEMPERATURE_KEYS = ("distill.tau_target", "distill.tau_wrong")


def _family_key(setting):
    rest = {k: v for k, v in setting.items() if k not in TEMPERATURE_KEYS and k != "distill.method"}
    return json.dumps(rest, sort_keys=True, default=str)


def _candidates(runs):
    """{family: {(tau_target, tau_wrong): {seed: summary}}} for the TS/KD/ATS runs, and {family: setting}."""
    families, example = defaultdict(lambda: defaultdict(dict)), {}
    for _, cfg, summary in runs:
        setting = setting_of(cfg)
        if setting["distill.method"] not in TEMPERATURE_METHODS:
            continue
        family = _family_key(setting)
        example[family] = setting
        taus = (float(setting["distill.tau_target"]), float(setting["distill.tau_wrong"]))
        families[family][taus][int(cfg["experiment"]["seed"])] = summary
    return families, example


def _best(cells, want_ts):
    """The (taus, seeds) with the highest mean last validation top-1 among TS or ATS cells, or None.  The mean is
    over the seeds every candidate has, so a setting trained again with more seeds (to confirm a choice) is not
    chosen or passed over for the extra seeds."""
    candidates = {taus: seeds for taus, seeds in cells.items() if (taus[0] == taus[1]) == want_ts}
    common = set.intersection(*[set(seeds) for seeds in candidates.values()]) if candidates else set()
    best, best_val = None, -math.inf
    for taus, seeds in sorted(candidates.items()):
        val = mean_std([s.get("last_val_top1") for seed, s in seeds.items() if not common or seed in common])[0]
        if not math.isnan(val) and val > best_val:
            best, best_val = (taus, seeds), val
    return best


def select(runs):
    """One row per teacher family: the chosen TS and ATS, their validation and test top-1, and the paired
    per-seed test differences (ATS - TS)."""
    families, example = _candidates(runs)
    rows = []
    for family, cells in families.items():
        setting = example[family]
        ts, ats = _best(cells, True), _best(cells, False)
        row = {"teacher": setting["teacher.arch"], "student": setting["model.arch"], "cells": len(cells),
               "epochs": setting["schedule.epochs"], "ts": None, "ats": None, "paired": [],
               "base_family": _base_family(setting), "ts_summaries": ts[1] if ts else {}}
        for name, chosen in (("ts", ts), ("ats", ats)):
            if chosen is None:
                continue
            taus, seeds = chosen
            row[name] = {"tau_target": taus[0], "tau_wrong": taus[1], "seeds": sorted(seeds),
                         "val": mean_std([s.get("last_val_top1") for s in seeds.values()]),
                         "test": mean_std([s.get("last_top1") for s in seeds.values()])}
        if ts and ats:
            common = sorted(set(ts[1]) & set(ats[1]))
            row["paired"] = [(seed, ats[1][seed]["last_top1"] - ts[1][seed]["last_top1"]) for seed in common]
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["student"]), str(r["teacher"]), r["epochs"]))


def _base_family(setting):
    """What a method is compared within: everything but the distill section (networks, data, schedule, teacher)."""
    return json.dumps({k: v for k, v in setting.items() if not k.startswith("distill.")}, sort_keys=True, default=str)


def select_others(runs, ts_rows=None):
    """One row per teacher family and method that is neither TS nor ATS (DIST, CTKD, DKD, ...): its best setting
    over the distill keys its runs vary (mean last validation top-1 over the seeds every candidate has), and its
    paired per-seed test difference from the best TS of the same family (``ts_rows``: ``select``'s rows)."""
    methods, example = defaultdict(lambda: defaultdict(dict)), {}
    for _, cfg, summary in runs:
        setting = setting_of(cfg)
        method = method_label(setting)
        if method in ("none",) + TEMPERATURE_METHODS:
            continue
        distill = {k: v for k, v in setting.items() if k.startswith("distill.")}
        key = (_base_family(setting), method)
        example[key] = setting
        methods[key][json.dumps(distill, sort_keys=True, default=str)][int(cfg["experiment"]["seed"])] = summary
    ts_choice = {r["base_family"]: r for r in (ts_rows or []) if r.get("ts")}
    rows = []
    for (family, method), cells in methods.items():
        setting = example[(family, method)]
        common = set.intersection(*[set(seeds) for seeds in cells.values()])
        best, best_val = None, -math.inf
        for key, seeds in sorted(cells.items()):
            val = mean_std([s.get("last_val_top1") for seed, s in seeds.items() if seed in common])[0]
            if not math.isnan(val) and val > best_val:
                best, best_val = key, val
        keys = varying_keys([json.loads(k) for k in cells])
        row = {"teacher": setting["teacher.arch"], "student": setting["model.arch"], "method": method,
               "epochs": setting["schedule.epochs"], "cells": len(cells), "varying": keys, "choice": None,
               "paired": []}
        if best is not None:
            chosen, seeds = json.loads(best), cells[best]
            row["choice"] = {"setting": {k: chosen[k] for k in keys}, "seeds": sorted(seeds),
                             "val": mean_std([s.get("last_val_top1") for s in seeds.values()]),
                             "test": mean_std([s.get("last_top1") for s in seeds.values()])}
            ts_row = ts_choice.get(family)
            if ts_row is not None:
                ts_seeds = ts_row["ts_summaries"]
                row["paired"] = [(seed, seeds[seed]["last_top1"] - ts_seeds[seed]["last_top1"])
                                 for seed in sorted(set(seeds) & set(ts_seeds))]
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["student"]), str(r["teacher"]), r["epochs"], r["method"]))


def _taus(choice):
    return "-" if choice is None else f"{choice['tau_target']:g}/{choice['tau_wrong']:g}"


def _scores(choice):
    if choice is None:
        return "-", "-"
    return pm(*choice["val"]), pm(*choice["test"])


def markdown(rows):
    if not rows:
        return ("--select chose nothing: no run under these folders distils with temperature scaling (distill.method "
                "ts, kd or ats), the runs it chooses among.")
    head = ("| teacher | student | epochs | grid cells | best TS | TS validation % | TS test % | best ATS | "
            "ATS validation % | ATS test % | ATS - TS, test, per seed | mean |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        ts_val, ts_test = _scores(r["ts"])
        ats_val, ats_test = _scores(r["ats"])
        per_seed = ", ".join(f"{d:+.2f} (seed {s})" for s, d in r["paired"]) or "-"
        mean = f"{sum(d for _, d in r['paired']) / len(r['paired']):+.2f}" if r["paired"] else "-"
        lines.append(f"| {r['teacher']} | {r['student']} | {r['epochs']} | {r['cells']} | {_taus(r['ts'])} | {ts_val} | "
                     f"{ts_test} | {_taus(r['ats'])} | {ats_val} | {ats_test} | {per_seed} | {mean} |")
    lines.append("")
    for r in rows:
        if r["ts"] is None and r["ats"] is None:
            lines.append(f"Nothing was chosen for {r['teacher']} -> {r['student']}: none of its runs holds a validation "
                         "split (data.val_per_class), and the test set is never used to choose. Train the grid with "
                         "data.val_per_class set.")
        elif r["ts"] is None or r["ats"] is None:
            missing = "TS (tau_target = tau_wrong)" if r["ts"] is None else "ATS (tau_target != tau_wrong)"
            lines.append(f"No {missing} setting of {r['teacher']} -> {r['student']} was chosen: the grid holds no such "
                         "run with a validation split.")
    lines.append("Best = highest last validation top-1 (mean over seeds) among the TS settings (tau_target = tau_wrong) "
                 "or the ATS settings (tau_target != tau_wrong); test top-1 is the last epoch's, mean ± sample standard "
                 "deviation over seeds; a seed's ATS and TS runs shared initial weights and batches (paired).")
    return "\n".join(lines)


def markdown_others(rows):
    """The other methods' table, or "" when there is none."""
    if not rows:
        return ""
    lines = ["| teacher | student | epochs | method | settings tried | chosen | validation % | test % | "
             "minus best TS, test, per seed | mean |", "|" + "---|" * 10]
    for r in rows:
        c = r["choice"]
        chosen = "-" if c is None else (", ".join(f"{k.split('.', 1)[1]}={v}" for k, v in c["setting"].items())
                                         or "its one setting")
        val, test = ("-", "-") if c is None else (pm(*c["val"]), pm(*c["test"]))
        per_seed = ", ".join(f"{d:+.2f} (seed {s})" for s, d in r["paired"]) or "-"
        mean = f"{sum(d for _, d in r['paired']) / len(r['paired']):+.2f}" if r["paired"] else "-"
        lines.append(f"| {r['teacher']} | {r['student']} | {r['epochs']} | {r['method']} | {r['cells']} | {chosen} | "
                     f"{val} | {test} | {per_seed} | {mean} |")
    lines.append("")
    lines.append("Other methods, each chosen on the validation split over the settings its runs tried (the distill "
                 "keys that vary); the difference is paired with the best TS of the same teacher, seed by seed.")
    for r in rows:
        if r["choice"] is None:
            lines.append(f"Nothing was chosen for {r['method']} ({r['teacher']} -> {r['student']}): none of its runs "
                         "holds a validation split.")
    return "\n".join(lines)
