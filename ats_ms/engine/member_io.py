"""Writing one student's files, in the order that keeps its folder consistent after any crash.

At an epoch end the training state is saved *before* the files derived from it (best.ckpt, last.ckpt,
the metrics line), and it is saved whenever the best accuracy improves, so best.ckpt is never ahead of
a state.  On resume ``repair`` brings the derived files in line with the state: metrics of epochs that
will be trained again are dropped, a metrics line the state knows but the file lacks is added, and
best/last checkpoints that disagree with the state are rewritten from it.  Every evaluation therefore
appears exactly once and every checkpoint belongs to the timeline the run continues.
"""
import json
import os
import shutil

from ats_ms.engine import checkpoint as ckpt
from ats_ms.engine import run_dir as rd
from ats_ms.common.errors import RunFolderError


def save_state(member, group, train_step, base_meta, extra_meta):
    s = member.state
    meta = dict(base_meta, **extra_meta, **s.to_meta(), epoch=group.epochs_done, epoch_step=group.epoch_step,
                steps_done=group.global_step, steps_per_epoch=group.steps_per_epoch,
                images_seen=group.images_seen, train_seconds=float(group.train_seconds))
    loss = train_step.loss_net.losses[member.index]
    ckpt.atomic_save(ckpt.state_entries(train_step, member.student, loss), rd.path(member.run_dir, rd.STATE), meta,
                     kept=f"the previous training state of '{member.run_dir}' is unchanged")


def save_weights(member, name, base_meta, epoch, step, **extra):
    ckpt.save_weights(member.student, rd.path(member.run_dir, name), dict(base_meta, epoch=epoch, step=step, **extra))


def append_metrics(member, record):
    rd.append_jsonl(rd.path(member.run_dir, rd.METRICS), record)


def _saved_step(file_path):
    if not os.path.exists(file_path):
        return None
    try:
        meta, _ = ckpt.read_meta(file_path)
    except Exception:  # pylint: disable=broad-except  (a torn or foreign file is simply rewritten)
        return None
    return int(meta["step"]) if "step" in meta else None


def repair(member, state_meta, base_meta, log):
    """Bring metrics.jsonl, best.ckpt and last.ckpt in line with the resumed state (see module doc).
    ``member.state`` has already been loaded from ``state_meta``."""
    run_dir, step = member.run_dir, int(state_meta["steps_done"])
    at_boundary = int(state_meta.get("epoch_step", 0)) == 0
    records = rd.trim_metrics(run_dir, step)
    last_record = json.loads(state_meta.get("last_record_json") or "{}")
    if at_boundary and last_record and not any(int(r.get("step", -1)) == step for r in records):
        append_metrics(member, last_record)
        log.info(f"metrics.jsonl lacked the saved state's epoch {last_record.get('epoch')}: added it", to=[member.index])
    epoch = int(state_meta.get("epoch", 0))
    if member.state.best_step == step and _saved_step(rd.path(run_dir, rd.BEST)) != step:
        save_weights(member, rd.BEST, base_meta, epoch, step, top1=float(member.state.best_top1))
        log.info("best.ckpt did not match the saved state: rewritten from it", to=[member.index])
    if at_boundary and step > 0 and _saved_step(rd.path(run_dir, rd.LAST)) != step:
        save_weights(member, rd.LAST, base_meta, epoch, step)
        log.info("last.ckpt did not match the saved state: rewritten from it", to=[member.index])


def set_aside_summary(member, log):
    """Continuing a finished run to more epochs: its summary no longer describes the folder's run, so it is
    kept under another name (report reads summary.json only) until the longer run writes its own."""
    summary, _ = rd.read_summary(member.run_dir)
    if summary is not None:
        kept = rd.path(member.run_dir, f"summary-{summary['epochs']}epochs.json")
        with rd.guarded_write(kept, f"{rd.SUMMARY} is unchanged"):
            os.replace(rd.path(member.run_dir, rd.SUMMARY), kept)
        log.info(f"the {summary['epochs']}-epoch summary is kept as {kept}", to=[member.index])


def copy_fork_history(member, log):
    """A fork starts with its origin's metrics up to the forked state, and the origin's best.ckpt when that is
    the state's best (otherwise the fork tracks its own best from scratch)."""
    origin = os.path.dirname(member.plan.forked_from)
    src = rd.path(origin, rd.METRICS)
    if os.path.exists(src):
        with open(src, encoding="utf-8") as f:
            rd.write_text_atomic(rd.path(member.run_dir, rd.METRICS), f.read())
        rd.trim_metrics(member.run_dir, int(member.state_meta["steps_done"]))
    best = rd.path(origin, rd.BEST)
    meta = ckpt.read_meta(best)[0] if os.path.exists(best) else {}
    s = member.state
    if s.best_step and int(meta.get("step", -1)) == s.best_step:
        rd.write_atomic(rd.path(member.run_dir, rd.BEST), lambda tmp: shutil.copyfile(best, tmp))
    else:
        s.best_top1, s.best_epoch, s.best_step = -1.0, 0, 0
        log.info("the origin's best.ckpt is not the forked state's best: best accuracy is tracked afresh",
                 to=[member.index])


def last_train_top1(run_dir):
    """The training top-1 of the last epoch that recorded one (for the summary), or None."""
    values = [r["train_top1"] for r in rd.read_metrics(run_dir) if "train_top1" in r]
    return values[-1] if values else None


def check_copy_target(member):
    """Before training: ``checkpoint.copy_last_to`` may only replace a file this run wrote."""
    target = member.cfg.checkpoint.copy_last_to
    if not target or not os.path.exists(target):
        return
    try:
        owner = ckpt.read_meta(target, "checkpoint.copy_last_to file")[0].get("run_dir")
    except Exception:  # pylint: disable=broad-except  (a foreign file of any kind is refused below)
        owner = None
    if owner != os.path.abspath(member.run_dir):
        raise RunFolderError(f"checkpoint.copy_last_to is '{target}', which already exists and was not written "
                             f"by this run ('{member.run_dir}'). ats_ms never overwrites a file it did not write: "
                             "move that file away or choose another name.")


def copy_last(member, base_meta, epoch, step):
    """``checkpoint.copy_last_to``: the final weights also at a path of the user's choosing (the demo's
    ``<ckpt_dir>/<ckpt_name>``), marked with the run folder that wrote it.  Returns that path."""
    target = member.cfg.checkpoint.copy_last_to
    ckpt.save_weights(member.student, target, dict(base_meta, epoch=epoch, step=step,
                                                   run_dir=os.path.abspath(member.run_dir)))
    return target
