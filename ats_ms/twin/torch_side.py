"""The PyTorch half of a twin run: the same networks, loss, optimizer and schedule, written in PyTorch.

Nothing here calls ats_ms's MindSpore code.  The networks are the PyTorch reference networks
(``ats_ms.interop.torch_reference``) loaded with ats_ms's initial weights; the losses are written from their
papers' formulas (cross-entropy; TS / ATS: the soft label softmax(z / tau) with tau = tau_target on the label's
class and tau_wrong elsewhere, the authors' soft cross-entropy or KL, weighted (1 - lambda) CE + lambda tau_s^2 D;
DKD: Zhao et al. 2022); SGD is ``torch.optim.SGD`` (momentum, weight decay on every parameter, as the
references); the per-step learning rate is computed from the schedule's definition (linear warm-up, then step,
cosine or polynomial decay).
"""
import math

import numpy as np

from ats_ms.common.errors import ConfigError
from ats_ms.interop.to_torch import torch_names, torch_state_dict
from ats_ms.common.optional import require

torch = require("torch", "The PyTorch twin (python -m ats_ms.twin)")
F = torch.nn.functional


def learning_rate(step, schedule, base_lr, steps_per_epoch):
    """The learning rate of (0-based) ``step``, from the schedule's definition."""
    total = schedule.epochs * steps_per_epoch
    warmup = int(round(schedule.warmup_epochs * steps_per_epoch))
    if step < warmup:
        if schedule.warmup_start_lr is None:  # from lr / warm-up steps up to lr
            return base_lr * (step + 1) / warmup
        return schedule.warmup_start_lr + (base_lr - schedule.warmup_start_lr) * step / warmup
    if schedule.policy == "step":
        passed = sum(step // steps_per_epoch >= m for m in schedule.milestones)
        return base_lr * schedule.gamma ** passed
    t = (step - warmup) / max(1, total - warmup)
    if schedule.policy == "cosine":
        return schedule.min_lr + (base_lr - schedule.min_lr) * 0.5 * (1 + math.cos(math.pi * t))
    return schedule.min_lr + (base_lr - schedule.min_lr) * max(0.0, 1 - t) ** schedule.power


def _onehot(labels, classes):
    return F.one_hot(labels, classes).to(torch.float32)


def loss_terms(distill, student_logits, teacher_logits, labels, epoch):
    """The loss to minimise, by ``distill.method``."""
    ce = F.cross_entropy(student_logits, labels, label_smoothing=distill.label_smoothing)
    if distill.method == "none":
        return ce
    if distill.method in ("ts", "kd", "ats"):
        onehot = _onehot(labels, student_logits.shape[1])
        tau = distill.tau_wrong + (distill.tau_target - distill.tau_wrong) * onehot
        log_p = F.log_softmax(teacher_logits / tau, dim=1)
        log_q = F.log_softmax(student_logits / distill.tau_student, dim=1)
        p = log_p.exp()
        per_sample = -(p * log_q).sum(1) if distill.form == "soft_ce" else (p * (log_p - log_q)).sum(1)
        return distill.ce_weight * ce + distill.kd_weight * distill.tau_student ** 2 * per_sample.mean()
    if distill.method == "dkd":
        return distill.ce_weight * ce + _dkd(distill, student_logits, teacher_logits, labels, epoch)
    raise ConfigError(f"The PyTorch twin covers the methods none, ts, kd, ats and dkd, not '{distill.method}'.")


def _dkd(distill, s, t, labels, epoch):
    """Zhao et al. 2022: T^2 (alpha TCKD + beta NCKD), warmed up linearly over the first epochs."""
    o = distill.dkd
    temp = o.temperature
    gt = _onehot(labels, s.shape[1])
    p_s, p_t = F.softmax(s / temp, dim=1), F.softmax(t / temp, dim=1)
    b_s = torch.stack([(p_s * gt).sum(1), (p_s * (1 - gt)).sum(1)], dim=1)
    b_t = torch.stack([(p_t * gt).sum(1), (p_t * (1 - gt)).sum(1)], dim=1)
    tckd = (b_t * (b_t.log() - b_s.log())).sum(1).mean() * temp ** 2
    log_q_s = F.log_softmax(s / temp - 1000.0 * gt, dim=1)
    log_q_t = F.log_softmax(t / temp - 1000.0 * gt, dim=1)
    nckd = (log_q_t.exp() * (log_q_t - log_q_s)).sum(1).mean() * temp ** 2
    warm = 1.0 if o.warmup_epochs == 0 else min(epoch / o.warmup_epochs, 1.0)
    return warm * (o.alpha * tckd + o.beta * nckd)


def _network(arch, classes, arrays):
    from ats_ms.interop.torch_reference import build_torch_model  # pylint: disable=import-outside-toplevel
    net = build_torch_model(arch, classes)
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in torch_state_dict(arrays).items()},
                        strict=True)
    return net


class TorchSide:
    """One student (and its frozen teacher) trained step by step in PyTorch.

    ``student_arrays`` / ``teacher_arrays``: ``{ats_ms name: array}`` of the networks' initial weights (the
    teacher's before BatchNorm folding)."""

    def __init__(self, cfg, classes, student_arrays, teacher_arrays, base_lr, steps_per_epoch):
        torch.manual_seed(cfg.experiment.seed)
        self.cfg, self.classes = cfg, classes
        self.base_lr, self.steps_per_epoch = base_lr, steps_per_epoch
        self.student = _network(cfg.model.arch, classes, student_arrays).train()
        self.teacher = _network(cfg.teacher.arch, classes, teacher_arrays).eval() if teacher_arrays else None
        if self.teacher is not None:
            for p in self.teacher.parameters():
                p.requires_grad_(False)
        o = cfg.optim
        self.optimizer = torch.optim.SGD(self.student.parameters(), lr=base_lr, momentum=o.momentum,
                                         weight_decay=o.weight_decay, nesterov=o.nesterov)
        names = torch_names(student_arrays)
        self.ats_name = {v: k for k, v in names.items()}

    def lr(self, step):
        return learning_rate(step, self.cfg.schedule, self.base_lr, self.steps_per_epoch)

    def _loss(self, images, labels, epoch):
        x, y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
        with torch.no_grad():
            t = self.teacher(x) if self.teacher is not None else None
        return loss_terms(self.cfg.distill, self.student(x), t, y, epoch)

    def gradients(self, images, labels, epoch):
        """(loss, {ats_ms name: gradient}) of one batch, without an update (and without moving BatchNorm
        statistics: they are restored)."""
        saved = {k: v.clone() for k, v in self.student.state_dict().items()}
        self.optimizer.zero_grad()
        loss = self._loss(images, labels, epoch)
        loss.backward()
        grads = {self.ats_name[n]: p.grad.detach().numpy().copy() for n, p in self.student.named_parameters()}
        self.student.load_state_dict(saved)
        self.optimizer.zero_grad()
        return float(loss.detach()), grads

    def step(self, images, labels, step, epoch):
        """One SGD step at the schedule's learning rate; returns (loss, lr)."""
        lr = self.lr(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad()
        loss = self._loss(images, labels, epoch)
        loss.backward()
        self.optimizer.step()
        return float(loss.detach()), lr

    def evaluate(self, batches):
        """Top-1 % over (images, labels) batches, in inference mode."""
        self.student.eval()
        correct = count = 0
        with torch.no_grad():
            for images, labels in batches:
                correct += int((self.student(torch.from_numpy(images)).argmax(1).numpy() == labels).sum())
                count += len(labels)
        self.student.train()
        return 100.0 * correct / max(count, 1)
