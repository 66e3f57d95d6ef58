"""Loss networks and the training step that ``mindspore.train.Model`` drives.

Every loss network returns a tuple of named scalar terms whose first entry is the total that is
optimised; ``term_names`` names them (``("loss", "ce", "kd")`` for distillation, ``("loss", "ce")`` for
plain supervised training).  Callbacks read that tuple from ``net_outputs`` and log every term, so a
new method gets its terms logged by returning more of them.
"""
import mindspore as ms
from mindspore import nn, ops

from ats_ms.distill.frozen import FrozenTeacher


class SupervisedNet(nn.Cell):
    """Cross-entropy training of one network (teachers, and students without distillation)."""

    term_names = ("loss", "ce")

    def __init__(self, net):
        super().__init__()
        self.student = net
        self.ce = nn.CrossEntropyLoss()

    def set_epoch(self, epoch):
        """Nothing in plain CE depends on the epoch."""

    def construct(self, images, labels):
        logits = self.student(images)
        ce = self.ce(logits.astype(ms.float32), labels.astype(ms.int32))
        return ce, ce


class DistillNet(nn.Cell):
    """Student + frozen teacher + a distillation loss with a ``terms(s, t, y)`` method.

    The teacher runs inside the same graph as the student (one dispatch per step, graph sink mode
    possible), wrapped in ``FrozenTeacher`` so that it never trains, never updates its BatchNorm
    statistics and never receives a gradient; by default its BatchNorms are folded into its
    convolutions (``fold_teacher_bn``), which gives the same logits for less work.
    """

    def __init__(self, student, teacher, loss, fold_teacher_bn=True):
        super().__init__()
        self.student = student
        self.teacher = teacher if isinstance(teacher, FrozenTeacher) else FrozenTeacher(teacher, fold_teacher_bn)
        self.loss = loss
        self.term_names = getattr(loss, "term_names", ("loss", "ce", "kd"))

    def set_epoch(self, epoch):
        """Forward the epoch (counted from 1) to losses with an epoch-dependent weight (DKD warm-up)."""
        if hasattr(self.loss, "set_epoch"):
            self.loss.set_epoch(epoch)

    def construct(self, images, labels):
        teacher_logits = self.teacher(images)
        student_logits = self.student(images)
        return self.loss.terms(student_logits, teacher_logits, labels)


class CachedDistillNet(nn.Cell):
    """Distillation from teacher logits computed once in advance (``distill.cache_teacher_logits``):
    ``construct(images, labels, teacher_logits)``; a step then costs what a CE step costs.  Valid only
    when every epoch shows the same images (no augmentation)."""

    def __init__(self, student, loss):
        super().__init__()
        self.student = student
        self.loss = loss
        self.term_names = getattr(loss, "term_names", ("loss", "ce", "kd"))

    def set_epoch(self, epoch):
        if hasattr(self.loss, "set_epoch"):
            self.loss.set_epoch(epoch)

    def construct(self, images, labels, teacher_logits):
        return self.loss.terms(self.student(images), teacher_logits, labels)


class TrainStep(nn.Cell):
    """One optimisation step over the *student's* trainable parameters.

    Like ``nn.TrainOneStepCell`` but the loss network returns a tuple of terms: the gradient is taken
    of the first (sensitivity 1, the others 0) and the whole tuple is returned for logging.
    ``loss_scale`` is a static scale for fp16 training; gradients are unscaled before the update.
    Under data parallelism gradients are averaged across devices.
    """

    def __init__(self, loss_net, optimizer, loss_scale=1.0):
        super().__init__(auto_prefix=False)
        self.loss_net = loss_net
        self.optimizer = optimizer
        self.weights = optimizer.parameters
        self.num_terms = len(loss_net.term_names)
        self.loss_scale = float(loss_scale)
        self.sens = (ms.Tensor(self.loss_scale, ms.float32),) + tuple(
            ms.Tensor(0.0, ms.float32) for _ in range(self.num_terms - 1))
        self.grad = ops.GradOperation(get_by_list=True, sens_param=True)
        self.grad_reducer = ops.identity
        mode = ms.get_auto_parallel_context("parallel_mode")
        if mode in (ms.ParallelMode.DATA_PARALLEL, ms.ParallelMode.HYBRID_PARALLEL):
            mean = ms.get_auto_parallel_context("gradients_mean")
            degree = ms.communication.get_group_size()
            self.grad_reducer = nn.DistributedGradReducer(self.weights, mean, degree)

    def construct(self, *inputs):
        terms = self.loss_net(*inputs)
        grads = self.grad(self.loss_net, self.weights)(*inputs, self.sens)
        if self.loss_scale != 1.0:
            grads = tuple(g / self.loss_scale for g in grads)
        grads = self.grad_reducer(grads)
        return ops.depend(terms, self.optimizer(grads))


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
        terms = self.loss_net(*inputs)
        scale = self.loss_scale_value + 0.0
        grads = self.grad(self.loss_net, self.weights)(*inputs, (scale,) + self.zero_sens)
        grads = tuple(g / ops.cast(scale, g.dtype) for g in grads)
        grads = self.grad_reducer(grads)
        finite = ms.amp.all_finite(grads)
        clean = ops.select(finite, self.clean_steps + 1, ops.zeros_like(self.clean_steps))
        grow = clean >= self.scale_window
        new_scale = ops.select(finite, ops.select(grow, scale * self.scale_factor, scale),
                               ops.maximum(scale / self.scale_factor, 1.0))
        terms = ops.depend(terms, ops.assign(self.clean_steps, ops.select(grow, ops.zeros_like(clean), clean)))
        terms = ops.depend(terms, ops.assign(self.loss_scale_value, new_scale))
        if finite:
            terms = ops.depend(terms, self.optimizer(grads))
        return terms
