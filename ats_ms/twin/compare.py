"""Train one run in ats_ms and in PyTorch side by side, batch by batch, and measure where they differ.

The ats_ms half is the run exactly as ``python -m ats_ms.train`` builds it (``GroupTrainer.build``: its
datasets, networks, frozen teacher, loss network, schedule, optimizer and training step); the PyTorch half
(``ats_ms.twin.torch_side``) starts from the same initial weights and is fed the very batches ats_ms's pipeline
produces (augmentation included), in the same order.  Reported: the first step's loss and gradients (equal to
float32 rounding when the port is right), both loss curves step by step, the learning rates, and both
networks' test top-1 at the run's evaluation epochs.  Later steps drift apart by floating-point order, which
training amplifies; how far is reported, not hidden.
"""
import os
import time

import numpy as np
import mindspore as ms

from ats_ms.engine.checkpoint import named_parameters, read_meta
from ats_ms.engine.evaluate import evaluate
from ats_ms.engine.run_log import RunLog
from ats_ms.engine.run_state import Member
from ats_ms.engine.runtime import amp_level, setup_runtime
from ats_ms.engine.restore import teacher_network, trained_normalization
from ats_ms.engine.trainer import GroupTrainer
from ats_ms.common.errors import ConfigError
from ats_ms.interop.to_torch import check_exportable
from ats_ms.twin.torch_side import TorchSide

METHODS = ("none", "ts", "kd", "ats", "dkd")


def check_supported(cfg):
    """The twin covers what its PyTorch half implements; anything else is refused before anything runs."""
    d = cfg.distill
    if d.method not in METHODS:
        raise ConfigError(f"The PyTorch twin covers distill.method none, ts, kd, ats and dkd, not '{d.method}'.")
    unsupported = [k for k, v in (("distill.keep_target_top", d.keep_target_top),
                                  ("distill.logit_standardize", d.logit_standardize),
                                  ("runtime.distributed", cfg.runtime.distributed),
                                  ("data.augment with distill.cache_teacher_logits", d.cache_teacher_logits)) if v]
    if amp_level(cfg.runtime) != "O0":
        unsupported.append(f"runtime.amp_level {amp_level(cfg.runtime)} (fp16)")
    if cfg.optim.name != "sgd":
        unsupported.append(f"optim.name {cfg.optim.name}")
    if unsupported:
        raise ConfigError(f"The PyTorch twin does not cover {', '.join(unsupported)}; set them off for the twin.")


def _arrays(net):
    return {name: param.asnumpy().copy() for name, param in named_parameters(net)}


def _relative_difference(a, b):
    scale = max(float(np.abs(b).max()), 1e-12)
    return float(np.abs(a - b).max()) / scale


def _norm_difference(a, b):
    """||a - b|| / ||b||: a ReLU unit whose input lies within rounding of 0 and lands on the other side in one
    framework changes a few gradient entries by their full size, which dominates the elementwise maximum of one
    parameter but not this whole-network figure (float32 rounding alone keeps it near 1e-6)."""
    return float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(b)), 1e-30)


class Twin:
    """Both halves of one run, built and ready to step."""

    def __init__(self, cfg, log=None):
        check_supported(cfg)
        self.cfg = cfg
        self.log = log or RunLog()
        runtime = setup_runtime(cfg.runtime)
        member = Member(0, cfg, os.path.join(cfg.experiment.output_dir, cfg.experiment.name), label="twin")
        self.run = GroupTrainer([member], runtime, self.log)
        self.run.build()
        check_exportable(cfg.model.arch, self.run.student_options)
        self.student = member.student
        teacher_arrays = None
        if self.run.teacher is not None:
            check_exportable(cfg.teacher.arch, self.run.teacher_options)
            info = self.run.info
            trained = trained_normalization(cfg.teacher, read_meta(cfg.teacher.checkpoint, "teacher checkpoint")[0])
            if trained is not None and not np.allclose(np.array(trained), np.array((info.mean, info.std)), atol=1e-6):
                raise ConfigError("The PyTorch twin feeds the teacher the run's own inputs; this teacher was trained "
                                  f"with another normalisation (mean {trained[0]}, std {trained[1]}). Use a teacher "
                                  "trained on the run's mean/std.")
            teacher_arrays = _arrays(teacher_network(cfg, self.run.num_classes, None, info.channels).net)  # before BatchNorm folding: the PyTorch teacher keeps its BatchNorms
        self.torch = TorchSide(cfg, self.run.num_classes, _arrays(self.student), teacher_arrays, self.run.base_lr,
                               self.run.steps)
        self.names = {id(p): n for n, p in named_parameters(self.student)}

    def first_step(self, images, labels):
        """Loss and gradients of one batch on both halves, before any update."""
        step = self.run.train_step
        inputs = (ms.Tensor(images), ms.Tensor(labels))
        saved = [(p, p.data.copy()) for _, p in named_parameters(self.student)]  # training-mode BatchNorms move
        loss_ms = float(self.run.loss_net(*inputs)[0].asnumpy())
        grads = step.grad(self.run.loss_net, step.weights)(*inputs, step.sens)
        ms_grads = {self.names[id(p)]: g.asnumpy() for p, g in zip(step.weights, grads)}
        for param, value in saved:
            param.set_data(value)
        loss_t, torch_grads = self.torch.gradients(images, labels, epoch=1)
        per_param = {n: _relative_difference(ms_grads[n], torch_grads[n]) for n in ms_grads}
        worst = max(per_param, key=per_param.get)
        names = sorted(ms_grads)
        whole = _norm_difference(np.concatenate([ms_grads[n].ravel() for n in names]),
                                 np.concatenate([torch_grads[n].ravel() for n in names]))
        return {"loss_mindspore": loss_ms, "loss_pytorch": loss_t, "loss_difference": abs(loss_ms - loss_t),
                "gradient_max_relative_difference": per_param[worst], "gradient_worst_parameter": worst,
                "gradient_norm_relative_difference": whole, "parameters": len(per_param)}

    def _test_batches(self):
        return [(x, y) for x, y in self.run.test_data.create_tuple_iterator(num_epochs=1, output_numpy=True)]

    def evaluate(self, batches):
        return evaluate(self.student, self.run.test_data, self.run.num_classes)["top1"], self.torch.evaluate(batches)

    def train(self, progress_every=50):
        """Both halves over the whole schedule; returns the report (a dict of lists and numbers)."""
        run, cfg = self.run, self.cfg
        steps, epochs = run.steps, cfg.schedule.epochs
        batches = run.train_data.create_tuple_iterator(num_epochs=epochs, output_numpy=True)
        test = self._test_batches()
        report = {"steps_per_epoch": steps, "losses_mindspore": [], "losses_pytorch": [],
                  "lr_mindspore": [float(v) for v in run.lrs], "lr_pytorch": [], "evaluations": []}
        run.train_step.set_train(True)
        start = time.time()
        for epoch in range(1, epochs + 1):
            run.loss_net.set_epoch(epoch)
            for i, (images, labels) in enumerate(batches):  # one epoch: the iterator stops at its end
                step = (epoch - 1) * steps + i
                if step == 0:
                    report["first_step"] = self.first_step(images, labels)
                    run.train_step.set_train(True)
                out = run.train_step(ms.Tensor(images), ms.Tensor(labels))
                loss_t, lr_t = self.torch.step(images, labels, step, epoch)
                report["losses_mindspore"].append(float(out[0].asnumpy()))
                report["losses_pytorch"].append(loss_t)
                report["lr_pytorch"].append(lr_t)
                if progress_every and (step + 1) % progress_every == 0:
                    self.log.info(f"twin epoch {epoch}/{epochs} step {i + 1}/{steps}: loss ats_ms "
                                  f"{report['losses_mindspore'][-1]:.4f} PyTorch {loss_t:.4f} "
                                  f"({time.time() - start:.0f} s)")
            if epoch % cfg.logging.eval_interval == 0 or epoch == epochs:
                top1_ms, top1_t = self.evaluate(test)
                run.train_step.set_train(True)
                report["evaluations"].append({"epoch": epoch, "top1_mindspore": top1_ms, "top1_pytorch": top1_t})
                self.log.info(f"twin epoch {epoch}: test top-1 ats_ms {top1_ms:.2f}, PyTorch {top1_t:.2f}")
        report.update(summarise(report))
        report["seconds"] = round(time.time() - start, 1)
        return report


def summarise(report):
    """The numbers a reader compares: learning-rate agreement, loss divergence over the run, final top-1."""
    ms_loss, t_loss = np.array(report["losses_mindspore"]), np.array(report["losses_pytorch"])
    diff = np.abs(ms_loss - t_loss)
    first_10 = diff[: min(10, len(diff))]
    last = report["evaluations"][-1] if report["evaluations"] else {}
    lr_ms = np.array(report["lr_mindspore"][: len(report["lr_pytorch"])])
    return {
        "steps": len(diff),
        "lr_max_difference": float(np.abs(lr_ms - np.array(report["lr_pytorch"])).max()) if len(lr_ms) else 0.0,
        "loss_difference_first_10_steps_max": float(first_10.max()) if len(first_10) else 0.0,
        "loss_difference_max": float(diff.max()) if len(diff) else 0.0,
        "loss_difference_last_epoch_mean": float(diff[-report["steps_per_epoch"]:].mean()) if len(diff) else 0.0,
        "final_top1_mindspore": last.get("top1_mindspore"), "final_top1_pytorch": last.get("top1_pytorch"),
    }
