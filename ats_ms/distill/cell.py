"""The loss network and the training step that ``mindspore.train.Model`` drives.

``LossNet`` is the one training network of every run: K >= 1 students, each with its own loss
(cross-entropy for teachers and baselines, TS / ATS / ISATS / DKD for distillation), and optionally one
frozen teacher whose logits are computed once per batch inside the graph (or served from a cache).  With
K = 1 it is an ordinary run; with K > 1 the students see exactly the same batches and the teacher runs
once for all of them (``ats_ms.sweep --shared-teacher``).

Outputs are a flat tuple of scalars, described by ``layout``:

    K = 1:  (loss, <named terms>..., correct)
    K > 1:  (total, <student 0 terms>..., <student 1 terms>..., correct_0, ..., correct_K-1)

Entry 0 is what is differentiated.  The students share no parameter, so the gradient of the total with
respect to one student's weights is exactly the gradient of that student's own loss.  ``correct_i`` is
the number of training images student i classified right in this batch, counted from the logits the
step already computed (training accuracy at no extra cost).  A student that diverged is masked out of the
total by ``active`` (the others go on).
"""
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np
import mindspore as ms
from mindspore import nn, ops

from ats_ms.distill.frozen import FrozenTeacher


@dataclass
class Layout:
    term_names: List[Tuple[str, ...]]     # per student
    term_slices: List[Tuple[int, int]]    # per student: [start, end) into the output tuple
    correct_index: List[int]              # per student

    @property
    def num_outputs(self):
        return self.correct_index[-1] + 1


def make_layout(term_names):
    k = len(term_names)
    offset = 0 if k == 1 else 1
    slices = []
    for names in term_names:
        slices.append((offset, offset + len(names)))
        offset += len(names)
    return Layout(list(term_names), slices, list(range(offset, offset + k)))


def count_correct(logits, labels):
    hits = ops.argmax(logits.astype(ms.float32), -1) == labels.astype(ms.int32)
    return ops.stop_gradient(ops.sum(hits.astype(ms.float32)))


class LossNet(nn.Cell):
    """``construct(images, labels)``, or ``construct(images, labels, teacher_logits)`` when ``cached``."""

    def __init__(self, students, losses, teacher=None, cached=False):
        super().__init__()
        if len(students) != len(losses) or not students:
            raise ValueError("LossNet needs one loss per student and at least one student")
        if teacher is not None and not isinstance(teacher, FrozenTeacher):
            raise TypeError("LossNet's teacher must be a FrozenTeacher (ats_ms.distill.FrozenTeacher(net) freezes it, "
                            "pins its BatchNorms and folds them), so that training can never move it")
        self.students = nn.CellList(list(students))
        self.losses = nn.CellList(list(losses))
        self.k = len(students)
        self.cached = bool(cached)
        self.has_teacher = teacher is not None and not self.cached
        self.teacher = teacher if self.has_teacher else None
        self.layout = make_layout([getattr(loss, "term_names", ("loss", "ce", "kd")) for loss in losses])
        self.active = ms.Parameter(ms.Tensor(np.ones(self.k, np.float32)), name="active_students",
                                   requires_grad=False)

    @property
    def term_names(self):
        return self.layout.term_names[0]

    def set_epoch(self, epoch):
        """Forward the epoch (counted from 1) to losses with an epoch-dependent weight (DKD warm-up)."""
        for loss in self.losses:
            if hasattr(loss, "set_epoch"):
                loss.set_epoch(epoch)

    def set_active(self, index, active):
        values = self.active.asnumpy().copy()
        values[index] = 1.0 if active else 0.0
        self.active.set_data(ms.Tensor(values))

    def construct(self, images, labels, *cached_logits):
        if self.cached:
            teacher_logits = cached_logits[0]
        elif self.has_teacher:
            teacher_logits = self.teacher(images)
        else:
            teacher_logits = images  # unused: cross-entropy ignores it
        outputs = ()
        corrects = ()
        total = 0.0
        for i in range(self.k):
            logits = self.students[i](images)
            terms = self.losses[i].terms(logits, teacher_logits, labels)
            if self.k > 1:
                total = total + ops.select(self.active[i] > 0.5, terms[0], ops.zeros_like(terms[0]))
            outputs = outputs + terms
            corrects = corrects + (count_correct(logits, labels),)
        if self.k > 1:
            return (total,) + outputs + corrects
        return outputs + corrects


class TrainStep(nn.Cell):
    """One optimisation step over the students' trainable parameters.

    Like ``nn.TrainOneStepCell`` but the loss network returns a tuple: the gradient is taken of entry 0
    (sensitivity 1, the others 0) and the whole tuple is returned for logging.  ``loss_scale`` is a
    static scale for fp16 training; gradients are unscaled before the update.  Under data parallelism
    gradients are averaged across devices and the per-batch correct counts are summed, so training
    accuracy covers the global batch.
    """

    def __init__(self, loss_net, optimizer, loss_scale=1.0):
        super().__init__(auto_prefix=False)
        self.loss_net = loss_net
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        layout = loss_net.layout
        self.num_outputs = layout.num_outputs
        self.first_count = layout.correct_index[0]
        self.loss_scale = float(loss_scale)
        self.sens = (ms.Tensor(self.loss_scale, ms.float32),) + tuple(
            ms.Tensor(0.0, ms.float32) for _ in range(self.num_outputs - 1))
        self.grad = ops.GradOperation(get_by_list=True, sens_param=True)
        self.grad_reducer = ops.identity
        self.distributed = False
        mode = ms.get_auto_parallel_context("parallel_mode")
        if mode in (ms.ParallelMode.DATA_PARALLEL, ms.ParallelMode.HYBRID_PARALLEL):
            mean = ms.get_auto_parallel_context("gradients_mean")
            degree = ms.communication.get_group_size()
            self.grad_reducer = nn.DistributedGradReducer(self.weights, mean, degree)
            self.distributed = True
            self.allreduce = ops.AllReduce()

    def sum_counts(self, outputs):
        if not self.distributed:
            return outputs
        counts = ()
        for i in range(self.first_count, self.num_outputs):
            counts = counts + (self.allreduce(outputs[i]),)
        return outputs[:self.first_count] + counts

    def construct(self, *inputs):
        outputs = self.loss_net(*inputs)
        grads = self.grad(self.loss_net, self.weights)(*inputs, self.sens)
        if self.loss_scale != 1.0:
            grads = tuple(g / self.loss_scale for g in grads)
        grads = self.grad_reducer(grads)
        outputs = self.sum_counts(outputs)
        return ops.depend(outputs, self.optimizer(grads))


class LossScaledTrainStep(TrainStep):
    """``TrainStep`` with dynamic loss scaling for fp16 (AMP O2/O3), as MindSpore recommends.

    The loss is multiplied by the current scale before differentiation and the gradients are unscaled;
    if any gradient is inf/NaN the update is skipped and the scale halved, and after ``scale_window``
    clean steps the scale doubles.  The scale and the clean-step count are parameters, so they are part
    of the training state.  (MindSpore's own ``TrainOneStepWithLossScaleCell`` checks overflow with
    NPU status operators that the CPU backend lacks.)
    """

    def __init__(self, loss_net, optimizer, init_scale=2.0 ** 16, scale_factor=2.0, scale_window=1000):
        super().__init__(loss_net, optimizer)
        self.loss_scale_value = ms.Parameter(ms.Tensor(init_scale, ms.float32), name="loss_scale", requires_grad=False)
        self.clean_steps = ms.Parameter(ms.Tensor(0, ms.int32), name="loss_scale_clean_steps", requires_grad=False)
        self.scale_factor = float(scale_factor)
        self.scale_window = int(scale_window)
        self.zero_sens = self.sens[1:]

    def construct(self, *inputs):
        outputs = self.loss_net(*inputs)
        scale = self.loss_scale_value + 0.0
        grads = self.grad(self.loss_net, self.weights)(*inputs, (scale,) + self.zero_sens)
        grads = tuple(g / ops.cast(scale, g.dtype) for g in grads)
        grads = self.grad_reducer(grads)
        outputs = self.sum_counts(outputs)
        finite = ms.amp.all_finite(grads)
        clean = ops.select(finite, self.clean_steps + 1, ops.zeros_like(self.clean_steps))
        grow = clean >= self.scale_window
        new_scale = ops.select(finite, ops.select(grow, scale * self.scale_factor, scale),
                               ops.maximum(scale / self.scale_factor, 1.0))
        outputs = ops.depend(outputs, ops.assign(self.clean_steps, ops.select(grow, ops.zeros_like(clean), clean)))
        outputs = ops.depend(outputs, ops.assign(self.loss_scale_value, new_scale))
        if finite:
            outputs = ops.depend(outputs, self.optimizer(grads))
        return outputs
