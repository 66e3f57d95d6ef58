"""Running a sweep (``python -m ats_ms.sweep``, whose help says what a user sees): every point validated before the
first trains, each in its own run folder; finished points skipped, saved ones resumed, points another process
holds left to it and waited for; with ``shared_teacher``, points that differ only in ``distill`` trained in
groups of students sharing one teacher forward per batch."""
import json
import os

from ats_ms.config import load_config, refuse_one_state_for_many, to_dict
from ats_ms.common.errors import AtsError, ConfigError, FolderBusy, Interrupted
from ats_ms.experiments.grid import check_overrides, check_seeds, points
from ats_ms.process.startup import prepare_process

MAX_DEFAULT_GROUP = 8


def sweep_folder(base):
    """``<output_dir>/<name>``, or beside it as ``<name>_sweep`` when that folder holds a run of its own (the
    config of a finished run names the run's folder): a sweep never writes its points into another run."""
    from ats_ms.engine.run_dir import holds_run  # pylint: disable=import-outside-toplevel
    folder = os.path.join(base.experiment.output_dir, base.experiment.name)
    if holds_run(folder):
        print(f"note: {folder} holds a run of its own; this sweep's points go to {folder}_sweep beside it")
        return folder + "_sweep"
    return folder


def plan_points(config, grid, seeds, extra=()):
    """[(name, cfg)] for every point, all validated up front (a bad later point stops the sweep before the
    first one trains).  The points are checked, not the base config alone: a grid may be the only place that
    names the teacher."""
    check_overrides(grid, extra)
    check_seeds(list(seeds))
    named = list(points(grid, seeds))
    first_name, first_overrides = named[0]
    several_methods = any("distill.method" in keys for keys, _ in grid)  # each point uses its own method's section
    try:
        base = load_config(config, list(extra) + first_overrides, warn_unused_sections=not several_methods)
    except ConfigError as exc:
        raise ConfigError(f"sweep point '{first_name}': {exc} No point was trained.") from None
    refuse_one_state_for_many(base, "sweep", "point")
    sweep_dir = sweep_folder(base)
    planned = []
    for name, overrides in named:
        point_overrides = list(extra) + overrides + [f"experiment.output_dir={sweep_dir}", f"experiment.name={name}",
                                                     "checkpoint.resume=auto"]
        try:
            planned.append((name, load_config(config, point_overrides, warn_unused_sections=not several_methods)))
        except ConfigError as exc:
            raise ConfigError(f"sweep point '{name}': {exc} No point was trained.") from None
    return sweep_dir, planned


def _is_peer(cfg):
    """A data-parallel rank other than 0: every rank walks the same points in the same order (their
    all-reduces pair up), but only rank 0 checks locks and writes."""
    return cfg.runtime.distributed and os.environ.get("RANK_ID", "0") not in ("", "0")


def _point_state(cfg):
    from ats_ms.engine import run_plan  # pylint: disable=import-outside-toplevel
    return run_plan.describe_status(os.path.join(cfg.experiment.output_dir, cfg.experiment.name), cfg, peer=_is_peer(cfg))


def _steps_done(cfg):
    from ats_ms.engine import run_dir as rd  # pylint: disable=import-outside-toplevel
    from ats_ms.engine.checkpoint import read_meta  # pylint: disable=import-outside-toplevel
    state = rd.path(os.path.join(cfg.experiment.output_dir, cfg.experiment.name), rd.STATE)
    try:
        return int(read_meta(state)[0]["steps_done"]) if os.path.exists(state) else 0
    except AtsError:
        return -1  # unreadable: train it alone, where its own error is reported


def default_group_size(cfg, count):
    """The largest K (<= 8) whose students should fit in half the free memory; on GPU/Ascend, where the
    device's memory is not visible from here, 8.  Returns (K, reason)."""
    if cfg.runtime.device_target != "CPU":
        return min(count, MAX_DEFAULT_GROUP), (f"{cfg.runtime.device_target} memory is not measured here; "
                                               f"default {MAX_DEFAULT_GROUP}, set --group-size to change it")
    from ats_ms.engine.memory import available_bytes, student_bytes  # pylint: disable=import-outside-toplevel
    free = available_bytes()
    need = student_bytes(cfg)
    k = max(1, min(count, MAX_DEFAULT_GROUP, int(0.5 * free // need)))
    return k, (f"about {need / 2 ** 20:.0f} MB per {cfg.model.arch} student at batch {cfg.data.batch_size}, "
               f"{free / 2 ** 30:.1f} GB available")


def _split_reason(cfgs):
    """Which keys (outside 'distill') differ between the configs, for the log."""
    flat = [{f"{s}.{k}": v for s, keys in to_dict(c).items() if s != "distill" for k, v in keys.items()} for c in cfgs]
    skip = ("experiment.name", "checkpoint.resume")
    return sorted(k for k in flat[0] if k not in skip and len({json.dumps(f[k]) for f in flat}) > 1)


def make_groups(todo, group_size):
    """Split (name, cfg) points into shared-teacher groups: equal non-distill configs, equal saved step."""
    from ats_ms.engine.trainer import group_key  # pylint: disable=import-outside-toplevel
    buckets = {}
    for name, cfg in todo:
        buckets.setdefault((group_key(cfg), _steps_done(cfg)), []).append((name, cfg))
    groups = []
    for members in buckets.values():
        for i in range(0, len(members), group_size):
            groups.append(members[i:i + group_size])
    return groups, buckets


def run_sweep(config, grid, seeds, extra=(), dry_run=False, train_fn=None, shared_teacher=False, group_size=None,
              poll_seconds=2.0):
    """Train every point not finished yet.  A point another process is training is left to it; once this
    process has nothing else to do it waits for those points and counts them finished by that process (or,
    if that process stopped before finishing one, trains it here), so two sweeps over one grid share the work
    and both end with every point finished."""
    sweep_dir, plan = plan_points(config, grid, seeds, extra)
    if plan:
        prepare_process([cfg for _, cfg in plan])  # before MindSpore's first operation
    results = {"done": [], "skipped": [], "failed": [], "elsewhere": [], "busy": []}  # busy: (name, cfg) left to others
    todo = []
    for index, (name, cfg) in enumerate(plan, start=1):
        state = _point_state(cfg)
        holder = _holder(cfg) if state == "busy" else None
        print(f"[{index}/{len(plan)}] {name}: {f'being trained by {holder}' if holder else state}", flush=True)
        if state == "finished":
            results["skipped"].append(name)
        elif state == "busy":
            results["busy"].append((name, cfg))
        else:
            todo.append((name, cfg))
    if dry_run:
        results["busy"] = [name for name, _ in results["busy"]]
        return sweep_dir, results
    while todo or results["busy"]:
        if todo and shared_teacher:
            _run_groups(todo, group_size, results, train_fn)
        else:
            for name, cfg in todo:
                _run_one([(name, cfg)], results, train_fn)
        todo = _wait_for_others(results, poll_seconds)
    print(f"sweep {sweep_dir}: {len(results['done'])} trained here, {len(results['skipped'])} already finished, "
          f"{len(results['elsewhere'])} finished by another process, {len(results['failed'])} failed"
          + ("; every point is finished" if not results["failed"] else ""))
    return sweep_dir, results


def _holder(cfg):
    from ats_ms.engine import run_lock  # pylint: disable=import-outside-toplevel
    return run_lock.holder(os.path.join(cfg.experiment.output_dir, cfg.experiment.name))


def _wait_for_others(results, poll_seconds):
    """Wait until no other process holds a point this sweep left to it; those it finished are counted, the
    rest (a holder that stopped early) are returned to be trained here."""
    import time  # pylint: disable=import-outside-toplevel
    waiting, retry = list(results["busy"]), []
    results["busy"] = []
    announced = set()
    while waiting:
        still = []
        for name, cfg in waiting:
            holder = None if _is_peer(cfg) else _holder(cfg)
            if holder:
                if name not in announced:
                    print(f"waiting for {holder}, which is training {name}", flush=True)
                    announced.add(name)
                still.append((name, cfg))
            elif _point_state(cfg) == "finished":
                print(f"  point {name} was finished by another process", flush=True)
                results["elsewhere"].append(name)
            else:
                retry.append((name, cfg))
        waiting = still
        if waiting:
            time.sleep(poll_seconds)
    return retry


def _run_groups(todo, group_size, results, train_fn):
    reason = "--group-size"
    if group_size is None:
        group_size, reason = default_group_size(todo[0][1], len(todo))
    groups, buckets = make_groups(todo, group_size)
    print(f"shared teacher: {len(todo)} points in {len(groups)} group(s) of up to {group_size} students ({reason})")
    if len(buckets) > 1:
        differing = _split_reason([members[0][1] for members in buckets.values()])
        print(f"  the points fall into {len(buckets)} sets that cannot share a run"
              + (f" (they differ in {', '.join(differing)})" if differing else " (saved at different steps)"))
    for i, group in enumerate(groups, start=1):
        print(f"group {i}/{len(groups)}: {', '.join(name for name, _ in group)}", flush=True)
        _run_one(group, results, train_fn)


def _run_one(group, results, train_fn):
    from ats_ms.engine.trainer import train_group  # pylint: disable=import-outside-toplevel
    group = _not_taken(group, results)
    if not group:
        return
    names = [name for name, _ in group]
    try:
        if train_fn is not None:
            summaries = [train_fn(cfg) for _, cfg in group]
        else:
            summaries = train_group([cfg for _, cfg in group], label_of=lambda c: c.experiment.name)
    except Interrupted as exc:
        raise Interrupted(exc.signum, f"Sweep stopped during {', '.join(names)}; finished points and the interrupted "
                                      "points' states are kept. Run the same sweep command again to continue.") from None
    except FolderBusy as exc:  # another sweep took a point between the check above and the lock
        print(f"  point(s) {', '.join(names)} taken by {exc.holder} meanwhile; left to it", flush=True)
        results["busy"].extend(group)
        return
    except AtsError as exc:
        print(f"  point(s) {', '.join(names)} failed: {exc}", flush=True)
        results["failed"].extend(names)
        return
    for name, summary in zip(names, summaries):
        if summary is None:
            print(f"  point {name} diverged; its last good checkpoints are kept", flush=True)
            results["failed"].append(name)
        else:
            results["done"].append(name)


def _not_taken(group, results):
    """The points of ``group`` still to train here: one another process has started or finished since the
    sweep was planned is left to it (checked again just before training)."""
    kept = []
    for name, cfg in group:
        state = _point_state(cfg)
        if state == "busy":
            print(f"  point {name} is being trained by {_holder(cfg) or 'another process'}; left to it", flush=True)
            results["busy"].append((name, cfg))
        elif state == "finished":
            print(f"  point {name} was finished by another process", flush=True)
            results["elsewhere"].append(name)
        else:
            kept.append((name, cfg))
    return kept
