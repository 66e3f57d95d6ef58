"""Callbacks that ``Model.train`` drives: progress lines, the NaN guard, evaluation, checkpoints,
and a clean stop on Ctrl-C.

They share one ``RunState`` so that a resumed run continues its step, epoch and best accuracy.
"""
import math
import signal
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import mindspore as ms

from ats_ms.engine import checkpoint as ckpt
from ats_ms.engine import run_dir as rd
from ats_ms.engine.evaluate import Evaluator
from ats_ms.errors import TrainingDiverged


@dataclass
class RunState:
    steps_per_epoch: int
    total_epochs: int
    batch_size: int            # global batch (all ranks)
    global_step: int = 0
    best_top1: float = -1.0
    best_epoch: int = 0
    last_eval: dict = field(default_factory=dict)
    images_seen: int = 0
    train_seconds: float = 0.0
    interrupted: bool = False

    @property
    def epochs_done(self):
        return self.global_step // self.steps_per_epoch

    @property
    def epoch_step(self):
        return self.global_step % self.steps_per_epoch


class ProgressLogger(ms.train.Callback):
    """Every step: stop on a non-finite loss.  Every ``interval`` steps: one progress line with the
    mean of each loss term, the learning rate, images/s and the ETA."""

    def __init__(self, state, term_names, lrs, interval, logger):
        super().__init__()
        self.state, self.names, self.lrs = state, term_names, lrs
        self.interval, self.logger = interval, logger
        self.sums = np.zeros(len(term_names))
        self.count = 0
        self.tick = None
        self.model_step = 0

    def on_train_begin(self, run_context):
        self.model_step = run_context.original_args().cur_step_num

    def on_train_step_begin(self, run_context):
        if self.tick is None:
            self.tick = time.perf_counter()

    def on_train_step_end(self, run_context):
        # In dataset sink mode (GPU/Ascend) this runs once per sunk chunk of steps, not per step:
        # advance by as many steps as Model reports.
        args = run_context.original_args()
        advanced = max(1, args.cur_step_num - self.model_step)
        self.model_step = args.cur_step_num
        outputs = args.net_outputs
        values = np.array([float(t.asnumpy()) for t in (outputs if isinstance(outputs, (tuple, list)) else [outputs])])
        s = self.state
        if not np.all(np.isfinite(values)):
            raise TrainingDiverged(
                f"the loss became {values[0]} at epoch {s.epochs_done + 1}, step {s.global_step + 1} "
                f"({', '.join(f'{n}={v:.4g}' for n, v in zip(self.names, values))}). Training stopped; the last "
                "good checkpoints (last.ckpt, train_state.ckpt) are kept. Lower optim.lr, lengthen "
                "schedule.warmup_epochs, or check the data and the teacher checkpoint.")
        crossed_interval = (s.global_step + advanced) // self.interval > s.global_step // self.interval
        s.global_step += advanced
        s.images_seen += s.batch_size * advanced
        self.sums += values * advanced
        self.count += advanced
        if crossed_interval or s.epoch_step == 0:
            elapsed = time.perf_counter() - self.tick
            s.train_seconds += elapsed
            ips = self.count * s.batch_size / elapsed if elapsed > 0 else float("nan")
            remaining = s.total_epochs * s.steps_per_epoch - s.global_step
            eta = remaining * elapsed / self.count
            means = self.sums / self.count
            lr = float(self.lrs[min(s.global_step - 1, len(self.lrs) - 1)])
            epoch = s.epochs_done + (0 if s.epoch_step == 0 else 1)
            step_in_epoch = s.epoch_step or s.steps_per_epoch
            terms = " ".join(f"{n} {v:.4f}" for n, v in zip(self.names, means))
            self.logger.info(f"epoch {epoch}/{s.total_epochs} step {step_in_epoch}/{s.steps_per_epoch} "
                             f"{terms} lr {lr:.5f} {ips:.0f} img/s eta {_hms(eta)}")
            self.sums[:] = 0
            self.count = 0
            self.tick = time.perf_counter()


def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class EpochEnd(ms.train.Callback):
    """At each epoch end: evaluate the student (every ``eval_interval`` epochs and at the last),
    write metrics.jsonl, best.ckpt, last.ckpt and (every ``save_every`` epochs) train_state.ckpt.
    Ctrl-C or SIGTERM is turned into a stop after the current step with the state saved.  With
    ``write_files=False`` (ranks other than 0) nothing is written."""

    def __init__(self, state, train_step, student, eval_data, num_classes, cfg, run_dir, logger,
                 meta, write_files=True, handle_signals=True, sync_stats=None):
        super().__init__()
        self.state, self.train_step, self.student = state, train_step, student
        self.eval_data, self.num_classes, self.cfg = eval_data, num_classes, cfg
        self.run_dir, self.logger, self.meta, self.write_files = run_dir, logger, meta, write_files
        self.evaluate = Evaluator(student, num_classes)
        self._own_signals = False
        self.handle_signals = handle_signals
        self.sync_stats = sync_stats  # BatchNormStatsSync under data parallelism

    # -- Ctrl-C -----------------------------------------------------------------------------
    def _on_interrupt(self, signum, frame):  # noqa: ARG002
        self.state.interrupted = True
        self.logger.info("Interrupt received: stopping after this step and saving the training state.")

    def on_train_begin(self, run_context):
        self._own_signals = self.handle_signals and threading.current_thread() is threading.main_thread()

    def _arm(self):
        # While a graph runs, MindSpore's runtime swaps in its own SIGINT handler, which turns
        # Ctrl-C into SIGTERM to the process.  So both signals mean "stop cleanly", which also makes
        # a scheduler's SIGTERM (preemption) save the state.  Re-armed around every step because
        # MindSpore's dataset engine registers handlers of its own.
        if self._own_signals:
            signal.signal(signal.SIGINT, self._on_interrupt)
            signal.signal(signal.SIGTERM, self._on_interrupt)

    def on_train_step_begin(self, run_context):
        self._arm()

    def on_train_end(self, run_context):
        if self._own_signals:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def on_train_step_end(self, run_context):
        self._arm()
        if self.state.interrupted:
            self.save_state()
            run_context.request_stop()

    # -- epoch boundaries ---------------------------------------------------------------------
    def on_train_epoch_begin(self, run_context):
        self.train_step.loss_net.set_epoch(self.state.epochs_done + 1)

    def on_train_epoch_end(self, run_context):
        s, c = self.state, self.cfg
        if s.epoch_step != 0:  # stopped mid-epoch (interrupt): nothing to close
            return
        epoch = s.epochs_done
        last = epoch == s.total_epochs
        if self.sync_stats is not None:
            self.sync_stats()
        if epoch % c.logging.eval_interval == 0 or last:
            result = self.evaluate(self.eval_data)  # restores the student's training mode afterwards
            result.pop("per_class")
            s.last_eval = dict(result, epoch=epoch)
            improved = result["top1"] > s.best_top1
            if improved:
                s.best_top1, s.best_epoch = result["top1"], epoch
            self.logger.info(f"eval epoch {epoch}: top1 {result['top1']:.2f} top5 {result['top5']:.2f} "
                             f"loss {result['loss']:.4f} ({result['count']} images)"
                             f"{' best' if improved else ''} | best {s.best_top1:.2f} @ {s.best_epoch}")
            if self.write_files:
                rd.append_jsonl(rd.path(self.run_dir, "metrics.jsonl"),
                                {"type": "eval", "epoch": epoch, "step": s.global_step, **result,
                                 "best_top1": s.best_top1})
                if improved:
                    ckpt.save_weights(self.student, rd.path(self.run_dir, "best.ckpt"),
                                      dict(self.meta, epoch=epoch, top1=float(result["top1"])))
        if self.write_files:
            ckpt.save_weights(self.student, rd.path(self.run_dir, "last.ckpt"), dict(self.meta, epoch=epoch))
        if epoch % c.checkpoint.save_state_every == 0 or last:
            self.save_state()

    def save_state(self):
        if not self.write_files:
            return
        s = self.state
        meta = dict(self.meta, epoch=s.epochs_done, epoch_step=s.epoch_step, steps_done=s.global_step,
                    best_top1=float(s.best_top1), best_epoch=s.best_epoch, seed=self.cfg.experiment.seed,
                    images_seen=s.images_seen, train_seconds=float(s.train_seconds))
        ckpt.atomic_save(ckpt.state_entries(self.train_step), rd.path(self.run_dir, rd.STATE), meta)
