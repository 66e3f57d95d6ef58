"""Callbacks that ``Model.train`` drives: progress lines and the NaN guard, epoch ends (evaluation,
checkpoints, metrics), and a clean stop on SIGINT / SIGTERM.

Both work on a list of students (``Member``) that step together; an ordinary run is a list of one.
"""
import math
import signal
import threading
import time

import numpy as np
import mindspore as ms

from ats_ms.common import signals



def _hms(seconds):
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _values(outputs):
    return np.array([float(t.asnumpy()) for t in (outputs if isinstance(outputs, (tuple, list)) else [outputs])])


class ProgressLogger(ms.train.Callback):
    """Every step: each student's loss terms and correct count, and a stop (or, in a group, that student's
    stop) on a non-finite loss.  Every ``interval`` steps: one progress line per student."""

    def __init__(self, group, members, layout, lrs, interval, log, on_diverged):
        super().__init__()
        self.group, self.members, self.layout, self.lrs = group, members, layout, lrs
        self.interval, self.log, self.on_diverged = interval, log, on_diverged
        self.sums = {m.index: np.zeros(len(layout.term_names[m.index])) for m in members}
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
        values = _values(args.net_outputs)
        g = self.group
        for m in self.members:
            if not m.state.active:
                continue
            start, end = self.layout.term_slices[m.index]
            terms = values[start:end]
            if not np.all(np.isfinite(terms)):
                self.on_diverged(m, terms, g.epochs_done + 1, g.global_step + 1)
                continue
            m.state.add_step(terms, values[self.layout.correct_index[m.index]], g.batch_size, advanced)
            self.sums[m.index] += terms * advanced
        crossed_interval = (g.global_step + advanced) // self.interval > g.global_step // self.interval
        g.global_step += advanced
        g.images_seen += g.batch_size * advanced
        self.count += advanced
        if crossed_interval or g.epoch_step == 0:
            self._line()

    def _line(self):
        g = self.group
        elapsed = time.perf_counter() - self.tick
        g.train_seconds += elapsed
        ips = self.count * g.batch_size / elapsed if elapsed > 0 else float("nan")
        eta = (g.total_steps - g.global_step) * elapsed / self.count
        lr = float(self.lrs[min(g.global_step - 1, len(self.lrs) - 1)])
        epoch = g.epochs_done + (0 if g.epoch_step == 0 else 1)
        position = f"epoch {epoch}/{g.total_epochs} step {g.epoch_step or g.steps_per_epoch}/{g.steps_per_epoch}"
        for m in self.members:
            if not m.state.active:
                continue
            means = self.sums[m.index] / self.count
            terms = " ".join(f"{n} {v:.4f}" for n, v in zip(self.layout.term_names[m.index], means))
            who = f"[{m.label}] " if len(self.members) > 1 else ""
            self.log.info(f"{position} {who}{terms} lr {lr:.5f} {ips:.0f} img/s eta {_hms(eta)}", to=[m.index])
            if m.scalars:
                for name, value in zip(self.layout.term_names[m.index], means):
                    m.scalars.add(f"train/{name}", value, g.global_step)
                m.scalars.add("train/lr", lr, g.global_step)
                m.scalars.add("train/images_per_s", ips, g.global_step)
            self.sums[m.index][:] = 0
        self.count = 0
        self.tick = time.perf_counter()


class EpochEnd(ms.train.Callback):
    """At each epoch end, for every student still training: evaluate (every ``eval_interval`` epochs and
    at the last), then save the state (at ``save_state_every``, at the last epoch, and whenever the best
    accuracy improves), best.ckpt, last.ckpt and the metrics line, in that order (see ``member_io``).
    SIGINT / SIGTERM become a stop after the current step with every state saved.  Under data parallelism
    every rank evaluates and only rank 0 writes (the trainer's ``runtime.is_main``)."""

    def __init__(self, trainer, handle_signals=True, sync_stats=None):
        super().__init__()
        self.t = trainer
        self._own_signals = False
        self.handle_signals = handle_signals
        self.sync_stats = sync_stats  # BatchNormStatsSync under data parallelism

    # -- SIGINT / SIGTERM --------------------------------------------------------------------------
    def _on_signal(self, signum, frame=None):  # noqa: ARG002
        if self.t.group.interrupted_by is None:
            self.t.group.interrupted_by = signum
            self.t.log.info(f"{signal.Signals(signum).name} received: stopping after this step and saving the "
                            "training state.")

    def on_train_begin(self, run_context):
        self._own_signals = self.handle_signals and threading.current_thread() is threading.main_thread()
        if self._own_signals:
            signals.set_listener(self._on_signal)  # SIGTERM (and converted SIGINT) via the CLI's watcher

    def _arm(self):
        # MindSpore's runtime and dataset engine install handlers of their own while a graph runs, so
        # ours are re-armed around every step.  Both signals mean "stop cleanly": a scheduler's SIGTERM
        # (preemption) saves the state like Ctrl-C does.
        if self._own_signals:
            signal.signal(signal.SIGINT, self._on_signal)
            signal.signal(signal.SIGTERM, self._on_signal)

    def on_train_step_begin(self, run_context):
        self._arm()

    def on_train_end(self, run_context):
        if self._own_signals:
            signals.set_listener(None)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def on_train_step_end(self, run_context):
        self._arm()
        if self.t.group.interrupted_by is not None:
            if self.t.group.epoch_step != 0:  # at an epoch boundary on_train_epoch_end saves it
                for m in self.t.active_members():
                    self.t.save_state(m)
            run_context.request_stop()

    # -- epoch boundaries ---------------------------------------------------------------------------
    def on_train_epoch_begin(self, run_context):
        self.t.loss_net.set_epoch(self.t.group.epochs_done + 1)

    def on_train_epoch_end(self, run_context):
        g, cfg = self.t.group, self.t.base_cfg
        if g.epoch_step != 0:  # stopped mid-epoch (interrupt): nothing to close
            return
        epoch = g.epochs_done
        last = epoch == g.total_epochs
        if self.sync_stats is not None:
            self.sync_stats()
        evaluate = epoch % cfg.logging.eval_interval == 0 or last
        for m in self.t.active_members():
            self.t.close_epoch(m, epoch, evaluate, save_state=epoch % cfg.checkpoint.save_state_every == 0 or last)
        if g.interrupted_by is not None:
            run_context.request_stop()

