"""Training runs from validated configs: inspect the folders, build, resume, ``Model.train``, summarise.

``train(cfg)`` trains one network: a teacher (``distill.method: none``) or a student distilled from a
frozen teacher.  ``train_group(cfgs)`` trains several students of one teacher at once (configs that
differ only in their ``distill`` section and run name): one teacher forward per batch, the same batches
and the same initial weights for every student, and each student's own run folder, exactly as a plain
run would write it.  A plain run is a group of one; both go through the same code.

Order of work, so that bad input never touches a file: inspect every run folder (read only), build the
datasets and networks and load the teacher and any saved state (everything that can fail on user input),
and only then take each folder's lock and write.
"""
import json
import os
import shlex
import time

import numpy as np
import mindspore as ms

from ats_ms.config import to_dict
from ats_ms.data import create_dataset
from ats_ms.data.pipeline_errors import pipeline_errors
from ats_ms.distill.cell import LossScaledTrainStep, TrainStep
from ats_ms.distill.frozen import FrozenTeacher
from ats_ms.distill.methods import build_loss_net
from ats_ms.engine import checkpoint as ckpt
from ats_ms.engine import member_io
from ats_ms.engine import run_dir as rd
from ats_ms.engine import run_lock, run_plan
from ats_ms.engine.callbacks import EpochEnd, ProgressLogger
from ats_ms.engine.evaluate import Evaluator, evaluate
from ats_ms.engine.optim import create_optimizer
from ats_ms.engine.run_log import RunLog
from ats_ms.engine.run_state import GroupState, Member, MemberState
from ats_ms.engine.runtime import amp_level, setup_runtime
from ats_ms.engine.schedule import create_scheduler
from ats_ms.engine.resume_check import check_resume
from ats_ms.engine.setup_report import setup_lines
from ats_ms.engine.sync_bn import BatchNormStatsSync
from ats_ms.engine.teacher_cache import TeacherLogitCache
from ats_ms.engine.restore import teacher_network
from ats_ms.process.startup import prepare_unless_prepared
from ats_ms.engine.tensorboard import check_available, open_scalar_writer
from ats_ms.common.errors import ConfigError, Interrupted, RunFolderError, TrainingDiverged
from ats_ms.models import build_options, create_model, variants

GROUP_VARIABLE_SECTIONS = ("distill",)
GROUP_IDENTITY_KEYS = (("experiment", "name"), ("checkpoint", "resume"))


def train(cfg):
    """Run (or resume) one configured training; returns its summary dict."""
    return train_group([cfg])[0]


def group_key(cfg):
    """Configs with equal keys can train as one group (their students share the teacher's forward)."""
    d = to_dict(cfg)
    for section in GROUP_VARIABLE_SECTIONS:
        d.pop(section)
    for section, key in GROUP_IDENTITY_KEYS:
        d[section].pop(key)
    return json.dumps(d, sort_keys=True)


def train_group(cfgs, label_of=None):
    """Train ``cfgs`` as one group; returns one summary per config (None for a student that diverged)."""
    if len({group_key(c) for c in cfgs}) != 1:
        raise ConfigError("The runs of one multi-student group may differ only in their 'distill' section and "
                          "experiment.name; these differ elsewhere. Train them in separate groups.")
    if len({os.path.join(c.experiment.output_dir, c.experiment.name) for c in cfgs}) != len(cfgs):
        raise ConfigError("Two runs of one group have the same run folder; give each its own experiment.name.")
    prepare_unless_prepared(cfgs)  # what a command does first, for runs started from Python
    runtime = setup_runtime(cfgs[0].runtime)
    members = [Member(i, c, os.path.join(c.experiment.output_dir, c.experiment.name),
                      label=(label_of(c) if label_of else c.experiment.name)) for i, c in enumerate(cfgs)]
    log = RunLog()
    for m in members:
        m.plan = run_plan.plan_run(m.run_dir, m.cfg, peer=not runtime.is_main)
    for m in members:
        if m.plan.kind == "complete":
            m.summary = m.plan.summary
            s = m.summary
            log.info(f"{m.run_dir} is already complete: best top1 {s['best_top1']:.2f} (epoch {s.get('best_epoch')}), "
                     f"last top1 {s['last_top1']:.2f} after {s['epochs']} epochs; nothing to do."
                     if s.get("last_top1") is not None else f"{m.run_dir} is already complete; nothing to do.")
    todo = [m for m in members if m.plan.kind != "complete"]
    for i, m in enumerate(todo):  # positions in the loss network, which trains only these
        m.index = i
    if todo:
        trainer = GroupTrainer(todo, runtime, log)
        try:
            trainer.run()
        finally:
            trainer.close()
    return [m.summary for m in members]


class GroupTrainer:
    def __init__(self, members, runtime, log):
        self.members, self.runtime, self.log = members, runtime, log
        self.base_cfg = members[0].cfg
        self.locked = []
        self.group = None
        self.build_notes = []

    def active_members(self):
        return [m for m in self.members if m.state.active]

    # -- build (nothing written) ------------------------------------------------------------------------
    def build(self):
        """Datasets, networks (the teacher loaded and frozen), loss network, schedule, optimizer and training
        step, exactly as the run will train them; nothing is written (``ats_ms.twin`` builds a run this way)."""
        cfg, runtime = self.base_cfg, self.runtime
        ms.set_seed(cfg.experiment.seed)
        self.shard = dict(num_shards=runtime.group_size, shard_id=runtime.rank)
        self.distilled = any(m.cfg.distill.method != "none" for m in self.members)
        self.cached = self.distilled and any(m.cfg.distill.cache_teacher_logits for m in self.members)
        # With cached teacher logits the training split is read once, in file order, to fill the cache.
        self.train_data, self.info = create_dataset(cfg.data, "train", seed=cfg.experiment.seed, ordered=self.cached,
                                                    **self.shard)
        self.test_data, self.test_info = create_dataset(cfg.data, "test")
        self.val_data = create_dataset(cfg.data, "val")[0] if cfg.data.val_per_class else None
        self.num_classes = cfg.model.num_classes or self.info.num_classes
        if self.info.num_classes > self.num_classes:
            raise ConfigError(f"The dataset has {self.info.num_classes} classes but model.num_classes is "
                              f"{self.num_classes}: labels would fall outside the classifier. Set "
                              f"model.num_classes={self.info.num_classes} or leave it empty to use the dataset's count.")
        self.steps = self.info.num_samples // cfg.data.batch_size if self.cached else self.info.batches_per_epoch
        self._build_networks()
        global_batch = cfg.data.batch_size * runtime.group_size
        self.base_lr = cfg.optim.lr * (global_batch / cfg.optim.base_batch_size
                                       if cfg.optim.lr_scaling == "linear" else 1.0)
        self.lrs = create_scheduler(cfg.schedule, self.base_lr, self.steps)
        # the students, and what a method learns of its own (CTKD's temperature), trained by one optimizer
        params = [p for m in self.members for p in m.student.trainable_params()]
        params += [p for loss in self.loss_net.losses for p in loss.trainable_params()]
        self.optimizer = create_optimizer(cfg.optim, params, self.lrs)
        if amp_level(cfg.runtime) == "O0":
            self.train_step = TrainStep(self.loss_net, self.optimizer, cfg.runtime.loss_scale)
        else:
            self.train_step = LossScaledTrainStep(self.loss_net, self.optimizer)
        self.group = GroupState(steps_per_epoch=self.steps, total_epochs=cfg.schedule.epochs, batch_size=global_batch)
        for m in self.members:
            m.state = MemberState(self.loss_net.layout.term_names[m.index])
            m.evaluator = Evaluator(m.student, self.num_classes)

    def _build_networks(self):
        cfg = self.base_cfg
        options = self._student_options()
        channels = self.info.channels
        first = create_model(cfg.model.arch, self.num_classes, pretrained=cfg.model.pretrained, in_channels=channels,
                             **options)
        if cfg.model.checkpoint:
            self.build_notes += ckpt.load_initial_weights(first, cfg.model.checkpoint, cfg.model.arch)
        students = [first]
        for _ in self.members[1:]:  # every student of a group starts from the same weights
            twin = create_model(cfg.model.arch, self.num_classes, in_channels=channels, **options)
            for (_, dst), (_, src) in zip(ckpt.named_parameters(twin), ckpt.named_parameters(first)):
                dst.set_data(src.data.copy())
            students.append(twin)
        for m, student in zip(self.members, students):
            m.student = student
        self.teacher, self.teacher_sha256, self.teacher_options = None, None, {}
        if self.distilled:
            restored = teacher_network(cfg, self.num_classes, (self.info.mean, self.info.std), self.info.channels)
            self.teacher_options = restored.options
            self.build_notes += restored.notes
            # the one place a run's teacher is frozen (LossNet takes nothing else); folded before any fp16 cast
            self.teacher = FrozenTeacher(restored.net, fold_bn=cfg.runtime.fold_teacher_bn)
            self.teacher_sha256 = rd.file_sha256(cfg.teacher.checkpoint)
        level = amp_level(cfg.runtime)
        if level != "O0":
            for student in students:
                ms.amp.auto_mixed_precision(student, level)
            if self.teacher is not None:
                ms.amp.auto_mixed_precision(self.teacher.net, level)
        self.student_options = options
        self.loss_net = build_loss_net([m.cfg.distill for m in self.members], students, self.teacher, cached=self.cached)

    def _student_options(self):
        """The student's variant: configured, else what its initial weights record, else the references'."""
        cfg = self.base_cfg
        meta = {}
        if cfg.model.checkpoint and os.path.isfile(cfg.model.checkpoint):
            meta, _ = ckpt.read_meta(cfg.model.checkpoint, "initial weights (model.checkpoint)")
        return variants.resolve(build_options(cfg.model.arch), variants.configured(cfg.model), meta)

    # -- resume (nothing written) -----------------------------------------------------------------------
    def _load_states(self):
        for m in self.members:
            member_io.check_copy_target(m)
            check_available(m.cfg.logging)
        resuming = [m for m in self.members if m.plan.kind == "resume"]
        if not resuming:
            return
        if len(resuming) != len(self.members):
            raise RunFolderError("Some runs of this group have saved states and others do not; a group trains in "
                                 "lock step. Train them separately (the sweep splits such groups itself).")
        steps = set()
        for m in resuming:
            meta, params = ckpt.read_meta(m.plan.state_path)
            m.state_meta = meta
            m.notes += check_resume(m.cfg, meta, m.plan.state_path, m.run_dir, self.teacher_sha256, self.steps,
                                    self.base_lr, self.lrs)
            ckpt.restore_state(self.train_step, m.student, params, m.plan.state_path, self.loss_net.losses[m.index])
            m.state.load_meta(meta)
            steps.add(int(meta["steps_done"]))
        if len(steps) != 1:
            raise RunFolderError(f"The runs of this group were saved at different steps ({sorted(steps)}); resume "
                                 "them separately.")
        meta = resuming[0].state_meta
        g = self.group
        g.global_step = int(meta["steps_done"])
        g.images_seen = int(meta.get("images_seen", 0))
        g.train_seconds = float(meta.get("train_seconds", 0.0))

    # -- writes begin ------------------------------------------------------------------------------------
    def _open_folders(self):
        """Take every folder's lock, re-check it under the lock, repair it and write the run files."""
        main = self.runtime.is_main
        for m in self.members:
            if main:
                m.lock = run_lock.RunLock(m.run_dir).acquire()
                self.locked.append(m)
                again = run_plan.plan_run(m.run_dir, m.cfg, check_lock=False)
                if again.kind != m.plan.kind or again.state_path != m.plan.state_path:
                    raise RunFolderError(f"Run folder '{m.run_dir}' changed while this run was starting "
                                         f"({m.plan.kind} -> {again.kind}); start the command again.")
                rd.remove_temp_files(m.run_dir)
                self.log.add_file(m.index, rd.path(m.run_dir, rd.LOG))
                if m.cfg.logging.also_log_to:
                    os.makedirs(os.path.dirname(os.path.abspath(m.cfg.logging.also_log_to)), exist_ok=True)
                    self.log.add_file(m.index, m.cfg.logging.also_log_to)
            for note in m.plan.notes + m.notes:
                self.log.info(f"{m.run_dir}: {note}", to=[m.index])
            if not main:
                continue
            if m.plan.restart:
                rd.write_text_atomic(rd.path(m.run_dir, rd.METRICS), "")
            if m.plan.forked_from:
                member_io.copy_fork_history(m, self.log)
            if m.plan.kind == "resume":
                member_io.repair(m, m.state_meta, self.base_meta(m), self.log)
                member_io.set_aside_summary(m, self.log)
            extra_env = {"device_target": m.cfg.runtime.device_target, "group_size": self.runtime.group_size,
                         "teacher_sha256": self.teacher_sha256}
            if m.plan.forked_from:
                extra_env["forked_from"] = m.plan.forked_from
            if len(self.members) > 1:
                extra_env["shared_teacher_group"] = [x.run_dir for x in self.members]
            rd.write_run_files(m.run_dir, m.cfg, self.info.class_names, extra_env)
            m.scalars = open_scalar_writer(m.cfg.logging, m.run_dir)

    def base_meta(self, m):
        return {"arch": m.cfg.model.arch, "num_classes": self.num_classes, **self.student_options,
                "in_channels": self.info.channels,
                "written_by_rank": self.runtime.rank}

    # -- the run ---------------------------------------------------------------------------------------
    def run(self):
        self.build()
        self._load_states()
        self._open_folders()
        cfg = self.base_cfg
        for note in self.build_notes:
            self.log.info(note)
        for line in setup_lines(self):
            self.log.info(line)
        with pipeline_errors(cfg.data):  # an unreadable sample mid-epoch: a DatasetError naming it, state kept
            self._train()

    def _train(self):
        g, cfg = self.group, self.base_cfg
        fresh = all(m.plan.kind == "new" for m in self.members)
        if fresh and self.teacher is not None and cfg.logging.eval_teacher and self.runtime.is_main:
            self._evaluate_teacher()
        elif not fresh:
            m = self.members[0]
            best = f", best top1 {m.state.best_top1:.2f}" if m.state.best_top1 >= 0 else ", not evaluated yet"
            self.log.info(f"resumed from {m.plan.state_path}: {g.position()}"
                          + (best if len(self.members) == 1 else ""))
        # the configuration check admits a cache only without augmentation or with flips alone
        cache = TeacherLogitCache(self.train_data, self.teacher, self.log, flips=self.info.flips) if self.cached else None
        train_data = None if self.cached else self.train_data
        progress = ProgressLogger(g, self.members, self.loss_net.layout, self.lrs, cfg.logging.log_interval, self.log,
                                  self._on_diverged)
        # Under data parallelism a signal reaches the ranks at different steps; stopping them apart
        # would hang the gradient all-reduce, so there a signal ends the job and the resume starts from
        # the last epoch state.
        sync = BatchNormStatsSync(self.loss_net.students, self.runtime.group_size) if self.runtime.group_size > 1 else None
        epoch_end = EpochEnd(self, handle_signals=self.runtime.group_size == 1, sync_stats=sync)
        start = time.time()
        while not g.finished and g.interrupted_by is None:
            self._train_segment([progress, epoch_end], train_data, cache)
            train_data = None
        if not g.finished:
            raise Interrupted(g.interrupted_by, *self._interrupt_message())
        for m in self.active_members():
            self._finish(m, time.time() - start)

    def _train_segment(self, callbacks, data=None, cache=None):
        """Train from the current position to the end, or, when resuming mid-epoch, to the end of that
        epoch (its remaining steps only).  Each segment gets a fresh dataset and ``Model``: a dataset
        object cannot be shared between ``Model`` instances."""
        g, cfg = self.group, self.base_cfg
        if cache is not None:
            data = cache.dataset(cfg.data.batch_size, cfg.experiment.seed + g.global_step)
        elif data is None:
            data, _ = create_dataset(cfg.data, "train", seed=cfg.experiment.seed + g.global_step, **self.shard)
        first_epoch = g.epochs_done
        if g.epoch_step:
            data = data.take(g.steps_per_epoch - g.epoch_step)
            last_epoch = first_epoch + 1
        else:
            last_epoch = g.total_epochs
        model = ms.train.Model(self.train_step)
        model.train(last_epoch, data, callbacks=callbacks, dataset_sink_mode=cfg.runtime.dataset_sink_mode,
                    initial_epoch=first_epoch)

    def _evaluate_teacher(self):
        """Once, before a distillation run: how good is the teacher the students learn from?"""
        result = evaluate(self.teacher, self.test_data, self.num_classes)
        _drop_per_class(result)
        val = ""
        if self.val_data is not None:
            result.update(_validation(evaluate(self.teacher, self.val_data, self.num_classes)))
            val = f"; validation top1 {result['val_top1']:.2f} ({result['val_count']} images)"
        self.log.info(f"teacher {self.base_cfg.teacher.arch}: top1 {result['top1']:.2f} top5 {result['top5']:.2f} "
                      f"({result['count']} images){val}")
        for m in self.members:
            member_io.append_metrics(m, {"type": "teacher_eval", **result})

    # -- per student ---------------------------------------------------------------------------------------
    def state_meta(self, m, record=None):
        extra = {"seed": m.cfg.experiment.seed, "config_json": run_plan.state_config_json(m.cfg)}
        if self.teacher_sha256:
            extra["teacher_sha256"] = self.teacher_sha256
        if record is not None:
            extra["last_record_json"] = json.dumps(record)
        return extra

    def save_state(self, m, record=None):
        if self.runtime.is_main:
            member_io.save_state(m, self.group, self.train_step, self.base_meta(m), self.state_meta(m, record))

    def close_epoch(self, m, epoch, evaluate_now, save_state):
        g, s = self.group, m.state
        record = {"type": "train", "epoch": epoch, "step": g.global_step, **s.train_record()}
        improved = False
        if evaluate_now:
            result = m.evaluator(self.test_data)  # restores the student's training mode afterwards
            _drop_per_class(result)
            if self.val_data is not None:
                result.update(_validation(m.evaluator(self.val_data)))
            improved = result["top1"] > s.best_top1
            if improved:
                s.best_top1, s.best_epoch, s.best_step = result["top1"], epoch, g.global_step
            s.last_eval = dict(result, epoch=epoch)
            record = dict(record, type="eval", **result, best_top1=s.best_top1)
            train_acc = f" | train top1 {record['train_top1']:.2f}" if "train_top1" in record else ""
            if "val_top1" in result:
                train_acc += f" | validation top1 {result['val_top1']:.2f}"
            self.log.info(f"eval epoch {epoch}{' [' + m.label + ']' if len(self.members) > 1 else ''}: top1 "
                          f"{result['top1']:.2f} top5 {result['top5']:.2f} loss {result['loss']:.4f} "
                          f"({result['count']} images){' best' if improved else ''} | best {s.best_top1:.2f} @ "
                          f"{s.best_epoch}{train_acc}", to=[m.index])
        elif "train_top1" in record:
            self.log.info(f"epoch {epoch}{' [' + m.label + ']' if len(self.members) > 1 else ''}: train top1 "
                          f"{record['train_top1']:.2f}", to=[m.index])
        s.reset_epoch()
        if not self.runtime.is_main:
            return
        if save_state or improved or g.interrupted_by is not None:
            self.save_state(m, record)
        base = self.base_meta(m)
        if improved:
            member_io.save_weights(m, rd.BEST, base, epoch, g.global_step, top1=float(s.best_top1))
        member_io.save_weights(m, rd.LAST, base, epoch, g.global_step)
        member_io.append_metrics(m, record)
        if m.scalars:
            for key in ("top1", "top5", "loss"):
                if key in record:
                    m.scalars.add(f"test/{key}", record[key], g.global_step)
            if "train_top1" in record:
                m.scalars.add("train/top1_epoch", record["train_top1"], g.global_step)
            m.scalars.flush()

    def _on_diverged(self, m, terms, epoch, step):
        names = m.state.term_names
        detail = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, terms))
        message = (f"the loss became {terms[0]} at epoch {epoch}, step {step} ({detail}). Training stopped; the last "
                   "good checkpoints (last.ckpt, train_state.ckpt) are kept. Lower optim.lr, lengthen "
                   "schedule.warmup_epochs, or check the data and the teacher checkpoint.")
        if len(self.members) == 1:
            raise TrainingDiverged(message)
        m.state.diverged = message
        self._silence(m)
        self.log.info(f"[{m.label}] diverged: {message} The other students go on.", to=None)
        if not self.active_members():
            raise TrainingDiverged("every student of the group diverged; " + message)

    def _silence(self, m):
        """A diverged student stops: its loss is masked out of the total and its weights and momentum are
        zeroed, so its (now constant) forward pass stays finite and cannot disturb the others."""
        self.loss_net.set_active(m.index, False)
        index = {id(p): i for i, p in enumerate(self.optimizer.parameters)}
        for name, param in ckpt.named_parameters(m.student):
            value = np.ones if name.endswith("moving_variance") else np.zeros
            param.set_data(ms.Tensor(value(param.shape, np.float32), param.dtype))
            if id(param) in index:
                moment = self.optimizer.moments[index[id(param)]]
                moment.set_data(ms.Tensor(np.zeros(moment.shape, np.float32), moment.dtype))

    def _finish(self, m, wall_time):
        g, s = self.group, m.state
        last = s.last_eval or {}
        summary = {
            "run_dir": m.run_dir, "arch": m.cfg.model.arch, "method": m.cfg.distill.method,
            "teacher": m.cfg.teacher.arch if m.cfg.distill.method != "none" else None,
            "tau_target": m.cfg.distill.tau_target, "tau_wrong": m.cfg.distill.tau_wrong,
            "best_top1": s.best_top1, "best_epoch": s.best_epoch,
            "last_top1": last.get("top1"), "last_top5": last.get("top5"),
            "epochs": g.total_epochs, "steps": g.global_step, "wall_time_s": round(wall_time, 2),
            "train_images_per_s": round(g.images_seen / g.train_seconds, 1) if g.train_seconds else None,
            "train_seconds": round(g.train_seconds, 1),
            "test_images": self.test_info.num_samples, "devices": self.runtime.group_size,
            "versions": rd.versions(), "student_checksum": ckpt.weights_checksum(m.student),
        }
        if "val_top1" in last:
            summary["last_val_top1"] = last["val_top1"]
        if len(self.members) > 1:
            summary["shared_teacher_group"] = [x.run_dir for x in self.members]
        train_epochs = member_io.last_train_top1(m.run_dir) if self.runtime.is_main else None
        if train_epochs is not None:
            summary["last_train_top1"] = train_epochs
        if self.runtime.is_main:
            rd.write_json(rd.path(m.run_dir, rd.SUMMARY), summary)
            if m.cfg.checkpoint.copy_last_to:
                target = member_io.copy_last(m, self.base_meta(m), self.group.epochs_done, self.group.global_step)
                self.log.info(f"final weights also written to {target}", to=[m.index])
        m.summary = summary
        self.log.info(f"rank {self.runtime.rank}: student parameter checksum {summary['student_checksum']} "
                      f"(trainable only {ckpt.weights_checksum(m.student, trainable_only=True)})", to=[m.index])
        self.log.info(f"done: best top1 {s.best_top1:.2f} (epoch {s.best_epoch}), last top1 "
                      f"{summary['last_top1']:.2f}; {m.run_dir}" if summary["last_top1"] is not None
                      else f"done; {m.run_dir}", to=[m.index])

    def _interrupt_message(self):
        """(message, command that continues the run or None)."""
        g = self.group
        text = f"Stopped {g.position()}; the training state is saved."
        if len(self.members) > 1:
            return text + " Run the same command again to continue.", None
        config = shlex.quote(os.path.abspath(os.path.join(self.members[0].run_dir, rd.CONFIG)))  # works from anywhere
        return text + " Resume with:", f"python -m ats_ms.train --config {config} --resume"

    def close(self):
        for m in self.locked:
            if m.scalars:
                m.scalars.close()
            m.lock.release()
        self.log.close()


def _validation(result):
    """A validation evaluation's numbers under the keys an evaluation record keeps them (val_*)."""
    return {"val_top1": result["top1"], "val_loss": result["loss"], "val_count": result["count"]}


def _drop_per_class(result):
    result.pop("per_class")
    result.pop("per_class_count")
