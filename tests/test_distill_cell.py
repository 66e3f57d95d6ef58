"""ats_ms.distill: the frozen teacher stays frozen (and its BatchNorm folded or not) while the student learns under
``Model.train``, dynamic loss scaling skips overflowing steps, and the correct count is numpy's arg-max."""
import numpy as np
import pytest

import mindspore as ms
import mindspore.dataset as ds
from mindspore import nn

from ats_ms.distill import FrozenTeacher, LossNet, TrainStep
from ats_ms.losses import ATSLoss
from ats_ms.losses.ce import CELoss
from ats_ms.models import create_model
from conftest import learnable_problem


class _Record(ms.train.Callback):
    def __init__(self):
        self.outputs = []

    def on_train_step_end(self, run_context):
        self.outputs.append([float(t.asnumpy()) for t in run_context.original_args().net_outputs])


def _snapshot(net):
    return {id(p): p.asnumpy().copy() for p in net.get_parameters()}


@pytest.mark.parametrize("arch,fold", [("resnet8", False), ("resnet8", True), ("wrn_16_1", True)])
def test_teacher_frozen_student_learns_under_model_train(arch, fold):
    """Without folding every teacher BatchNorm is pinned; with folding the folded convolutions and the
    BatchNorms that cannot be folded (WRN's pre-activations) must stay bit-identical."""
    ms.set_seed(0)
    x, y = learnable_problem()
    teacher, student = create_model(arch, 10), create_model("resnet8", 10)
    teacher.set_train(False)
    reference_logits = teacher(ms.Tensor(x[:8])).asnumpy()
    frozen = FrozenTeacher(teacher, fold_bn=fold)
    assert (frozen.folded > 0) == fold
    teacher_before, student_before = _snapshot(frozen), _snapshot(student)
    if not fold:
        assert any("moving_mean" in p.name for p in frozen.get_parameters())
    net = LossNet([student], [ATSLoss(4.0, 2.0)], frozen)
    step = TrainStep(net, nn.Momentum(student.trainable_params(), 0.05, 0.9))
    data = ds.NumpySlicesDataset({"image": x, "label": y}, shuffle=True).batch(32, drop_remainder=True)
    record = _Record()
    ms.train.Model(step).train(6, data, callbacks=[record], dataset_sink_mode=False)

    assert frozen.net.training, "Model.train switched the teacher's cells to training mode..."
    teacher_after = _snapshot(frozen)
    # ...yet every teacher parameter and moving statistic is bit-identical.
    assert all(np.array_equal(teacher_before[k], teacher_after[k]) for k in teacher_before)
    student_after = _snapshot(student)
    changed = [k for k in student_before if not np.array_equal(student_before[k], student_after[k])]
    assert len(changed) == len(student_before)  # weights and BN statistics all moved
    assert not any(p.requires_grad for p in frozen.get_parameters())
    np.testing.assert_allclose(frozen(ms.Tensor(x[:8])).asnumpy(), reference_logits, rtol=1e-5, atol=1e-5)
    assert {id(p) for p in step.weights} == {id(p) for p in student.trainable_params()}

    losses = np.array(record.outputs)
    assert losses.shape[1] == 4 and net.term_names == ("loss", "ce", "kd")  # + correct predictions
    assert np.all((losses[:, 3] >= 0) & (losses[:, 3] <= 32) & (losses[:, 3] == np.round(losses[:, 3])))
    np.testing.assert_allclose(losses[:, 0], 0.5 * losses[:, 1] + 0.5 * losses[:, 2], rtol=1e-5)
    first, last = losses[:8, 0].mean(), losses[-8:, 0].mean()
    assert last < 0.8 * first, (first, last)


def test_dynamic_loss_scale_skips_overflowing_steps_and_adapts():
    from ats_ms.distill import LossScaledTrainStep
    x, y = learnable_problem(n=16)
    net = create_model("resnet8", 10)
    step = LossScaledTrainStep(LossNet([net], [CELoss()]), nn.Momentum(net.trainable_params(), 0.05, 0.9),
                               init_scale=65536.0, scale_window=2)
    step.set_train(True)
    before = _snapshot(net)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.inf  # an overflow: every gradient becomes non-finite
    step(ms.Tensor(bad), ms.Tensor(y))
    after = _snapshot(net)
    weights = [id(p) for p in net.trainable_params()]
    assert all(np.array_equal(before[k], after[k]) for k in weights), "an overflowing step must not update"
    assert float(step.loss_scale_value.asnumpy()) == 32768.0
    step.loss_scale_value.set_data(ms.Tensor(1024.0, ms.float32))
    for _ in range(2):
        step(ms.Tensor(x), ms.Tensor(y))
    assert float(step.loss_scale_value.asnumpy()) == 2048.0  # two clean steps = one window: scale grows
    assert not all(np.array_equal(before[k], _snapshot(net)[k]) for k in weights)


def test_correct_count_matches_numpy_argmax_of_the_same_logits():
    """The training-accuracy count comes from the step's own logits; checked against numpy's argmax of
    the student's logits computed separately in the same (training) mode."""
    ms.set_seed(0)
    x, y = learnable_problem(n=64)
    student = create_model("resnet8", 10)
    net = LossNet([student], [CELoss()])
    net.set_train(False)  # eval mode: deterministic logits for both computations
    outputs = net(ms.Tensor(x), ms.Tensor(y))
    logits = student(ms.Tensor(x)).asnumpy()
    assert float(outputs[-1].asnumpy()) == float((logits.argmax(1) == y).sum())
    assert 0 < float(outputs[-1].asnumpy()) < 64
