"""One training run from a validated config: build, resume, ``Model.train``, summarise.

The same path trains a teacher (``distill.method: none``) and distils a student from a frozen
teacher; only the loss network differs (``ats_ms.distill.methods``).
"""
import os
import time

import mindspore as ms

from ats_ms.data import create_dataset
from ats_ms.distill.methods import build_loss_net
from ats_ms.distill.cell import CachedDistillNet, LossScaledTrainStep, TrainStep
from ats_ms.distill.frozen import FrozenTeacher
from ats_ms.engine import checkpoint as ckpt
from ats_ms.engine import run_dir as rd
from ats_ms.engine.callbacks import EpochEnd, ProgressLogger, RunState
from ats_ms.engine.evaluate import evaluate
from ats_ms.engine.optim import create_optimizer
from ats_ms.engine.runtime import amp_level, setup_runtime
from ats_ms.engine.schedule import create_scheduler
from ats_ms.engine.sync_bn import BatchNormStatsSync
from ats_ms.engine.teacher_cache import TeacherLogitCache
from ats_ms.errors import ConfigError
from ats_ms.models import count_params, create_model


def _resolve_resume(cfg, run_dir):
    """Return the state file to resume from, or None for a fresh run (refusing to overwrite one)."""
    state_file = rd.path(run_dir, rd.STATE)
    mode = cfg.checkpoint.resume
    if mode == "none":
        if os.path.exists(state_file) or os.path.exists(rd.path(run_dir, "summary.json")):
            raise ConfigError(f"Run directory '{run_dir}' already holds a run. Continue it with --resume "
                              "(checkpoint.resume=auto), or choose another experiment.name / experiment.output_dir.")
        return None
    if mode == "auto":
        return state_file if os.path.exists(state_file) else None
    return mode


def _build_networks(cfg, num_classes, logger):
    student = create_model(cfg.model.arch, num_classes)
    if cfg.model.checkpoint:
        ckpt.load_weights(student, cfg.model.checkpoint, "initial weights (model.checkpoint)", cfg.model.arch)
    teacher = None
    if cfg.distill.method != "none":
        net = create_model(cfg.teacher.arch, num_classes)
        ckpt.load_weights(net, cfg.teacher.checkpoint, "teacher checkpoint", cfg.teacher.arch)
        teacher = FrozenTeacher(net, fold_bn=cfg.runtime.fold_teacher_bn)  # fold before any fp16 cast
    level = amp_level(cfg.runtime)
    if level != "O0":
        ms.amp.auto_mixed_precision(student, level)
        if teacher is not None:
            ms.amp.auto_mixed_precision(teacher.net, level)
    logger.info(f"student {cfg.model.arch}: {count_params(student):,} parameters"
                + (f"; teacher {cfg.teacher.arch}: {count_params(teacher, False):,}" if teacher else ""))
    return student, teacher


def train(cfg):
    """Run (or resume) the configured training; returns the summary dict."""
    runtime = setup_runtime(cfg.runtime)
    run_dir = os.path.join(cfg.experiment.output_dir, cfg.experiment.name)
    resume_from = _resolve_resume(cfg, run_dir)
    logger = rd.setup_logger(run_dir, write_files=runtime.is_main)
    ms.set_seed(cfg.experiment.seed)

    shard = dict(num_shards=runtime.group_size, shard_id=runtime.rank)
    # With cached teacher logits the training split is read once, in file order, to fill the cache.
    cached = cfg.distill.method != "none" and cfg.distill.cache_teacher_logits
    train_data, info = create_dataset(cfg.data, "train", seed=cfg.experiment.seed, ordered=cached, **shard)
    test_data, test_info = create_dataset(cfg.data, "test")
    num_classes = cfg.model.num_classes or info.num_classes
    if info.num_classes > num_classes:
        raise ConfigError(f"The dataset has {info.num_classes} classes but model.num_classes is {num_classes}: "
                          f"labels would fall outside the classifier. Set model.num_classes={info.num_classes} "
                          "or leave it empty to use the dataset's count.")
    steps = info.num_samples // cfg.data.batch_size if cached else info.batches_per_epoch
    if runtime.is_main:
        rd.write_run_files(run_dir, cfg, info.class_names, {"device_target": cfg.runtime.device_target,
                                                             "group_size": runtime.group_size})
    student, teacher = _build_networks(cfg, num_classes, logger)
    loss_net = build_loss_net(cfg.distill, student, teacher)
    cache = None
    if cached:
        cache = TeacherLogitCache(train_data, loss_net.teacher, logger)
        loss_net = CachedDistillNet(student, loss_net.loss)
        train_data = None
    global_batch = cfg.data.batch_size * runtime.group_size
    base_lr = cfg.optim.lr * (global_batch / cfg.optim.base_batch_size if cfg.optim.lr_scaling == "linear" else 1.0)
    lrs = create_scheduler(cfg.schedule, base_lr, steps)
    optimizer = create_optimizer(cfg.optim, student.trainable_params(), lrs)
    if amp_level(cfg.runtime) == "O0":
        train_step = TrainStep(loss_net, optimizer, cfg.runtime.loss_scale)
    else:
        train_step = LossScaledTrainStep(loss_net, optimizer)

    state = RunState(steps_per_epoch=steps, total_epochs=cfg.schedule.epochs,
                     batch_size=global_batch)
    if resume_from:
        meta, params = ckpt.read_meta(resume_from)
        ckpt.restore_state(train_step, params)
        state.global_step = int(meta["steps_done"])
        state.best_top1, state.best_epoch = float(meta.get("best_top1", -1)), int(meta.get("best_epoch", 0))
        state.images_seen = int(meta.get("images_seen", 0))
        state.train_seconds = float(meta.get("train_seconds", 0.0))
        logger.info(f"resumed from {resume_from}: epoch {state.epochs_done}, step {state.global_step}, "
                    f"best top1 {state.best_top1:.2f}")
    elif teacher is not None and cfg.logging.eval_teacher and runtime.is_main:
        _evaluate_teacher(cfg, teacher, test_data, num_classes, run_dir, logger)

    meta = {"arch": cfg.model.arch, "num_classes": num_classes, "written_by_rank": runtime.rank}
    term_names = loss_net.term_names
    progress = ProgressLogger(state, term_names, lrs, cfg.logging.log_interval, logger)
    # Under data parallelism a signal reaches the ranks at different steps; stopping them apart
    # would hang the gradient all-reduce, so there a signal ends the job and the resume starts from
    # the last epoch state.
    epoch_end = EpochEnd(state, train_step, student, test_data, num_classes, cfg, run_dir, logger, meta,
                         write_files=runtime.is_main, handle_signals=runtime.group_size == 1,
                         sync_stats=BatchNormStatsSync(student, runtime.group_size) if runtime.group_size > 1 else None)
    start = time.time()
    logger.info(f"training {cfg.schedule.epochs} epochs x {steps} steps, batch {cfg.data.batch_size}"
                f"{f' x {runtime.group_size} devices (rank {runtime.rank})' if runtime.group_size > 1 else ''}, "
                f"lr {base_lr:g}, method {cfg.distill.method}, run dir {run_dir}")
    while state.global_step < cfg.schedule.epochs * steps and not state.interrupted:
        _train_segment(cfg, train_step, state, [progress, epoch_end], shard, train_data, cache)
        train_data = None
    if state.interrupted:
        logger.info(f"stopped at epoch {state.epochs_done}, step {state.global_step}; resume with --resume")
        return None
    summary = _summary(cfg, state, run_dir, teacher is not None, test_info.num_samples, runtime.group_size,
                       time.time() - start)
    summary["student_checksum"] = ckpt.weights_checksum(student)
    if runtime.is_main:
        rd.write_json(rd.path(run_dir, "summary.json"), summary)
    logger.info(f"rank {runtime.rank}: student parameter checksum {summary['student_checksum']} "
                f"(trainable only {ckpt.weights_checksum(student, trainable_only=True)})")
    logger.info(f"done: best top1 {state.best_top1:.2f} (epoch {state.best_epoch}), last top1 "
                f"{summary['last_top1']:.2f}; {run_dir}")
    return summary


def _evaluate_teacher(cfg, teacher, test_data, num_classes, run_dir, logger):
    """Once, before a distillation run: how good is the teacher the student learns from?"""
    result = evaluate(teacher, test_data, num_classes)
    result.pop("per_class")
    logger.info(f"teacher {cfg.teacher.arch}: top1 {result['top1']:.2f} top5 {result['top5']:.2f} "
                f"({result['count']} images)")
    rd.append_jsonl(rd.path(run_dir, "metrics.jsonl"), {"type": "teacher_eval", **result})


def _summary(cfg, state, run_dir, distilled, test_images, devices, wall_time):
    return {
        "run_dir": run_dir, "arch": cfg.model.arch, "method": cfg.distill.method,
        "teacher": cfg.teacher.arch if distilled else None,
        "tau_target": cfg.distill.tau_target, "tau_wrong": cfg.distill.tau_wrong,
        "best_top1": state.best_top1, "best_epoch": state.best_epoch,
        "last_top1": state.last_eval.get("top1"), "last_top5": state.last_eval.get("top5"),
        "epochs": cfg.schedule.epochs, "steps": state.global_step, "wall_time_s": round(wall_time, 2),
        "train_images_per_s": round(state.images_seen / state.train_seconds, 1) if state.train_seconds else None,
        "test_images": test_images, "devices": devices, "versions": rd.versions(),
    }


def _train_segment(cfg, train_step, state, callbacks, shard, data=None, cache=None):
    """Train from the current position to the end, or, when resuming mid-epoch, to the end of that
    epoch (its remaining steps only).  Each segment gets a fresh dataset and ``Model``: a dataset
    object cannot be shared between ``Model`` instances."""
    steps = state.steps_per_epoch
    if cache is not None:
        data = cache.dataset(cfg.data.batch_size, cfg.experiment.seed + state.global_step)
    elif data is None:
        data, _ = create_dataset(cfg.data, "train", seed=cfg.experiment.seed + state.global_step, **shard)
    first_epoch = state.epochs_done
    if state.epoch_step:
        data = data.take(steps - state.epoch_step)
        last_epoch = first_epoch + 1
    else:
        last_epoch = cfg.schedule.epochs
    model = ms.train.Model(train_step)
    model.train(last_epoch, data, callbacks=callbacks, dataset_sink_mode=cfg.runtime.dataset_sink_mode,
                initial_epoch=first_epoch)
